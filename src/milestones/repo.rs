//! The SQL of milestones: added to a venture, listed soonest first.

use diesel::{ExpressionMethods, QueryDsl, SelectableHelper};
use diesel_async::AsyncPgConnection;
use uuid::Uuid;

use super::model::{Milestone, NewMilestone};
use crate::{
    api::list::{self, ListParams, ListSpec, Page, SortField},
    error::AppResult,
    schema::milestones,
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

crate::table_insert!(
    Milestone [], milestones, Milestone, kind = "milestone", new = NewMilestone,
);
