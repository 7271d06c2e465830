//! `meridian seed-bench --scale N`: a programme at the scale of years of
//! operation, for benchmarks. At scale 1: 300 institutions, 200
//! programmes, 2,000 cohorts, 100,000 trainees, 1,000,000 enrollments,
//! 50 incubators with 5,000 ventures, 100 agreements, 20,000 exchanges,
//! 20,000 shared resources and 50,000 links of them (40,000 to cohorts,
//! 10,000 to ventures).
//!
//! Everything is made by PostgreSQL itself (`generate_series`), with ids
//! derived from each row's number, so references need no lookups.

use diesel::{sql_query, sql_types::BigInt};
use diesel_async::{AsyncConnection, RunQueryDsl};

/// How many of each record at scale 1.
const BASE: [(&str, f64); 11] = [
    ("institutions", 300.0),
    ("programs", 200.0),
    ("cohorts", 2_000.0),
    ("trainees", 100_000.0),
    ("incubators", 50.0),
    ("ventures", 5_000.0),
    ("agreements", 100.0),
    ("exchanges", 20_000.0),
    ("per_cohort", 500.0),
    ("resources", 20_000.0),
    ("links", 50_000.0),
];

const COUNTRIES: &str = "ARRAY['KE','NG','GH','ET','RW','SN','EG','PK','ID','BD','BR','CO','PE','VN','TZ','UG','ZM','MA','KH','LK']";

fn n(name: &str, scale: f64) -> i64 {
    let base = BASE
        .iter()
        .find(|(k, _)| *k == name)
        .map_or(1.0, |(_, v)| *v);
    if name == "per_cohort" {
        return base as i64;
    }
    // Two institutions at least: agreements need two parties.
    let least = if name == "institutions" { 2 } else { 1 };
    ((base * scale).round() as i64).max(least)
}

