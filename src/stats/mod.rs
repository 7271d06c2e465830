//! `/stats/*`: aggregates for dashboards, never personal data. Every figure
//! is computed in the database; rates come with the counts they are made of.

use std::collections::{BTreeMap, HashMap};

use actix_web::{get, web, HttpResponse};
use bigdecimal::{BigDecimal, ToPrimitive};
use chrono::NaiveDate;
use diesel::{
    sql_query,
    sql_types::{BigInt, Bool, Date, Integer, Nullable, Numeric, Text, Uuid as SqlUuid},
    QueryableByName,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    api::{self, Answer},
    auth::policy,
    db::Prepare,
    error::{AppError, AppResult},
    types::CountryCode,
};

/// A share and the counts it is made of; `rate` is null when there is
/// nothing to divide by.
#[derive(Debug, Serialize, ToSchema)]
pub struct Rate {
    pub rate: Option<f64>,
    pub numerator: i64,
    pub denominator: i64,
}

impl Rate {
    fn of(numerator: i64, denominator: i64) -> Self {
        Rate {
            rate: (denominator > 0).then(|| numerator as f64 / denominator as f64),
            numerator,
            denominator,
        }
    }
}

/// Counts per status and their sum. In a break-down read by a viewer, a
/// count below `stats.min_cell` (and above 0) is null and the row says
/// `suppressed`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ByStatus {
    pub total: Option<i64>,
    pub by_status: BTreeMap<String, Option<i64>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub suppressed: bool,
}

impl From<BTreeMap<String, i64>> for ByStatus {
    fn from(by_status: BTreeMap<String, i64>) -> Self {
        ByStatus::cells(by_status, 0)
    }
}

/// A count, or none when it is small enough to identify someone.
pub(crate) fn cell(n: i64, smallest: i64) -> Option<i64> {
    (n == 0 || n >= smallest).then_some(n)
}

/// Counts with those below `smallest` (and above 0) suppressed, and
/// whether any was.
fn cells(counts: BTreeMap<String, i64>, smallest: i64) -> (BTreeMap<String, Option<i64>>, bool) {
    let mut suppressed = false;
    let cells = counts
        .into_iter()
        .map(|(k, n)| {
            let c = cell(n, smallest);
            suppressed |= c.is_none();
            (k, c)
        })
        .collect();
    (cells, suppressed)
}

impl ByStatus {
    /// Counts per status, suppressed below `smallest` (0: exact).
    fn cells(by_status: BTreeMap<String, i64>, smallest: i64) -> Self {
        let total: i64 = by_status.values().sum();
        let (by_status, small) = cells(by_status, smallest);
        let total = cell(total, smallest);
        ByStatus {
            suppressed: small || total.is_none(),
            total,
            by_status,
        }
    }
}

/// `GET /stats/overview`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Overview {
    pub institutions: i64,
    pub programs: i64,
    pub cohorts: ByStatus,
    pub trainees: i64,
    pub enrollments: ByStatus,
    pub completion_rate: Rate,
    /// Enrollments holding a certificate that is not revoked.
    pub certificates: i64,
    pub ventures: ByStatus,
    pub jobs_created: i64,
    /// A decimal string, two decimals.
    pub funding_raised_usd: String,
    pub exchanges: ByStatus,
}

/// A row of `GET /stats/enrollments`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Group {
    pub key: String,
    /// The name of an institution, programme or cohort.
    pub label: Option<String>,
    #[serde(flatten)]
    pub counts: ByStatus,
}

/// `GET /stats/enrollments`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Groups {
    pub group_by: String,
    pub items: Vec<Group>,
}

/// `GET /stats/cohorts/{id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct CohortStats {
    pub cohort_id: Uuid,
    pub fill_rate: Rate,
    pub waitlist_length: i64,
    pub attendance_rate: Rate,
    pub completion_rate: Rate,
    /// Seated trainees per nationality.
    pub by_country: BTreeMap<String, Option<i64>>,
    /// Seated trainees per gender.
    pub by_gender: BTreeMap<String, Option<i64>>,
    /// Some break-down count is null: too small to show a viewer.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub suppressed: bool,
}

/// A row of `GET /stats/exchanges/flows`.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlowRow {
    pub from_country: String,
    pub to_country: String,
    #[serde(flatten)]
    pub counts: ByStatus,
}

/// `GET /stats/exchanges/flows`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Flows {
    pub year: Option<i32>,
    pub items: Vec<FlowRow>,
}

