//! `GET /deletions`: what was deleted since a moment, ids only, so that a
//! client that keeps a copy of Meridian's data learns of removals as
//! `updated_since` tells it of changes. A reader learns of the deletions of
//! the records it could read: a partner of its own institution's trainees,
//! ventures and exchanges, anyone of the records its role reads whole.

pub mod repo;

use actix_web::{get, web};
use chrono::{DateTime, Utc};

use crate::{
    api::{
        self,
        list::{CommonListParams, ListParams, ListQuery, ListSpec, Page, SortField},
        Answer,
    },
    auth::{policy, Call},
    error::{AppError, Problem},
};
use repo::{Deletion, COLLECTIONS};

/// Tombstones are kept this long, then purged (SPEC §6: at least 90 days).
pub const KEPT_DAYS: i64 = 120;

static LIST: ListSpec = ListSpec {
    sorts: &[SortField::new("deleted_at", "timestamptz")],
    default_sort: "deleted_at",
    search: &[],
    filters: &["since", "type"],
    updated_column: None,
};

/// Lists the records deleted since `since` (ids only), of the types the
/// caller may read, oldest first.
#[utoipa::path(
    tag = "sync",
    params(
        CommonListParams,
        ("since" = Option<DateTime<Utc>>, Query, description = "Only deletions at or after this time (RFC 3339)"),
        ("type" = Option<String>, Query, description = "A collection: institutions, programs, cohorts, trainees, incubators, ventures, exchange-agreements, exchanges"),
    ),
    responses(
        (status = 200, body = Page<Deletion>),
        (status = 401, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/deletions")]
async fn list_deletions(call: Call, query: ListQuery) -> Answer {
    let mut params = ListParams::parse(query.into_inner(), &LIST);
    let since: Option<DateTime<Utc>> = params.filter("since");
    let asked: Option<String> = params.filter("type");
    let params = params.finish()?;
    if let Some(asked) = &asked {
        if !COLLECTIONS.iter().any(|(name, _, _)| name == asked) {
            let names: Vec<&str> = COLLECTIONS.iter().map(|(name, _, _)| *name).collect();
            return Err(AppError::invalid(
                "type",
                format!("must be one of {}", names.join(", ")),
            ));
        }
    }
    let kinds: Vec<_> = COLLECTIONS
        .iter()
        .filter(|(name, _, _)| asked.as_deref().is_none_or(|a| a == *name))
        .filter_map(|(name, kind, resource)| {
            let scope = policy::may(&call.ctx.caller, *resource, policy::Action::Read).ok()?;
            Some((*name, *kind, scope))
        })
        .collect();
    let mut conn = call.conn().await?;
    api::page(&repo::feed(&mut conn, &params, &kinds, since).await?)
}

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_deletions);
}