/// The statements, in order; `$1` is the count of each.
fn statements(scale: f64) -> Vec<(String, i64)> {
    let institutions = n("institutions", scale);
    let programs = n("programs", scale);
    let cohorts = n("cohorts", scale);
    let trainees = n("trainees", scale);
    let incubators = n("incubators", scale);
    let agreements = n("agreements", scale);
    let ventures = n("ventures", scale);
    let resources = n("resources", scale);
    let links = n("links", scale);
    // A trainee is in a cohort at most once.
    let per_cohort = n("per_cohort", scale).min(trainees);
    let id = |prefix: &str, expr: &str| format!("md5('{prefix}' || ({expr}))::uuid");
    vec![
        (
            format!(
                "INSERT INTO institutions (id, name, kind, country_code, city) \
                 SELECT {}, 'Bench University ' || g, (ARRAY['university','research_institute','company','government','ngo'])[1 + g % 5], \
                        (CASE WHEN g % 5 = 0 THEN 'CN' ELSE ({COUNTRIES})[1 + g % 20] END), 'City ' || g \
                 FROM generate_series(1, $1::int) g",
                id("i", "g")
            ),
            institutions,
        ),
        (
            "INSERT INTO users (id, email, full_name, role) \
             SELECT md5('bench-coordinator')::uuid, 'coordinator@bench.example', 'Bench Coordinator', 'coordinator' \
             FROM generate_series(1, $1::int) g"
                .to_string(),
            1,
        ),
        (
            format!(
                "INSERT INTO programs (id, code, title, theme, lead_institution_id, starts_on, ends_on, status) \
                 SELECT {}, 'BENCH-' || g, 'AI programme ' || g, \
                        (ARRAY['agriculture','energy','health','education','disaster_response','manufacturing','governance','general'])[1 + g % 8], \
                        {}, DATE '2022-01-01' + (g % 1000), DATE '2026-12-31', 'active' \
                 FROM generate_series(1, $1::int) g",
                id("p", "g"),
                id("i", &format!("1 + g % {institutions}"))
            ),
            programs,
        ),
        (
            format!(
                "INSERT INTO cohorts (id, program_id, code, title, host_institution_id, delivery, country_code, languages, \
                                      starts_on, ends_on, nominations_open_at, nominations_close_at, capacity, \
                                      max_per_institution, status) \
                 SELECT {}, {}, 'C' || g, 'Cohort ' || g, {}, 'onsite', 'CN', ARRAY['en','zh'], \
                        DATE '2022-01-01' + (g % 1800), DATE '2022-02-15' + (g % 1800), \
                        TIMESTAMPTZ '2021-11-01' + (g % 1800) * INTERVAL '1 day', \
                        TIMESTAMPTZ '2021-12-15' + (g % 1800) * INTERVAL '1 day', {per_cohort}, NULL, \
                        (ARRAY['completed','completed','running','closed','open','draft','cancelled'])[1 + g % 7] \
                 FROM generate_series(1, $1::int) g",
                id("c", "g"),
                id("p", &format!("1 + g % {programs}")),
                id("i", &format!("1 + g % {institutions}"))
            ),
            cohorts,
        ),
        (
            format!(
                "INSERT INTO trainees (id, institution_id, given_name, family_name, email, nationality, gender, birth_year, locale) \
                 SELECT {}, {}, 'Given' || g, 'Family' || g, 'trainee' || g || '@bench.example', \
                        ({COUNTRIES})[1 + g % 20], (ARRAY['female','male','female','male','non_binary','undisclosed'])[1 + g % 6], \
                        1975 + g % 30, (ARRAY['en','fr','ar','es','pt','zh'])[1 + g % 6] \
                 FROM generate_series(1, $1::int) g",
                id("t", "g"),
                id("i", &format!("1 + g % {institutions}"))
            ),
            trainees,
        ),
        (
            format!(
                "INSERT INTO enrollments (id, cohort_id, trainee_id, institution_id, status, nominated_by, decided_at, created_at, updated_at) \
                 SELECT {}, {}, {}, {}, \
                        (ARRAY['accepted','completed','completed','not_completed','waitlisted','rejected','nominated','withdrawn'])[1 + (g % {per_cohort}) % 8], \
                        md5('bench-coordinator')::uuid, now(), \
                        TIMESTAMPTZ '2021-11-01' + (g / {per_cohort} % 1800) * INTERVAL '1 day', now() \
                 FROM generate_series(0, $1::int - 1) g",
                id("e", "g"),
                id("c", &format!("1 + g / {per_cohort}")),
                id("t", &format!("1 + (g / {per_cohort} * 7 + g % {per_cohort}) % {trainees}")),
                id("i", &format!("1 + (1 + (g / {per_cohort} * 7 + g % {per_cohort}) % {trainees}) % {institutions}"))
            ),
            cohorts * per_cohort,
        ),
        (
            format!(
                "INSERT INTO incubators (id, name, host_institution_id, country_code, themes, capacity, services) \
                 SELECT {}, 'Bench Incubator ' || g, {}, 'CN', ARRAY['agriculture','energy'], 1000, \
                        ARRAY['legal','technical','compute','mentoring'] \
                 FROM generate_series(1, $1::int) g",
                id("b", "g"),
                id("i", &format!("1 + g % {institutions}"))
            ),
            incubators,
        ),
        (
            format!(
                "INSERT INTO ventures (id, incubator_id, name, theme, country_code, founder_trainee_ids, status, jobs_created, funding_raised_usd) \
                 SELECT {}, {}, 'Venture ' || g, (ARRAY['agriculture','energy','health'])[1 + g % 3], ({COUNTRIES})[1 + g % 20], \
                        ARRAY[{}], (ARRAY['applied','admitted','rejected','incubating','graduated','exited','closed'])[1 + g % 7], \
                        g % 40, (g % 97) * 1250.50 \
                 FROM generate_series(1, $1::int) g",
                id("v", "g"),
                id("b", &format!("1 + g % {incubators}")),
                id("t", &format!("1 + g * 13 % {trainees}"))
            ),
            ventures,
        ),
        (
            format!(
                "INSERT INTO exchange_agreements (id, institution_a_id, institution_b_id, title, valid_from, valid_to, kinds, annual_quota) \
                 SELECT {}, {}, {}, 'Agreement ' || g, DATE '2022-01-01', DATE '2027-12-31', \
                        ARRAY['fellowship','visiting_scholar','internship','joint_research','staff_secondment'], 1000 \
                 FROM generate_series(1, $1::int) g",
                id("a", "g"),
                id("i", &format!("1 + (g * 2) % {institutions}")),
                id("i", &format!("1 + (g * 2 + 1) % {institutions}"))
            ),
            agreements,
        ),
        (
            format!(
                "INSERT INTO exchanges (id, kind, trainee_id, sending_institution_id, receiving_institution_id, agreement_id, \
                                        starts_on, ends_on, funding_usd, status, proposed_by) \
                 SELECT {}, (ARRAY['visiting_scholar','fellowship','internship','joint_research','staff_secondment'])[1 + g % 5], \
                        {}, a.institution_b_id, a.institution_a_id, a.id, \
                        DATE '2022-01-01' + (g % 1800), DATE '2022-04-01' + (g % 1800), 15000, \
                        (ARRAY['proposed','approved','rejected','cancelled','in_progress','completed'])[1 + g % 6], \
                        md5('bench-coordinator')::uuid \
                 FROM generate_series(1, $1::int) g JOIN exchange_agreements a ON a.id = {}",
                id("x", "g"),
                id("t", &format!("1 + g * 31 % {trainees}")),
                id("a", &format!("1 + g % {agreements}"))
            ),
            n("exchanges", scale),
        ),
        (
            format!(
                "INSERT INTO resources (id, title, kind, url, languages, themes, licence, ip_terms, \
                                        owner_institution_id, visibility, status) \
                 SELECT {}, 'Resource ' || g, \
                        (ARRAY['course','curriculum','dataset','model','toolkit','paper'])[1 + g % 6], \
                        'https://open.example.org/r/' || g, ARRAY['en','fr'], ARRAY['agriculture'], \
                        (ARRAY['CC-BY-4.0','MIT','Apache-2.0','CC-BY-SA-4.0'])[1 + g % 4], \
                        (ARRAY['open','attribution','non_commercial','restricted'])[1 + g % 4], {}, \
                        (ARRAY['public','partners'])[1 + g % 2], \
                        (ARRAY['published','published','published','draft','withdrawn'])[1 + g % 5] \
                 FROM generate_series(1, $1::int) g",
                id("r", "g"),
                id("i", &format!("1 + g % {institutions}"))
            ),
            resources,
        ),
        // Pairs (cohort, resource) are distinct: within a cohort, the j-th
        // link steps 37 resources on.
        (
            format!(
                "INSERT INTO cohort_resources (cohort_id, resource_id) \
                 SELECT {}, {} FROM generate_series(0, $1::int - 1) g ON CONFLICT DO NOTHING",
                id("c", &format!("1 + g % {cohorts}")),
                id("r", &format!("1 + (g % {cohorts} * 11 + g / {cohorts} * 37) % {resources}"))
            ),
            links - links / 5,
        ),
        (
            format!(
                "INSERT INTO venture_resources (venture_id, resource_id) \
                 SELECT {}, {} FROM generate_series(0, $1::int - 1) g ON CONFLICT DO NOTHING",
                id("v", &format!("1 + g % {ventures}")),
                id("r", &format!("1 + (g % {ventures} * 13 + g / {ventures} * 101) % {resources}"))
            ),
            links / 5,
        ),
    ]
}

