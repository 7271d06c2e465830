//! `/programs`: themed programmes (AI for agriculture, for energy, ...) that
//! group cohorts under a lead institution.

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
};
use model::{Program, ProgramInput, ProgramStatus, Theme};

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
            name: "code",
            column: "code",
            sql_type: "text",
        },
        SortField {
            name: "title",
            column: "title",
            sql_type: "text",
        },
        SortField {
            name: "starts_on",
            column: "starts_on",
            sql_type: "date",
        },
    ],
    default_sort: "created_at",
    search: &["code", "title"],
    filters: &["status", "theme", "lead_institution_id"],
    updated_column: Some("updated_at"),
};

/// Lists programmes.
#[utoipa::path(
    tag = "programmes",
    params(
        CommonListParams,
        ("status" = Option<ProgramStatus>, Query),
        ("theme" = Option<Theme>, Query),
        ("lead_institution_id" = Option<Uuid>, Query),
    ),
    responses(
        (status = 200, body = Page<Program>, description = "Sortable on created_at, updated_at, code, title, starts_on; q searches code and title."),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/programs")]
async fn list_programs(
    state: web::Data<AppState>,
    caller: Principal,
    query: ListQuery,
) -> AppResult<HttpResponse> {
    may(&caller, Resource::Program, Action::Read)?;
    let mut params = ListParams::parse(query.into_inner(), &LIST);
    let filter = repo::Filter {
        status: params.filter("status"),
        theme: params.filter("theme"),
        lead_institution_id: params.filter("lead_institution_id"),
    };
    let params = params.finish()?;
    let mut conn = state.pool.get().await?;
    api::ok(&repo::list(&mut conn, &params, &filter).await?)
}

/// Creates a programme.
#[utoipa::path(
    tag = "programmes",
    request_body = ProgramInput,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 201, body = Program, headers(("Location" = String), ("ETag" = String))),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/programs")]
async fn create_program(
    state: web::Data<AppState>,
    ctx: Ctx,
    body: web::Json<ProgramInput>,
) -> AppResult<HttpResponse> {
    may(&ctx.caller, Resource::Program, Action::Create)?;
    let new = body.into_inner().into_new()?;
    let mut conn = state.pool.get().await?;
    let created = repo::create(&mut conn, &ctx, new).await?;
    api::created(format!("/api/v1/programs/{}", created.id), &created)
}

/// Reads a programme.
#[utoipa::path(
    tag = "programmes",
    params(("id" = Uuid, Path), ("If-None-Match" = Option<String>, Header)),
    responses(
        (status = 200, body = Program, headers(("ETag" = String))),
        (status = 304, description = "Not modified"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/programs/{id}")]
async fn get_program(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    may(&caller, Resource::Program, Action::Read)?;
    let mut conn = state.pool.get().await?;
    api::record(&req, &repo::get(&mut conn, *id).await?)
}

/// Changes a programme.
#[utoipa::path(
    tag = "programmes",
    request_body = ProgramInput,
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses(
        (status = 200, body = Program),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[patch("/programs/{id}")]
async fn update_program(
    state: web::Data<AppState>,
    ctx: Ctx,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Json<ProgramInput>,
) -> AppResult<HttpResponse> {
    may(&ctx.caller, Resource::Program, Action::Update)?;
    let expected = api::if_match(&req)?;
    let changes = body.into_inner().into_changes()?;
    let mut conn = state.pool.get().await?;
    api::record(
        &req,
        &repo::update(&mut conn, &ctx, *id, expected, changes).await?,
    )
}

/// Removes a programme that has no cohorts.
#[utoipa::path(
    tag = "programmes",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 412, body = Problem),
    ),
    security(("bearer" = []))
)]
#[delete("/programs/{id}")]
async fn delete_program(
    state: web::Data<AppState>,
    ctx: Ctx,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    may(&ctx.caller, Resource::Program, Action::Delete)?;
    let expected = api::if_match(&req)?;
    let mut conn = state.pool.get().await?;
    repo::delete(&mut conn, &ctx, *id, expected).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_programs)
        .service(create_program)
        .service(get_program)
        .service(update_program)
        .service(delete_program);
}
