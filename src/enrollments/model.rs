//! Enrollments: one trainee in one cohort, from nomination to outcome.

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
    error::AppError,
    lifecycle::Lifecycle,
    schema::enrollments,
    types::LongText,
};

crate::text_enum! {
    /// Where an enrollment stands: (new) → nominated → accepted, waitlisted,
    /// rejected; waitlisted → accepted, rejected; nominated, waitlisted,
    /// accepted → withdrawn; accepted → completed, not_completed.
    pub enum EnrollmentStatus {
        Nominated,
        Accepted,
        Waitlisted,
        Rejected,
        Withdrawn,
        Completed,
        NotCompleted,
    }
}

impl Lifecycle for EnrollmentStatus {
    fn next(self) -> &'static [Self] {
        use EnrollmentStatus::*;
        match self {
            Nominated => &[Accepted, Waitlisted, Rejected, Withdrawn],
            Waitlisted => &[Accepted, Rejected, Withdrawn],
            Accepted => &[Withdrawn, Completed, NotCompleted],
            Rejected | Withdrawn | Completed | NotCompleted => &[],
        }
    }
}

impl EnrollmentStatus {
    /// The states that hold one of the cohort's seats.
    pub const SEATED: [Self; 3] = [Self::Accepted, Self::Completed, Self::NotCompleted];
}

/// An enrollment.
#[derive(Debug, Clone, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = enrollments)]
pub struct Enrollment {
    pub id: Uuid,
    pub cohort_id: Uuid,
    pub trainee_id: Uuid,
    /// The trainee's home institution when nominated.
    pub institution_id: Uuid,
    pub status: EnrollmentStatus,
    pub motivation: Option<String>,
    pub nominated_by: Uuid,
    #[serde(serialize_with = "crate::api::stamp::utc")]
    pub decided_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
    #[serde(serialize_with = "crate::api::stamp::utc")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::api::stamp::utc")]
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

impl Versioned for Enrollment {
    fn version(&self) -> i32 {
        self.version
    }
}

/// The body of `POST /cohorts/{id}/enrollments`: a nomination.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NominationInput {
    #[serde(default)]
    trainee_id: Field<Uuid>,
    #[serde(default)]
    motivation: Field<LongText>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

impl NominationInput {
    pub fn parse(self) -> Result<(Uuid, Option<String>), AppError> {
        let mut c = Checker::new(&self.unknown);
        let trainee = c.required("trainee_id", self.trainee_id);
        let motivation = c
            .optional("motivation", self.motivation)
            .map(LongText::into_inner);
        c.finish(|| Some((trainee?, motivation)))
    }
}

/// The body of `POST /cohorts/{id}/enrollments/transitions`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BulkMoveInput {
    #[serde(default)]
    ids: Field<Vec<Uuid>>,
    #[serde(default)]
    to: Field<String>,
    #[serde(default)]
    note: Field<LongText>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

impl BulkMoveInput {
    pub fn parse(self) -> Result<(Vec<Uuid>, EnrollmentStatus, Option<String>), AppError> {
        let mut c = Checker::new(&self.unknown);
        let ids = c.required("ids", self.ids);
        let to = c.required("to", self.to);
        let note = c.optional("note", self.note).map(LongText::into_inner);
        if let Some(ids) = &ids {
            c.ensure(
                !ids.is_empty() && ids.len() <= 500,
                "ids",
                "must list 1 to 500 enrollments",
            );
        }
        let (ids, to) = c.finish(|| Some((ids?, to?)))?;
        Ok((ids, EnrollmentStatus::parse_state("to", &to)?, note))
    }
}

/// The outcome of one enrollment of a bulk move.
#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResult {
    pub id: Uuid,
    /// HTTP status this enrollment would have had alone.
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrollment: Option<Enrollment>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<crate::error::Problem>,
}
