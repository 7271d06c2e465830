//! Webhook delivery with two instances to a receiver on this machine: the
//! delay from an event's commit to its delivery while trainees are created
//! through the API, and the rate at which a backlog drains.
//!
//! `cargo bench --bench webhooks` (PostgreSQL binaries needed, as for the
//! tests; `MERIDIAN_BENCH_DATABASE_URL` to use a server of your own).

mod support;

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use actix_web::{web, App, HttpResponse, HttpServer};
use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use futures_util::StreamExt;
use meridian::{
    auth::Role,
    startup::Application,
    users::{self, NewUser},
};
use serde_json::{json, Value};
use uuid::Uuid;

/// Trainees created through the API while deliveries flow.
const LIVE: usize = 1_000;
/// Events queued at once, then drained.
const BACKLOG: usize = 20_000;

/// What the receiver saw: how many requests, and each live event's delay
/// from its commit in milliseconds.
#[derive(Default)]
struct Seen {
    requests: usize,
    delays_ms: Vec<f64>,
}

async fn receiver(seen: Arc<Mutex<Seen>>) -> anyhow::Result<String> {
    let server = HttpServer::new(move || {
        let seen = seen.clone();
        App::new().default_service(web::to(move |body: web::Bytes| {
            let seen = seen.clone();
            async move {
                let now = Utc::now();
                let event: Value = serde_json::from_slice(&body).unwrap_or_default();
                let mut seen = seen.lock().unwrap();
                seen.requests += 1;
                if let Some(at) = event["occurred_at"].as_str() {
                    if let Ok(at) = at.parse::<DateTime<Utc>>() {
                        let delay = (now - at).num_microseconds().unwrap_or(0) as f64 / 1e3;
                        seen.delays_ms.push(delay);
                    }
                }
                HttpResponse::NoContent().finish()
            }
        }))
    })
    .workers(1)
    .bind(("127.0.0.1", 0))?;
    let base = format!("http://127.0.0.1:{}", server.addrs()[0].port());
    tokio::spawn(server.run());
    Ok(base)
}

async fn wait_for(seen: &Mutex<Seen>, n: usize) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(300);
    while seen.lock().unwrap().requests < n {
        anyhow::ensure!(Instant::now() < deadline, "deliveries stalled");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    Ok(())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = support::fresh_database("meridian_bench_webhooks").await?;
    let seen = Arc::new(Mutex::new(Seen::default()));
    let base = receiver(seen.clone()).await?;

    let mut settings = support::settings()?;
    settings.worker.enabled = true;
    settings.database.pool_size = 8;
    // Both instances sign and check tokens with one key.
    settings.auth.jwt_secret = "meridian-bench-secret-of-at-least-32-bytes"
        .to_string()
        .into();
    settings.webhooks.allow_http_hosts = vec!["127.0.0.1".into()];
    let mut instances = Vec::new();
    for _ in 0..2 {
        let app = Application::build(settings.clone(), &url)?;
        instances.push((
            format!("http://127.0.0.1:{}", app.port()),
            app.state.clone(),
        ));
        tokio::spawn(app.run());
    }

    let mut conn = AsyncPgConnection::establish(&url).await?;
    let admin = users::insert(
        &mut conn,
        &NewUser {
            id: Uuid::now_v7(),
            email: "secretariat@example.org".into(),
            full_name: "Programme secretariat".into(),
            role: Role::Admin,
            institution_id: None,
            trainee_id: None,
            password_hash: None,
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    let token =
        instances[0]
            .1
            .tokens
            .issue(admin.id, Role::Admin, None, None, 0, Uuid::now_v7())?;
    let client = reqwest::Client::new();
    let post = |base: &str, path: &str, body: Value| {
        client
            .post(format!("{base}/api/v1{path}"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let api = &instances[0].0;
    let institution: Value = post(
        api,
        "/institutions",
        json!({"name": "University of Ghana", "kind": "university", "country_code": "GH"}),
    )
    .await?
    .json()
    .await?;
    let hook: Value = post(
        api,
        "/webhooks",
        json!({"url": format!("{base}/sis"), "events": ["trainee.created"]}),
    )
    .await?
    .json()
    .await?;
    let subscription = hook["id"].as_str().unwrap_or_default().to_string();

    // Live: trainees created by eight clients over both instances.
    let started = Instant::now();
    let creates = futures_util::stream::iter(0..LIVE)
        .map(|i| {
            let api = &instances[i % 2].0;
            post(
                api,
                "/trainees",
                json!({"institution_id": institution["id"], "given_name": format!("Ama{i}"),
                       "family_name": "Mensah", "email": format!("ama{i}@example.org"),
                       "nationality": "GH", "gender": "female"}),
            )
        })
        .buffer_unordered(8)
        .collect::<Vec<_>>()
        .await;
    for created in creates {
        let created = created?;
        anyhow::ensure!(
            created.status() == 201,
            "creating a trainee: {}",
            created.text().await?
        );
    }
    wait_for(&seen, LIVE).await?;
    let live_secs = started.elapsed().as_secs_f64();
    let mut delays = std::mem::take(&mut seen.lock().unwrap().delays_ms);
    delays.sort_by(f64::total_cmp);

    // Backlog: events queued in one transaction, drained by both instances.
    let queued = Instant::now();
    conn.batch_execute(&format!(
        "BEGIN; \
         INSERT INTO webhook_events (id, event_type, record_id, body) \
           SELECT gen_random_uuid(), 'trainee.created', gen_random_uuid(), '{{\"backlog\":true}}' \
           FROM generate_series(1, {BACKLOG}); \
         INSERT INTO webhook_deliveries (subscription_id, event_id, event_type, record_id) \
           SELECT '{subscription}', id, event_type, record_id FROM webhook_events \
           WHERE body = '{{\"backlog\":true}}'; \
         NOTIFY meridian_webhooks; COMMIT;"
    ))
    .await?;
    wait_for(&seen, LIVE + BACKLOG).await?;
    let backlog_secs = queued.elapsed().as_secs_f64();

    println!("| scenario | events | seconds | events/s | p50 ms | p99 ms |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| live: created over the API, 8 clients | {LIVE} | {live_secs:.2} | {:.0} | {:.1} | {:.1} |",
        LIVE as f64 / live_secs,
        percentile(&delays, 0.5),
        percentile(&delays, 0.99),
    );
    println!(
        "| backlog: drained by 2 instances | {BACKLOG} | {backlog_secs:.2} | {:.0} | | |",
        BACKLOG as f64 / backlog_secs
    );
    Ok(())
}
