//! Cohorts: the record, its lifecycle and its input rules.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    api::{
        input::{Checker, Field},
        Versioned,
    },
    lifecycle::Lifecycle,
    types::{Code, CountryCode, LanguageTag, Name, ShortText, TimeZone},
};

crate::text_enum! {
    /// How a cohort is taught.
    pub enum Delivery {
        Online,
        Onsite,
        Hybrid,
    }
}

crate::text_enum! {
    /// Where a cohort stands: draft → open → closed → running → completed;
    /// closed → open; draft, open, closed → cancelled.
    pub enum CohortStatus {
        Draft,
        Open,
        Closed,
        Running,
        Completed,
        Cancelled,
    }
}

impl Lifecycle for CohortStatus {
    fn next(self) -> &'static [Self] {
        use CohortStatus::*;
        match self {
            Draft => &[Open, Cancelled],
            Open => &[Closed, Cancelled],
            Closed => &[Running, Open, Cancelled],
            Running => &[Completed],
            Completed | Cancelled => &[],
        }
    }
}

crate::record! {
    /// A row of `cohorts`.
    pub struct CohortRow in cohorts;
    /// The body of `POST` and `PATCH /cohorts`; `status` moves through
    /// `/cohorts/{id}/transitions` only.
    pub struct CohortInput => NewCohort, CohortChanges, check = check;
    impl Input;
    fixed {
        /// Set at creation; cannot change.
        program_id: Uuid => Uuid,
    }
    fields {
        code: String => Code [required],
        title: String => Name [required],
        host_institution_id: Uuid => Uuid [required],
        delivery: Delivery => Delivery [required],
        /// Required unless delivery is online.
        country_code: Option<String> => CountryCode [optional],
        city: Option<String> => ShortText [optional],
        /// BCP 47 tags, e.g. `["en", "fr"]`.
        #[schema(value_type = Vec<String>)]
        languages: Vec<String> => Vec<LanguageTag> [default(Vec::new())],
        starts_on: NaiveDate => NaiveDate [required],
        ends_on: NaiveDate => NaiveDate [required],
        #[schema(value_type = String, format = DateTime)]
        #[serde(serialize_with = "crate::api::stamp::utc")]
        nominations_open_at: DateTime<Utc> => DateTime<Utc> [required],
        #[schema(value_type = String, format = DateTime)]
        #[serde(serialize_with = "crate::api::stamp::utc")]
        nominations_close_at: DateTime<Utc> => DateTime<Utc> [required],
        capacity: i32 => i32 [required],
        max_per_institution: Option<i32> => i32 [optional],
        /// 0 to 100, default 80.
        min_attendance_pct: i32 => i32 [default(80)],
        /// Default true.
        auto_promote: bool => bool [default(true)],
        /// The IANA time zone its sessions and emails are written in, e.g.
        /// `Africa/Nairobi`; default `UTC`.
        time_zone: String => TimeZone [default(TimeZone::utc())],
        coordinator_id: Option<Uuid> => Uuid [optional],
    }
    kept {
        status: CohortStatus,
    }
}

impl CohortRow {
    /// Whether nominations are taken now.
    pub fn accepts_nominations(&self, now: DateTime<Utc>) -> bool {
        self.status == CohortStatus::Open
            && self.nominations_open_at <= now
            && now < self.nominations_close_at
    }
}

/// A cohort, as the API shows it: the row and its seats.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Cohort {
    #[serde(flatten)]
    pub row: CohortRow,
    /// Accepted, completed and not completed enrollments.
    pub seats_taken: i64,
    pub waitlist_length: i64,
}

impl From<(CohortRow, i64, i64)> for Cohort {
    fn from((row, seats_taken, waitlist_length): (CohortRow, i64, i64)) -> Self {
        Cohort {
            row,
            seats_taken,
            waitlist_length,
        }
    }
}

impl Versioned for Cohort {
    fn version(&self) -> i32 {
        self.row.version
    }

    /// Seats and waitlist move with the cohort's enrollments.
    fn computed(&self) -> Option<String> {
        Some(format!("{}.{}", self.seats_taken, self.waitlist_length))
    }
}

/// The rules between a cohort's columns; dates and delivery are checked
/// at creation, where all of them are given.
fn check(c: &mut Checker, draft: &CohortChanges, creating: bool) {
    if let Some(n) = draft.capacity {
        c.ensure(n > 0, "capacity", "must be greater than 0");
    }
    if let Some(Some(n)) = draft.max_per_institution {
        c.ensure(n > 0, "max_per_institution", "must be greater than 0");
    }
    if let Some(n) = draft.min_attendance_pct {
        c.ensure(
            (0..=100).contains(&n),
            "min_attendance_pct",
            "must be from 0 to 100",
        );
    }
    if !creating {
        return;
    }
    if let (Some(s), Some(e)) = (draft.starts_on, draft.ends_on) {
        c.ensure(s <= e, "ends_on", "must not be before starts_on");
    }
    if let (Some(o), Some(cl)) = (draft.nominations_open_at, draft.nominations_close_at) {
        c.ensure(
            o < cl,
            "nominations_close_at",
            "must be after nominations_open_at",
        );
    }
    if draft.delivery.is_some_and(|d| d != Delivery::Online) {
        c.ensure(
            matches!(draft.country_code, Some(Some(_))),
            "country_code",
            "is required unless delivery is online",
        );
    }
}
