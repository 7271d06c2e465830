//! A milestone of a venture and the body that adds one.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::{Insertable, Queryable, Selectable};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    api::{
        input::{Checker, Field, Unknown},
        Versioned,
    },
    error::AppResult,
    schema::milestones,
    types::Name,
};

/// A milestone of a venture.
#[derive(Debug, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = milestones)]
pub struct Milestone {
    pub id: Uuid,
    pub venture_id: Uuid,
    pub title: String,
    pub due_on: NaiveDate,
    pub achieved_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

impl Versioned for Milestone {
    fn version(&self) -> i32 {
        self.version
    }
}

/// The body of `POST /ventures/{id}/milestones`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MilestoneInput {
    #[serde(default)]
    title: Field<Name>,
    #[serde(default)]
    due_on: Field<NaiveDate>,
    #[serde(default)]
    achieved_on: Field<NaiveDate>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

/// A checked new milestone.
#[derive(Debug, Insertable)]
#[diesel(table_name = milestones)]
pub struct NewMilestone {
    pub id: Uuid,
    pub venture_id: Uuid,
    pub title: String,
    pub due_on: NaiveDate,
    pub achieved_on: Option<NaiveDate>,
}

impl MilestoneInput {
    /// Checks a new milestone of a venture.
    pub fn into_new(self, venture_id: Uuid) -> AppResult<NewMilestone> {
        let mut c = Checker::new(&self.unknown);
        let title = c.required("title", self.title);
        let due_on = c.required("due_on", self.due_on);
        let achieved_on = c.optional("achieved_on", self.achieved_on);
        c.finish(|| {
            Some(NewMilestone {
                id: Uuid::now_v7(),
                venture_id,
                title: title?.into_inner(),
                due_on: due_on?,
                achieved_on,
            })
        })
    }
}
