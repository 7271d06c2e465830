//! The SQL of incubators.

use diesel::{QueryDsl, SelectableHelper};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::model::{Incubator, IncubatorChanges, IncubatorInput, IncubatorStatus, NewIncubator};
use crate::{
    api::{
        collection::Collection,
        list::{self, ListParams, Page},
    },
    auth::policy::{Resource, Scope},
    error::AppResult,
    schema::incubators,
    store::Record,
    types::CountryCode,
};

crate::list_filter! {
    /// Filters of `GET /incubators`.
    pub struct Filter on incubators {
        sorts: [created_at: timestamptz, updated_at: timestamptz, name: text],
        default_sort: "created_at",
        search: ["name", "city"],
        columns: { status: IncubatorStatus, country_code: CountryCode, host_institution_id: Uuid },
        custom: {  },
    }
}

impl Collection for Incubator {
    const RESOURCE: Resource = Resource::Incubator;
    const PATH: &'static str = "/incubators";
    type Input = IncubatorInput;
    type Filter = Filter;

    async fn list(
        conn: &mut AsyncPgConnection,
        _: Scope,
        params: &ListParams,
        f: &Filter,
    ) -> AppResult<Page<Incubator>> {
        let build = || {
            f.narrow(
                incubators::table
                    .select(Incubator::as_select())
                    .into_boxed(),
            )
        };
        list::fetch(conn, params, build, |p: Incubator| p).await
    }
}

/// Locks an incubator: admissions are decided under this lock.
pub async fn lock(conn: &mut AsyncPgConnection, id: Uuid) -> AppResult<Incubator> {
    <Incubator as Record>::lock(conn, Scope::All, id).await
}

crate::table_record!(
    Incubator [], incubators, Incubator,
    kind = "incubator", new = NewIncubator, changes = IncubatorChanges,
);
