//! `/incubators`: AI incubators hosted by institutions, with the services
//! they offer and how many ventures they hold at once.

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
use model::{Incubator, IncubatorInput, IncubatorStatus};

static LIST: ListSpec = ListSpec {
    sorts: &[
        SortField::new("created_at", "timestamptz"),
        SortField::new("updated_at", "timestamptz"),
        SortField::new("name", "text"),
    ],
    default_sort: "created_at",
    search: &["name", "city"],
    filters: &["status", "country_code", "host_institution_id"],
    updated_column: Some("updated_at"),
};

/// Lists incubators.
#[utoipa::path(
    tag = "incubators",
    params(
        CommonListParams,
        ("status" = Option<IncubatorStatus>, Query),
        ("country_code" = Option<String>, Query),
        ("host_institution_id" = Option<Uuid>, Query),
    ),
    responses(
        (status = 200, body = Page<Incubator>, description = "Sortable on created_at, updated_at, name; q searches name and city."),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/incubators")]
async fn list_incubators(
    state: web::Data<AppState>,
    caller: Principal,
    query: ListQuery,
) -> AppResult<HttpResponse> {
    may(&caller, Resource::Incubator, Action::Read)?;
    let mut params = ListParams::parse(query.into_inner(), &LIST);
    let filter = repo::Filter {
        status: params.filter("status"),
        country_code: params
            .filter::<CountryCode>("country_code")
            .map(|c| c.as_str()),
        host_institution_id: params.filter("host_institution_id"),
    };
    let params = params.finish()?;
    let mut conn = state.pool.get().await?;
    api::ok(&repo::list(&mut conn, &params, &filter).await?)
}

/// Registers an incubator.
#[utoipa::path(
    tag = "incubators",
    request_body = IncubatorInput,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 201, body = Incubator, headers(("Location" = String), ("ETag" = String))),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/incubators")]
async fn create_incubator(
    state: web::Data<AppState>,
    ctx: Ctx,
    body: web::Json<IncubatorInput>,
) -> AppResult<HttpResponse> {
    may(&ctx.caller, Resource::Incubator, Action::Create)?;
    let new = body.into_inner().into_new()?;
    let mut conn = state.pool.get().await?;
    let created = repo::create(&mut conn, &ctx, new).await?;
    api::created(format!("/api/v1/incubators/{}", created.id), &created)
}

/// Reads an incubator.
#[utoipa::path(
    tag = "incubators",
    params(("id" = Uuid, Path), ("If-None-Match" = Option<String>, Header)),
    responses(
        (status = 200, body = Incubator, headers(("ETag" = String))),
        (status = 304, description = "Not modified"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/incubators/{id}")]
async fn get_incubator(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    may(&caller, Resource::Incubator, Action::Read)?;
    let mut conn = state.pool.get().await?;
    api::record(&req, &repo::get(&mut conn, *id).await?)
}

/// Changes an incubator.
#[utoipa::path(
    tag = "incubators",
    request_body = IncubatorInput,
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses(
        (status = 200, body = Incubator),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[patch("/incubators/{id}")]
async fn update_incubator(
    state: web::Data<AppState>,
    ctx: Ctx,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Json<IncubatorInput>,
) -> AppResult<HttpResponse> {
    may(&ctx.caller, Resource::Incubator, Action::Update)?;
    let expected = api::if_match(&req)?;
    let changes = body.into_inner().into_changes()?;
    let mut conn = state.pool.get().await?;
    api::record(
        &req,
        &repo::update(&mut conn, &ctx, *id, expected, changes).await?,
    )
}

/// Removes an incubator that has no ventures.
#[utoipa::path(
    tag = "incubators",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 412, body = Problem),
    ),
    security(("bearer" = []))
)]
#[delete("/incubators/{id}")]
async fn delete_incubator(
    state: web::Data<AppState>,
    ctx: Ctx,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    may(&ctx.caller, Resource::Incubator, Action::Delete)?;
    let expected = api::if_match(&req)?;
    let mut conn = state.pool.get().await?;
    repo::delete(&mut conn, &ctx, *id, expected).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_incubators)
        .service(create_incubator)
        .service(get_incubator)
        .service(update_incubator)
        .service(delete_incubator);
}
