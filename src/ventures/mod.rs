//! `/ventures`: the companies trainees found in incubators, with jobs
//! created and funding raised.

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
    programmes::model::Theme,
    state::AppState,
    store::Record,
};
use model::{Venture, VentureInput, VentureStatus};

crate::collection_routes!(
    Venture, VentureInput, tag = "ventures",
    paths = ("/ventures", "/ventures/{id}"),
    list = list_ventures(
        "Lists ventures; partner staff see those founded by their trainees.",
        "Sortable on created_at, updated_at, name; q searches name.",
        ("incubator_id" = Option<uuid::Uuid>, Query),
        ("status" = Option<VentureStatus>, Query),
        ("theme" = Option<Theme>, Query),
        ("country_code" = Option<String>, Query),
    ),
    create = create_venture("Records a venture applying to an incubator."),
    get = get_venture("Reads a venture."),
    update = update_venture("Changes a venture: founders, jobs created, funding raised..."),
    delete = delete_venture("Removes a venture."),
);

/// Moves a venture: applied → admitted, rejected; admitted → incubating,
/// closed; incubating → graduated, exited, closed. Admitting past the
/// incubator's capacity is 409 `incubator-full`.
#[utoipa::path(
    tag = "ventures",
    request_body = MoveInput,
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Venture),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/ventures/{id}/transitions")]
async fn move_venture(
    state: web::Data<AppState>,
    ctx: Ctx,
    id: web::Path<Uuid>,
    body: web::Json<MoveInput>,
) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    collection::move_to::<Venture>(&state, &ctx, Resource::Venture, *id, body).await
}

/// The moves of a venture, oldest first.
#[utoipa::path(
    tag = "ventures",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Vec<Move>),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/ventures/{id}/transitions")]
async fn venture_history(
    state: web::Data<AppState>,
    caller: Principal,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let scope = may(&caller, Resource::Venture, Action::Read)?;
    let mut conn = state.pool.get().await?;
    Venture::find(&mut conn, scope, *id).await?;
    lifecycle::history(&mut conn, &caller, repo::ENTITY, *id).await
}

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_ventures)
        .service(create_venture)
        .service(get_venture)
        .service(update_venture)
        .service(delete_venture)
        .service(move_venture)
        .service(venture_history);
}
