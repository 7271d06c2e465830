//! `/cohorts`: the training groups of a programme, with their seats,
//! nomination window and lifecycle.

pub mod model;
pub mod repo;

use actix_web::{delete, get, patch, post, web, HttpResponse};
use uuid::Uuid;

use crate::{
    api::collection,
    auth::{
        policy::{may, Action, Resource},
        Ctx, Principal,
    },
    error::{AppResult, Problem},
    lifecycle::{self, Move, MoveInput},
    state::AppState,
};
use model::{Cohort, CohortInput, CohortStatus, Delivery};

crate::collection_routes!(
    Cohort, CohortInput, tag = "cohorts",
    paths = ("/cohorts", "/cohorts/{id}"),
    list = list_cohorts(
        "Lists cohorts.",
        "Sortable on created_at, updated_at, starts_on, code, title; q searches code, title and city.",
        ("program_id" = Option<uuid::Uuid>, Query),
        ("status" = Option<CohortStatus>, Query),
        ("country_code" = Option<String>, Query),
        ("delivery" = Option<Delivery>, Query),
        ("host_institution_id" = Option<uuid::Uuid>, Query),
        ("open" = Option<bool>, Query, description = "true: only cohorts taking nominations now"),
    ),
    create = create_cohort("Creates a cohort, in `draft`."),
    get = get_cohort("Reads a cohort with its seats taken and waitlist length."),
    update = update_cohort("Changes a cohort (not its status: see transitions)."),
    delete = delete_cohort("Removes a cohort without enrollments or sessions."),
);

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
    let body = body.into_inner();
    collection::move_to::<Cohort>(&state, &ctx, Resource::Cohort, *id, body).await
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
    lifecycle::history(&mut conn, &caller, repo::ENTITY, *id).await
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
