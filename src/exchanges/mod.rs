//! `/exchange-agreements` and `/exchanges`: talent moving between
//! institutions in different countries, under yearly quotas.

pub mod model;
pub mod repo;

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use uuid::Uuid;

use crate::{
    api::{
        self, collection,
        list::{CommonListParams, ListParams, ListQuery, ListSpec, Page, SortField},
    },
    audit::Actor,
    auth::{
        policy::{may, Action, Resource, Scope},
        Ctx, Principal,
    },
    error::{AppError, AppResult, Problem},
    lifecycle::{self, Move, MoveInput},
    state::AppState,
};
use model::{
    Agreement, AgreementInput, AgreementStatus, Exchange, ExchangeInput, ExchangeKind,
    ExchangeStatus,
};
use repo::Usage;

crate::collection_routes!(
    Agreement, AgreementInput, tag = "exchanges",
    paths = ("/exchange-agreements", "/exchange-agreements/{id}"),
    list = list_agreements(
        "Lists exchange agreements.",
        "Sortable on created_at, updated_at, valid_from; q searches title.",
        ("status" = Option<AgreementStatus>, Query),
        ("institution_id" = Option<Uuid>, Query, description = "Either party"),
    ),
    create = create_agreement("Records an agreement between institutions in two countries."),
    get = get_agreement("Reads an agreement."),
    update = update_agreement("Changes an agreement; `{\"status\": \"terminated\"}` ends it. Every change is in the audit log."),
    delete = delete_agreement("Removes an agreement no exchange refers to."),
);

/// Quota used and left per year and direction.
#[utoipa::path(
    tag = "exchanges",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<Usage>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/exchange-agreements/{id}/usage")]
async fn agreement_usage(
    state: web::Data<AppState>,
    caller: Principal,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    may(&caller, Resource::Agreement, Action::Read)?;
    let mut conn = state.pool.get().await?;
    api::ok(&serde_json::json!({ "items": repo::usage(&mut conn, *id).await? }))
}

/// Every change of an agreement, oldest first, from the audit log.
#[utoipa::path(
    tag = "exchanges",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Vec<crate::audit::AuditEvent>),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/exchange-agreements/{id}/history")]
async fn agreement_history(
    state: web::Data<AppState>,
    caller: Principal,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    may(&caller, Resource::Agreement, Action::Read)?;
    let mut conn = state.pool.get().await?;
    let mut events = repo::agreement_history(&mut conn, *id).await?;
    // Partner staff read the agreement, not who on the staff changed it.
    if !caller.is_staff() {
        events.iter_mut().for_each(|e| e.actor_id = None);
    }
    api::ok(&serde_json::json!({ "items": events }))
}

/// Removes an exchange that was never approved.
#[utoipa::path(
    tag = "exchanges",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "Approved exchanges stay on record"),
        (status = 412, body = Problem),
    ),
    security(("bearer" = []))
)]
#[delete("/exchanges/{id}")]
async fn delete_exchange(
    state: web::Data<AppState>,
    ctx: Ctx,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    may(&ctx.caller, Resource::Exchange, Action::Delete)?;
    let expected = api::if_match(&req)?;
    let mut conn = state.pool.get().await?;
    repo::delete_exchange(&mut conn, &Actor::from(&ctx), *id, expected).await?;
    Ok(HttpResponse::NoContent().finish())
}

static EXCHANGES: ListSpec = ListSpec {
    sorts: &[
        SortField::new("created_at", "timestamptz"),
        SortField::new("updated_at", "timestamptz"),
        SortField::new("starts_on", "date"),
    ],
    default_sort: "created_at",
    search: &[],
    filters: &["status", "kind", "agreement_id"],
    updated_column: Some("updated_at"),
};

/// Lists exchanges; partner staff see those their institution sends or
/// receives, trainees their own.
#[utoipa::path(
    tag = "exchanges",
    params(CommonListParams, ("status" = Option<ExchangeStatus>, Query), ("kind" = Option<ExchangeKind>, Query), ("agreement_id" = Option<Uuid>, Query)),
    responses((status = 200, body = Page<Exchange>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[get("/exchanges")]
async fn list_exchanges(
    state: web::Data<AppState>,
    caller: Principal,
    query: ListQuery,
) -> AppResult<HttpResponse> {
    let scope = may(&caller, Resource::Exchange, Action::Read)?;
    let mut params = ListParams::parse(query.into_inner(), &EXCHANGES);
    let filter = repo::ExchangeFilter {
        status: params.filter("status"),
        kind: params.filter("kind"),
        agreement_id: params.filter("agreement_id"),
    };
    let params = params.finish()?;
    let mut conn = state.pool.get().await?;
    api::ok(&repo::list_exchanges(&mut conn, scope, &params, &filter).await?)
}

/// Proposes an exchange. Partner staff propose only where their
/// institution sends or receives.
#[utoipa::path(
    tag = "exchanges",
    request_body = ExchangeInput,
    responses(
        (status = 201, body = Exchange, headers(("Location" = String))),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/exchanges")]
async fn propose_exchange(
    state: web::Data<AppState>,
    ctx: Ctx,
    body: web::Json<ExchangeInput>,
) -> AppResult<HttpResponse> {
    let scope = may(&ctx.caller, Resource::Exchange, Action::Create)?;
    let new = body.into_inner().into_new(ctx.caller.user_id)?;
    if let Scope::Institution(own) = scope {
        if new.sending_institution_id != own && new.receiving_institution_id != own {
            return Err(AppError::Forbidden);
        }
    }
    let mut conn = state.pool.get().await?;
    let created = repo::propose(&mut conn, &Actor::from(&ctx), scope, new).await?;
    api::created(format!("/api/v1/exchanges/{}", created.id), &created)
}

/// Reads an exchange.
#[utoipa::path(
    tag = "exchanges",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Exchange), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/exchanges/{id}")]
async fn get_exchange(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let scope = may(&caller, Resource::Exchange, Action::Read)?;
    let mut conn = state.pool.get().await?;
    api::record(&req, &repo::get_exchange(&mut conn, scope, *id).await?)
}

/// Moves an exchange: proposed → approved, rejected, cancelled; approved →
/// in_progress, cancelled; in_progress → completed, cancelled. Approving
/// under an agreement checks kind, dates and quota (409).
#[utoipa::path(
    tag = "exchanges",
    request_body = MoveInput,
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Exchange),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/exchanges/{id}/transitions")]
async fn move_exchange(
    state: web::Data<AppState>,
    ctx: Ctx,
    id: web::Path<Uuid>,
    body: web::Json<MoveInput>,
) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    collection::move_to::<Exchange>(&state, &ctx, Resource::Exchange, *id, body).await
}

/// The moves of an exchange, oldest first.
#[utoipa::path(
    tag = "exchanges",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<Move>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/exchanges/{id}/transitions")]
async fn exchange_history(
    state: web::Data<AppState>,
    caller: Principal,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let scope = may(&caller, Resource::Exchange, Action::Read)?;
    let mut conn = state.pool.get().await?;
    repo::get_exchange(&mut conn, scope, *id).await?;
    lifecycle::history(&mut conn, &caller, repo::EXCHANGE, *id).await
}

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_agreements)
        .service(create_agreement)
        .service(get_agreement)
        .service(update_agreement)
        .service(agreement_usage)
        .service(delete_agreement)
        .service(agreement_history)
        .service(delete_exchange)
        .service(list_exchanges)
        .service(propose_exchange)
        .service(get_exchange)
        .service(move_exchange)
        .service(exchange_history);
}