/// A row of `GET /stats/incubators`.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncubatorFigures {
    pub incubator_id: Uuid,
    pub name: String,
    pub ventures: ByStatus,
    pub jobs_created: i64,
    /// A decimal string, two decimals.
    pub funding_raised_usd: String,
}

/// `GET /stats/incubators`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Incubators {
    pub items: Vec<IncubatorFigures>,
}

/// The common filters: a programme and a date range (`from` inclusive, `to`
/// exclusive) on when records were made.
#[derive(Debug, Default)]
struct Scope {
    program_id: Option<Uuid>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

fn scope(query: &HashMap<String, String>, allowed: &[&str]) -> AppResult<Scope> {
    let mut errors = Vec::new();
    for key in query.keys() {
        if !allowed.contains(&key.as_str()) && !["program_id", "from", "to"].contains(&key.as_str())
        {
            errors.push(crate::error::FieldError::new(
                key.clone(),
                "unknown query parameter",
            ));
        }
    }
    let mut s = Scope::default();
    if let Some(v) = query.get("program_id") {
        match v.parse() {
            Ok(id) => s.program_id = Some(id),
            Err(_) => errors.push(crate::error::FieldError::new(
                "program_id",
                "must be a UUID",
            )),
        }
    }
    for (name, slot) in [("from", &mut s.from), ("to", &mut s.to)] {
        if let Some(v) = query.get(name) {
            match v.parse() {
                Ok(d) => *slot = Some(d),
                Err(_) => errors.push(crate::error::FieldError::new(
                    name,
                    "must be a date YYYY-MM-DD",
                )),
            }
        }
    }
    if errors.is_empty() {
        Ok(s)
    } else {
        Err(AppError::Validation(errors))
    }
}

/// The scope id under which the whole portfolio is tallied.
const PORTFOLIO: Uuid = Uuid::nil();

/// Where tallies are read: the whole portfolio, one cohort, or each cohort
/// the filters keep.
enum Over<'a> {
    Portfolio,
    Cohort(Uuid),
    Cohorts(&'a Scope),
}

impl<'a> Over<'a> {
    /// The portfolio when nothing narrows it, else the cohorts kept.
    fn scoped(s: &'a Scope) -> Self {
        if s.program_id.is_none() && s.from.is_none() && s.to.is_none() {
            Over::Portfolio
        } else {
            Over::Cohorts(s)
        }
    }
}

/// The tallies of some dimensions, summed over the scopes [`Over`] names;
/// with `by_cohort` (`$5`), a sum per cohort (`scope_id`). Triggers keep
/// `tallies` and `tally_deltas` (migration 000006); both are read, so the
/// figures are exact whether or not the deltas are folded yet. A query
/// selects from it as `({tallies}) t`.
///
/// Each kind of scope has its own text, so that the statement PostgreSQL
/// prepares once has a plan that fits it. The dimensions are written into
/// the text: they are names from this module, never input, and as a bound
/// array they kept PostgreSQL planning the statement anew at every call.
fn tallies_sql(over: &Over<'_>, dims: &[&'static str]) -> String {
    debug_assert!(dims
        .iter()
        .all(|d| d.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
    let dims = format!("'{{{}}}'", dims.join(","));
    let (scope, scopes) = match over {
        Over::Cohorts(_) => (
            "CASE WHEN $5 THEN scope_id ELSE meridian_portfolio() END",
            "scope_id IN (SELECT id FROM cohorts WHERE ($1::uuid IS NULL OR program_id = $1) \
             AND ($2::date IS NULL OR starts_on >= $2) AND ($3::date IS NULL OR starts_on < $3))",
        ),
        Over::Portfolio | Over::Cohort(_) => ("scope_id", "scope_id = $4"),
    };
    format!(
        "SELECT {scope} AS scope_id, dim, key, status, sum(n)::bigint AS n \
         FROM (SELECT scope_id, dim, key, status, n FROM tallies WHERE {scopes} AND dim = ANY({dims}) \
               UNION ALL \
               SELECT scope_id, dim, key, status, n FROM tally_deltas WHERE {scopes} AND dim = ANY({dims})) t \
         GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0"
    )
}

/// A row of [`tallies_sql`], or of a query grouping it by a key with a label.
#[derive(QueryableByName)]
struct Tally {
    #[diesel(sql_type = Text)]
    dim: String,
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = Nullable<Text>)]
    label: Option<String>,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

impl Tally {
    /// A figure counted outside the tallies, in their shape.
    fn figure(dim: &str, status: String, n: i64) -> Self {
        Tally {
            dim: dim.into(),
            key: String::new(),
            label: None,
            status,
            n,
        }
    }
}

/// Runs `sql`, which selects `dim, key, label, status, n` from
/// `({tallies}) t`, with the parameters of [`tallies_sql`] bound.
async fn tallies(
    conn: &mut AsyncPgConnection,
    sql: &str,
    over: &Over<'_>,
    dims: &[&'static str],
    by_cohort: bool,
) -> AppResult<Vec<Tally>> {
    let none = Scope::default();
    let (filter, one) = match over {
        Over::Portfolio => (None, PORTFOLIO),
        Over::Cohort(id) => (None, *id),
        Over::Cohorts(s) => (Some(*s), PORTFOLIO),
    };
    let s = filter.unwrap_or(&none);
    let query = sql_query(sql.replace("{tallies}", &tallies_sql(over, dims)))
        .bind::<Nullable<SqlUuid>, _>(s.program_id)
        .bind::<Nullable<Date>, _>(s.from)
        .bind::<Nullable<Date>, _>(s.to)
        .bind::<SqlUuid, _>(one)
        .bind::<Bool, _>(by_cohort);
    Ok(query.prepared().load(conn).await?)
}

/// Counts per status of one dimension and key, from rows of [`tallies`].
fn by_status(rows: &[Tally], dim: &str, key: &str) -> BTreeMap<String, i64> {
    rows.iter()
        .filter(|r| r.dim == dim && r.key == key)
        .map(|r| (r.status.clone(), r.n))
        .collect()
}

/// Counts per key of one dimension, over some statuses.
fn by_key(rows: &[Tally], dim: &str, statuses: &[&str]) -> BTreeMap<String, i64> {
    let mut map = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| r.dim == dim && statuses.contains(&r.status.as_str()))
    {
        *map.entry(r.key.clone()).or_insert(0) += r.n;
    }
    map
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Counts by status of records dated in the period (`$1`, `$2`), shaped
/// as tallies of `dim`.
async fn dated_counts(
    conn: &mut AsyncPgConnection,
    dim: &str,
    sql: &str,
    s: &Scope,
) -> AppResult<Vec<Tally>> {
    let rows: Vec<Count> = sql_query(sql)
        .bind::<Nullable<Date>, _>(s.from)
        .bind::<Nullable<Date>, _>(s.to)
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|c| Tally::figure(dim, c.key, c.n))
        .collect())
}

