//! The SQL of cohorts. Every change of a cohort's seats happens under its
//! row lock (`lock`), which is what keeps capacity and quotas exact.

use crate::db::Prepare;
use chrono::Utc;
use diesel::{
    dsl::sql,
    sql_types::{BigInt, Bool},
    ExpressionMethods, QueryDsl, SelectableHelper,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{
    Cohort, CohortChanges, CohortInput, CohortRow, CohortStatus, Delivery, NewCohort,
};
use crate::store::Write;
use crate::webhooks::events;
use crate::{
    api::{
        collection::{Collection, Listing},
        list::{self, Page},
    },
    auth::{
        policy::{Resource, Scope},
        scope,
    },
    error::{AppError, AppResult},
    schema::{cohorts, enrollments},
    store::{Insert, Kind, Moving, Record, Step},
    types::CountryCode,
};

pub const ENTITY: &str = "cohort";

/// Seats taken and waitlist length of a cohort: kept on its row by a
/// trigger on enrollments (migration 000014), in the transactions that move
/// them, so they are exact and read with the row.
const SEATS: &str = "cohorts.seats_taken::bigint";
const WAITLIST: &str = "cohorts.waitlist_length::bigint";

crate::list_filter! {
    /// Filters of `GET /cohorts`.
    pub struct Filter on cohorts {
        sorts: [starts_on: date, code: text, title: text],
        search: ["code", "title", "city"],
        columns: { program_id: Uuid, status: CohortStatus, country_code: CountryCode, delivery: Delivery, host_institution_id: Uuid },
        custom: { open: bool },
    }
}

impl Collection for Cohort {
    const RESOURCE: Resource = Resource::Cohort;
    const PATH: &'static str = "/cohorts";
    type Input = CohortInput;
    type Filter = Filter;

    async fn list(
        conn: &mut AsyncPgConnection,
        asked: Listing<'_, Filter>,
    ) -> AppResult<Page<Cohort>> {
        let Listing {
            scope,
            params,
            filter: f,
        } = asked;
        let now = Utc::now();
        let build = || {
            let mut q = cohorts::table
                .select((
                    CohortRow::as_select(),
                    sql::<BigInt>(SEATS),
                    sql::<BigInt>(WAITLIST),
                ))
                .into_boxed();
            q = f.narrow(q, scope);
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
    let row: (CohortRow, i64, i64) = query.prepared().get_result(conn).await?;
    Ok(row.into())
}

/// The row of a cohort, to read with a lock.
fn row_of(
    id: Uuid,
) -> diesel::dsl::Select<
    diesel::dsl::Find<cohorts::table, Uuid>,
    diesel::dsl::AsSelect<CohortRow, diesel::pg::Pg>,
> {
    cohorts::table.find(id).select(CohortRow::as_select())
}

/// Locks a cohort for a change of its record or its seats.
pub async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<CohortRow> {
    Ok(row_of(id).for_update().first(conn).await?)
}

/// Locks the cohort of an enrollment, as [`lock`] does, and reads its seats
/// taken, in one statement.
pub async fn lock_of_enrollment(
    conn: &mut AsyncPgConnection,
    enrollment_id: Uuid,
) -> AppResult<(CohortRow, i64)> {
    let cohort_id = enrollments::table
        .find(enrollment_id)
        .select(enrollments::cohort_id);
    let (row, taken): (CohortRow, i32) = cohorts::table
        .filter(cohorts::id.eq_any(cohort_id))
        .select((CohortRow::as_select(), cohorts::seats_taken))
        .for_update()
        .first(conn)
        .await?;
    Ok((row, taken.into()))
}

/// Reads a cohort and holds it against changes until the transaction ends,
/// without excluding other readers: nominations, which take no seat, share
/// it with one another and wait only for a move of the cohort or of a seat.
pub async fn share(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<CohortRow> {
    Ok(row_of(id).for_share().first(conn).await?)
}

/// A cohort's record is its row with the seats and waitlist computed.
impl Kind for Cohort {
    const KIND: &'static str = ENTITY;

    /// Partner systems hear of a cohort's creation and each move.
    async fn announce(conn: &mut AsyncPgConnection, write: Write, cohort: &Self) -> AppResult<()> {
        events::moves(conn, "cohort", write, cohort).await
    }
}

crate::subject!(Cohort, Cohort);

impl Insert for Cohort {
    type New = NewCohort;

    fn id(&self) -> Uuid {
        self.row.id
    }

    async fn insert(conn: &mut AsyncPgConnection, new: &NewCohort) -> AppResult<Self> {
        let row: CohortRow = diesel::insert_into(cohorts::table)
            .values(new)
            .returning(CohortRow::as_returning())
            .prepared()
            .get_result(conn)
            .await?;
        Ok(Cohort::from((row, 0, 0)))
    }

    /// A cohort's coordinator is programme staff.
    async fn check_new(
        conn: &mut AsyncPgConnection,
        scope: Scope,
        new: &NewCohort,
    ) -> AppResult<()> {
        match new.coordinator_id {
            Some(c) => scope::require_staff(conn, scope, "coordinator_id", c).await,
            None => Ok(()),
        }
    }
}

impl Record for Cohort {
    type Changes = CohortChanges;

    async fn find(conn: &mut AsyncPgConnection, _: Scope, id: Uuid) -> AppResult<Self> {
        get(conn, id).await
    }

    async fn lock(conn: &mut AsyncPgConnection, _: Scope, id: Uuid) -> AppResult<Self> {
        lock(conn, id).await?;
        get(conn, id).await
    }

    async fn apply(
        conn: &mut AsyncPgConnection,
        id: Uuid,
        changes: &CohortChanges,
    ) -> AppResult<Self> {
        diesel::update(cohorts::table.find(id))
            .set(changes)
            .prepared()
            .execute(conn)
            .await?;
        get(conn, id).await
    }

    async fn remove(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<()> {
        diesel::delete(cohorts::table.find(id))
            .execute(conn)
            .await?;
        Ok(())
    }

    /// Capacity never drops below the seats already taken; a new
    /// coordinator is programme staff.
    async fn check_changes(
        conn: &mut AsyncPgConnection,
        scope: Scope,
        before: &Self,
        changes: &CohortChanges,
    ) -> AppResult<()> {
        if changes
            .capacity
            .is_some_and(|c| i64::from(c) < before.seats_taken)
        {
            return Err(AppError::invalid(
                "capacity",
                format!("is below the {} seats already taken", before.seats_taken),
            ));
        }
        match changes.coordinator_id {
            Some(Some(c)) => scope::require_staff(conn, scope, "coordinator_id", c).await,
            _ => Ok(()),
        }
    }
}

/// Cohorts move as their coordinators decide; seats are the enrollments'.
impl Moving for Cohort {
    type State = CohortStatus;
    type Held = ();

    fn state(&self) -> CohortStatus {
        self.row.status
    }

    async fn lock_for_move(
        conn: &mut AsyncPgConnection,
        scope: Scope,
        id: Uuid,
    ) -> AppResult<(Self, ())> {
        Ok((<Self as Record>::lock(conn, scope, id).await?, ()))
    }

    async fn set_state(conn: &mut AsyncPgConnection, step: &Step<'_, Self>) -> AppResult<Self> {
        let before = step.before;
        diesel::update(cohorts::table.find(before.row.id))
            .set(cohorts::status.eq(step.to))
            .prepared()
            .execute(conn)
            .await?;
        get(conn, before.row.id).await
    }
}
