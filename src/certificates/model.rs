//! What anyone may learn of a certificate, and the body of a revocation.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{
    sql_types::{Date, Nullable, Text, Timestamptz},
    QueryableByName,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

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
    #[serde(serialize_with = "crate::api::stamp::utc")]
    pub issued_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    #[serde(serialize_with = "crate::api::stamp::utc")]
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

/// A certificate as partner systems hear of it (`certificate.issued`,
/// `certificate.revoked`): readable by whoever may read its enrollment.
#[derive(Debug, Serialize, diesel::Queryable, diesel::Selectable)]
#[diesel(table_name = crate::schema::certificates)]
pub struct Certificate {
    pub id: Uuid,
    pub enrollment_id: Uuid,
    pub code: String,
    #[serde(serialize_with = "crate::api::stamp::utc")]
    pub issued_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::api::stamp::utc")]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl crate::webhooks::events::Subject for Certificate {
    const RESOURCE: crate::auth::policy::Resource = crate::auth::policy::Resource::Enrollment;

    fn subject_id(&self) -> Uuid {
        self.id
    }

    async fn readable(
        &self,
        conn: &mut diesel_async::AsyncPgConnection,
        scope: crate::auth::policy::Scope,
    ) -> AppResult<bool> {
        crate::webhooks::events::found(
            crate::enrollments::repo::get(conn, scope, self.enrollment_id).await,
        )
    }
}