#[derive(QueryableByName)]
struct Sums {
    #[diesel(sql_type = BigInt)]
    jobs: i64,
    #[diesel(sql_type = Numeric)]
    funding: BigDecimal,
}

/// Enrollment statuses that hold a seat.
const SEATED: [&str; 3] = ["accepted", "completed", "not_completed"];

/// Selects the rows of [`tallies_sql`] as they are.
const PLAIN: &str = "SELECT dim, key, NULL::text AS label, status, n FROM ({tallies}) t";

/// The sum of a dimension counted without status.
fn sum_of(rows: &[Tally], dim: &str) -> i64 {
    by_status(rows, dim, "").values().sum()
}

crate::endpoint! {
/// Everything at a glance. `program_id`, `from` and `to` narrow cohorts and
/// their enrollments (by the cohort's start), ventures (by creation) and
/// exchanges (by start). Unfiltered, it reads tallies only.
get "/stats/overview", tag = "stats",
params(("program_id" = Option<Uuid>, Query), ("from" = Option<NaiveDate>, Query), ("to" = Option<NaiveDate>, Query)),
ok((status = 200, body = Overview)), fails[422], may = Stats Read;
async fn overview(call: Call, query: web::Query<HashMap<String, String>>) -> Answer {
    let s = scope(&query, &[])?;
    let dated = s.from.is_some() || s.to.is_some();
    let over = Over::scoped(&s);
    let mut conn = call.reader().await?;
    let c = &mut conn;
    // Figures of the kept cohorts, then those of the whole portfolio: one
    // query when nothing narrows them.
    let scoped = ["all", "certified", "cohorts"];
    let mut whole = vec!["trainees", "institutions", "programs"];
    if !dated {
        whole.extend([
            "ventures",
            "venture_jobs",
            "venture_funding_cents",
            "exchanges",
        ]);
    }
    let mut rows = if matches!(over, Over::Portfolio) {
        tallies(c, PLAIN, &over, &[&scoped[..], &whole].concat(), false).await?
    } else {
        let mut rows = tallies(c, PLAIN, &over, &scoped, false).await?;
        rows.extend(tallies(c, PLAIN, &Over::Portfolio, &whole, false).await?);
        rows
    };
    if dated {
        // Ventures and exchanges are not tied to cohorts: their own dates.
        let Sums { jobs, funding } = sql_query(
            "SELECT COALESCE(sum(jobs_created), 0)::bigint AS jobs, COALESCE(sum(funding_raised_usd), 0) AS funding \
             FROM ventures WHERE ($1::date IS NULL OR created_at >= $1) AND ($2::date IS NULL OR created_at < $2)",
        )
        .bind::<Nullable<Date>, _>(s.from)
        .bind::<Nullable<Date>, _>(s.to)
        .get_result(c)
        .await?;
        let cents = (funding * BigDecimal::from(100))
            .to_i64()
            .unwrap_or(i64::MAX);
        for (dim, sql) in [
            ("ventures", "SELECT status AS key, count(*) AS n FROM ventures \
              WHERE ($1::date IS NULL OR created_at >= $1) AND ($2::date IS NULL OR created_at < $2) GROUP BY status"),
            ("exchanges", "SELECT status AS key, count(*) AS n FROM exchanges \
              WHERE ($1::date IS NULL OR starts_on >= $1) AND ($2::date IS NULL OR starts_on < $2) GROUP BY status"),
        ] {
            rows.extend(dated_counts(c, dim, sql, &s).await?);
        }
        rows.push(Tally::figure("venture_jobs", String::new(), jobs));
        rows.push(Tally::figure("venture_funding_cents", String::new(), cents));
    }
    let programs = match s.program_id {
        Some(id) => {
            let Number { n } = sql_query("SELECT count(*)::int AS n FROM programs WHERE id = $1")
                .bind::<SqlUuid, _>(id)
                .get_result(c)
                .await?;
            i64::from(n)
        }
        None => sum_of(&rows, "programs"),
    };
    let enrollments = by_status(&rows, "all", "");
    let completed = enrollments.get("completed").copied().unwrap_or(0);
    let decided = completed + enrollments.get("not_completed").copied().unwrap_or(0);
    let cohorts = by_status(&rows, "cohorts", "");
    let ventures = by_status(&rows, "ventures", "");
    let exchanges = by_status(&rows, "exchanges", "");
    api::ok(&Overview {
        institutions: sum_of(&rows, "institutions"),
        programs,
        cohorts: cohorts.into(),
        trainees: sum_of(&rows, "trainees"),
        completion_rate: Rate::of(completed, decided),
        enrollments: enrollments.into(),
        certificates: sum_of(&rows, "certified"),
        ventures: ventures.into(),
        jobs_created: sum_of(&rows, "venture_jobs"),
        funding_raised_usd: BigDecimal::new(sum_of(&rows, "venture_funding_cents").into(), 2)
            .to_string(),
        exchanges: exchanges.into(),
    })
}
}

