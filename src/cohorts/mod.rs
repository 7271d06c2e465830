//! `/cohorts`: the training groups of a programme, with their seats,
//! nomination window and lifecycle.

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
    lifecycle::{self, Move, MoveInput},
    state::AppState,
    types::CountryCode,
};
use model::{Cohort, CohortInput, CohortStatus, Delivery};

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
            name: "starts_on",
            column: "starts_on",
            sql_type: "date",
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
    ],
    default_sort: "created_at",
    search: &["code", "title", "city"],
    filters: &[
        "program_id",
        "status",
        "country_code",
        "delivery",
        "host_institution_id",
        "open",
    ],
    updated_column: Some("updated_at"),
};

/// Lists cohorts.
#[utoipa::path(
    tag = "cohorts",
    params(
        CommonListParams,
        ("program_id" = Option<Uuid>, Query),
        ("status" = Option<CohortStatus>, Query),
        ("country_code" = Option<String>, Query),
        ("delivery" = Option<Delivery>, Query),
        ("host_institution_id" = Option<Uuid>, Query),
        ("open" = Option<bool>, Query, description = "true: only cohorts taking nominations now"),
    ),
    responses(
        (status = 200, body = Page<Cohort>, description = "Sortable on created_at, updated_at, starts_on, code, title; q searches code, title and city."),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/cohorts")]
async fn list_cohorts(
    state: web::Data<AppState>,
    caller: Principal,
    query: ListQuery,
) -> AppResult<HttpResponse> {
    may(&caller, Resource::Cohort, Action::Read)?;
    let mut params = ListParams::parse(query.into_inner(), &LIST);
    let filter = repo::Filter {
        program_id: params.filter("program_id"),
        status: params.filter("status"),
        country_code: params
            .filter::<CountryCode>("country_code")
            .map(|c| c.as_str()),
        delivery: params.filter("delivery"),
        host_institution_id: params.filter("host_institution_id"),
        open: params.filter("open"),
    };
    let params = params.finish()?;
    let mut conn = state.pool.get().await?;
    api::ok(&repo::list(&mut conn, &params, &filter).await?)
}

/// Creates a cohort, in `draft`.
#[utoipa::path(
    tag = "cohorts",
    request_body = CohortInput,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 201, body = Cohort, headers(("Location" = String), ("ETag" = String))),
        (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/cohorts")]
async fn create_cohort(
    state: web::Data<AppState>,
    ctx: Ctx,
    body: web::Json<CohortInput>,
) -> AppResult<HttpResponse> {
    may(&ctx.caller, Resource::Cohort, Action::Create)?;
    let new = body.into_inner().into_new()?;
    let mut conn = state.pool.get().await?;
    let created = repo::create(&mut conn, &ctx, new).await?;
    api::created(format!("/api/v1/cohorts/{}", created.row.id), &created)
}

/// Reads a cohort with its seats taken and waitlist length.
#[utoipa::path(
    tag = "cohorts",
    params(("id" = Uuid, Path), ("If-None-Match" = Option<String>, Header)),
    responses(
        (status = 200, body = Cohort, headers(("ETag" = String))),
        (status = 304, description = "Not modified"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/cohorts/{id}")]
async fn get_cohort(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    may(&caller, Resource::Cohort, Action::Read)?;
    let mut conn = state.pool.get().await?;
    api::record(&req, &repo::get(&mut conn, *id).await?)
}

/// Changes a cohort (not its status: see transitions).
#[utoipa::path(
    tag = "cohorts",
    request_body = CohortInput,
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses(
        (status = 200, body = Cohort),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[patch("/cohorts/{id}")]
async fn update_cohort(
    state: web::Data<AppState>,
    ctx: Ctx,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Json<CohortInput>,
) -> AppResult<HttpResponse> {
    may(&ctx.caller, Resource::Cohort, Action::Update)?;
    let expected = api::if_match(&req)?;
    let changes = body.into_inner().into_changes()?;
    let mut conn = state.pool.get().await?;
    api::record(
        &req,
        &repo::update(&mut conn, &ctx, *id, expected, changes).await?,
    )
}

/// Removes a cohort without enrollments or sessions.
#[utoipa::path(
    tag = "cohorts",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 412, body = Problem),
    ),
    security(("bearer" = []))
)]
#[delete("/cohorts/{id}")]
async fn delete_cohort(
    state: web::Data<AppState>,
    ctx: Ctx,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    may(&ctx.caller, Resource::Cohort, Action::Delete)?;
    let expected = api::if_match(&req)?;
    let mut conn = state.pool.get().await?;
    repo::delete(&mut conn, &ctx, *id, expected).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Moves a cohort: draft → open → closed → running → completed; closed →
/// open; draft, open, closed → cancelled.
#[utoipa::path(
    tag = "cohorts",
    request_body = MoveInput,
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Cohort),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "Illegal move; `allowed` lists the legal ones"),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/cohorts/{id}/transitions")]
async fn move_cohort(
    state: web::Data<AppState>,
    ctx: Ctx,
    id: web::Path<Uuid>,
    body: web::Json<MoveInput>,
) -> AppResult<HttpResponse> {
    may(&ctx.caller, Resource::Cohort, Action::Move)?;
    let (to, note) = body.into_inner().parse::<CohortStatus>()?;
    let mut conn = state.pool.get().await?;
    api::ok(&repo::transition(&mut conn, &ctx, *id, to, note).await?)
}

/// The moves of a cohort, oldest first.
#[utoipa::path(
    tag = "cohorts",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Vec<Move>),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/cohorts/{id}/transitions")]
async fn cohort_history(
    state: web::Data<AppState>,
    caller: Principal,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    may(&caller, Resource::Cohort, Action::Read)?;
    let mut conn = state.pool.get().await?;
    repo::get(&mut conn, *id).await?;
    lifecycle::history(&mut conn, repo::ENTITY, *id).await
}

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_cohorts)
        .service(create_cohort)
        .service(get_cohort)
        .service(update_cohort)
        .service(delete_cohort)
        .service(move_cohort)
        .service(cohort_history);
}
