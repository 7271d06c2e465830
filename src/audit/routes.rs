//! `GET /audit-events`: the audit log, for the secretariat.

use actix_web::{get, web};
use chrono::{DateTime, Utc};
use diesel::{ExpressionMethods, QueryDsl, SelectableHelper};
use uuid::Uuid;

use super::AuditEvent;
use crate::{
    api::{
        self,
        list::{self, ListParams, ListQuery, ListSpec, Page, SortField},
        Answer,
    },
    auth::policy::{self, Action, Resource},
    auth::Call,
    schema::audit_events,
};

static LIST: ListSpec = ListSpec {
    sorts: &[SortField::new("at", "timestamptz")],
    default_sort: "-at",
    search: &[],
    filters: &[
        "entity_type",
        "entity_id",
        "actor_id",
        "action",
        "from",
        "to",
    ],
    updated_column: None,
};

/// Lists audit events, newest first.
#[utoipa::path(
    tag = "audit",
    params(
        list::CommonListParams,
        ("entity_type" = Option<String>, Query, description = "e.g. institution"),
        ("entity_id" = Option<Uuid>, Query),
        ("actor_id" = Option<Uuid>, Query),
        ("action" = Option<String>, Query, description = "e.g. institution.update"),
        ("from" = Option<DateTime<Utc>>, Query, description = "at or after"),
        ("to" = Option<DateTime<Utc>>, Query, description = "before"),
    ),
    responses(
        (status = 200, body = Page<AuditEvent>),
        (status = 403, body = crate::error::Problem),
        (status = 422, body = crate::error::Problem),
    ),
    security(("bearer" = []))
)]
#[get("/audit-events")]
pub async fn list_events(call: Call, query: ListQuery) -> Answer {
    policy::may(&call.ctx.caller, Resource::AuditEvent, Action::Read)?;
    let mut params = ListParams::parse(query.into_inner(), &LIST);
    let entity_type: Option<String> = params.filter("entity_type");
    let entity_id: Option<Uuid> = params.filter("entity_id");
    let actor_id: Option<Uuid> = params.filter("actor_id");
    let action: Option<String> = params.filter("action");
    let from: Option<DateTime<Utc>> = params.filter("from");
    let to: Option<DateTime<Utc>> = params.filter("to");
    let params = params.finish()?;
    let build = || {
        let mut q = audit_events::table
            .select(AuditEvent::as_select())
            .into_boxed();
        if let Some(v) = &entity_type {
            q = q.filter(audit_events::entity_type.eq(v.clone()));
        }
        if let Some(v) = entity_id {
            q = q.filter(audit_events::entity_id.eq(v));
        }
        if let Some(v) = actor_id {
            q = q.filter(audit_events::actor_id.eq(v));
        }
        if let Some(v) = &action {
            q = q.filter(audit_events::action.eq(v.clone()));
        }
        if let Some(v) = from {
            q = q.filter(audit_events::at.ge(v));
        }
        if let Some(v) = to {
            q = q.filter(audit_events::at.lt(v));
        }
        q
    };
    let mut conn = call.conn().await?;
    let page = list::fetch(&mut conn, &params, build, |e: AuditEvent| e).await?;
    api::page(&page)
}

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_events);
}
