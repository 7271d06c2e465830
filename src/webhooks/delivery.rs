//! The SQL of deliveries: the claim / outcome cycle of the workers, the log
//! a subscriber reads, and a retry asked for by hand.

use chrono::{DateTime, Utc};
use diesel::{
    sql_types::{Array, BigInt, Double, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid},
    ExpressionMethods, QueryDsl, Queryable, QueryableByName, Selectable, SelectableHelper,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{error::AppResult, schema::webhook_deliveries, schema::webhook_subscriptions};

/// One event for one subscription, as its log shows it: the last attempt's
/// answer, cut at 1 KiB.
#[derive(Debug, Clone, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = webhook_deliveries)]
pub struct WebhookDelivery {
    pub id: Uuid,
    /// The `webhook-id` header and the body's `id`: the same on every
    /// attempt.
    pub event_id: Uuid,
    pub event_type: String,
    pub record_id: Uuid,
    /// pending, delivered or failed.
    pub status: String,
    pub attempts: i32,
    #[serde(serialize_with = "crate::api::stamp::utc")]
    pub next_attempt_at: DateTime<Utc>,
    /// The receiver's status code at the last attempt.
    pub response_status: Option<i32>,
    /// The first 1 KiB of the receiver's answer at the last attempt.
    pub response_body: Option<String>,
    /// Why the last attempt failed, when no 2xx came.
    pub error: Option<String>,
    #[serde(serialize_with = "crate::api::stamp::utc")]
    pub last_attempt_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::api::stamp::utc")]
    pub delivered_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::api::stamp::utc")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::api::stamp::utc")]
    pub updated_at: DateTime<Utc>,
}

crate::list_filter! {
    /// Filters of `GET /webhooks/{id}/deliveries`.
    pub struct Filter on webhook_deliveries {
        search: [],
        columns: { status: String, event_type: String, record_id: Uuid },
    }
}

/// The deliveries of a subscription, filtered.
pub fn of(
    subscription: Uuid,
    filter: &Filter,
) -> webhook_deliveries::BoxedQuery<
    'static,
    diesel::pg::Pg,
    diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<WebhookDelivery, diesel::pg::Pg>>,
> {
    filter.narrow(
        webhook_deliveries::table
            .filter(webhook_deliveries::subscription_id.eq(subscription))
            .select(WebhookDelivery::as_select())
            .into_boxed(),
        crate::auth::policy::Scope::All,
    )
}

/// A delivery a worker holds, with what sending it takes.
#[derive(Debug, Clone, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = SqlUuid)]
    pub id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub subscription_id: Uuid,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = SqlUuid)]
    pub event_id: Uuid,
    #[diesel(sql_type = Timestamptz)]
    pub occurred_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub body: String,
    #[diesel(sql_type = Text)]
    pub url: String,
    #[diesel(sql_type = Text)]
    pub secret: String,
}

/// Claims due deliveries for `lease_secs`: at most `per_subscription` of
/// each active subscription not in `busy`, `limit` in all, oldest first.
/// Only the first pending delivery of a record is due, so that a
/// subscriber hears of a record's changes in the order they happened.
/// Rows another worker holds are skipped; a dead worker's lease runs out.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    busy: &[Uuid],
    per_subscription: i64,
    limit: i64,
    lease_secs: f64,
) -> AppResult<Vec<Claimed>> {
    Ok(diesel::sql_query(
        "WITH due AS ( \
           SELECT d.id, d.seq FROM webhook_subscriptions s \
           CROSS JOIN LATERAL ( \
             SELECT d.id, d.seq FROM webhook_deliveries d \
             WHERE d.subscription_id = s.id AND d.status = 'pending' \
               AND d.next_attempt_at <= now() \
               AND (d.locked_until IS NULL OR d.locked_until < now()) \
               AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e \
                 WHERE e.subscription_id = d.subscription_id AND e.record_id = d.record_id \
                   AND e.status = 'pending' AND e.seq < d.seq) \
             ORDER BY d.seq LIMIT $1 \
             FOR UPDATE SKIP LOCKED) d \
           WHERE s.active AND s.id <> ALL($2) \
           ORDER BY d.seq LIMIT $3) \
         UPDATE webhook_deliveries d \
         SET locked_until = now() + make_interval(secs => $4), attempts = d.attempts + 1 \
         FROM due, webhook_events ev, webhook_subscriptions s \
         WHERE d.id = due.id AND ev.id = d.event_id AND s.id = d.subscription_id \
         RETURNING d.id, d.subscription_id, d.attempts, d.created_at, ev.id AS event_id, \
                   ev.occurred_at, ev.body, s.url, s.secret",
    )
    .bind::<BigInt, _>(per_subscription)
    .bind::<Array<SqlUuid>, _>(busy)
    .bind::<BigInt, _>(limit)
    .bind::<Double, _>(lease_secs)
    .load(conn)
    .await?)
}

/// What came of one attempt.
#[derive(Debug, Clone, Default)]
pub struct Attempt {
    pub status: Option<i32>,
    /// At most 1 KiB of the answer.
    pub body: Option<String>,
    /// Why it is not a delivery; `None` for a 2xx.
    pub error: Option<String>,
}

/// A subscription turned off after failing too long, and whom to tell.
#[derive(Debug, QueryableByName)]
pub struct TurnedOff {
    #[diesel(sql_type = Text)]
    pub url: String,
    #[diesel(sql_type = Text)]
    pub email: String,
    #[diesel(sql_type = Text)]
    pub full_name: String,
    #[diesel(sql_type = Text)]
    pub locale: String,
    #[diesel(sql_type = Timestamptz)]
    pub failing_since: DateTime<Utc>,
}

