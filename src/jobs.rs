//! Scheduled work that every instance runs beside its email worker. Each
//! job calls into the domain that owns it and is safe to run on any number
//! of instances at once:
//! - queueing the cohort reminders that are due (their dedupe keys make a
//!   second queueing a no-op), once a minute;
//! - folding the dashboard tally deltas into the tallies, every two seconds;
//! - clearing idempotency keys past their 24 hours, tombstones past their
//!   keeping time and sent emails past `email.retention_days`, every ten
//!   minutes.

use std::time::Duration;

use tokio::{sync::watch, time::MissedTickBehavior};

use crate::{api::idempotency, db::PgPool, deletions, email, enrollments, stats, webhooks};

/// How often due cohort reminders are queued.
const REMINDERS_EVERY: Duration = Duration::from_secs(60);
/// How often the dashboard tally deltas are folded into the tallies.
const FOLD_EVERY: Duration = Duration::from_secs(2);
/// How often expired idempotency keys and tombstones are cleared.
const PURGE_EVERY: Duration = Duration::from_secs(600);

/// The scheduled jobs of one instance.
pub struct Jobs {
    pool: PgPool,
    /// Days sent emails and settled webhook deliveries are kept.
    retention_days: u32,
}

impl Jobs {
    pub fn new(pool: PgPool, retention_days: u32) -> Self {
        Jobs {
            pool,
            retention_days,
        }
    }

    /// Runs the jobs until `stop` turns true; a failed round is logged and
    /// tried again at the next tick.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let every = |period| {
            let mut ticks = tokio::time::interval(period);
            ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
            ticks
        };
        let (mut reminders, mut fold, mut purge) = (
            every(REMINDERS_EVERY),
            every(FOLD_EVERY),
            every(PURGE_EVERY),
        );
        while !*stop.borrow() {
            let outcome = tokio::select! {
                _ = reminders.tick() => self.queue_reminders().await.map(drop),
                _ = fold.tick() => self.fold_tallies().await.map(drop),
                _ = purge.tick() => self.purge().await.map(drop),
                _ = stop.changed() => Ok(()),
            };
            if let Err(e) = outcome {
                tracing::warn!(error = %e, "a scheduled job failed");
            }
        }
    }

    async fn queue_reminders(&self) -> anyhow::Result<usize> {
        let mut conn = self.pool.get().await?;
        Ok(enrollments::repo::queue_reminders(&mut conn).await?)
    }

    async fn fold_tallies(&self) -> anyhow::Result<i64> {
        let mut conn = self.pool.get().await?;
        Ok(stats::fold_tallies(&mut conn).await?)
    }

    async fn purge(&self) -> anyhow::Result<usize> {
        let mut conn = self.pool.get().await?;
        let keys = idempotency::purge_expired(&mut conn).await?;
        let sent = email::outbox::purge_sent(&mut conn, self.retention_days).await?;
        let hooks = webhooks::delivery::purge(&mut conn, self.retention_days).await?;
        Ok(keys + sent + hooks + deletions::repo::purge(&mut conn, deletions::KEPT_DAYS).await?)
    }
}
