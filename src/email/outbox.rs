//! The SQL of the outbox: queueing in the caller's transaction, and the
//! claim / mark cycle of the delivery workers.

use chrono::{DateTime, Utc};
use diesel::{
    BoolExpressionMethods, ExpressionMethods, Insertable, QueryDsl, Queryable, Selectable,
    SelectableHelper,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    api::Versioned,
    error::{AppError, AppResult},
    schema::notifications,
    types::Email,
};

/// The channel workers LISTEN on; queueing NOTIFYs it at commit (a trigger
/// of the outbox table).
pub const CHANNEL: &str = "meridian_outbox";

/// An email that domain code asks for.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub template: &'static str,
    pub recipient: Email,
    pub locale: String,
    pub payload: Value,
    /// One key, one email: queueing the same key again does nothing.
    pub dedupe_key: String,
}

#[derive(Insertable)]
#[diesel(table_name = notifications)]
struct NewRow<'a> {
    id: Uuid,
    template: &'a str,
    recipient: &'a str,
    locale: &'a str,
    payload: &'a Value,
    dedupe_key: &'a str,
}

/// Queues `template` to an address the database holds (checked when it was
/// written), in the caller's transaction.
pub async fn queue_to(
    conn: &mut AsyncPgConnection,
    template: &'static str,
    address: &str,
    locale: String,
    payload: Value,
    dedupe_key: String,
) -> AppResult<bool> {
    let recipient = Email::parse(address).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    let email = Outgoing {
        template,
        recipient,
        locale,
        payload,
        dedupe_key,
    };
    queue(conn, &email).await
}

/// Queues an email inside the caller's transaction: if it rolls back,
/// nothing is queued. Returns false when the dedupe key was queued before.
pub async fn queue(conn: &mut AsyncPgConnection, email: &Outgoing) -> AppResult<bool> {
    let inserted = diesel::insert_into(notifications::table)
        .values(NewRow {
            id: Uuid::now_v7(),
            template: email.template,
            recipient: email.recipient.as_str(),
            locale: &email.locale,
            payload: &email.payload,
            dedupe_key: &email.dedupe_key,
        })
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    // The insert NOTIFYs the workers (trigger `notifications_wake`).
    Ok(inserted > 0)
}

/// A row of the outbox.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notifications)]
pub struct NotificationRow {
    pub id: Uuid,
    pub template: String,
    pub recipient: String,
    pub locale: String,
    pub payload: Value,
    pub dedupe_key: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// An outbox entry as admins see it. Secrets in the payload (any member
/// whose name ends in `token`) are hidden.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Notification {
    pub id: Uuid,
    pub template: String,
    pub recipient: String,
    pub locale: String,
    #[schema(value_type = Object)]
    pub payload: Value,
    pub dedupe_key: String,
    /// pending, sent or failed.
    pub status: String,
    pub attempts: i32,
    #[serde(serialize_with = "crate::api::stamp::utc")]
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    #[serde(serialize_with = "crate::api::stamp::utc")]
    pub sent_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::api::stamp::utc")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::api::stamp::utc")]
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

fn redact(mut payload: Value) -> Value {
    if let Value::Object(map) = &mut payload {
        for (key, value) in map.iter_mut() {
            if key.ends_with("token") {
                *value = Value::String("[hidden]".into());
            }
        }
    }
    payload
}

impl From<NotificationRow> for Notification {
    fn from(r: NotificationRow) -> Self {
        Notification {
            id: r.id,
            template: r.template,
            recipient: r.recipient,
            locale: r.locale,
            payload: redact(r.payload),
            dedupe_key: r.dedupe_key,
            status: r.status,
            attempts: r.attempts,
            next_attempt_at: r.next_attempt_at,
            last_error: r.last_error,
            sent_at: r.sent_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        }
    }
}

impl Versioned for Notification {
    fn version(&self) -> i32 {
        self.version
    }
}

