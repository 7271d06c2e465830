//! `/stats/*`: aggregates for dashboards, never personal data. Every figure
//! is computed in the database; rates come with the counts they are made of.

use std::collections::{BTreeMap, HashMap};

use actix_web::{get, web, HttpResponse};
use bigdecimal::BigDecimal;
use chrono::NaiveDate;
use diesel::{
    sql_query,
    sql_types::{BigInt, Date, Integer, Nullable, Numeric, Text, Uuid as SqlUuid},
    QueryableByName,
};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    api,
    auth::{
        policy::{authorize, Action, Resource},
        Caller,
    },
    error::{AppError, AppResult, Problem},
    startup::AppState,
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

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Counts by a key, with the common filters bound as $1..$3 (programme,
/// from, to) wherever the SQL mentions them.
async fn counts(
    conn: &mut AsyncPgConnection,
    sql: &str,
    s: &Scope,
) -> AppResult<BTreeMap<String, i64>> {
    let rows: Vec<Count> = sql_query(sql)
        .bind::<Nullable<SqlUuid>, _>(s.program_id)
        .bind::<Nullable<Date>, _>(s.from)
        .bind::<Nullable<Date>, _>(s.to)
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(|c| (c.key, c.n)).collect())
}

/// Counts by a key with only the date range bound, as $1 and $2.
async fn counts_dated(
    conn: &mut AsyncPgConnection,
    sql: &str,
    s: &Scope,
) -> AppResult<BTreeMap<String, i64>> {
    let rows: Vec<Count> = sql_query(sql)
        .bind::<Nullable<Date>, _>(s.from)
        .bind::<Nullable<Date>, _>(s.to)
        .load(conn)
        .await?;
    Ok(rows.into_iter().map(|c| (c.key, c.n)).collect())
}

/// Counts by a key, unfiltered.
async fn counts_plain(conn: &mut AsyncPgConnection, sql: &str) -> AppResult<BTreeMap<String, i64>> {
    let rows: Vec<Count> = sql_query(sql).load(conn).await?;
    Ok(rows.into_iter().map(|c| (c.key, c.n)).collect())
}

fn total(map: &BTreeMap<String, i64>) -> i64 {
    map.values().sum()
}

/// Enrollments in scope, as a SQL fragment over `enrollments e` joined
/// with `cohorts c`.
const ENROLLMENTS_IN_SCOPE: &str = "FROM enrollments e JOIN cohorts c ON c.id = e.cohort_id \
     WHERE ($1::uuid IS NULL OR c.program_id = $1) \
       AND ($2::date IS NULL OR e.created_at >= $2) AND ($3::date IS NULL OR e.created_at < $3)";

#[derive(QueryableByName)]
struct Sums {
    #[diesel(sql_type = BigInt)]
    jobs: i64,
    #[diesel(sql_type = Numeric)]
    funding: BigDecimal,
}

