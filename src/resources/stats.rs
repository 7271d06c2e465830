//! `GET /stats/knowledge`: how shared knowledge travels, from the country
//! of the institution that shares a resource to the countries of the
//! cohorts and ventures that use it, and how many trainees it reached.
//!
//! A resource travels once it is linked; drafts never are. A cohort is used
//! where it is held (its country, else its host institution's), a venture in
//! its own country. Trainees reached are the distinct trainees accepted into
//! or having completed a cohort that uses the resource. For viewers, a
//! count of trainees below `stats.min_cell` (and above 0) is suppressed;
//! counts of resources, cohorts and ventures are not about people.
//!
//! Counting distinct trainees over every linked cohort takes seconds at
//! programme scale, so each answer is kept with a fingerprint of the data it
//! was counted from (a count of the writes to the catalogue and its links,
//! kept by triggers, and the newest change of every other table it reads):
//! a read first compares the fingerprint, a few index lookups, and counts
//! again only when something changed, one request at a time while the
//! others answer the last counts.

use std::{
    collections::HashMap,
    sync::{Arc, LazyLock},
};

use actix_web::{get, web};
use diesel::{
    sql_query,
    sql_types::{BigInt, Text},
    QueryableByName,
};
use diesel_async::RunQueryDsl;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    api::{self, Answer},
    auth::policy,
    auth::Call,
    error::{AppError, AppResult},
    stats::cell,
    types::CountryCode,
};

/// A row of `GET /stats/knowledge?group_by=flow`: resources shared by
/// institutions of one country and used in another (or the same).
#[derive(Debug, Serialize, ToSchema)]
pub struct Flow {
    pub owner_country: String,
    /// The UN M49 region of the owner's country, e.g. `asia`.
    pub owner_region: Option<String>,
    pub user_country: String,
    pub user_region: Option<String>,
    pub resources: i64,
    pub cohorts: i64,
    pub ventures: i64,
    pub trainees_reached: Option<i64>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub suppressed: bool,
}

/// A row of `GET /stats/knowledge?group_by=kind`: shared resources of one
/// kind under one licence.
#[derive(Debug, Serialize, ToSchema)]
pub struct KindRow {
    pub kind: String,
    pub licence: String,
    /// Published or withdrawn resources (drafts are not shared yet).
    pub resources: i64,
    /// Links to cohorts and ventures.
    pub links: i64,
    pub trainees_reached: Option<i64>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub suppressed: bool,
}

#[derive(Clone, QueryableByName)]
struct FlowCounts {
    #[diesel(sql_type = Text)]
    owner_country: String,
    #[diesel(sql_type = Text)]
    user_country: String,
    #[diesel(sql_type = BigInt)]
    resources: i64,
    #[diesel(sql_type = BigInt)]
    cohorts: i64,
    #[diesel(sql_type = BigInt)]
    ventures: i64,
    #[diesel(sql_type = BigInt)]
    trainees_reached: i64,
}

#[derive(Clone, QueryableByName)]
struct KindCounts {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    licence: String,
    #[diesel(sql_type = BigInt)]
    resources: i64,
    #[diesel(sql_type = BigInt)]
    links: i64,
    #[diesel(sql_type = BigInt)]
    trainees_reached: i64,
}

/// `GET /stats/knowledge`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum Knowledge {
    Flows {
        group_by: &'static str,
        items: Vec<Flow>,
    },
    Kinds {
        group_by: &'static str,
        items: Vec<KindRow>,
    },
}

/// What the counts were made from: they hold while it is the same. Writes
/// to the catalogue and its links are counted by triggers; the rest is the
/// newest change of each table the counts read.
const FINGERPRINT: &str = "SELECT concat_ws('|', \
    (SELECT n FROM change_counters WHERE name = 'knowledge'), \
    (SELECT max(updated_at) FROM cohorts), (SELECT max(updated_at) FROM ventures), \
    (SELECT max(updated_at) FROM institutions), (SELECT max(updated_at) FROM enrollments)) AS v";

