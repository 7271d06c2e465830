//! What anyone may learn of a certificate, and the body of a revocation.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{
    sql_types::{Date, Nullable, Text, Timestamptz},
    QueryableByName,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    api::input::{Checker, Field, Unknown},
    error::AppResult,
    types::LongText,
};

/// What anyone may learn of a certificate from its code, and nothing more.
#[derive(Debug, Serialize, QueryableByName, ToSchema)]
pub struct Verification {
    /// Issued and not revoked.
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub valid: bool,
    #[diesel(sql_type = Text)]
    pub holder_name: String,
    #[diesel(sql_type = Text)]
    pub program_title: String,
    #[diesel(sql_type = Text)]
    pub cohort_title: String,
    #[diesel(sql_type = Date)]
    pub starts_on: NaiveDate,
    #[diesel(sql_type = Date)]
    pub ends_on: NaiveDate,
    #[diesel(sql_type = Timestamptz)]
    pub issued_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The body of a revocation.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RevokeInput {
    #[serde(default)]
    reason: Field<LongText>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

impl RevokeInput {
    /// The reason given, required.
    pub fn into_reason(self) -> AppResult<String> {
        let mut c = Checker::new(&self.unknown);
        let reason = c.required("reason", self.reason);
        Ok(c.finish(|| reason)?.into_inner())
    }
}
