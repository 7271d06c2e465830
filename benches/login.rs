//! Login throughput and latency with the production argon2id parameters
//! (m = 19456 KiB, t = 2, p = 1), against the real server over HTTP.
//!
//! `cargo bench --bench login`

mod support;

use std::time::{Duration, Instant};

use meridian::{cli::create_admin, startup::Application};
use serde_json::json;

const PASSWORD: &str = "baobab rain over Thies";
const LOGINS: usize = 200;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = support::fresh_database("meridian_bench_login").await?;
    let mut settings = support::settings()?;
    settings.server.workers = 2;
    settings.auth.ip_limit_per_minute = 1_000_000;
    settings.auth.jwt_secret = "a-benchmark-secret-of-32-bytes-or-more".to_string().into();
    let users = 16;
    for i in 0..users {
        create_admin(
            &url,
            &format!("bench{i}@example.org"),
            "Bench User",
            PASSWORD,
        )
        .await?;
    }
    let app = Application::build(settings, &url)?;
    let base = format!("http://127.0.0.1:{}/api/v1/auth/login", app.port());
    tokio::spawn(app.run());
    let client = reqwest::Client::new();

    println!("| concurrency | logins | logins/s | p50 ms | p99 ms | errors |");
    println!("|---|---|---|---|---|---|");
    for concurrency in [1, 2, 4, 8] {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for worker in 0..concurrency {
            let client = client.clone();
            let base = base.clone();
            tasks.push(tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0;
                for n in (worker..LOGINS).step_by(concurrency) {
                    let t = Instant::now();
                    let res = client
                        .post(&base)
                        .json(&json!({"email": format!("bench{}@example.org", n % users), "password": PASSWORD}))
                        .send()
                        .await;
                    if !matches!(res, Ok(ref r) if r.status() == 200) {
                        errors += 1;
                    }
                    latencies.push(t.elapsed());
                }
                (latencies, errors)
            }));
        }
        let mut latencies = Vec::new();
        let mut errors = 0;
        for t in tasks {
            let (l, e) = t.await?;
            latencies.extend(l);
            errors += e;
        }
        let secs = started.elapsed().as_secs_f64();
        latencies.sort();
        println!(
            "| {concurrency} | {LOGINS} | {:.1} | {:.1} | {:.1} | {errors} |",
            LOGINS as f64 / secs,
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.99)
        );
    }
    Ok(())
}