/// Everything at a glance.
#[utoipa::path(
    tag = "stats",
    params(("program_id" = Option<Uuid>, Query), ("from" = Option<NaiveDate>, Query), ("to" = Option<NaiveDate>, Query)),
    responses((status = 200, description = "Counts, rates and sums"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[get("/stats/overview")]
async fn overview(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<HashMap<String, String>>,
) -> AppResult<HttpResponse> {
    authorize(&caller, Resource::Stats, Action::Read)?;
    let s = scope(&query, &[])?;
    let mut conn = state.pool.get().await?;
    let c = &mut conn;
    let institutions =
        total(&counts_plain(c, "SELECT 'all' AS key, count(*) AS n FROM institutions").await?);
    let programmes =
        total(&counts_plain(c, "SELECT 'all' AS key, count(*) AS n FROM programs").await?);
    let cohorts = counts(
        c,
        "SELECT status AS key, count(*) AS n FROM cohorts WHERE ($1::uuid IS NULL OR program_id = $1) \
         AND ($2::date IS NULL OR starts_on >= $2) AND ($3::date IS NULL OR starts_on < $3) GROUP BY status",
        &s,
    )
    .await?;
    let trainees =
        total(&counts_plain(c, "SELECT 'all' AS key, count(*) AS n FROM trainees").await?);
    let enrollments = counts(
        c,
        &format!("SELECT e.status AS key, count(*) AS n {ENROLLMENTS_IN_SCOPE} GROUP BY e.status"),
        &s,
    )
    .await?;
    let completed = enrollments.get("completed").copied().unwrap_or(0);
    let decided = completed + enrollments.get("not_completed").copied().unwrap_or(0);
    let certificates = total(
        &counts(
            c,
            &format!("SELECT 'all' AS key, count(*) AS n {ENROLLMENTS_IN_SCOPE} AND EXISTS (SELECT 1 FROM certificates ce WHERE ce.enrollment_id = e.id AND ce.revoked_at IS NULL)"),
            &s,
        )
        .await?,
    );
    let ventures = counts_dated(
        c,
        "SELECT status AS key, count(*) AS n FROM ventures \
         WHERE ($1::date IS NULL OR created_at >= $1) AND ($2::date IS NULL OR created_at < $2) GROUP BY status",
        &s,
    )
    .await?;
    let sums: Sums = sql_query(
        "SELECT COALESCE(sum(jobs_created), 0)::bigint AS jobs, COALESCE(sum(funding_raised_usd), 0) AS funding \
         FROM ventures WHERE ($1::date IS NULL OR created_at >= $1) AND ($2::date IS NULL OR created_at < $2)",
    )
    .bind::<Nullable<Date>, _>(s.from)
    .bind::<Nullable<Date>, _>(s.to)
    .get_result(c)
    .await?;
    let exchanges = counts_dated(
        c,
        "SELECT status AS key, count(*) AS n FROM exchanges \
         WHERE ($1::date IS NULL OR starts_on >= $1) AND ($2::date IS NULL OR starts_on < $2) GROUP BY status",
        &s,
    )
    .await?;
    api::ok(&json!({
        "institutions": institutions,
        "programs": programmes,
        "cohorts": { "total": total(&cohorts), "by_status": cohorts },
        "trainees": trainees,
        "enrollments": { "total": total(&enrollments), "by_status": enrollments },
        "completion_rate": Rate::of(completed, decided),
        "certificates": certificates,
        "ventures": { "total": total(&ventures), "by_status": ventures },
        "jobs_created": sums.jobs,
        "funding_raised_usd": sums.funding.with_scale(2).to_string(),
        "exchanges": { "total": total(&exchanges), "by_status": exchanges },
    }))
}

#[derive(QueryableByName)]
struct Grouped {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = Nullable<Text>)]
    label: Option<String>,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Enrollments per key, with a count per status.
#[utoipa::path(
    tag = "stats",
    params(
        ("group_by" = String, Query, description = "country, region, gender, institution, program, cohort or month"),
        ("program_id" = Option<Uuid>, Query), ("from" = Option<NaiveDate>, Query), ("to" = Option<NaiveDate>, Query),
    ),
    responses((status = 200, description = "A row per key"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[get("/stats/enrollments")]
async fn enrollments_by(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<HashMap<String, String>>,
) -> AppResult<HttpResponse> {
    authorize(&caller, Resource::Stats, Action::Read)?;
    let s = scope(&query, &["group_by"])?;
    let group_by = query
        .get("group_by")
        .map(String::as_str)
        .unwrap_or_default();
    let (key, label, join) = match group_by {
        "country" | "region" => (
            "t.nationality",
            "NULL::text",
            "JOIN trainees t ON t.id = e.trainee_id",
        ),
        "gender" => (
            "t.gender",
            "NULL::text",
            "JOIN trainees t ON t.id = e.trainee_id",
        ),
        "institution" => (
            "e.institution_id::text",
            "i.name",
            "JOIN institutions i ON i.id = e.institution_id",
        ),
        "program" => (
            "c.program_id::text",
            "p.title",
            "JOIN programs p ON p.id = c.program_id",
        ),
        "cohort" => ("c.id::text", "c.title", ""),
        "month" => (
            "to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM')",
            "NULL::text",
            "",
        ),
        _ => {
            return Err(AppError::invalid(
                "group_by",
                "must be one of country, region, gender, institution, program, cohort, month",
            ))
        }
    };
    let sql = format!(
        "SELECT {key} AS key, {label} AS label, e.status, count(*) AS n \
         FROM enrollments e JOIN cohorts c ON c.id = e.cohort_id {join} \
         WHERE ($1::uuid IS NULL OR c.program_id = $1) \
           AND ($2::date IS NULL OR e.created_at >= $2) AND ($3::date IS NULL OR e.created_at < $3) \
         GROUP BY 1, 2, 3 ORDER BY 1"
    );
    let mut conn = state.pool.get().await?;
    let rows: Vec<Grouped> = sql_query(sql)
        .bind::<Nullable<SqlUuid>, _>(s.program_id)
        .bind::<Nullable<Date>, _>(s.from)
        .bind::<Nullable<Date>, _>(s.to)
        .load(&mut conn)
        .await?;
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
    let items: Vec<Value> = grouped
        .into_iter()
        .map(|(key, (label, by_status))| {
            json!({ "key": key, "label": label, "total": total(&by_status), "by_status": by_status })
        })
        .collect();
    api::ok(&json!({ "group_by": group_by, "items": items }))
}

#[derive(QueryableByName)]
struct CohortFigures {
    #[diesel(sql_type = Integer)]
    capacity: i32,
    #[diesel(sql_type = BigInt)]
    seats_taken: i64,
    #[diesel(sql_type = BigInt)]
    waitlisted: i64,
    #[diesel(sql_type = BigInt)]
    completed: i64,
    #[diesel(sql_type = BigInt)]
    decided: i64,
    #[diesel(sql_type = BigInt)]
    present: i64,
    #[diesel(sql_type = BigInt)]
    counted: i64,
}

/// One cohort: fill, waitlist, attendance, completion, who is in it.
#[utoipa::path(
    tag = "stats",
    params(("id" = Uuid, Path)),
    responses((status = 200, description = "Figures of the cohort"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/stats/cohorts/{id}")]
async fn cohort(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    authorize(&caller, Resource::Stats, Action::Read)?;
    let mut conn = state.pool.get().await?;
    let f: CohortFigures = sql_query(
        "SELECT c.capacity, \
           (SELECT count(*) FROM enrollments e WHERE e.cohort_id = c.id AND e.status IN ('accepted','completed','not_completed')) AS seats_taken, \
           (SELECT count(*) FROM enrollments e WHERE e.cohort_id = c.id AND e.status = 'waitlisted') AS waitlisted, \
           (SELECT count(*) FROM enrollments e WHERE e.cohort_id = c.id AND e.status = 'completed') AS completed, \
           (SELECT count(*) FROM enrollments e WHERE e.cohort_id = c.id AND e.status IN ('completed','not_completed')) AS decided, \
           (SELECT count(*) FROM attendance a JOIN sessions s ON s.id = a.session_id WHERE s.cohort_id = c.id AND a.status = 'present') AS present, \
           (SELECT count(*) FROM attendance a JOIN sessions s ON s.id = a.session_id WHERE s.cohort_id = c.id AND a.status <> 'excused') AS counted \
         FROM cohorts c WHERE c.id = $1",
    )
    .bind::<SqlUuid, _>(*id)
    .get_result(&mut conn)
    .await?;
    // The id is a parsed UUID, so it can stand in the SQL text.
    let seated = format!(
        "FROM enrollments e JOIN trainees t ON t.id = e.trainee_id WHERE e.cohort_id = '{}'::uuid \
         AND e.status IN ('accepted','completed','not_completed')",
        *id
    );
    let by_country = counts_plain(
        &mut conn,
        &format!("SELECT t.nationality AS key, count(*) AS n {seated} GROUP BY 1"),
    )
    .await?;
    let by_gender = counts_plain(
        &mut conn,
        &format!("SELECT t.gender AS key, count(*) AS n {seated} GROUP BY 1"),
    )
    .await?;
    api::ok(&json!({
        "cohort_id": *id,
        "fill_rate": Rate::of(f.seats_taken, i64::from(f.capacity)),
        "waitlist_length": f.waitlisted,
        "attendance_rate": Rate::of(f.present, f.counted),
        "completion_rate": Rate::of(f.completed, f.decided),
        "by_country": by_country,
        "by_gender": by_gender,
    }))
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

/// Exchanges per (sending country, receiving country), with a count per
/// status; `year` narrows to exchanges starting that year.
#[utoipa::path(
    tag = "stats",
    params(("year" = Option<i32>, Query)),
    responses((status = 200, description = "A row per flow"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[get("/stats/exchanges/flows")]
async fn flows(
    state: web::Data<AppState>,
    caller: Caller,
    query: web::Query<HashMap<String, String>>,
) -> AppResult<HttpResponse> {
    authorize(&caller, Resource::Stats, Action::Read)?;
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
    let mut conn = state.pool.get().await?;
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
    let items: Vec<Value> = grouped
        .into_iter()
        .map(|((from, to), by_status)| json!({ "from_country": from, "to_country": to, "total": total(&by_status), "by_status": by_status }))
        .collect();
    api::ok(&json!({ "year": year, "items": items }))
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

/// Per incubator: ventures by status, jobs created, funding raised.
#[utoipa::path(
    tag = "stats",
    responses((status = 200, description = "A row per incubator"), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = []))
)]
#[get("/stats/incubators")]
async fn incubators(state: web::Data<AppState>, caller: Caller) -> AppResult<HttpResponse> {
    authorize(&caller, Resource::Stats, Action::Read)?;
    let mut conn = state.pool.get().await?;
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
    let items: Vec<Value> = grouped
        .into_iter()
        .map(|f| {
            json!({
                "incubator_id": f.id, "name": f.name,
                "ventures": { "total": total(&f.by_status), "by_status": f.by_status },
                "jobs_created": f.jobs, "funding_raised_usd": f.funding.with_scale(2).to_string(),
            })
        })
        .collect();
    api::ok(&json!({ "items": items }))
}

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(overview)
        .service(enrollments_by)
        .service(cohort)
        .service(flows)
        .service(incubators);
}
