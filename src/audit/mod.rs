//! The audit log: every write records who did what and what changed, in the
//! transaction of the write. Admins read it at `GET /api/v1/audit-events`.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::{ExpressionMethods, Insertable, QueryDsl, Queryable, Selectable, SelectableHelper};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    api::{
        self,
        list::{self, ListParams, ListQuery, ListSpec, Page, SortField},
    },
    auth::{
        policy::{self, Action, Resource},
        Ctx, Principal,
    },
    error::AppResult,
    schema::audit_events,
    state::AppState,
};

/// One recorded change.
#[derive(Debug, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    /// e.g. `institution.create`.
    pub action: String,
    pub entity_type: String,
    pub entity_id: Uuid,
    /// For a create, the new record; for an update, `{field: {from, to}}`;
    /// for a delete, the removed record. Never a secret.
    #[schema(value_type = Object)]
    pub changes: Value,
    pub request_id: Option<String>,
}

#[derive(Insertable)]
#[diesel(table_name = audit_events)]
struct NewEvent<'a> {
    id: Uuid,
    actor_id: Option<Uuid>,
    action: &'a str,
    entity_type: &'a str,
    entity_id: Uuid,
    changes: Value,
    request_id: Option<&'a str>,
}

/// Members that change on every write and say nothing of interest.
const NOISE: [&str; 2] = ["updated_at", "version"];

/// Who did something, and in which request.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Option<Uuid>,
    pub request_id: String,
}

impl From<&Ctx> for Actor {
    fn from(ctx: &Ctx) -> Self {
        Actor {
            id: Some(ctx.caller.user_id),
            request_id: ctx.request_id.clone(),
        }
    }
}

/// Records an event; call inside the transaction of the change.
pub async fn record(
    conn: &mut AsyncPgConnection,
    actor: impl Into<Actor>,
    entity_type: &str,
    action: &str,
    entity_id: Uuid,
    changes: Value,
) -> AppResult<()> {
    let actor = actor.into();
    diesel::insert_into(audit_events::table)
        .values(NewEvent {
            id: Uuid::now_v7(),
            actor_id: actor.id,
            action: &format!("{entity_type}.{action}"),
            entity_type,
            entity_id,
            changes,
            request_id: Some(&actor.request_id),
        })
        .execute(conn)
        .await?;
    Ok(())
}

/// The whole record, as the changes of a create or a delete.
pub fn snapshot(record: &impl Serialize) -> Value {
    serde_json::to_value(record).unwrap_or(Value::Null)
}

/// `{field: {from, to}}` for every member that differs.
pub fn diff(before: &impl Serialize, after: &impl Serialize) -> Value {
    let (Value::Object(before), Value::Object(after)) = (snapshot(before), snapshot(after)) else {
        return Value::Null;
    };
    let mut changes = Map::new();
    for (key, new) in after {
        let old = before.get(&key).cloned().unwrap_or(Value::Null);
        if old != new && !NOISE.contains(&key.as_str()) {
            changes.insert(key, serde_json::json!({ "from": old, "to": new }));
        }
    }
    Value::Object(changes)
}

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
pub async fn list_events(
    state: web::Data<AppState>,
    caller: Principal,
    query: ListQuery,
) -> AppResult<HttpResponse> {
    policy::may(&caller, Resource::AuditEvent, Action::Read)?;
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
    let mut conn = state.pool.get().await?;
    let page = list::fetch(&mut conn, &params, build, |e: AuditEvent| e).await?;
    api::ok(&page)
}

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_events);
}
