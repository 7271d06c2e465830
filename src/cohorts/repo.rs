//! The SQL of cohorts. Every change of a cohort's seats happens under its
//! row lock (`lock`), which is what keeps capacity and quotas exact.

use chrono::Utc;
use diesel::{
    dsl::sql,
    sql_types::{BigInt, Bool},
    ExpressionMethods, QueryDsl, SelectableHelper,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{Cohort, CohortChanges, CohortRow, CohortStatus, Delivery, NewCohort};
use crate::{
    api::list::{self, ListParams, Page},
    audit,
    auth::Ctx,
    db::Prepared,
    error::{AppError, AppResult},
    lifecycle::{self, Lifecycle},
    schema::cohorts,
};

pub const ENTITY: &str = "cohort";

/// Seats taken and waitlist length of the cohort row in scope, as SQL. They
/// are read from the dashboard tallies (migration 000006), kept in the
/// transactions that move enrollments, so they are exact and cost a few rows
/// instead of the cohort's enrollments. Seat decisions themselves count
/// under the cohort's lock (`enrollments::repo`).
const SEATS: &str = "(SELECT COALESCE(sum(n), 0)::bigint FROM \
     (SELECT n FROM tallies WHERE scope_id = cohorts.id AND dim = 'all' \
        AND status IN ('accepted', 'completed', 'not_completed') \
      UNION ALL SELECT n FROM tally_deltas WHERE scope_id = cohorts.id AND dim = 'all' \
        AND status IN ('accepted', 'completed', 'not_completed')) seats)";
const WAITLIST: &str = "(SELECT COALESCE(sum(n), 0)::bigint FROM \
     (SELECT n FROM tallies WHERE scope_id = cohorts.id AND dim = 'all' AND status = 'waitlisted' \
      UNION ALL SELECT n FROM tally_deltas WHERE scope_id = cohorts.id AND dim = 'all' \
        AND status = 'waitlisted') waiting)";

/// Filters of `GET /cohorts`.
#[derive(Debug, Default)]
pub struct Filter {
    pub program_id: Option<Uuid>,
    pub status: Option<CohortStatus>,
    pub country_code: Option<String>,
    pub delivery: Option<Delivery>,
    pub host_institution_id: Option<Uuid>,
    /// Only cohorts taking nominations now.
    pub open: Option<bool>,
}

pub async fn list(
    conn: &mut AsyncPgConnection,
    params: &ListParams,
    f: &Filter,
) -> AppResult<Page<Cohort>> {
    let now = Utc::now();
    let build = || {
        let mut q = cohorts::table
            .select((
                CohortRow::as_select(),
                sql::<BigInt>(SEATS),
                sql::<BigInt>(WAITLIST),
            ))
            .into_boxed();
        if let Some(v) = f.program_id {
            q = q.filter(cohorts::program_id.eq(v));
        }
        if let Some(v) = f.status {
            q = q.filter(cohorts::status.eq(v));
        }
        if let Some(v) = &f.country_code {
            q = q.filter(cohorts::country_code.eq(v.clone()));
        }
        if let Some(v) = f.delivery {
            q = q.filter(cohorts::delivery.eq(v));
        }
        if let Some(v) = f.host_institution_id {
            q = q.filter(cohorts::host_institution_id.eq(v));
        }
        match f.open {
            Some(true) => {
                q = q
                    .filter(cohorts::status.eq(CohortStatus::Open))
                    .filter(cohorts::nominations_open_at.le(now))
                    .filter(cohorts::nominations_close_at.gt(now))
            }
            Some(false) => {
                q = q.filter(
                    sql::<Bool>("NOT (status = 'open' AND nominations_open_at <= ")
                        .bind::<diesel::sql_types::Timestamptz, _>(now)
                        .sql(" AND nominations_close_at > ")
                        .bind::<diesel::sql_types::Timestamptz, _>(now)
                        .sql(")"),
                )
            }
            None => {}
        }
        q
    };
    list::fetch(conn, params, build, |r: (CohortRow, i64, i64)| {
        Cohort::from(r)
    })
    .await
}

pub async fn get(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Cohort> {
    let query = cohorts::table
        .find(id)
        .select((
            CohortRow::as_select(),
            sql::<BigInt>(SEATS),
            sql::<BigInt>(WAITLIST),
        ))
        .limit(1);
    let row: (CohortRow, i64, i64) = Prepared(query).get_result(conn).await?;
    Ok(row.into())
}

/// Locks a cohort for a change of its record or its seats.
pub async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<CohortRow> {
    Ok(cohorts::table
        .find(id)
        .select(CohortRow::as_select())
        .for_update()
        .first(conn)
        .await?)
}

async fn lock_versioned(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    expected: Option<i32>,
) -> AppResult<CohortRow> {
    let row = lock(conn, id).await?;
    crate::api::require_version(expected, row.version)?;
    Ok(row)
}

pub async fn create(conn: &mut AsyncPgConnection, ctx: &Ctx, new: NewCohort) -> AppResult<Cohort> {
    conn.transaction(async |conn| {
        let row: CohortRow = diesel::insert_into(cohorts::table)
            .values(&new)
            .returning(CohortRow::as_returning())
            .get_result(conn)
            .await?;
        let created = Cohort::from((row, 0, 0));
        audit::record(
            conn,
            ctx,
            ENTITY,
            "create",
            created.row.id,
            audit::snapshot(&created),
        )
        .await?;
        Ok(created)
    })
    .await
}

pub async fn update(
    conn: &mut AsyncPgConnection,
    ctx: &Ctx,
    id: Uuid,
    expected: Option<i32>,
    changes: CohortChanges,
) -> AppResult<Cohort> {
    conn.transaction(async |conn| {
        lock_versioned(conn, id, expected).await?;
        let before = get(conn, id).await?;
        if changes.is_empty() {
            return Ok(before);
        }
        if changes
            .capacity
            .is_some_and(|c| i64::from(c) < before.seats_taken)
        {
            return Err(AppError::invalid(
                "capacity",
                format!("is below the {} seats already taken", before.seats_taken),
            ));
        }
        diesel::update(cohorts::table.find(id))
            .set(&changes)
            .execute(conn)
            .await?;
        let after = get(conn, id).await?;
        audit::record(
            conn,
            ctx,
            ENTITY,
            "update",
            id,
            audit::diff(&before, &after),
        )
        .await?;
        Ok(after)
    })
    .await
}

pub async fn delete(
    conn: &mut AsyncPgConnection,
    ctx: &Ctx,
    id: Uuid,
    expected: Option<i32>,
) -> AppResult<()> {
    conn.transaction(async |conn| {
        lock_versioned(conn, id, expected).await?;
        let before = get(conn, id).await?;
        diesel::delete(cohorts::table.find(id))
            .execute(conn)
            .await?;
        audit::record(conn, ctx, ENTITY, "delete", id, audit::snapshot(&before)).await
    })
    .await
}

/// Moves a cohort along its lifecycle.
pub async fn transition(
    conn: &mut AsyncPgConnection,
    ctx: &Ctx,
    id: Uuid,
    to: CohortStatus,
    note: Option<String>,
) -> AppResult<Cohort> {
    conn.transaction(async |conn| {
        let row = lock(conn, id).await?;
        row.status.check(to)?;
        diesel::update(cohorts::table.find(id))
            .set(cohorts::status.eq(to))
            .execute(conn)
            .await?;
        lifecycle::record(
            conn,
            ctx,
            ENTITY,
            id,
            row.status.into(),
            to.into(),
            note.as_deref(),
        )
        .await?;
        get(conn, id).await
    })
    .await
}