/// Records an attempt of a claimed delivery. A failure is due again after
/// `retry_in_secs`, or `failed` when that is `None`; a subscription that
/// has failed without a success for `disable_after_secs` is turned off,
/// once, and answered here.
pub async fn record(
    conn: &mut AsyncPgConnection,
    claimed: &Claimed,
    attempt: &Attempt,
    retry_in_secs: Option<f64>,
    disable_after_secs: f64,
) -> AppResult<Option<TurnedOff>> {
    let status = match (attempt.error.is_none(), retry_in_secs) {
        (true, _) => "delivered",
        (false, Some(_)) => "pending",
        (false, None) => "failed",
    };
    // One statement: the attempt, and for a delivery the end of the
    // subscription's failing spell.
    diesel::sql_query(
        "WITH d AS ( \
           UPDATE webhook_deliveries SET status = $2, response_status = $3, \
             response_body = $4, error = $5, last_attempt_at = now(), locked_until = NULL, \
             updated_at = now(), \
             delivered_at = CASE WHEN $2 = 'delivered' THEN now() END, \
             next_attempt_at = now() + make_interval(secs => coalesce($6, 0)) \
           WHERE id = $1 RETURNING subscription_id) \
         UPDATE webhook_subscriptions s SET failing_since = NULL FROM d \
         WHERE $2 = 'delivered' AND s.id = d.subscription_id AND s.failing_since IS NOT NULL",
    )
    .bind::<SqlUuid, _>(claimed.id)
    .bind::<Text, _>(status)
    .bind::<Nullable<Integer>, _>(attempt.status)
    .bind::<Nullable<Text>, _>(attempt.body.as_deref())
    .bind::<Nullable<Text>, _>(attempt.error.as_deref())
    .bind::<Nullable<Double>, _>(retry_in_secs)
    .execute(conn)
    .await?;
    if status == "delivered" {
        return Ok(None);
    }
    conn.transaction(async |conn| {
        let subscription = webhook_subscriptions::table.find(claimed.subscription_id);
        diesel::update(subscription)
            .filter(webhook_subscriptions::failing_since.is_null())
            .set(webhook_subscriptions::failing_since.eq(diesel::dsl::now))
            .execute(conn)
            .await?;
        use diesel::OptionalExtension;
        Ok(diesel::sql_query(
            "UPDATE webhook_subscriptions s SET active = false \
             FROM users u \
             WHERE s.id = $1 AND s.active AND u.id = s.created_by \
               AND s.failing_since < now() - make_interval(secs => $2) \
             RETURNING s.url, u.email, u.full_name, u.locale, s.failing_since",
        )
        .bind::<SqlUuid, _>(claimed.subscription_id)
        .bind::<Double, _>(disable_after_secs)
        .get_result(conn)
        .await
        .optional()?)
    })
    .await
}

/// Gives back deliveries a stopping worker holds but did not try.
pub async fn release(conn: &mut AsyncPgConnection, ids: &[Uuid]) -> AppResult<()> {
    diesel::update(webhook_deliveries::table.filter(webhook_deliveries::id.eq_any(ids)))
        .filter(webhook_deliveries::status.eq("pending"))
        .set((
            webhook_deliveries::locked_until.eq(None::<DateTime<Utc>>),
            webhook_deliveries::attempts.eq(webhook_deliveries::attempts - 1),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Makes a delivery of `subscription` due now, whatever its status: one
/// more attempt, the same `webhook-id`. 404 when there is no such delivery.
pub async fn retry(
    conn: &mut AsyncPgConnection,
    subscription: Uuid,
    id: Uuid,
) -> AppResult<WebhookDelivery> {
    let delivery = diesel::update(
        webhook_deliveries::table
            .filter(webhook_deliveries::id.eq(id))
            .filter(webhook_deliveries::subscription_id.eq(subscription)),
    )
    .set((
        webhook_deliveries::status.eq("pending"),
        webhook_deliveries::next_attempt_at.eq(diesel::dsl::now),
        webhook_deliveries::updated_at.eq(diesel::dsl::now),
    ))
    .returning(WebhookDelivery::as_returning())
    .get_result(conn)
    .await?;
    diesel::sql_query(format!("NOTIFY {}", super::events::CHANNEL))
        .execute(conn)
        .await?;
    Ok(delivery)
}

/// Pending deliveries and the age of the oldest in seconds, for the
/// metrics.
pub async fn queue(conn: &mut AsyncPgConnection) -> AppResult<(i64, f64)> {
    #[derive(QueryableByName)]
    struct Queue {
        #[diesel(sql_type = BigInt)]
        pending: i64,
        #[diesel(sql_type = Double)]
        age: f64,
    }
    let q: Queue = diesel::sql_query(
        "SELECT count(*) AS pending, \
           coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS age \
         FROM webhook_deliveries WHERE status = 'pending'",
    )
    .get_result(conn)
    .await?;
    Ok((q.pending, q.age))
}

/// Removes deliveries settled more than `days` ago, and events nobody
/// waits for any more; run by the jobs loop.
pub async fn purge(conn: &mut AsyncPgConnection, days: u32) -> AppResult<usize> {
    let gone = diesel::sql_query(
        "DELETE FROM webhook_deliveries WHERE status <> 'pending' \
           AND updated_at < now() - make_interval(days => $1)",
    )
    .bind::<Integer, _>(days as i32)
    .execute(conn)
    .await?;
    diesel::sql_query(
        "DELETE FROM webhook_events ev WHERE occurred_at < now() - make_interval(days => $1) \
           AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = ev.id)",
    )
    .bind::<Integer, _>(days as i32)
    .execute(conn)
    .await?;
    Ok(gone)
}
