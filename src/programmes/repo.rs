//! The SQL of programmes.

use diesel::{ExpressionMethods, QueryDsl, SelectableHelper};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::model::ProgramInput;
use super::model::{NewProgram, Program, ProgramChanges, ProgramStatus, Theme};
use crate::{
    api::{
        collection::{self, Collection},
        list::{self, ListParams, ListSpec, Page, SortField},
    },
    auth::policy::{Resource, Scope},
    error::AppResult,
    schema::programs,
};

/// Filters of `GET /programs`.
#[derive(Debug, Default)]
pub struct Filter {
    pub status: Option<ProgramStatus>,
    pub theme: Option<Theme>,
    pub lead_institution_id: Option<Uuid>,
}

impl collection::Filter for Filter {
    const SPEC: &'static ListSpec = &ListSpec {
        sorts: &[
            SortField::new("created_at", "timestamptz"),
            SortField::new("updated_at", "timestamptz"),
            SortField::new("code", "text"),
            SortField::new("title", "text"),
            SortField::new("starts_on", "date"),
        ],
        default_sort: "created_at",
        search: &["code", "title"],
        filters: &["status", "theme", "lead_institution_id"],
        updated_column: Some("updated_at"),
    };

    fn read(params: &mut ListParams) -> Self {
        Filter {
            status: params.filter("status"),
            theme: params.filter("theme"),
            lead_institution_id: params.filter("lead_institution_id"),
        }
    }
}

impl Collection for Program {
    const RESOURCE: Resource = Resource::Program;
    const PATH: &'static str = "/programs";
    type Input = ProgramInput;
    type Filter = Filter;

    async fn list(
        conn: &mut AsyncPgConnection,
        _: Scope,
        params: &ListParams,
        f: &Filter,
    ) -> AppResult<Page<Program>> {
        let build = || {
            let mut q = programs::table.select(Program::as_select()).into_boxed();
            if let Some(v) = f.status {
                q = q.filter(programs::status.eq(v));
            }
            if let Some(v) = f.theme {
                q = q.filter(programs::theme.eq(v));
            }
            if let Some(v) = f.lead_institution_id {
                q = q.filter(programs::lead_institution_id.eq(v));
            }
            q
        };
        list::fetch(conn, params, build, |p: Program| p).await
    }
}

crate::table_record!(
    Program [], programs, Program,
    kind = "program", new = NewProgram, changes = ProgramChanges,
);
