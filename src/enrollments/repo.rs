//! The SQL and rules of enrollments. Every move locks the cohort row first,
//! so seats, quotas and waitlist promotion are decided one at a time per
//! cohort, whatever the concurrency.

use crate::db::Prepare;
use crate::types::JsonText;
use chrono::Utc;
use diesel::{
    sql_query,
    sql_types::{BigInt, Text, Uuid as SqlUuid},
    ExpressionMethods, PgSortExpressionMethods, QueryDsl, QueryableByName, SelectableHelper,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::future::try_join;
use serde_json::json;
use uuid::Uuid;

use super::model::{Enrollment, EnrollmentStatus};
use crate::auth::policy::Resource;
use crate::store::Write;
use crate::webhooks::events::{self, Subject};
use crate::{
    api::collection::Listing,
    api::list::{self, Page},
    audit::Actor,
    auth::policy::Scope,
    certificates::repo as certificates,
    cohorts::{
        model::{CohortRow, CohortStatus},
        repo as cohorts,
    },
    error::{AppError, AppResult, Conflict},
    lifecycle,
    schema::enrollments,
    store::{Kind, Moving, Step},
};

pub const ENTITY: &str = "enrollment";

crate::list_filter! {
    /// Filters of `GET /enrollments`; a cohort's list takes the first two.
    pub struct Filter on enrollments {
        search: [],
        columns: { status: EnrollmentStatus, institution_id: Uuid, cohort_id: Uuid, trainee_id: Uuid },
    }
}

/// A page of the enrollments in scope that pass the filters.
pub async fn list(
    conn: &mut AsyncPgConnection,
    asked: Listing<'_, Filter>,
) -> AppResult<Page<Enrollment>> {
    let build = || {
        let query = enrollments::table.select(Enrollment::as_select());
        asked.filter.narrow(query.into_boxed(), asked.scope)
    };
    list::fetch(conn, asked.params, build, |e: Enrollment| e).await
}

/// An enrollment in scope, or 404.
pub async fn get(conn: &mut AsyncPgConnection, scope: Scope, id: Uuid) -> AppResult<Enrollment> {
    let e: Enrollment = enrollments::table
        .find(id)
        .select(Enrollment::as_select())
        .first(conn)
        .await?;
    scope.require(e.institution_id, e.trainee_id)?;
    Ok(e)
}

/// Queues an email about each enrollment `e` the condition keeps to its
/// trainee, in one statement that reads what the email says (cohort,
/// programme, institution) as it writes the row: `$1` is the template, the
/// email's id and what its payload adds are SQL of the caller's. One email
/// per enrollment and template (the dedupe key); the insert wakes the
/// workers (its trigger).
macro_rules! queue_mail {
    ($id:literal, $extra:literal, $condition:literal) => {
        concat!(
            "INSERT INTO notifications (id, template, recipient, locale, payload, dedupe_key) \
             SELECT ", $id, ", $1, t.email, t.locale, jsonb_build_object('given_name', t.given_name, \
                    'cohort_title', c.title, 'program_title', p.title, 'institution_name', i.name, \
                    'starts_on', c.starts_on, 'ends_on', c.ends_on) || ", $extra, ", $1 || ':' || e.id \
             FROM enrollments e JOIN trainees t ON t.id = e.trainee_id \
             JOIN cohorts c ON c.id = e.cohort_id JOIN programs p ON p.id = c.program_id \
             JOIN institutions i ON i.id = e.institution_id \
             WHERE ", $condition, " ON CONFLICT DO NOTHING"
        )
    };
}

/// Queues an email about an enrollment to its trainee, in the caller's
/// transaction; one per enrollment and template.
pub async fn mail(
    mut conn: &AsyncPgConnection,
    enrollment_id: Uuid,
    template: &'static str,
    extra: JsonText,
) -> AppResult<()> {
    sql_query(queue_mail!("$2", "$3", "e.id = $4"))
        .bind::<Text, _>(template)
        .bind::<SqlUuid, _>(Uuid::now_v7())
        .bind::<diesel::sql_types::Jsonb, _>(extra)
        .bind::<SqlUuid, _>(enrollment_id)
        .prepared()
        .execute(&mut conn)
        .await?;
    Ok(())
}

/// Nominates a trainee (in the caller's scope) into a cohort taking
/// nominations.
pub async fn nominate(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    scope: Scope,
    cohort_id: Uuid,
    trainee_id: Uuid,
    motivation: Option<String>,
) -> AppResult<Enrollment> {
    conn.transaction(async |conn| {
        let institution_id = crate::trainees::repo::institution_of(conn, trainee_id).await?;
        scope.require(institution_id, trainee_id)?;
        let cohort = cohorts::share(conn, cohort_id).await?;
        if !cohort.accepts_nominations(Utc::now()) {
            return Err(AppError::conflict(
                Conflict::NominationsClosed,
                "The cohort does not take nominations now: it is not open or outside its nomination window.",
            ));
        }
        let created: Enrollment = diesel::insert_into(enrollments::table)
            .values((
                enrollments::id.eq(Uuid::now_v7()),
                enrollments::cohort_id.eq(cohort_id),
                enrollments::trainee_id.eq(trainee_id),
                enrollments::institution_id.eq(institution_id),
                enrollments::motivation.eq(motivation.clone()),
                enrollments::nominated_by.eq(actor.id.unwrap_or_default()),
            ))
            .returning(Enrollment::as_returning())
            .prepared()
            .get_result(conn)
            .await?;
        try_join(
            lifecycle::record(conn, actor.clone(), ENTITY, created.id, "new", "nominated", None),
            mail(conn, created.id, "enrollment_nominated", JsonText::empty()),
        )
        .await?;
        Enrollment::announce(conn, Write::Created, &created).await?;
        Ok(created)
    })
    .await
}

/// Seats of a cohort taken now, as the moves of this transaction left them:
/// kept on its row, which the caller holds locked.
async fn seats_taken(conn: &mut AsyncPgConnection, cohort_id: Uuid) -> AppResult<i64> {
    use crate::schema::cohorts;
    let n: i32 = cohorts::table
        .find(cohort_id)
        .select(cohorts::seats_taken)
        .first(conn)
        .await?;
    Ok(n.into())
}

/// Seats of a cohort held by an institution's trainees.
async fn institution_seats(
    conn: &mut AsyncPgConnection,
    cohort_id: Uuid,
    institution: Uuid,
) -> AppResult<i64> {
    Ok(enrollments::table
        .filter(enrollments::cohort_id.eq(cohort_id))
        .filter(enrollments::status.eq_any(EnrollmentStatus::SEATED))
        .filter(enrollments::institution_id.eq(institution))
        .count()
        .get_result(conn)
        .await?)
}

/// 409 unless the cohort, `taken` of whose seats are taken, has a seat, and
/// the institution quota room, for one more trainee of `institution_id`.
/// The cohort row must be locked.
async fn ensure_seat(
    conn: &mut AsyncPgConnection,
    cohort: &CohortRow,
    taken: i64,
    institution_id: Uuid,
) -> AppResult<()> {
    if taken >= i64::from(cohort.capacity) {
        return Err(AppError::conflict(
            Conflict::CohortFull,
            "Every seat of the cohort is taken.",
        ));
    }
    if let Some(max) = cohort.max_per_institution {
        if institution_seats(conn, cohort.id, institution_id).await? >= i64::from(max) {
            return Err(AppError::conflict(
                Conflict::InstitutionQuotaReached,
                "The institution already has as many seats in this cohort as it may.",
            ));
        }
    }
    Ok(())
}

#[derive(QueryableByName)]
struct Attendance {
    #[diesel(sql_type = BigInt)]
    held: i64,
    #[diesel(sql_type = BigInt)]
    present: i64,
    #[diesel(sql_type = BigInt)]
    excused: i64,
}

/// 409 `attendance-too-low` unless the trainee was present at
/// `min_attendance_pct` of the sessions that have ended; excused sessions
/// count as neither present nor held.
async fn ensure_attendance(
    conn: &mut AsyncPgConnection,
    cohort: &CohortRow,
    enrollment_id: Uuid,
) -> AppResult<()> {
    let a: Attendance = sql_query(
        "SELECT count(*) AS held, \
                count(*) FILTER (WHERE a.status = 'present') AS present, \
                count(*) FILTER (WHERE a.status = 'excused') AS excused \
         FROM sessions s LEFT JOIN attendance a ON a.session_id = s.id AND a.enrollment_id = $1 \
         WHERE s.cohort_id = $2 AND s.ends_at <= now()",
    )
    .bind::<SqlUuid, _>(enrollment_id)
    .bind::<SqlUuid, _>(cohort.id)
    .prepared()
    .get_result(conn)
    .await?;
    let counted = a.held - a.excused;
    if counted > 0 && a.present * 100 < i64::from(cohort.min_attendance_pct) * counted {
        return Err(AppError::Conflict {
            kind: Conflict::AttendanceTooLow,
            detail: format!(
                "Present at {} of {} sessions; {}% are needed.",
                a.present, counted, cohort.min_attendance_pct
            ),
            extra: json!({ "present": a.present, "counted": counted, "required_pct": cohort.min_attendance_pct })
                .as_object()
                .cloned(),
        });
    }
    Ok(())
}

impl Kind for Enrollment {
    const KIND: &'static str = ENTITY;

    /// Partner systems hear of a nomination and each move.
    async fn announce(conn: &mut AsyncPgConnection, write: Write, e: &Self) -> AppResult<()> {
        events::moves(conn, ENTITY, write, e).await
    }
}

impl Subject for Enrollment {
    const RESOURCE: Resource = Resource::Enrollment;

    fn subject_id(&self) -> Uuid {
        self.id
    }

    async fn readable(&self, _: &mut AsyncPgConnection, scope: Scope) -> AppResult<bool> {
        events::found(scope.require(self.institution_id, self.trainee_id))
    }
}

/// Every move locks the cohort first: seats and quotas, attendance, the
/// certificate, the emails and the promotion of the waitlist when a seat
/// frees up are decided one move at a time per cohort. The cohort is held
/// with its seats taken as it was locked, before this move.
impl Moving for Enrollment {
    type State = EnrollmentStatus;
    type Held = (CohortRow, i64);

    fn state(&self) -> EnrollmentStatus {
        self.status
    }

    fn parent_id(&self) -> Option<Uuid> {
        Some(self.cohort_id)
    }

    async fn lock_for_move(
        conn: &mut AsyncPgConnection,
        scope: Scope,
        id: Uuid,
    ) -> AppResult<(Self, (CohortRow, i64))> {
        let cohort = cohorts::lock_of_enrollment(conn, id).await?;
        let current: Enrollment = enrollments::table
            .find(id)
            .select(Enrollment::as_select())
            .for_update()
            .first(conn)
            .await?;
        scope.require(current.institution_id, current.trainee_id)?;
        Ok((current, cohort))
    }

    async fn check_move(conn: &mut AsyncPgConnection, step: &Step<'_, Self>) -> AppResult<()> {
        use EnrollmentStatus::*;
        let (current, to, (cohort, taken)) = (step.before, step.to, step.held);
        match to {
            Accepted => ensure_seat(conn, cohort, *taken, current.institution_id).await,
            Completed | NotCompleted => {
                if !matches!(
                    cohort.status,
                    CohortStatus::Running | CohortStatus::Completed
                ) {
                    return Err(AppError::conflict(
                        Conflict::CohortNotRunning,
                        "Outcomes are recorded once the cohort is running or completed.",
                    ));
                }
                if to == Completed {
                    ensure_attendance(conn, cohort, current.id).await?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    async fn set_state(conn: &mut AsyncPgConnection, step: &Step<'_, Self>) -> AppResult<Self> {
        use EnrollmentStatus::*;
        let (current, to) = (step.before, step.to);
        let decided = matches!(to, Accepted | Waitlisted | Rejected).then(Utc::now);
        let note = step.note.map(str::to_string).or(current.note.clone());
        crate::write_state!(
            conn,
            enrollments,
            Enrollment,
            current.id,
            enrollments::status.eq(to),
            enrollments::decided_at.eq(decided.or(current.decided_at)),
            enrollments::note.eq(note),
        )
    }

    async fn after_move(
        conn: &mut AsyncPgConnection,
        step: &Step<'_, Self>,
        moved: &Self,
    ) -> AppResult<()> {
        use EnrollmentStatus::*;
        let ((cohort, _), before, actor) = (step.held, step.before, step.actor);
        let id = moved.id;
        match moved.status {
            Accepted => mail(conn, id, "enrollment_accepted", JsonText::empty()).await?,
            Waitlisted => mail(conn, id, "enrollment_waitlisted", JsonText::empty()).await?,
            Rejected => mail(conn, id, "enrollment_rejected", JsonText::empty()).await?,
            Completed => {
                let code = certificates::issue(conn, id).await?;
                let payload = json!({ "certificate_code": code });
                mail(conn, id, "enrollment_completed", payload.into()).await?
            }
            _ => {}
        }
        let seat_freed = moved.status == Withdrawn && before.status == Accepted;
        if seat_freed && cohort.auto_promote && cohort.status != CohortStatus::Completed {
            promote(conn, actor, cohort).await?;
        }
        Ok(())
    }
}

/// Accepts the oldest waitlisted enrollment whose institution still has
/// quota room, if any. The cohort row must be locked.
async fn promote(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    cohort: &CohortRow,
) -> AppResult<Option<Uuid>> {
    let waiting: Vec<(Uuid, Uuid)> = enrollments::table
        .filter(enrollments::cohort_id.eq(cohort.id))
        .filter(enrollments::status.eq(EnrollmentStatus::Waitlisted))
        .order((
            enrollments::decided_at.asc().nulls_last(),
            enrollments::created_at.asc(),
        ))
        .select((enrollments::id, enrollments::institution_id))
        .load(conn)
        .await?;
    for (id, institution_id) in waiting {
        let taken = seats_taken(conn, cohort.id).await?;
        if ensure_seat(conn, cohort, taken, institution_id)
            .await
            .is_err()
        {
            continue;
        }
        let promoted: Enrollment = diesel::update(enrollments::table.find(id))
            .set((
                enrollments::status.eq(EnrollmentStatus::Accepted),
                enrollments::decided_at.eq(Utc::now()),
            ))
            .returning(Enrollment::as_returning())
            .prepared()
            .get_result(conn)
            .await?;
        let note = Some("promoted from the waitlist");
        lifecycle::record(
            conn,
            actor.clone(),
            ENTITY,
            id,
            "waitlisted",
            "accepted",
            note,
        )
        .await?;
        mail(conn, id, "enrollment_promoted", JsonText::empty()).await?;
        Enrollment::announce(conn, Write::Moved("accepted"), &promoted).await?;
        return Ok(Some(id));
    }
    Ok(None)
}

/// Queues the "starts in a week" reminder for accepted trainees of cohorts
/// starting within 7 days, a thousand at most per call, in one statement.
/// Safe to run from every instance at once: the dedupe key makes it one
/// email per enrollment, ever.
pub async fn queue_reminders(conn: &mut AsyncPgConnection) -> AppResult<usize> {
    Ok(sql_query(queue_mail!(
        "gen_random_uuid()",
        "'{}'",
        "e.status = 'accepted' AND c.status IN ('open', 'closed', 'running') \
         AND c.starts_on > current_date AND c.starts_on <= current_date + 7 \
         AND NOT EXISTS (SELECT 1 FROM notifications n \
                         WHERE n.dedupe_key = 'cohort_reminder:' || e.id::text) \
         LIMIT 1000"
    ))
    .bind::<Text, _>("cohort_reminder")
    .prepared()
    .execute(conn)
    .await?)
}
