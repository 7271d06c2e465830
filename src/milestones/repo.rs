//! The SQL of milestones: added to a venture, listed soonest first.

use diesel::{ExpressionMethods, QueryDsl, SelectableHelper};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{Milestone, NewMilestone};
use crate::{
    api::list::{self, ListParams, ListSpec, Page, SortField},
    error::AppResult,
    schema::milestones,
    store::{Insert, Kind},
};

/// What a venture's list of milestones accepts.
pub static LIST: ListSpec = ListSpec {
    sorts: &[SortField::new("due_on", "date")],
    default_sort: "due_on",
    search: &["title"],
    filters: &[],
    updated_column: Some("updated_at"),
};

/// A page of a venture's milestones.
pub async fn list(
    conn: &mut AsyncPgConnection,
    params: &ListParams,
    venture_id: Uuid,
) -> AppResult<Page<Milestone>> {
    let build = || {
        milestones::table
            .select(Milestone::as_select())
            .filter(milestones::venture_id.eq(venture_id))
            .into_boxed()
    };
    list::fetch(conn, params, build, |m: Milestone| m).await
}

impl Kind for Milestone {
    const KIND: &'static str = "milestone";
}

impl Insert for Milestone {
    type New = NewMilestone;

    fn id(&self) -> Uuid {
        self.id
    }

    async fn insert(conn: &mut AsyncPgConnection, new: &NewMilestone) -> AppResult<Self> {
        Ok(diesel::insert_into(milestones::table)
            .values(new)
            .returning(Milestone::as_returning())
            .get_result(conn)
            .await?)
    }
}