/// Claims up to `limit` due rows for `lease`: rows another worker holds are
/// skipped, and a row whose holder died becomes due when its lease ends.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    limit: i64,
    lease: chrono::Duration,
) -> AppResult<Vec<NotificationRow>> {
    conn.transaction(async |conn| {
        let now = Utc::now();
        let ids: Vec<Uuid> = notifications::table
            .select(notifications::id)
            .filter(notifications::status.eq("pending"))
            .filter(notifications::next_attempt_at.le(now))
            .filter(
                notifications::locked_until
                    .is_null()
                    .or(notifications::locked_until.lt(now)),
            )
            .order(notifications::next_attempt_at)
            .limit(limit)
            .for_update()
            .skip_locked()
            .load(conn)
            .await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = diesel::update(notifications::table.filter(notifications::id.eq_any(&ids)))
            .set((
                notifications::locked_until.eq(now + lease),
                notifications::attempts.eq(notifications::attempts + 1),
            ))
            .returning(NotificationRow::as_returning())
            .get_results(conn)
            .await?;
        Ok(rows)
    })
    .await
}

/// Members of a payload that are secrets of a link (an invitation's or a
/// reset's token): once delivered, nobody reads them in the database.
const SECRET_MEMBERS: &str = "payload - 'token'";

/// Marks a row sent, right after the server accepted it, and forgets the
/// secrets its payload carried.
pub async fn mark_sent(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<()> {
    diesel::update(notifications::table.find(id))
        .set((
            notifications::payload.eq(diesel::dsl::sql::<diesel::sql_types::Jsonb>(SECRET_MEMBERS)),
            notifications::status.eq("sent"),
            notifications::sent_at.eq(Utc::now()),
            notifications::locked_until.eq(None::<DateTime<Utc>>),
            notifications::last_error.eq(None::<String>),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a failed attempt: due again at `retry_at`, or `failed` for good.
pub async fn mark_attempt_failed(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    error: &str,
    retry_at: Option<DateTime<Utc>>,
) -> AppResult<()> {
    let status = if retry_at.is_some() {
        "pending"
    } else {
        "failed"
    };
    diesel::update(notifications::table.find(id))
        .set((
            notifications::status.eq(status),
            notifications::last_error.eq(error),
            notifications::next_attempt_at.eq(retry_at.unwrap_or_else(Utc::now)),
            notifications::locked_until.eq(None::<DateTime<Utc>>),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Gives back rows a stopping worker holds but did not try.
pub async fn release(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> AppResult<()> {
    diesel::update(notifications::table.filter(notifications::id.eq_any(ids)))
        .filter(notifications::status.eq("pending"))
        .set((
            notifications::locked_until.eq(None::<DateTime<Utc>>),
            notifications::attempts.eq(notifications::attempts - 1),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Rows per status, for the metrics.
pub async fn depth(conn: &mut AsyncPgConnection) -> AppResult<Vec<(String, i64)>> {
    Ok(notifications::table
        .group_by(notifications::status)
        .select((notifications::status, diesel::dsl::count_star()))
        .load(conn)
        .await?)
}

/// Returns a failed row to the queue with a fresh set of attempts.
pub async fn retry(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Option<NotificationRow>> {
    use diesel::OptionalExtension;
    let row = diesel::update(notifications::table.find(id))
        .filter(notifications::status.eq("failed"))
        .set((
            notifications::status.eq("pending"),
            notifications::attempts.eq(0),
            notifications::next_attempt_at.eq(Utc::now()),
        ))
        .returning(NotificationRow::as_returning())
        .get_result(conn)
        .await
        .optional()?;
    if row.is_some() {
        diesel::sql_query(format!("NOTIFY {CHANNEL}"))
            .execute(conn)
            .await?;
    }
    Ok(row)
}

/// Removes sent emails older than `days`; run by the jobs loop.
pub async fn purge_sent(conn: &mut AsyncPgConnection, days: u32) -> AppResult<usize> {
    Ok(diesel::delete(notifications::table)
        .filter(notifications::status.eq("sent"))
        .filter(notifications::sent_at.lt(Utc::now() - chrono::Duration::days(i64::from(days))))
        .execute(conn)
        .await?)
}
