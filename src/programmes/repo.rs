//! The SQL of programmes.

use uuid::Uuid;

use super::model::{Program, ProgramStatus, Theme};
use crate::schema::programs;

crate::list_filter! {
    /// Filters of `GET /programs`.
    pub struct Filter on programs {
        sorts: [code: text, title: text, starts_on: date],
        search: ["code", "title"],
        columns: { status: ProgramStatus, theme: Theme, lead_institution_id: Uuid },
    }
}

crate::collection!(
    Program: Program at "/programs" in programs,
    kind = "program",
);
