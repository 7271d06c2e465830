//! Events for partner systems (SPEC §4b), written in the transaction of the
//! change that causes them, like an email: if the change rolls back, nobody
//! hears of it. An event reaches each active subscription that asked for
//! its type and whose owner may read the record, through the same policy
//! and scope as a read: a partner's subscription hears only of what its
//! institution's staff could `GET`.

use crate::db::Prepare;
use std::future::Future;

use chrono::{SecondsFormat, Utc};
use diesel::{sql_types, ExpressionMethods, PgArrayExpressionMethods, QueryDsl};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use uuid::Uuid;

use crate::{
    auth::{
        policy::{may, Action, Resource, Scope},
        Principal, Role,
    },
    error::{AppError, AppResult},
    schema::{webhook_events, webhook_subscriptions},
    store::{Moving, Write},
};

/// The channel delivery workers LISTEN on; a delivery written NOTIFYs it at
/// commit (a trigger of the deliveries table).
pub const CHANNEL: &str = "meridian_webhooks";

/// A record partner systems hear of.
pub trait Subject: Serialize + Sync {
    /// What the policy calls it, for the read a subscription's owner may do.
    const RESOURCE: Resource;

    /// The record's id: its events reach a subscriber in order per id.
    fn subject_id(&self) -> Uuid;

    /// Whether a reader in `scope` may read the record now.
    fn readable(
        &self,
        conn: &mut AsyncPgConnection,
        scope: Scope,
    ) -> impl Future<Output = AppResult<bool>> + Send;
}

/// Implements [`Subject`] for a [`crate::store::Record`]: readable when
/// `find` in the reader's scope finds it.
#[macro_export]
macro_rules! subject {
    ($record:ty, $resource:ident) => {
        impl $crate::webhooks::events::Subject for $record {
            const RESOURCE: $crate::auth::policy::Resource =
                $crate::auth::policy::Resource::$resource;

            fn subject_id(&self) -> uuid::Uuid {
                <Self as $crate::store::Insert>::id(self)
            }

            async fn readable(
                &self,
                conn: &mut diesel_async::AsyncPgConnection,
                scope: $crate::auth::policy::Scope,
            ) -> $crate::error::AppResult<bool> {
                let id = <Self as $crate::store::Insert>::id(self);
                $crate::webhooks::events::found(
                    <Self as $crate::store::Record>::find(conn, scope, id).await,
                )
            }
        }
    };
}

/// Whether a lookup found its record; errors other than 404 stay errors.
pub fn found<T>(result: AppResult<T>) -> AppResult<bool> {
    match result {
        Ok(_) => Ok(true),
        Err(AppError::NotFound) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The `announce` hook of a record with a lifecycle: its creation and each
/// move are `<noun>.<state>`.
pub async fn moves<R: Subject + Moving>(
    conn: &mut AsyncPgConnection,
    noun: &str,
    write: Write,
    record: &R,
) -> AppResult<()> {
    let state = match write {
        Write::Created => record.state().into(),
        Write::Moved(to) => to,
        Write::Updated | Write::Deleted => return Ok(()),
    };
    emit(conn, &format!("{noun}.{state}"), record).await
}

/// The `announce` hook of a record whose writes are events:
/// `<noun>.created`, `<noun>.updated` and `<noun>.deleted`.
pub async fn writes<R: Subject>(
    conn: &mut AsyncPgConnection,
    noun: &str,
    write: Write,
    record: &R,
) -> AppResult<()> {
    let what = match write {
        Write::Created => "created",
        Write::Updated => "updated",
        Write::Deleted => "deleted",
        Write::Moved(_) => return Ok(()),
    };
    emit(conn, &format!("{noun}.{what}"), record).await
}

/// The body of a delivery, as signed and sent.
#[derive(Serialize)]
struct Body<'a, R> {
    id: Uuid,
    #[serde(rename = "type")]
    event_type: &'a str,
    occurred_at: String,
    data: &'a R,
}

/// Writes event `event_type` of `record` in the caller's transaction, with a
/// delivery to every subscription that hears of it.
pub async fn emit<R: Subject>(
    conn: &mut AsyncPgConnection,
    event_type: &str,
    record: &R,
) -> AppResult<()> {
    emit_each(conn, event_type, std::slice::from_ref(record)).await
}

/// Writes event `event_type` of each record (a CSV import's trainees).
/// Costs one indexed read when nobody subscribed.
pub async fn emit_each<R: Subject>(
    conn: &mut AsyncPgConnection,
    event_type: &str,
    records: &[R],
) -> AppResult<()> {
    let asked: Vec<(Uuid, Option<Uuid>)> = webhook_subscriptions::table
        .filter(webhook_subscriptions::active.eq(true))
        .filter(webhook_subscriptions::events.overlaps_with(vec![event_type, "*"]))
        .select((
            webhook_subscriptions::id,
            webhook_subscriptions::institution_id,
        ))
        .load(conn)
        .await?;
    if asked.is_empty() {
        return Ok(());
    }
    for record in records {
        let mut to = Vec::with_capacity(asked.len());
        // Whether each institution's staff may read it, asked once.
        let mut readers: Vec<(Uuid, bool)> = Vec::new();
        for (subscription, institution) in &asked {
            let hears = match institution {
                None => true,
                Some(i) => match readers.iter().find(|(seen, _)| seen == i) {
                    Some((_, reads)) => *reads,
                    None => {
                        let reads = partner_reads(conn, *i, record).await?;
                        readers.push((*i, reads));
                        reads
                    }
                },
            };
            if hears {
                to.push(*subscription);
            }
        }
        if !to.is_empty() {
            write(conn, event_type, record, &to).await?;
        }
    }
    Ok(())
}

/// One event and its deliveries to `to`.
async fn write<R: Subject>(
    conn: &mut AsyncPgConnection,
    event_type: &str,
    record: &R,
    to: &[Uuid],
) -> AppResult<()> {
    let id = Uuid::now_v7();
    let body = serde_json::to_string(&Body {
        id,
        event_type,
        occurred_at: Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true),
        data: record,
    })
    .map_err(|e| AppError::Internal(e.into()))?;
    let record_id = record.subject_id();
    diesel::insert_into(webhook_events::table)
        .values((
            webhook_events::id.eq(id),
            webhook_events::event_type.eq(event_type),
            webhook_events::record_id.eq(record_id),
            webhook_events::body.eq(&body),
        ))
        .prepared()
        .execute(conn)
        .await?;
    diesel::sql_query(
        "INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, record_id) \
         SELECT s, $1, $2, $3 FROM unnest($4::uuid[]) AS s",
    )
    .bind::<sql_types::Uuid, _>(id)
    .bind::<sql_types::Text, _>(event_type)
    .bind::<sql_types::Uuid, _>(record_id)
    .bind::<sql_types::Array<sql_types::Uuid>, _>(to)
    .prepared()
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether staff of `institution` may read `record`: the role table, then
/// the scope its read would have.
async fn partner_reads<R: Subject>(
    conn: &mut AsyncPgConnection,
    institution: Uuid,
    record: &R,
) -> AppResult<bool> {
    let staff = Principal {
        user_id: Uuid::nil(),
        role: Role::Partner,
        institution_id: Some(institution),
        trainee_id: None,
    };
    match may(&staff, R::RESOURCE, Action::Read) {
        Ok(scope) => record.readable(conn, scope).await,
        Err(_) => Ok(false),
    }
}