crate::endpoint! {
/// Enrollments per key, with a count per status. `program_id`, `from` and
/// `to` keep the cohorts of a programme or starting in a period; `month`
/// is the month a cohort starts.
get "/stats/enrollments", tag = "stats",
params(("group_by" = String, Query, description = "country, region, gender, institution, program, cohort or month"), ("program_id" = Option<Uuid>, Query), ("from" = Option<NaiveDate>, Query), ("to" = Option<NaiveDate>, Query)),
ok((status = 200, body = Groups)), fails[422], may = Stats Read;
async fn enrollments_by(call: Call, query: web::Query<HashMap<String, String>>) -> Answer {
    let s = scope(&query, &["group_by"])?;
    let group_by = query
        .get("group_by")
        .map(String::as_str)
        .unwrap_or_default();
    // The dimension tallied, the key and label selected, what they need joined.
    let (dim, key, label, join) = match group_by {
        "country" | "region" => ("nationality", "t.key", "NULL::text", ""),
        "gender" => ("gender", "t.key", "NULL::text", ""),
        "institution" => (
            "institution",
            "t.key",
            "i.name",
            "JOIN institutions i ON i.id = t.key::uuid",
        ),
        "program" => (
            "all",
            "c.program_id::text",
            "p.title",
            "JOIN cohorts c ON c.id = t.scope_id JOIN programs p ON p.id = c.program_id",
        ),
        "cohort" => (
            "all",
            "c.id::text",
            "c.title",
            "JOIN cohorts c ON c.id = t.scope_id",
        ),
        "month" => (
            "all",
            "to_char(c.starts_on, 'YYYY-MM')",
            "NULL::text",
            "JOIN cohorts c ON c.id = t.scope_id",
        ),
        _ => {
            return Err(AppError::invalid(
                "group_by",
                "must be one of country, region, gender, institution, program, cohort, month",
            ))
        }
    };
    let by_cohort = dim == "all";
    let over = if by_cohort {
        Over::Cohorts(&s)
    } else {
        Over::scoped(&s)
    };
    let sql = format!(
        "SELECT t.dim, {key} AS key, {label} AS label, t.status, sum(t.n)::bigint AS n \
         FROM ({{tallies}}) t {join} GROUP BY 1, 2, 3, 4 ORDER BY 2"
    );
    let mut conn = call.reader().await?;
    let rows = tallies(&mut conn, &sql, &over, &[dim], by_cohort).await?;
    let mut grouped: BTreeMap<String, (Option<String>, BTreeMap<String, i64>)> = BTreeMap::new();
    for r in rows {
        let key = if group_by == "region" {
            CountryCode::parse(&r.key)
                .ok()
                .and_then(|c| c.region())
                .unwrap_or_else(|| "unknown".into())
        } else {
            r.key
        };
        let entry = grouped.entry(key).or_insert((r.label, BTreeMap::new()));
        *entry.1.entry(r.status).or_insert(0) += r.n;
    }
    let smallest = policy::smallest_cell(&call.ctx.caller, call.state.settings.stats.min_cell);
    let items = grouped
        .into_iter()
        .map(|(key, (label, by_status))| Group {
            key,
            label,
            counts: ByStatus::cells(by_status, smallest),
        })
        .collect();
    api::ok(&Groups {
        group_by: group_by.to_string(),
        items,
    })
}
}

