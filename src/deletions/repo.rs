//! The SQL of tombstones: written by the store in the transaction of each
//! delete, read by the feed in the reader's scope, purged by the jobs loop.

use crate::db::Prepare;
use chrono::{DateTime, Utc};
use diesel::{
    dsl::sql, pg::Pg, sql_types::Bool, BoolExpressionMethods, BoxableExpression, ExpressionMethods,
    PgArrayExpressionMethods, QueryDsl, Queryable, Selectable, SelectableHelper,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    api::list::{self, ListParams, Page},
    auth::policy::{Resource, Scope},
    error::AppResult,
    schema::deletions,
};

/// The collections whose deletions the feed tells: the name a client asks
/// for (`type`), the kind the store records, and the row of the role table
/// that says who may read the records.
pub const COLLECTIONS: &[(&str, &str, Resource)] = &[
    ("institutions", "institution", Resource::Institution),
    ("programs", "program", Resource::Program),
    ("cohorts", "cohort", Resource::Cohort),
    ("trainees", "trainee", Resource::Trainee),
    ("incubators", "incubator", Resource::Incubator),
    ("ventures", "venture", Resource::Venture),
    (
        "exchange-agreements",
        "exchange_agreement",
        Resource::Agreement,
    ),
    ("exchanges", "exchange", Resource::Exchange),
];

/// Whom a deleted record belonged to: what scopes its tombstone as reads of
/// the record were scoped.
#[derive(Debug, Default)]
pub struct Owners {
    pub institutions: Vec<Uuid>,
    pub trainees: Vec<Uuid>,
}

/// Records the deletion of record `id` of `kind`; call in the delete's
/// transaction.
pub async fn record(
    conn: &mut AsyncPgConnection,
    kind: &str,
    id: Uuid,
    owners: Owners,
) -> AppResult<()> {
    diesel::insert_into(deletions::table)
        .values((
            deletions::id.eq(id),
            deletions::kind.eq(kind),
            deletions::institution_ids.eq(owners.institutions),
            deletions::trainee_ids.eq(owners.trainees),
        ))
        .prepared()
        .execute(conn)
        .await?;
    Ok(())
}

/// One deleted record, as the feed tells it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Deletion {
    /// The collection it was in, e.g. `trainees`.
    #[serde(rename = "type")]
    pub collection: &'static str,
    pub id: Uuid,
    #[serde(serialize_with = "crate::api::stamp::utc")]
    pub deleted_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = deletions)]
struct Tombstone {
    id: Uuid,
    kind: String,
    deleted_at: DateTime<Utc>,
}

type Condition = Box<dyn BoxableExpression<deletions::table, Pg, SqlType = Bool>>;

/// The tombstones of one kind a reader in `scope` may learn of.
fn readable(kind: &'static str, scope: Scope) -> Option<Condition> {
    let of_kind = deletions::kind.eq(kind);
    Some(match scope {
        Scope::All => Box::new(of_kind),
        Scope::Institution(i) => {
            Box::new(of_kind.and(deletions::institution_ids.contains(vec![i])))
        }
        Scope::Trainee(t) => Box::new(of_kind.and(deletions::trainee_ids.contains(vec![t]))),
        Scope::Author(_) | Scope::Published(_) | Scope::Nobody => return None,
    })
}

/// A page of the deletions since `since`, of the kinds given with the
/// reader's scope of each.
pub async fn feed(
    conn: &mut AsyncPgConnection,
    params: &ListParams,
    kinds: &[(&'static str, &'static str, Scope)],
    since: Option<DateTime<Utc>>,
) -> AppResult<Page<Deletion>> {
    let build = || {
        let mut q = deletions::table.select(Tombstone::as_select()).into_boxed();
        let mut any: Condition = Box::new(sql::<Bool>("false"));
        for (_, kind, scope) in kinds {
            if let Some(cond) = readable(kind, *scope) {
                any = Box::new(any.or(cond));
            }
        }
        q = q.filter(any);
        if let Some(since) = since {
            q = q.filter(deletions::deleted_at.ge(since));
        }
        q
    };
    let to_item = |t: Tombstone| Deletion {
        collection: kinds
            .iter()
            .find(|(_, kind, _)| *kind == t.kind)
            .map_or("", |(collection, _, _)| collection),
        id: t.id,
        deleted_at: t.deleted_at,
    };
    list::fetch(conn, params, build, to_item).await
}

/// Purges tombstones older than `days`; run by the jobs loop.
pub async fn purge(conn: &mut AsyncPgConnection, days: i64) -> AppResult<usize> {
    Ok(diesel::delete(deletions::table)
        .filter(deletions::deleted_at.lt(Utc::now() - chrono::Duration::days(days)))
        .execute(conn)
        .await?)
}
