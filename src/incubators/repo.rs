//! The SQL of incubators.

use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::model::{Incubator, IncubatorStatus};
use crate::{
    auth::policy::Scope, error::AppResult, schema::incubators, store::Record, types::CountryCode,
};

crate::list_filter! {
    /// Filters of `GET /incubators`.
    pub struct Filter on incubators {
        sorts: [name: text],
        search: ["name", "city"],
        columns: { status: IncubatorStatus, country_code: CountryCode, host_institution_id: Uuid },
    }
}

crate::collection!(
    Incubator: Incubator at "/incubators" in incubators,
    kind = "incubator",
);

/// Locks an incubator: admissions are decided under this lock.
pub async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Incubator> {
    <Incubator as Record>::lock(conn, Scope::All, id).await
}
