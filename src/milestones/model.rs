//! A milestone of a venture and the body that adds one.

use chrono::NaiveDate;
use uuid::Uuid;

use crate::{
    api::{input::Field, Versioned},
    types::Name,
};

crate::record! {
    /// A milestone of a venture.
    pub struct Milestone in milestones;
    /// The body of `POST /ventures/{id}/milestones`.
    pub struct MilestoneInput => NewMilestone, MilestoneChanges, given venture_id: Uuid;
    set {
        venture_id: Uuid = venture_id,
    }
    fields {
        title: String => Name [required],
        due_on: NaiveDate => NaiveDate [required],
        achieved_on: Option<NaiveDate> => NaiveDate [optional],
    }
}

impl Versioned for Milestone {
    fn version(&self) -> i32 {
        self.version
    }
}
