//! `/ventures`: the companies trainees found in incubators, with jobs
//! created and funding raised.

pub mod model;
pub mod repo;
pub mod support;

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use uuid::Uuid;

use crate::{
    api::{
        self,
        list::{CommonListParams, ListParams, ListQuery, ListSpec, Page, SortField},
    },
    audit::Actor,
    auth::{
        policy::{may, Action, Resource},
        Ctx, Principal,
    },
    error::{AppResult, Problem},
    lifecycle::{self, Move, MoveInput},
    programmes::model::Theme,
    state::AppState,
    types::CountryCode,
};
use model::{Venture, VentureInput, VentureStatus};

static LIST: ListSpec = ListSpec {
    sorts: &[
        SortField::new("created_at", "timestamptz"),
        SortField::new("updated_at", "timestamptz"),
        SortField::new("name", "text"),
    ],
    default_sort: "created_at",
    search: &["name"],
    filters: &["incubator_id", "status", "theme", "country_code"],
    updated_column: Some("updated_at"),
};

/// Lists ventures; partner staff see those founded by their trainees.
#[utoipa::path(
    tag = "ventures",
    params(
        CommonListParams,
        ("incubator_id" = Option<Uuid>, Query),
        ("status" = Option<VentureStatus>, Query),
        ("theme" = Option<Theme>, Query),
        ("country_code" = Option<String>, Query),
    ),
    responses(
        (status = 200, body = Page<Venture>),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/ventures")]
async fn list_ventures(
    state: web::Data<AppState>,
    caller: Principal,
    query: ListQuery,
) -> AppResult<HttpResponse> {
    let scope = may(&caller, Resource::Venture, Action::Read)?;
    let mut params = ListParams::parse(query.into_inner(), &LIST);
    let filter = repo::Filter {
        incubator_id: params.filter("incubator_id"),
        status: params.filter("status"),
        theme: params.filter("theme"),
        country_code: params
            .filter::<CountryCode>("country_code")
            .map(|c| c.as_str()),
    };
    let params = params.finish()?;
    let mut conn = state.pool.get().await?;
    api::ok(&repo::list(&mut conn, scope, &params, &filter).await?)
}

/// Records a venture applying to an incubator.
#[utoipa::path(
    tag = "ventures",
    request_body = VentureInput,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 201, body = Venture, headers(("Location" = String), ("ETag" = String))),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/ventures")]
async fn create_venture(
    state: web::Data<AppState>,
    ctx: Ctx,
    body: web::Json<VentureInput>,
) -> AppResult<HttpResponse> {
    may(&ctx.caller, Resource::Venture, Action::Create)?;
    let new = body.into_inner().into_new()?;
    let mut conn = state.pool.get().await?;
    let created = repo::create(&mut conn, &Actor::from(&ctx), new).await?;
    api::created(format!("/api/v1/ventures/{}", created.id), &created)
}

/// Reads a venture.
#[utoipa::path(
    tag = "ventures",
    params(("id" = Uuid, Path), ("If-None-Match" = Option<String>, Header)),
    responses(
        (status = 200, body = Venture, headers(("ETag" = String))),
        (status = 304, description = "Not modified"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/ventures/{id}")]
async fn get_venture(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let scope = may(&caller, Resource::Venture, Action::Read)?;
    let mut conn = state.pool.get().await?;
    api::record(&req, &repo::get(&mut conn, scope, *id).await?)
}

/// Changes a venture: founders, jobs created, funding raised...
#[utoipa::path(
    tag = "ventures",
    request_body = VentureInput,
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses(
        (status = 200, body = Venture),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 412, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[patch("/ventures/{id}")]
async fn update_venture(
    state: web::Data<AppState>,
    ctx: Ctx,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Json<VentureInput>,
) -> AppResult<HttpResponse> {
    may(&ctx.caller, Resource::Venture, Action::Update)?;
    let expected = api::if_match(&req)?;
    let changes = body.into_inner().into_changes()?;
    let mut conn = state.pool.get().await?;
    api::record(
        &req,
        &repo::update(&mut conn, &Actor::from(&ctx), *id, expected, changes).await?,
    )
}

/// Removes a venture.
#[utoipa::path(
    tag = "ventures",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 412, body = Problem),
    ),
    security(("bearer" = []))
)]
#[delete("/ventures/{id}")]
async fn delete_venture(
    state: web::Data<AppState>,
    ctx: Ctx,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    may(&ctx.caller, Resource::Venture, Action::Delete)?;
    let expected = api::if_match(&req)?;
    let mut conn = state.pool.get().await?;
    repo::delete(&mut conn, &Actor::from(&ctx), *id, expected).await?;
    Ok(HttpResponse::NoContent().finish())
}

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
    may(&ctx.caller, Resource::Venture, Action::Move)?;
    let (to, note) = body.into_inner().parse::<VentureStatus>()?;
    let mut conn = state.pool.get().await?;
    api::ok(&repo::transition(&mut conn, &Actor::from(&ctx), *id, to, note).await?)
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
    repo::get(&mut conn, scope, *id).await?;
    lifecycle::history(&mut conn, repo::ENTITY, *id).await
}

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_ventures)
        .service(create_venture)
        .service(get_venture)
        .service(update_venture)
        .service(delete_venture)
        .service(move_venture)
        .service(venture_history)
        .configure(support::routes);
}
