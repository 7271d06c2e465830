//! The SQL of programmes.

use uuid::Uuid;

use super::model::{NewProgram, Program, ProgramChanges, ProgramInput, ProgramStatus, Theme};
use crate::schema::programs;

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

crate::collection!(
    Program: Program at "/programs",
    input = ProgramInput, filter = Filter,
    select = programs::table.select(Program::as_select()), row = Program,
);

crate::table_record!(
    Program [], programs, Program,
    kind = "program", new = NewProgram, changes = ProgramChanges,
);