/// One integer a query selects as `n`.
#[derive(QueryableByName)]
struct Number {
    #[diesel(sql_type = Integer)]
    n: i32,
}

crate::endpoint! {
/// One cohort: fill, waitlist, attendance, completion, who is in it.
get "/stats/cohorts/{id}", tag = "stats",
params(("id" = Uuid, Path)),
ok((status = 200, body = CohortStats)), fails[404], may = Stats Read;
async fn cohort(call: Call, id: web::Path<Uuid>) -> Answer {
    let mut conn = call.reader().await?;
    let query =
        sql_query("SELECT capacity AS n FROM cohorts WHERE id = $1").bind::<SqlUuid, _>(*id);
    let Number { n: capacity } = query.prepared().get_result(&mut conn).await?;
    let rows = tallies(
        &mut conn,
        PLAIN,
        &Over::Cohort(*id),
        &["all", "nationality", "gender", "attendance"],
        false,
    )
    .await?;
    let statuses = by_status(&rows, "all", "");
    let count = |status: &str| statuses.get(status).copied().unwrap_or(0);
    let attendance = by_status(&rows, "attendance", "");
    let present = attendance.get("present").copied().unwrap_or(0);
    let absent = attendance.get("absent").copied().unwrap_or(0);
    let seats_taken = SEATED.iter().map(|s| count(s)).sum();
    let decided = count("completed") + count("not_completed");
    let smallest = policy::smallest_cell(&call.ctx.caller, call.state.settings.stats.min_cell);
    let (by_country, small_country) = cells(by_key(&rows, "nationality", &SEATED), smallest);
    let (by_gender, small_gender) = cells(by_key(&rows, "gender", &SEATED), smallest);
    api::ok(&CohortStats {
        cohort_id: *id,
        fill_rate: Rate::of(seats_taken, i64::from(capacity)),
        waitlist_length: count("waitlisted"),
        attendance_rate: Rate::of(present, present + absent),
        completion_rate: Rate::of(count("completed"), decided),
        by_country,
        by_gender,
        suppressed: small_country || small_gender,
    })
}
}

/// Folds the tally deltas the triggers appended into the tallies; the
/// worker calls it every few seconds. Returns how many tallies changed.
pub async fn fold_tallies(conn: &mut AsyncPgConnection) -> diesel::QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Folded {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let f: Folded = sql_query("SELECT meridian_fold_tallies() AS n")
        .get_result(conn)
        .await?;
    Ok(f.n)
}