#[derive(QueryableByName)]
struct Fingerprint {
    #[diesel(sql_type = Text)]
    v: String,
}

/// The last rows counted of one break-down, with the fingerprint of the
/// data they were counted from, and the turn to count them again.
struct Kept<T> {
    last: std::sync::Mutex<Option<(String, Arc<Vec<T>>)>>,
    counting: tokio::sync::Mutex<()>,
}

impl<T> Default for Kept<T> {
    fn default() -> Self {
        Kept {
            last: std::sync::Mutex::new(None),
            counting: tokio::sync::Mutex::new(()),
        }
    }
}

impl<T> Kept<T> {
    /// The last rows, when they were counted from `print` (or from anything,
    /// with `None`).
    fn last(&self, print: Option<&str>) -> Option<Arc<Vec<T>>> {
        let last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let (counted_from, rows) = last.as_ref()?;
        (print.is_none() || print == Some(counted_from.as_str())).then(|| rows.clone())
    }
}

/// The last counts of each break-down, and what they were counted from.
/// One per server, shared by its threads.
#[derive(Default)]
pub struct KnowledgeCache {
    flows: Kept<FlowCounts>,
    kinds: Kept<KindCounts>,
}

/// The rows of `sql`, from `kept` when the data have not changed since
/// they were counted. When they have, one request counts again, and the
/// others meanwhile answer the last counts (a dashboard is not held for
/// seconds while nominations come in); only before the first count do they
/// wait for it.
async fn counted<T: QueryableByName<diesel::pg::Pg> + Send + 'static>(
    call: &Call,
    kept: &Kept<T>,
    sql: &str,
) -> AppResult<Arc<Vec<T>>> {
    let now: Fingerprint = sql_query(FINGERPRINT)
        .get_result(&mut *call.reader().await?)
        .await?;
    if let Some(rows) = kept.last(Some(&now.v)) {
        return Ok(rows);
    }
    let _turn = match kept.counting.try_lock() {
        Ok(turn) => turn,
        Err(_) => match kept.last(None) {
            Some(rows) => return Ok(rows),
            None => kept.counting.lock().await,
        },
    };
    if let Some(rows) = kept.last(Some(&now.v)) {
        return Ok(rows);
    }
    let rows: Arc<Vec<T>> = Arc::new(sql_query(sql).load(&mut *call.reader().await?).await?);
    *kept.last.lock().unwrap_or_else(|e| e.into_inner()) = Some((now.v, rows.clone()));
    Ok(rows)
}

/// Where each link is used, with the owner's country.
const USES: &str = "\
    WITH uses AS ( \
        SELECT r.id AS resource_id, o.country_code AS owner_country, \
               COALESCE(c.country_code, h.country_code) AS user_country, \
               c.id AS cohort_id, NULL::uuid AS venture_id \
        FROM cohort_resources l JOIN resources r ON r.id = l.resource_id \
        JOIN institutions o ON o.id = r.owner_institution_id \
        JOIN cohorts c ON c.id = l.cohort_id JOIN institutions h ON h.id = c.host_institution_id \
        UNION ALL \
        SELECT r.id, o.country_code, v.country_code, NULL, v.id \
        FROM venture_resources l JOIN resources r ON r.id = l.resource_id \
        JOIN institutions o ON o.id = r.owner_institution_id \
        JOIN ventures v ON v.id = l.venture_id \
    ) ";

/// Trainees accepted into or having completed a cohort.
const TAKEN: &str = "e.status IN ('accepted', 'completed')";

