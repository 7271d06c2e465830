//! The audit log: every write records who did what and what changed, in the
//! transaction of the write. Admins read it at `GET /api/v1/audit-events`
//! ([`routes`]); this module itself knows nothing of HTTP.

pub mod routes;

use crate::db::Prepare;
use chrono::{DateTime, Utc};
use diesel::{Insertable, Queryable, Selectable};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{error::AppResult, schema::audit_events, types::JsonText};

/// One recorded change.
#[derive(Debug, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = audit_events)]
pub struct AuditEvent {
    pub id: Uuid,
    #[serde(serialize_with = "crate::api::stamp::utc")]
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
    changes: JsonText,
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

/// Records an event; call inside the transaction of the change. It takes
/// the connection shared, so that it can go out in one round trip with the
/// change's other independent statements (`futures_util::try_join`).
pub async fn record(
    mut conn: &AsyncPgConnection,
    actor: impl Into<Actor>,
    entity_type: &str,
    action: &str,
    entity_id: Uuid,
    changes: impl Into<JsonText>,
) -> AppResult<()> {
    let actor = actor.into();
    diesel::insert_into(audit_events::table)
        .values(NewEvent {
            id: Uuid::now_v7(),
            actor_id: actor.id,
            action: &format!("{entity_type}.{action}"),
            entity_type,
            entity_id,
            changes: changes.into(),
            request_id: Some(&actor.request_id),
        })
        .prepared()
        .execute(&mut conn)
        .await?;
    Ok(())
}

/// The whole record, as the changes of a create or a delete.
pub fn snapshot(record: &impl Serialize) -> JsonText {
    JsonText::of(record)
}

/// `{field: {from, to}}` for every member that differs.
pub fn diff(before: &impl Serialize, after: &impl Serialize) -> Value {
    let (Ok(Value::Object(before)), Ok(Value::Object(after))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
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
