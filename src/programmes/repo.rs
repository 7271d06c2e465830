//! The SQL of programmes.

use diesel::{QueryDsl, SelectableHelper};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::model::{NewProgram, Program, ProgramChanges, ProgramInput, ProgramStatus, Theme};
use crate::{
    api::{
        collection::Collection,
        list::{self, ListParams, Page},
    },
    auth::policy::{Resource, Scope},
    error::AppResult,
    schema::programs,
};

crate::list_filter! {
    /// Filters of `GET /programs`.
    pub struct Filter on programs {
        sorts: [created_at: timestamptz, updated_at: timestamptz, code: text, title: text, starts_on: date],
        default_sort: "created_at",
        search: ["code", "title"],
        columns: { status: ProgramStatus, theme: Theme, lead_institution_id: Uuid },
        custom: {  },
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
        let build = || f.narrow(programs::table.select(Program::as_select()).into_boxed());
        list::fetch(conn, params, build, |p: Program| p).await
    }
}

crate::table_record!(
    Program [], programs, Program,
    kind = "program", new = NewProgram, changes = ProgramChanges,
);
