//! The SQL of programmes.

use uuid::Uuid;

use super::model::{Program, ProgramStatus, Theme};
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
    Program: Program at "/programs" in programs,
    kind = "program",
);