/// The count of `group_by=flow`, written once.
static FLOWS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{USES}, reach AS ( \
           SELECT u.owner_country, u.user_country, count(DISTINCT e.trainee_id) AS n \
           FROM (SELECT DISTINCT owner_country, user_country, cohort_id FROM uses \
                 WHERE cohort_id IS NOT NULL) u \
           JOIN enrollments e ON e.cohort_id = u.cohort_id AND {TAKEN} GROUP BY 1, 2) \
         SELECT u.owner_country, u.user_country, \
                count(DISTINCT u.resource_id) AS resources, \
                count(DISTINCT u.cohort_id) AS cohorts, \
                count(DISTINCT u.venture_id) AS ventures, \
                COALESCE(max(x.n), 0) AS trainees_reached \
         FROM uses u LEFT JOIN reach x USING (owner_country, user_country) \
         GROUP BY 1, 2 ORDER BY 1, 2"
    )
});

/// The count of `group_by=kind`, written once.
static KINDS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "{USES}, links AS (SELECT resource_id, count(*) AS n FROM uses GROUP BY 1), \
         reach AS ( \
           SELECT k.kind, k.licence, count(DISTINCT e.trainee_id) AS n \
           FROM (SELECT DISTINCT r.kind, r.licence, l.cohort_id FROM cohort_resources l \
                 JOIN resources r ON r.id = l.resource_id) k \
           JOIN enrollments e ON e.cohort_id = k.cohort_id AND {TAKEN} GROUP BY 1, 2) \
         SELECT r.kind, r.licence, count(*) AS resources, \
                COALESCE(sum(l.n), 0)::bigint AS links, COALESCE(max(x.n), 0) AS trainees_reached \
         FROM resources r LEFT JOIN links l ON l.resource_id = r.id \
         LEFT JOIN reach x ON x.kind = r.kind AND x.licence = r.licence \
         WHERE r.status <> 'draft' GROUP BY 1, 2 ORDER BY 1, 2"
    )
});

crate::endpoint! {
/// How knowledge travels, per (owner country, user country) with their
/// regions (`group_by=flow`, the default), or per kind and licence
/// (`group_by=kind`).
get "/stats/knowledge", tag = "stats",
params(("group_by" = Option<String>, Query, description = "flow (default) or kind")),
ok((status = 200, body = Knowledge)), fails[422], may = Stats Read;
pub async fn knowledge(call: Call, query: web::Query<HashMap<String, String>>) -> Answer {
    if let Some(k) = query.keys().find(|k| k.as_str() != "group_by") {
        return Err(AppError::invalid(k.clone(), "unknown query parameter"));
    }
    let smallest = policy::smallest_cell(&call.ctx.caller, call.state.settings.stats.min_cell);
    let cache = &call.state.knowledge;
    match query.get("group_by").map(String::as_str) {
        None | Some("flow") => {
            let rows = counted(&call, &cache.flows, &FLOWS).await?;
            let items = rows
                .iter()
                .map(|f| Flow {
                    owner_region: region(&f.owner_country),
                    user_region: region(&f.user_country),
                    owner_country: f.owner_country.clone(),
                    user_country: f.user_country.clone(),
                    resources: f.resources,
                    cohorts: f.cohorts,
                    ventures: f.ventures,
                    trainees_reached: cell(f.trainees_reached, smallest),
                    suppressed: cell(f.trainees_reached, smallest).is_none(),
                })
                .collect();
            api::ok(&Knowledge::Flows {
                group_by: "flow",
                items,
            })
        }
        Some("kind") => {
            let rows = counted(&call, &cache.kinds, &KINDS).await?;
            let items = rows
                .iter()
                .map(|k| KindRow {
                    kind: k.kind.clone(),
                    licence: k.licence.clone(),
                    resources: k.resources,
                    links: k.links,
                    trainees_reached: cell(k.trainees_reached, smallest),
                    suppressed: cell(k.trainees_reached, smallest).is_none(),
                })
                .collect();
            api::ok(&Knowledge::Kinds {
                group_by: "kind",
                items,
            })
        }
        Some(_) => Err(AppError::invalid("group_by", "must be flow or kind")),
    }
}
}

fn region(country: &str) -> Option<String> {
    CountryCode::parse(country).ok()?.region()
}

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(knowledge);
}
