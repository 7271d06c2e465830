//! Cohorts: the record, its lifecycle and its input rules.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{AsChangeset, Insertable, Queryable, Selectable};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    api::{
        input::{Checker, Field, Unknown},
        Versioned,
    },
    lifecycle::Lifecycle,
    schema::cohorts,
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

/// A row of `cohorts`.
#[derive(Debug, Clone, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = cohorts)]
pub struct CohortRow {
    pub id: Uuid,
    pub program_id: Uuid,
    pub code: String,
    pub title: String,
    pub host_institution_id: Uuid,
    pub delivery: Delivery,
    pub country_code: Option<String>,
    pub city: Option<String>,
    /// BCP 47 tags.
    pub languages: Vec<String>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub nominations_open_at: DateTime<Utc>,
    pub nominations_close_at: DateTime<Utc>,
    pub capacity: i32,
    pub max_per_institution: Option<i32>,
    pub min_attendance_pct: i32,
    pub auto_promote: bool,
    /// The IANA time zone its sessions and emails are written in.
    pub time_zone: String,
    pub status: CohortStatus,
    pub coordinator_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
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

/// The body of `POST` and `PATCH /cohorts`; `status` moves through
/// `/cohorts/{id}/transitions` only.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CohortInput {
    /// Set at creation; cannot change.
    #[serde(default)]
    program_id: Field<Uuid>,
    #[serde(default)]
    code: Field<Code>,
    #[serde(default)]
    title: Field<Name>,
    #[serde(default)]
    host_institution_id: Field<Uuid>,
    #[serde(default)]
    delivery: Field<Delivery>,
    /// Required unless delivery is online.
    #[serde(default)]
    country_code: Field<CountryCode>,
    #[serde(default)]
    city: Field<ShortText>,
    /// BCP 47 tags, e.g. `["en", "fr"]`.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    languages: Field<Vec<LanguageTag>>,
    #[serde(default)]
    starts_on: Field<NaiveDate>,
    #[serde(default)]
    ends_on: Field<NaiveDate>,
    #[serde(default)]
    #[schema(value_type = String, format = DateTime)]
    nominations_open_at: Field<DateTime<Utc>>,
    #[serde(default)]
    #[schema(value_type = String, format = DateTime)]
    nominations_close_at: Field<DateTime<Utc>>,
    #[serde(default)]
    capacity: Field<i32>,
    #[serde(default)]
    max_per_institution: Field<i32>,
    /// 0 to 100, default 80.
    #[serde(default)]
    min_attendance_pct: Field<i32>,
    /// Default true.
    #[serde(default)]
    auto_promote: Field<bool>,
    /// An IANA time zone name, e.g. `Africa/Nairobi`; default `UTC`.
    #[serde(default)]
    time_zone: Field<TimeZone>,
    #[serde(default)]
    coordinator_id: Field<Uuid>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = cohorts)]
pub struct NewCohort {
    pub id: Uuid,
    pub program_id: Uuid,
    pub code: String,
    pub title: String,
    pub host_institution_id: Uuid,
    pub delivery: Delivery,
    pub country_code: Option<String>,
    pub city: Option<String>,
    pub languages: Vec<String>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub nominations_open_at: DateTime<Utc>,
    pub nominations_close_at: DateTime<Utc>,
    pub capacity: i32,
    pub max_per_institution: Option<i32>,
    pub min_attendance_pct: i32,
    pub auto_promote: bool,
    pub time_zone: String,
    pub coordinator_id: Option<Uuid>,
}

#[derive(Debug, Default, PartialEq, AsChangeset)]
#[diesel(table_name = cohorts)]
pub struct CohortChanges {
    pub code: Option<String>,
    pub title: Option<String>,
    pub host_institution_id: Option<Uuid>,
    pub delivery: Option<Delivery>,
    pub country_code: Option<Option<String>>,
    pub city: Option<Option<String>>,
    pub languages: Option<Vec<String>>,
    pub starts_on: Option<NaiveDate>,
    pub ends_on: Option<NaiveDate>,
    pub nominations_open_at: Option<DateTime<Utc>>,
    pub nominations_close_at: Option<DateTime<Utc>>,
    pub capacity: Option<i32>,
    pub max_per_institution: Option<Option<i32>>,
    pub min_attendance_pct: Option<i32>,
    pub auto_promote: Option<bool>,
    pub time_zone: Option<String>,
    pub coordinator_id: Option<Option<Uuid>>,
}

/// Language tags as stored.
pub fn tags(v: Vec<LanguageTag>) -> Vec<String> {
    v.into_iter().map(LanguageTag::into_inner).collect()
}

fn check_numbers(c: &mut Checker, capacity: Option<i32>, max: Option<i32>, pct: Option<i32>) {
    if let Some(n) = capacity {
        c.ensure(n > 0, "capacity", "must be greater than 0");
    }
    if let Some(n) = max {
        c.ensure(n > 0, "max_per_institution", "must be greater than 0");
    }
    if let Some(n) = pct {
        c.ensure(
            (0..=100).contains(&n),
            "min_attendance_pct",
            "must be from 0 to 100",
        );
    }
}

