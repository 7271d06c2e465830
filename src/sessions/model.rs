//! A session of a cohort, the attendance marks taken at it, and the bodies
//! that schedule one and take attendance.

use chrono::{DateTime, Utc};
use diesel::{Queryable, Selectable};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    api::{
        input::{Checker, Field, Unknown},
        Versioned,
    },
    error::AppResult,
    schema::attendance,
    types::Name,
};

crate::record! {
    /// A session of a cohort.
    pub struct Session in sessions;
    /// The body of `POST /cohorts/{id}/sessions`.
    pub struct SessionInput => NewSession, SessionChanges, check = check, given cohort_id: Uuid;
    set {
        cohort_id: Uuid = cohort_id,
    }
    fields {
        title: String => Name [required],
        #[schema(value_type = String, format = DateTime)]
        #[serde(serialize_with = "crate::api::stamp::utc")]
        starts_at: DateTime<Utc> => DateTime<Utc> [required],
        #[schema(value_type = String, format = DateTime)]
        #[serde(serialize_with = "crate::api::stamp::utc")]
        ends_at: DateTime<Utc> => DateTime<Utc> [required],
    }
}

fn check(c: &mut Checker, draft: &SessionChanges, _creating: bool) {
    if let (Some(s), Some(e)) = (draft.starts_at, draft.ends_at) {
        c.ensure(s < e, "ends_at", "must be after starts_at");
    }
}

impl Versioned for Session {
    fn version(&self) -> i32 {
        self.version
    }
}

crate::text_enum! {
    /// Whether a trainee came.
    pub enum AttendanceStatus {
        Present,
        Absent,
        /// Counts as neither present nor held.
        Excused,
    }
}

/// One attendance mark.
#[derive(Debug, Clone, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = attendance)]
pub struct Mark {
    pub enrollment_id: Uuid,
    pub status: AttendanceStatus,
    #[serde(serialize_with = "crate::api::stamp::utc")]
    pub marked_at: DateTime<Utc>,
    pub marked_by: Option<Uuid>,
}

/// One member of the body of `PUT /sessions/{id}/attendance`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MarkInput {
    #[serde(default)]
    enrollment_id: Field<Uuid>,
    #[serde(default)]
    status: Field<AttendanceStatus>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

/// Checks attendance marks against the enrollments that hold a seat in the
/// session's cohort: every bad mark is reported, as `[i].field`.
pub fn check_marks(
    marks: Vec<MarkInput>,
    seat_holders: &[Uuid],
) -> AppResult<Vec<(Uuid, AttendanceStatus)>> {
    let mut c = Checker::default();
    let mut checked: Vec<(Uuid, AttendanceStatus)> = Vec::new();
    for (i, m) in marks.into_iter().enumerate() {
        for key in m.unknown.keys() {
            c.error(&format!("[{i}].{key}"), "unknown field");
        }
        let enrollment = c.required(&format!("[{i}].enrollment_id"), m.enrollment_id);
        let status = c.required(&format!("[{i}].status"), m.status);
        if let Some(e) = enrollment {
            c.ensure(
                seat_holders.contains(&e),
                &format!("[{i}].enrollment_id"),
                "is not an accepted enrollment of this session's cohort",
            );
            if checked.iter().any(|(other, _)| *other == e) {
                c.error(&format!("[{i}].enrollment_id"), "is marked twice");
            }
        }
        if let (Some(e), Some(s)) = (enrollment, status) {
            checked.push((e, s));
        }
    }
    c.finish(|| Some(checked))
}

/// A session and its attendance marks.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionWithAttendance {
    #[serde(flatten)]
    pub session: Session,
    pub attendance: Vec<Mark>,
}

impl Versioned for SessionWithAttendance {
    fn version(&self) -> i32 {
        self.session.version
    }

    /// Attendance marks change without the session: their count and the
    /// latest mark tell.
    fn computed(&self) -> Option<String> {
        let latest = self
            .attendance
            .iter()
            .map(|m| m.marked_at.timestamp_micros())
            .max()
            .unwrap_or(0);
        Some(format!("{}.{latest}", self.attendance.len()))
    }
}
