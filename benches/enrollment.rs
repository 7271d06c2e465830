//! Trainee import and nomination throughput against the real server:
//! 10,000 trainees from one CSV file (dry run and real), then 2,000
//! nominations into one open cohort at several concurrencies.
//!
//! `cargo bench --bench enrollment`

mod support;

use std::time::Instant;

use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use meridian::{
    auth::Role,
    schema::trainees,
    startup::Application,
    users::{self, NewUser},
};
use serde_json::{json, Value};
use uuid::Uuid;

const TRAINEES: usize = 10_000;
const NOMINATIONS: usize = 2_000;

async fn user(url: &str, role: Role, institution: Option<Uuid>) -> anyhow::Result<Uuid> {
    let mut conn = AsyncPgConnection::establish(url).await?;
    let id = Uuid::now_v7();
    users::insert(
        &mut conn,
        &NewUser {
            id,
            email: format!("bench-{}@example.org", id.simple()),
            full_name: "Bench".into(),
            role,
            institution_id: institution,
            trainee_id: None,
            password_hash: None,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(id)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = support::fresh_database("meridian_bench_enrollment").await?;
    let mut settings = support::settings()?;
    settings.server.workers = 2;
    settings.database.pool_size = 16;
    settings.auth.ip_limit_per_minute = 1_000_000;
    settings.server.json_limit_bytes = 1 << 20;
    settings.auth.jwt_secret = "a-benchmark-secret-of-32-bytes-or-more".to_string().into();
    let app = Application::build(settings, &url)?;
    let base = format!("http://127.0.0.1:{}/api/v1", app.port());
    let tokens = app.state.tokens.clone();
    tokio::spawn(app.run());
    let client = reqwest::Client::new();

    let admin = user(&url, Role::Admin, None).await?;
    let admin_token = tokens.issue(admin, Role::Admin, None, None, 0, Uuid::now_v7())?;
    let post = |path: &str, token: &str, body: Value| {
        client
            .post(format!("{base}{path}"))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let inst: Value = post(
        "/institutions",
        &admin_token,
        json!({"name": "University of Nairobi", "kind": "university", "country_code": "KE"}),
    )
    .await?
    .json()
    .await?;
    let inst_id: Uuid = inst["id"].as_str().unwrap_or_default().parse()?;
    let programme: Value = post(
        "/programs",
        &admin_token,
        json!({"code": "BENCH", "title": "Bench programme", "theme": "general", "lead_institution_id": inst_id,
               "starts_on": "2027-01-01", "ends_on": "2027-12-31"}),
    )
    .await?
    .json()
    .await?;
    let now = chrono::Utc::now();
    let cohort: Value = post(
        "/cohorts",
        &admin_token,
        json!({"program_id": programme["id"], "code": "C1", "title": "Bench cohort", "host_institution_id": inst_id,
               "delivery": "online", "starts_on": "2027-02-01", "ends_on": "2027-03-01",
               "nominations_open_at": now - chrono::Duration::days(1), "nominations_close_at": now + chrono::Duration::days(30),
               "capacity": 5000}),
    )
    .await?
    .json()
    .await?;
    let cohort_id = cohort["id"].as_str().unwrap_or_default().to_string();
    post(
        &format!("/cohorts/{cohort_id}/transitions"),
        &admin_token,
        json!({"to": "open"}),
    )
    .await?;

    let partner = user(&url, Role::Partner, Some(inst_id)).await?;
    let partner_token = tokens.issue(
        partner,
        Role::Partner,
        Some(inst_id),
        None,
        0,
        Uuid::now_v7(),
    )?;
    let mut csv =
        String::from("given_name,family_name,email,nationality,gender,birth_year,field,locale\n");
    for i in 0..TRAINEES {
        csv.push_str(&format!(
            "Wanjiru,Kamau {i},wanjiru.kamau.{i}@uonbi.ac.ke,KE,female,{},Machine learning,en\n",
            1980 + i % 20
        ));
    }
    println!("| step | rows | seconds | rows/s | status |");
    println!("|---|---|---|---|---|");
    for dry_run in [true, false] {
        let started = Instant::now();
        let res = client
            .post(format!("{base}/trainees/import?dry_run={dry_run}"))
            .bearer_auth(&partner_token)
            .header("content-type", "text/csv")
            .body(csv.clone())
            .send()
            .await?;
        let secs = started.elapsed().as_secs_f64();
        println!(
            "| import{} | {TRAINEES} | {secs:.2} | {:.0} | {} |",
            if dry_run { " (dry run)" } else { "" },
            TRAINEES as f64 / secs,
            res.status().as_u16()
        );
    }

    let mut conn = AsyncPgConnection::establish(&url).await?;
    let ids: Vec<Uuid> = trainees::table
        .filter(trainees::institution_id.eq(inst_id))
        .select(trainees::id)
        .limit(NOMINATIONS as i64)
        .load(&mut conn)
        .await?;
    println!();
    println!("| concurrency | nominations | per s | p50 ms | p99 ms | errors |");
    println!("|---|---|---|---|---|---|");
    let mut next = 0;
    for concurrency in [4usize, 16, 64] {
        let batch: Vec<Uuid> = ids[next..next + NOMINATIONS / 4].to_vec();
        next += NOMINATIONS / 4;
        let url = format!("{base}/cohorts/{cohort_id}/enrollments");
        let (client, token) = (client.clone(), partner_token.clone());
        let run = support::drive(concurrency, batch, 201, move |trainee| {
            let body = json!({ "trainee_id": trainee });
            client.post(&url).bearer_auth(&token).json(&body).send()
        })
        .await;
        println!(
            "| {concurrency} | {} | {:.0} | {:.1} | {:.1} | {} |",
            run.requests, run.per_second, run.p50_ms, run.p99_ms, run.errors
        );
    }
    Ok(())
}
