//! The SQL of institutions.

use diesel::{QueryDsl, SelectableHelper};
use diesel_async::AsyncPgConnection;

use super::model::{
    Institution, InstitutionChanges, InstitutionInput, InstitutionKind, InstitutionRow,
    InstitutionStatus, NewInstitution,
};
use crate::{
    api::{
        collection::Collection,
        list::{self, ListParams, Page},
    },
    auth::policy::{Resource, Scope},
    error::AppResult,
    schema::institutions,
    types::CountryCode,
};

crate::list_filter! {
    /// Filters of `GET /institutions`.
    pub struct Filter on institutions {
        sorts: [created_at: timestamptz, updated_at: timestamptz, name: text, country_code: text],
        default_sort: "created_at",
        search: ["name", "short_name", "city"],
        columns: { country_code: CountryCode, kind: InstitutionKind, status: InstitutionStatus },
        custom: {  },
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
            f.narrow(
                institutions::table
                    .select(InstitutionRow::as_select())
                    .into_boxed(),
            )
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
