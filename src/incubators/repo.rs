//! The SQL of incubators.

use diesel::{ExpressionMethods, QueryDsl, SelectableHelper};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::model::IncubatorInput;
use super::model::{Incubator, IncubatorChanges, IncubatorStatus, NewIncubator};
use crate::{
    api::{
        collection::{self, Collection},
        list::{self, ListParams, ListSpec, Page, SortField},
    },
    auth::policy::{Resource, Scope},
    error::AppResult,
    schema::incubators,
    store::Record,
    types::CountryCode,
};

/// Filters of `GET /incubators`.
#[derive(Debug, Default)]
pub struct Filter {
    pub status: Option<IncubatorStatus>,
    pub country_code: Option<String>,
    pub host_institution_id: Option<Uuid>,
}

impl collection::Filter for Filter {
    const SPEC: &'static ListSpec = &ListSpec {
        sorts: &[
            SortField::new("created_at", "timestamptz"),
            SortField::new("updated_at", "timestamptz"),
            SortField::new("name", "text"),
        ],
        default_sort: "created_at",
        search: &["name", "city"],
        filters: &["status", "country_code", "host_institution_id"],
        updated_column: Some("updated_at"),
    };

    fn read(params: &mut ListParams) -> Self {
        Filter {
            status: params.filter("status"),
            country_code: params
                .filter::<CountryCode>("country_code")
                .map(|c| c.as_str()),
            host_institution_id: params.filter("host_institution_id"),
        }
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
            let mut q = incubators::table
                .select(Incubator::as_select())
                .into_boxed();
            if let Some(v) = f.status {
                q = q.filter(incubators::status.eq(v));
            }
            if let Some(v) = &f.country_code {
                q = q.filter(incubators::country_code.eq(v.clone()));
            }
            if let Some(v) = f.host_institution_id {
                q = q.filter(incubators::host_institution_id.eq(v));
            }
            q
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