#[derive(QueryableByName)]
struct Flow {
    #[diesel(sql_type = Text)]
    from_country: String,
    #[diesel(sql_type = Text)]
    to_country: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

crate::endpoint! {
/// Exchanges per (sending country, receiving country), with a count per
/// status; `year` narrows to exchanges starting that year.
get "/stats/exchanges/flows", tag = "stats",
params(("year" = Option<i32>, Query)),
ok((status = 200, body = Flows)), fails[422], may = Stats Read;
async fn flows(call: Call, query: web::Query<HashMap<String, String>>) -> Answer {
    let smallest = policy::smallest_cell(&call.ctx.caller, call.state.settings.stats.min_cell);
    let year: Option<i32> = match query.get("year") {
        Some(y) => Some(
            y.parse()
                .map_err(|_| AppError::invalid("year", "must be a year such as 2027"))?,
        ),
        None => None,
    };
    if let Some(k) = query.keys().find(|k| k.as_str() != "year") {
        return Err(AppError::invalid(k.clone(), "unknown query parameter"));
    }
    let mut conn = call.reader().await?;
    let rows: Vec<Flow> = sql_query(
        "SELECT si.country_code AS from_country, ri.country_code AS to_country, x.status, count(*) AS n \
         FROM exchanges x JOIN institutions si ON si.id = x.sending_institution_id \
         JOIN institutions ri ON ri.id = x.receiving_institution_id \
         WHERE $1::int IS NULL OR EXTRACT(YEAR FROM x.starts_on)::int = $1 \
         GROUP BY 1, 2, 3 ORDER BY 1, 2",
    )
    .bind::<Nullable<Integer>, _>(year)
    .load(&mut conn)
    .await?;
    let mut grouped: BTreeMap<(String, String), BTreeMap<String, i64>> = BTreeMap::new();
    for r in rows {
        *grouped
            .entry((r.from_country, r.to_country))
            .or_default()
            .entry(r.status)
            .or_insert(0) += r.n;
    }
    let items = grouped
        .into_iter()
        .map(|((from_country, to_country), by_status)| FlowRow {
            from_country,
            to_country,
            counts: ByStatus::cells(by_status, smallest),
        })
        .collect();
    api::ok(&Flows { year, items })
}
}

#[derive(QueryableByName)]
struct IncubatorRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    status: Option<String>,
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = BigInt)]
    jobs: i64,
    #[diesel(sql_type = Numeric)]
    funding: BigDecimal,
}

crate::endpoint! {
/// Per incubator: ventures by status, jobs created, funding raised.
get "/stats/incubators", tag = "stats",
ok((status = 200, body = Incubators)), may = Stats Read;
async fn incubators(call: Call) -> AppResult<HttpResponse> {
    let mut conn = call.reader().await?;
    let rows: Vec<IncubatorRow> = sql_query(
        "SELECT i.id, i.name, v.status, count(v.id) AS n, COALESCE(sum(v.jobs_created), 0)::bigint AS jobs, \
                COALESCE(sum(v.funding_raised_usd), 0) AS funding \
         FROM incubators i LEFT JOIN ventures v ON v.incubator_id = i.id GROUP BY 1, 2, 3 ORDER BY 2, 1",
    )
    .load(&mut conn)
    .await?;
    struct Figures {
        id: Uuid,
        name: String,
        by_status: BTreeMap<String, i64>,
        jobs: i64,
        funding: BigDecimal,
    }
    let mut grouped: Vec<Figures> = Vec::new();
    for r in rows {
        if grouped.last().is_none_or(|g| g.id != r.id) {
            grouped.push(Figures {
                id: r.id,
                name: r.name.clone(),
                by_status: BTreeMap::new(),
                jobs: 0,
                funding: BigDecimal::from(0),
            });
        }
        let g = grouped.last_mut().expect("just pushed");
        if let Some(status) = r.status {
            g.by_status.insert(status, r.n);
        }
        g.jobs += r.jobs;
        g.funding += r.funding;
    }
    let items = grouped
        .into_iter()
        .map(|f| IncubatorFigures {
            incubator_id: f.id,
            name: f.name,
            ventures: f.by_status.into(),
            jobs_created: f.jobs,
            funding_raised_usd: f.funding.with_scale(2).to_string(),
        })
        .collect();
    api::ok(&Incubators { items })
}
}

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(overview)
        .service(enrollments_by)
        .service(cohort)
        .service(flows)
        .service(incubators);
}