/// Tables whose triggers keep the dashboard tallies.
const TALLIED: [&str; 9] = [
    "institutions",
    "programs",
    "cohorts",
    "trainees",
    "enrollments",
    "certificates",
    "attendance",
    "ventures",
    "exchanges",
];

/// Fills the database at `url`; refuses one that already holds data.
pub async fn seed(url: &str, scale: f64) -> anyhow::Result<Vec<(String, i64)>> {
    if !(scale > 0.0 && scale <= 10.0) {
        anyhow::bail!("--scale must be above 0 and at most 10");
    }
    let mut conn = crate::db::connect(url).await?;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let existing: Count = sql_query("SELECT count(*) AS n FROM institutions")
        .get_result(&mut conn)
        .await?;
    if existing.n > 0 {
        anyhow::bail!("the database already holds data; seed-bench wants an empty one");
    }
    let mut done = Vec::new();
    conn.transaction::<_, anyhow::Error, _>(async |conn| {
        // The dashboard tallies are counted once at the end rather than by
        // a trigger per row.
        for table in TALLIED {
            sql_query(format!("ALTER TABLE {table} DISABLE TRIGGER USER"))
                .execute(conn)
                .await?;
        }
        for (sql, count) in statements(scale) {
            let table = sql.split_whitespace().nth(2).unwrap_or("?").to_string();
            sql_query(sql)
                .bind::<BigInt, _>(count)
                .execute(conn)
                .await?;
            done.push((table, count));
        }
        for table in TALLIED {
            sql_query(format!("ALTER TABLE {table} ENABLE TRIGGER USER"))
                .execute(conn)
                .await?;
        }
        sql_query("SELECT meridian_rebuild_tallies()")
            .execute(conn)
            .await?;
        sql_query("SELECT meridian_count_cohort_seats()")
            .execute(conn)
            .await?;
        Ok(())
    })
    .await?;
    sql_query("ANALYZE").execute(&mut conn).await?;
    Ok(done)
}
