//! Login throughput and latency with the production argon2id parameters
//! (m = 19456 KiB, t = 2, p = 1), against the real server over HTTP.
//!
//! `cargo bench --bench login`

mod support;

use meridian::{cli::create_admin, startup::Application};
use serde_json::json;

const PASSWORD: &str = "baobab rain over Thies";
const LOGINS: usize = 200;

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
        let (client, base) = (client.clone(), base.clone());
        let run = support::drive(concurrency, (0..LOGINS).collect(), 200, move |n| {
            let email = format!("bench{}@example.org", n % users);
            let body = json!({ "email": email, "password": PASSWORD });
            client.post(&base).json(&body).send()
        })
        .await;
        println!(
            "| {concurrency} | {LOGINS} | {:.1} | {:.1} | {:.1} | {} |",
            run.per_second, run.p50_ms, run.p99_ms, run.errors
        );
    }
    Ok(())
}
