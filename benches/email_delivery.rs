//! Email delivery rate: 1,000 queued emails drained by one worker to a local
//! SMTP server over TCP, at several send concurrencies.
//!
//! `cargo bench --bench email_delivery` (PostgreSQL binaries needed, as for
//! the tests; `MERIDIAN_BENCH_DATABASE_URL` to use a server of your own).

#[path = "../tests/api/smtp.rs"]
#[allow(dead_code)]
mod smtp;
mod support;

use std::time::Instant;

use diesel_async::{AsyncConnection, AsyncPgConnection};
use meridian::{
    config::EmailTransport,
    db,
    email::{queue, worker::Worker, Outgoing},
    error::AppError,
    telemetry::Metrics,
    types::Email,
};
use serde_json::json;

const EMAILS: usize = 1_000;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let smtp = smtp::SmtpServer::start().await;
    println!("| transport | concurrency | emails | seconds | emails/s |");
    println!("|---|---|---|---|---|");
    for (transport, concurrency) in [
        (EmailTransport::Log, 1),
        (EmailTransport::Smtp, 1),
        (EmailTransport::Smtp, 8),
        (EmailTransport::Smtp, 16),
    ] {
        let name = format!("meridian_bench_outbox_{concurrency}_{transport:?}").to_lowercase();
        let url = support::fresh_database(&name).await?;

        let mut conn = AsyncPgConnection::establish(&url).await?;
        conn.transaction(async |conn| {
            for i in 0..EMAILS {
                let email = Outgoing {
                    template: "invitation",
                    recipient: Email::parse(&format!("trainee{i}@example.org")).expect("valid"),
                    locale: ["en", "fr", "ar"][i % 3].into(),
                    payload: json!({"inviter": "Amina Diallo", "role": "trainee", "token": "t", "expires_in_days": 7}),
                    dedupe_key: format!("bench-{i}"),
                };
                queue(conn, &email).await?;
            }
            Ok::<_, AppError>(())
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;

        let mut settings = support::settings()?;
        settings.email.transport = transport;
        settings.email.smtp_url = smtp.url().into();
        settings.worker.concurrency = concurrency;
        let pool = db::pool(&url, 8)?;
        let worker = Worker::new(&settings, pool, &url, Metrics::new()?)?;
        let before = smtp.messages().len();
        let (_stop, stopped) = tokio::sync::watch::channel(false);
        let started = Instant::now();
        let sent = worker.drain(&stopped).await?;
        let secs = started.elapsed().as_secs_f64();
        assert_eq!(sent, EMAILS);
        if transport == EmailTransport::Smtp {
            assert_eq!(smtp.messages().len() - before, EMAILS);
        }
        println!(
            "| {transport:?} | {concurrency} | {EMAILS} | {secs:.2} | {:.0} |",
            EMAILS as f64 / secs
        );
    }
    Ok(())
}
