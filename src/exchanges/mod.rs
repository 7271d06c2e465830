//! `/exchange-agreements` and `/exchanges`: talent moving between
//! institutions in different countries, under yearly quotas.

pub mod model;
pub mod repo;

use actix_web::{delete, get, patch, post, web};
use uuid::Uuid;

use crate::api::{self, list::Items, Answer};
use model::{
    Agreement, AgreementInput, AgreementStatus, Exchange, ExchangeInput, ExchangeKind,
    ExchangeStatus,
};
use repo::Usage;

crate::collection_routes!(
    Agreement, AgreementInput, tag = "exchanges",
    paths = ("/exchange-agreements", "/exchange-agreements/{id}"),
    serve = agreement_routes(agreement_usage, agreement_history),
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

crate::endpoint! {
/// Quota used and left per year and direction.
get "/exchange-agreements/{id}/usage", tag = "exchanges",
params(("id" = Uuid, Path)),
ok((status = 200, body = Items<Usage>)), fails[404], may = Agreement Read;
async fn agreement_usage(call: Call, id: web::Path<Uuid>) -> Answer {
    let mut conn = call.conn().await?;
    api::ok(&Items {
        items: repo::usage(&mut conn, *id).await?,
    })
}
}

crate::endpoint! {
/// Every change of an agreement, oldest first, from the audit log.
get "/exchange-agreements/{id}/history", tag = "exchanges",
params(("id" = Uuid, Path)),
ok((status = 200, body = Items<crate::audit::AuditEvent>)), fails[404], may = Agreement Read;
async fn agreement_history(call: Call, id: web::Path<Uuid>) -> Answer {
    let mut conn = call.conn().await?;
    let mut events = repo::agreement_history(&mut conn, *id).await?;
    // Partner staff read the agreement, not who on the staff changed it.
    if !call.ctx.caller.is_staff() {
        events.iter_mut().for_each(|e| e.actor_id = None);
    }
    api::ok(&Items { items: events })
}
}

crate::collection_routes!(
    Exchange, ExchangeInput, tag = "exchanges",
    paths = ("/exchanges", "/exchanges/{id}"), serve = exchange_routes(),
    list = list_exchanges(
        "Lists exchanges; partner staff see those their institution sends or receives, trainees their own.",
        "Sortable on created_at, updated_at, starts_on.",
        ("status" = Option<ExchangeStatus>, Query),
        ("kind" = Option<ExchangeKind>, Query),
        ("agreement_id" = Option<uuid::Uuid>, Query),
    ),
    create = propose_exchange("Proposes an exchange. Partner staff propose only where their institution sends or receives, for their own trainees."),
    get = get_exchange("Reads an exchange."),
    update = update_exchange("Changes an exchange's kind, dates, funding or agreement: partner staff of either side while it is proposed, coordinators until it is final, when an approved exchange's agreement rules are checked again (409)."),
    delete = delete_exchange("Removes an exchange that was never approved; approved ones stay on record (409)."),
    lifecycle = Exchange at "/exchanges/{id}/transitions":
        move_exchange("Moves an exchange: proposed → approved, rejected, cancelled; approved → in_progress, cancelled; in_progress → completed, cancelled. Approving under an agreement checks kind, dates and quota (409)."),
        exchange_history("The moves of an exchange, oldest first."),
);

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(agreement_routes).configure(exchange_routes);
}
