//! Programmes: the record, its input rules.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::{
    api::input::{Checker, Field},
    types::{Code, LongText, Name},
};

crate::text_enum! {
    /// What a programme applies AI to.
    pub enum Theme {
        Agriculture,
        Energy,
        Health,
        Education,
        DisasterResponse,
        Manufacturing,
        Governance,
        General,
    }
}

crate::text_enum! {
    /// Where a programme stands.
    pub enum ProgramStatus {
        Draft,
        Active,
        Closed,
        Archived,
    }
}

crate::record! {
    /// A programme: a themed series of cohorts led by one institution.
    pub struct Program in programs;
    /// The body of `POST` and `PATCH /programs`.
    pub struct ProgramInput => NewProgram, ProgramChanges, check = check;
    impl Input;
    fields {
        code: String => Code [required],
        title: String => Name [required],
        theme: Theme => Theme [required],
        description: Option<String> => LongText [optional],
        lead_institution_id: Uuid => Uuid [required],
        starts_on: NaiveDate => NaiveDate [required],
        ends_on: NaiveDate => NaiveDate [required],
        /// Defaults to `draft`.
        status: ProgramStatus => ProgramStatus [default(ProgramStatus::Draft)],
    }
}

/// A programme ends on or after its first day.
fn check(c: &mut Checker, draft: &ProgramChanges, creating: bool) {
    if let (true, Some(s), Some(e)) = (creating, draft.starts_on, draft.ends_on) {
        c.ensure(s <= e, "ends_on", "must not be before starts_on");
    }
}
