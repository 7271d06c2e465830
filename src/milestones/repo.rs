//! The SQL of milestones: added to a venture, listed soonest first.

use super::model::{Milestone, NewMilestone};
use crate::schema::milestones;

crate::child_list!(
    /// A page of a venture's milestones.
    Milestone in milestones under venture_id, sort = due_on: "date", search = ["title"],
);

crate::table_insert!(
    Milestone [], milestones, Milestone, kind = "milestone", new = NewMilestone,
);