impl crate::api::collection::Input for CohortInput {
    type New = NewCohort;
    type Changes = CohortChanges;

    fn into_new(
        self,
        _: &crate::auth::Principal,
        _: crate::auth::policy::Scope,
    ) -> crate::error::AppResult<NewCohort> {
        let mut c = Checker::new(&self.unknown);
        let program_id = c.required("program_id", self.program_id);
        let code = c.required("code", self.code);
        let title = c.required("title", self.title);
        let host = c.required("host_institution_id", self.host_institution_id);
        let delivery = c.required("delivery", self.delivery);
        let country = c.optional("country_code", self.country_code);
        let city = c.optional("city", self.city);
        let languages = c.defaulted("languages", self.languages, Vec::new());
        let starts_on = c.required("starts_on", self.starts_on);
        let ends_on = c.required("ends_on", self.ends_on);
        let open_at = c.required("nominations_open_at", self.nominations_open_at);
        let close_at = c.required("nominations_close_at", self.nominations_close_at);
        let capacity = c.required("capacity", self.capacity);
        let max = c.optional("max_per_institution", self.max_per_institution);
        let pct = c.defaulted("min_attendance_pct", self.min_attendance_pct, 80);
        let auto_promote = c.defaulted("auto_promote", self.auto_promote, true);
        let time_zone = c.defaulted("time_zone", self.time_zone, TimeZone::utc());
        let coordinator_id = c.optional("coordinator_id", self.coordinator_id);
        check_numbers(&mut c, capacity, max, Some(pct));
        if let (Some(s), Some(e)) = (starts_on, ends_on) {
            c.ensure(s <= e, "ends_on", "must not be before starts_on");
        }
        if let (Some(o), Some(cl)) = (open_at, close_at) {
            c.ensure(
                o < cl,
                "nominations_close_at",
                "must be after nominations_open_at",
            );
        }
        if delivery.is_some_and(|d| d != Delivery::Online) {
            c.ensure(
                country.is_some(),
                "country_code",
                "is required unless delivery is online",
            );
        }
        c.finish(|| {
            Some(NewCohort {
                id: Uuid::now_v7(),
                program_id: program_id?,
                code: code?.into_inner(),
                title: title?.into_inner(),
                host_institution_id: host?,
                delivery: delivery?,
                country_code: country.map(|c| c.as_str()),
                city: city.map(ShortText::into_inner),
                languages: tags(languages),
                starts_on: starts_on?,
                ends_on: ends_on?,
                nominations_open_at: open_at?,
                nominations_close_at: close_at?,
                capacity: capacity?,
                max_per_institution: max,
                min_attendance_pct: pct,
                auto_promote,
                time_zone: time_zone.into_inner(),
                coordinator_id,
            })
        })
    }

    fn into_changes(self) -> crate::error::AppResult<CohortChanges> {
        let mut c = Checker::new(&self.unknown);
        if !matches!(self.program_id, Field::Absent) {
            c.error("program_id", "cannot be changed");
        }
        let changes = CohortChanges {
            code: c
                .patch("code", self.code)
                .into_option()
                .map(Code::into_inner),
            title: c
                .patch("title", self.title)
                .into_option()
                .map(Name::into_inner),
            host_institution_id: c
                .patch("host_institution_id", self.host_institution_id)
                .into_option(),
            delivery: c.patch("delivery", self.delivery).into_option(),
            country_code: c
                .patch_nullable("country_code", self.country_code)
                .into_option()
                .map(|v| v.map(|c| c.as_str())),
            city: c
                .patch_nullable("city", self.city)
                .into_option()
                .map(|v| v.map(ShortText::into_inner)),
            languages: c.patch("languages", self.languages).into_option().map(tags),
            starts_on: c.patch("starts_on", self.starts_on).into_option(),
            ends_on: c.patch("ends_on", self.ends_on).into_option(),
            nominations_open_at: c
                .patch("nominations_open_at", self.nominations_open_at)
                .into_option(),
            nominations_close_at: c
                .patch("nominations_close_at", self.nominations_close_at)
                .into_option(),
            capacity: c.patch("capacity", self.capacity).into_option(),
            max_per_institution: c
                .patch_nullable("max_per_institution", self.max_per_institution)
                .into_option(),
            min_attendance_pct: c
                .patch("min_attendance_pct", self.min_attendance_pct)
                .into_option(),
            auto_promote: c.patch("auto_promote", self.auto_promote).into_option(),
            time_zone: c
                .patch("time_zone", self.time_zone)
                .into_option()
                .map(TimeZone::into_inner),
            coordinator_id: c
                .patch_nullable("coordinator_id", self.coordinator_id)
                .into_option(),
        };
        check_numbers(
            &mut c,
            changes.capacity,
            changes.max_per_institution.flatten(),
            changes.min_attendance_pct,
        );
        c.finish(|| Some(changes))
    }
}
