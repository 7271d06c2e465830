//! The delivery worker. Any number run at once, in `serve` or alone as
//! `meridian worker`: each claims due rows with `FOR UPDATE SKIP LOCKED`
//! under a lease, sends them, and marks each right after the server accepts
//! it. New rows wake it through LISTEN/NOTIFY; it also polls, so retries
//! come due and a lost LISTEN connection costs only latency.

use std::{sync::Arc, time::Duration};

use chrono::Utc;
use futures_util::StreamExt;
use rand::Rng;
use tokio::sync::watch;

use super::{
    outbox::{self, NotificationRow, CHANNEL},
    templates::Templates,
    transport::{mask, Mailer, SendError},
};
use crate::{
    config::{Settings, WorkerSettings},
    db::{Listener, PgPool},
    telemetry::Metrics,
};

/// Everything a worker needs.
#[derive(Clone)]
pub struct Worker {
    pool: PgPool,
    database_url: String,
    mailer: Mailer,
    templates: Arc<Templates>,
    settings: WorkerSettings,
    from: String,
    base_url: String,
    metrics: Metrics,
}

/// The wait before attempt `attempt + 1`: `base * 2^(attempt - 1)`, capped at
/// six hours, with ±20 % jitter so that a relay coming back is not hit by
/// every worker at once.
pub fn backoff(base: Duration, attempt: i32) -> Duration {
    let exp = attempt.clamp(1, 20) - 1;
    let raw = base
        .saturating_mul(1u32 << exp)
        .min(Duration::from_secs(6 * 3600));
    let jitter = rand::rng().random_range(0.8..1.2);
    raw.mul_f64(jitter)
}

impl Worker {
    pub fn new(
        settings: &Settings,
        pool: PgPool,
        database_url: &str,
        metrics: Metrics,
    ) -> anyhow::Result<Self> {
        Ok(Worker {
            pool,
            database_url: database_url.to_string(),
            mailer: Mailer::new(&settings.email)?,
            templates: Arc::new(Templates::new()),
            settings: settings.worker.clone(),
            from: settings.email.from.clone(),
            base_url: settings.public_base_url.clone(),
            metrics,
        })
    }

    /// Delivers until `stop` turns true; what is in hand is finished first.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let poll = Duration::from_millis(self.settings.poll_interval_ms);
        let mut listener = Listener::new(&self.database_url, CHANNEL).await;
        while !*stop.borrow() {
            if let Err(e) = self.drain(&stop).await {
                tracing::warn!(error = %e, "email delivery round failed");
            }
            if *stop.borrow() {
                break;
            }
            listener
                .wait(poll, &mut stop, std::future::pending::<()>())
                .await;
        }
    }

    /// Claims and delivers batches until nothing is due.
    pub async fn drain(&self, stop: &watch::Receiver<bool>) -> anyhow::Result<usize> {
        let mut delivered = 0;
        let lease = chrono::Duration::seconds(self.settings.lease_secs as i64);
        loop {
            let rows = {
                let mut conn = self.pool.get().await?;
                outbox::claim(&mut conn, self.settings.batch_size, lease).await?
            };
            let claimed = rows.len();
            if claimed == 0 {
                return Ok(delivered);
            }
            if *stop.borrow() {
                let ids: Vec<_> = rows.iter().map(|r| r.id).collect();
                let mut conn = self.pool.get().await?;
                outbox::release(&mut conn, &ids).await?;
                return Ok(delivered);
            }
            let results: Vec<bool> = futures_util::stream::iter(rows)
                .map(|row| self.deliver(row))
                .buffer_unordered(self.settings.concurrency.max(1))
                .collect()
                .await;
            delivered += results.into_iter().filter(|sent| *sent).count();
            if (claimed as i64) < self.settings.batch_size {
                return Ok(delivered);
            }
        }
    }

    /// Renders and sends one row, then records the outcome.
    async fn deliver(&self, row: NotificationRow) -> bool {
        let outcome =
            match self
                .templates
                .render(&row.template, &row.locale, &row.payload, &self.base_url)
            {
                Ok(email) => {
                    self.mailer
                        .send(row.id, &self.from, &row.recipient, &email)
                        .await
                }
                Err(e) => Err(SendError::Permanent(e.to_string())),
            };
        let recorded = async {
            let mut conn = self.pool.get().await?;
            match &outcome {
                Ok(()) => {
                    outbox::mark_sent(&mut conn, row.id).await?;
                    self.metrics.email_sent(Utc::now() - row.created_at);
                }
                Err(SendError::Transient(msg)) if row.attempts < self.settings.max_attempts => {
                    let wait = backoff(Duration::from_millis(self.settings.backoff_base_ms), row.attempts);
                    let retry_at = Utc::now() + chrono::Duration::from_std(wait)?;
                    outbox::mark_attempt_failed(&mut conn, row.id, msg, Some(retry_at)).await?;
                    tracing::info!(id = %row.id, to = %mask(&row.recipient), attempts = row.attempts, error = %msg, "email deferred");
                }
                Err(e) => {
                    outbox::mark_attempt_failed(&mut conn, row.id, &e.to_string(), None).await?;
                    self.metrics.email_failed();
                    tracing::warn!(id = %row.id, to = %mask(&row.recipient), error = %e, "email failed");
                }
            }
            anyhow::Ok(())
        }
        .await;
        if let Err(e) = recorded {
            // The lease ends and another attempt follows: at least once.
            tracing::error!(id = %row.id, error = %e, "recording an email outcome failed");
        }
        outcome.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let base = Duration::from_secs(30);
        for (attempt, nominal) in [(1, 30.0), (2, 60.0), (3, 120.0), (6, 960.0)] {
            let got = backoff(base, attempt).as_secs_f64();
            assert!(
                got >= nominal * 0.8 && got <= nominal * 1.2,
                "{attempt}: {got}"
            );
        }
        assert!(backoff(base, 30) <= Duration::from_secs_f64(6.0 * 3600.0 * 1.2));
    }
}
