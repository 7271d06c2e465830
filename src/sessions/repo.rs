//! The SQL of sessions and attendance. A session is scheduled under its
//! cohort's lock; marks follow their enrollment's scope when read.

use crate::db::Prepare;
use chrono::Utc;
use diesel::{ExpressionMethods, QueryDsl, SelectableHelper};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::json;
use uuid::Uuid;

use super::model::{check_marks, Mark, MarkInput, NewSession, Session, SessionWithAttendance};
use crate::{
    audit::{self, Actor},
    auth::{policy::Scope, scope::Scoped},
    cohorts::repo as cohorts,
    enrollments::model::EnrollmentStatus,
    error::AppResult,
    schema::{attendance, enrollments, sessions},
};

crate::child_list!(
    /// A page of a cohort's sessions.
    Session in sessions under cohort_id, sort = starts_at: "timestamptz", search = ["title"],
);

/// Sessions count toward completion: they are scheduled under the cohort's
/// lock, as outcomes are decided (404 for no cohort).
async fn under_cohort_lock(
    conn: &mut AsyncPgConnection,
    _: Scope,
    new: &NewSession,
) -> AppResult<()> {
    cohorts::lock(conn, new.cohort_id).await?;
    Ok(())
}

crate::table_insert!(
    Session [], sessions, Session, kind = "session", new = NewSession,
    check_new = under_cohort_lock,
);

/// A session with the attendance marks of the enrollments in `scope`.
/// Marks follow their enrollment: partner staff see their institution's.
pub async fn with_attendance(
    conn: &mut AsyncPgConnection,
    scope: Scope,
    id: Uuid,
) -> AppResult<SessionWithAttendance> {
    let session: Session = sessions::table
        .find(id)
        .select(Session::as_select())
        .first(conn)
        .await?;
    let mut marks = attendance::table
        .filter(attendance::session_id.eq(id))
        .order(attendance::enrollment_id)
        .select(Mark::as_select())
        .into_boxed();
    if let Some(cond) = attendance::table::condition(scope) {
        marks = marks.filter(cond);
    }
    let attendance: Vec<Mark> = marks.load(conn).await?;
    Ok(SessionWithAttendance {
        session,
        attendance,
    })
}

/// Takes attendance: under the cohort's lock, as outcomes are decided, marks
/// are checked against the enrollments holding a seat (every bad mark
/// reported) and written (a mark given again replaces the earlier one) with
/// their audit record, all or nothing.
pub async fn mark(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    session_id: Uuid,
    input: Vec<MarkInput>,
) -> AppResult<()> {
    let by = actor.id;
    conn.transaction(async |conn| {
        let cohort_id: Uuid = sessions::table
            .find(session_id)
            .select(sessions::cohort_id)
            .first(conn)
            .await?;
        cohorts::lock(conn, cohort_id).await?;
        let seat_holders: Vec<Uuid> = enrollments::table
            .filter(enrollments::cohort_id.eq(cohort_id))
            .filter(enrollments::status.eq_any(EnrollmentStatus::SEATED))
            .select(enrollments::id)
            .load(conn)
            .await?;
        let marks = check_marks(input, &seat_holders)?;
        for (enrollment_id, status) in &marks {
            diesel::insert_into(attendance::table)
                .values((
                    attendance::session_id.eq(session_id),
                    attendance::enrollment_id.eq(enrollment_id),
                    attendance::status.eq(status),
                    attendance::marked_by.eq(by),
                ))
                .on_conflict((attendance::session_id, attendance::enrollment_id))
                .do_update()
                .set((
                    attendance::status.eq(status),
                    attendance::marked_at.eq(Utc::now()),
                    attendance::marked_by.eq(by),
                ))
                .prepared()
                .execute(conn)
                .await?;
        }
        let summary = json!({ "marks": marks.len() });
        audit::record(
            conn,
            actor.clone(),
            "session",
            "attendance",
            session_id,
            summary,
        )
        .await
    })
    .await
}
