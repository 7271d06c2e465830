//! The SQL of institutions.

use diesel::{ExpressionMethods, QueryDsl, SelectableHelper};
use diesel_async::AsyncPgConnection;

use super::model::InstitutionInput;
use super::model::{
    Institution, InstitutionChanges, InstitutionKind, InstitutionRow, InstitutionStatus,
    NewInstitution,
};
use crate::{
    api::{
        collection::{self, Collection},
        list::{self, ListParams, ListSpec, Page, SortField},
    },
    auth::policy::{Resource, Scope},
    error::AppResult,
    schema::institutions,
    types::CountryCode,
};

/// Filters of `GET /institutions`.
#[derive(Debug, Default)]
pub struct Filter {
    pub country_code: Option<String>,
    pub kind: Option<InstitutionKind>,
    pub status: Option<InstitutionStatus>,
}

impl collection::Filter for Filter {
    const SPEC: &'static ListSpec = &ListSpec {
        sorts: &[
            SortField::new("created_at", "timestamptz"),
            SortField::new("updated_at", "timestamptz"),
            SortField::new("name", "text"),
            SortField::new("country_code", "text"),
        ],
        default_sort: "created_at",
        search: &["name", "short_name", "city"],
        filters: &["country_code", "kind", "status"],
        updated_column: Some("updated_at"),
    };

    fn read(params: &mut ListParams) -> Self {
        Filter {
            country_code: params
                .filter::<CountryCode>("country_code")
                .map(|c| c.as_str()),
            kind: params.filter("kind"),
            status: params.filter("status"),
        }
    }
}

impl Collection for Institution {
    const RESOURCE: Resource = Resource::Institution;
    const PATH: &'static str = "/institutions";
    type Input = InstitutionInput;
    type Filter = Filter;

    async fn list(
        conn: &mut AsyncPgConnection,
        _: Scope,
        params: &ListParams,
        f: &Filter,
    ) -> AppResult<Page<Institution>> {
        let build = || {
            let mut q = institutions::table
                .select(InstitutionRow::as_select())
                .into_boxed();
            if let Some(v) = &f.country_code {
                q = q.filter(institutions::country_code.eq(v.clone()));
            }
            if let Some(v) = f.kind {
                q = q.filter(institutions::kind.eq(v));
            }
            if let Some(v) = f.status {
                q = q.filter(institutions::status.eq(v));
            }
            q
        };
        list::fetch(conn, params, build, Institution::from).await
    }
}

crate::table_record!(
    Institution[row],
    institutions,
    InstitutionRow,
    kind = "institution",
    new = NewInstitution,
    changes = InstitutionChanges,
);
