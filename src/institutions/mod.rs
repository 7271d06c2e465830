//! `/institutions`: the partner universities, institutes, companies and
//! agencies behind every programme.

pub mod model;
pub mod repo;

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use uuid::Uuid;

use crate::{
    api::{
        self,
        list::{CommonListParams, ListParams, ListQuery, ListSpec, Page, SortField},
    },
    auth::{
        policy::{may, Action, Resource},
        Ctx, Principal,
    },
    error::{AppResult, Problem},
    state::AppState,
    types::CountryCode,
};
use model::{Institution, InstitutionInput, InstitutionKind, InstitutionStatus};

static LIST: ListSpec = ListSpec {
    sorts: &[
        SortField {
            name: "created_at",
            column: "created_at",
            sql_type: "timestamptz",
        },
        SortField {
            name: "updated_at",
            column: "updated_at",
            sql_type: "timestamptz",
        },
        SortField {
            name: "name",
            column: "name",
            sql_type: "text",
        },
        SortField {
            name: "country_code",
            column: "country_code",
            sql_type: "text",
        },
    ],
    default_sort: "created_at",
    search: &["name", "short_name", "city"],
    filters: &["country_code", "kind", "status"],
    updated_column: Some("updated_at"),
};

/// Lists institutions.
#[utoipa::path(
    tag = "institutions",
    params(
        CommonListParams,
        ("country_code" = Option<String>, Query, description = "ISO 3166-1 alpha-2"),
        ("kind" = Option<InstitutionKind>, Query),
        ("status" = Option<InstitutionStatus>, Query),
    ),
    responses(
        (status = 200, body = Page<Institution>, description = "Sortable on created_at, updated_at, name, country_code; q searches name, short_name and city."),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/institutions")]
async fn list_institutions(
    state: web::Data<AppState>,
    caller: Principal,
    query: ListQuery,
) -> AppResult<HttpResponse> {
    may(&caller, Resource::Institution, Action::Read)?;
    let mut params = ListParams::parse(query.into_inner(), &LIST);
    let filter = repo::Filter {
        country_code: params
            .filter::<CountryCode>("country_code")
            .map(|c| c.as_str()),
        kind: params.filter("kind"),
        status: params.filter("status"),
    };
    let params = params.finish()?;
    let mut conn = state.pool.get().await?;
    api::ok(&repo::list(&mut conn, &params, &filter).await?)
}

/// Registers an institution.
#[utoipa::path(
    tag = "institutions",
    request_body = InstitutionInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for 24 h")),
    responses(
        (status = 201, body = Institution, headers(("Location" = String), ("ETag" = String))),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 413, body = Problem), (status = 415, body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/institutions")]
async fn create_institution(
    state: web::Data<AppState>,
    ctx: Ctx,
    body: web::Json<InstitutionInput>,
) -> AppResult<HttpResponse> {
    may(&ctx.caller, Resource::Institution, Action::Create)?;
    let new = body.into_inner().into_new()?;
    let mut conn = state.pool.get().await?;
    let created = repo::create(&mut conn, &ctx, new).await?;
    api::created(format!("/api/v1/institutions/{}", created.row.id), &created)
}

/// Reads an institution.
#[utoipa::path(
    tag = "institutions",
    params(("id" = Uuid, Path), ("If-None-Match" = Option<String>, Header)),
    responses(
        (status = 200, body = Institution, headers(("ETag" = String))),
        (status = 304, description = "Not modified"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/institutions/{id}")]
async fn get_institution(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    may(&caller, Resource::Institution, Action::Read)?;
    let mut conn = state.pool.get().await?;
    api::record(&req, &repo::get(&mut conn, *id).await?)
}

/// Changes an institution; `null` clears an optional field.
#[utoipa::path(
    tag = "institutions",
    request_body = InstitutionInput,
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag read; 412 if stale")),
    responses(
        (status = 200, body = Institution, headers(("ETag" = String))),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 412, body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[patch("/institutions/{id}")]
async fn update_institution(
    state: web::Data<AppState>,
    ctx: Ctx,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Json<InstitutionInput>,
) -> AppResult<HttpResponse> {
    may(&ctx.caller, Resource::Institution, Action::Update)?;
    let expected = api::if_match(&req)?;
    let changes = body.into_inner().into_changes()?;
    let mut conn = state.pool.get().await?;
    let updated = repo::update(&mut conn, &ctx, *id, expected, changes).await?;
    api::record(&req, &updated)
}

/// Removes an institution that nothing refers to.
#[utoipa::path(
    tag = "institutions",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "Other records refer to it"),
        (status = 412, body = Problem),
    ),
    security(("bearer" = []))
)]
#[delete("/institutions/{id}")]
async fn delete_institution(
    state: web::Data<AppState>,
    ctx: Ctx,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    may(&ctx.caller, Resource::Institution, Action::Delete)?;
    let expected = api::if_match(&req)?;
    let mut conn = state.pool.get().await?;
    repo::delete(&mut conn, &ctx, *id, expected).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_institutions)
        .service(create_institution)
        .service(get_institution)
        .service(update_institution)
        .service(delete_institution);
}
