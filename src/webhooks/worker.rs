//! The delivery worker of webhooks. It runs beside the email worker, in
//! `serve` or `meridian worker`, and any number of processes run it at
//! once: each claims due deliveries with `FOR UPDATE SKIP LOCKED` under a
//! lease, posts them signed per Standard Webhooks, and records each
//! outcome. In flight at once: `webhooks.concurrency` per process, and at
//! most `webhooks.per_subscription` of one subscription, so that a slow or
//! dead receiver holds up nobody else.

use std::{collections::HashMap, net::SocketAddr, sync::Arc, time::Duration};

use chrono::Utc;
use diesel_async::AsyncPgConnection;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde_json::json;
use tokio::{sync::watch, task::JoinSet};
use uuid::Uuid;

use super::{
    delivery::{self, Attempt, Claimed, TurnedOff},
    events::CHANNEL,
    model,
};
use crate::{
    config::WebhookSettings,
    db::{Listener, PgPool, Woken},
    email,
    email::worker::backoff,
    error::AppResult,
    telemetry::Metrics,
};

/// The most of a receiver's answer that is kept in the log.
const ANSWER_KEPT: usize = 1024;
/// The most of an answer that is read: a longer one is not a delivery.
const ANSWER_READ: usize = 64 * 1024;

/// Resolves a receiver's host and refuses addresses inside the network
/// (unless the host is allowed): the connection goes to the addresses
/// checked here, so a name that changes its answer cannot slip past.
struct Guarded {
    allowed: Arc<Vec<String>>,
}

impl Resolve for Guarded {
    fn resolve(&self, name: Name) -> Resolving {
        let allowed = self.allowed.clone();
        Box::pin(async move {
            let host = name.as_str();
            let addresses: Vec<SocketAddr> = tokio::net::lookup_host((host, 0)).await?.collect();
            if !allowed.iter().any(|h| h.eq_ignore_ascii_case(host)) {
                if let Some(inside) = addresses.iter().find(|a| model::is_internal(a.ip())) {
                    let why = format!(
                        "{host} resolves to {}, an address inside the network",
                        inside.ip()
                    );
                    return Err(why.into());
                }
            }
            Ok(Box::new(addresses.into_iter()) as Addrs)
        })
    }
}

/// Everything a webhook worker needs.
#[derive(Clone)]
pub struct Deliverer {
    pool: PgPool,
    database_url: String,
    client: reqwest::Client,
    settings: WebhookSettings,
    metrics: Metrics,
}

impl Deliverer {
    pub fn new(
        settings: &WebhookSettings,
        pool: PgPool,
        database_url: &str,
        metrics: Metrics,
    ) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.timeout_ms))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(concat!("Meridian-Webhooks/", env!("CARGO_PKG_VERSION")))
            .dns_resolver(Arc::new(Guarded {
                allowed: Arc::new(settings.allow_http_hosts.clone()),
            }))
            .build()?;
        Ok(Deliverer {
            pool,
            database_url: database_url.to_string(),
            client,
            settings: settings.clone(),
            metrics,
        })
    }

    /// Delivers until `stop` turns true; what is in flight is finished
    /// first.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let poll = Duration::from_millis(self.settings.poll_interval_ms);
        let mut listener = Listener::new(&self.database_url, CHANNEL).await;
        let mut flying: JoinSet<Uuid> = JoinSet::new();
        let mut per_subscription: HashMap<Uuid, usize> = HashMap::new();
        // Whether something may have come due: woken by a notification, the
        // poll, or a subscription whose deliveries all finished.
        let mut look = true;
        while !*stop.borrow() {
            let room = self.settings.concurrency.saturating_sub(flying.len());
            let claimed = if room > 0 && look {
                let busy: Vec<Uuid> = per_subscription.keys().copied().collect();
                self.claim(&busy, room).await.unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "claiming webhook deliveries failed");
                    Vec::new()
                })
            } else {
                Vec::new()
            };
            let more = claimed.len() == room;
            for row in claimed {
                *per_subscription.entry(row.subscription_id).or_default() += 1;
                let this = self.clone();
                flying.spawn(async move { this.deliver(row).await });
            }
            if more && flying.len() < self.settings.concurrency {
                continue;
            }
            let finished = async {
                match flying.join_next().await {
                    Some(done) => done,
                    None => std::future::pending().await,
                }
            };
            look = match listener.wait(poll, &mut stop, finished).await {
                Woken::Done(done) => settle(&mut per_subscription, done),
                Woken::Look => true,
            };
        }
        while flying.join_next().await.is_some() {}
    }

    async fn claim(&self, busy: &[Uuid], room: usize) -> AppResult<Vec<Claimed>> {
        let mut conn = self.pool.get().await?;
        delivery::claim(
            &mut conn,
            busy,
            self.settings.per_subscription as i64,
            room as i64,
            self.settings.lease_secs as f64,
        )
        .await
    }

    /// Posts one delivery and records what came of it; answers its
    /// subscription.
    async fn deliver(&self, row: Claimed) -> Uuid {
        let attempt = self.post(&row).await;
        let outcome = if attempt.error.is_none() {
            "delivered"
        } else if Utc::now() - row.created_at
            < chrono::Duration::seconds(self.settings.retry_for_secs as i64)
        {
            "retried"
        } else {
            "failed"
        };
        let retry_in = (outcome == "retried").then(|| {
            backoff(
                Duration::from_millis(self.settings.backoff_base_ms),
                row.attempts,
            )
            .as_secs_f64()
        });
        let recorded = async {
            let mut conn = self.pool.get().await?;
            let disable_after = self.settings.disable_after_secs as f64;
            let turned_off =
                delivery::record(&mut conn, &row, &attempt, retry_in, disable_after).await?;
            if let Some(off) = turned_off {
                self.metrics.webhook_turned_off();
                tell_creator(&mut conn, row.subscription_id, off).await?;
            }
            AppResult::Ok(())
        }
        .await;
        match recorded {
            Ok(()) => self
                .metrics
                .webhook_outcome(outcome, Utc::now() - row.occurred_at),
            // The lease ends and another attempt follows: at least once.
            Err(e) => {
                tracing::error!(id = %row.id, error = %e, "recording a webhook outcome failed")
            }
        }
        if let Some(error) = &attempt.error {
            tracing::info!(id = %row.id, attempts = row.attempts, outcome, error = %error, "webhook not delivered");
        }
        row.subscription_id
    }

    /// One signed POST; a 2xx within the timeout is a delivery, anything
    /// else (a redirect included) is not.
    async fn post(&self, row: &Claimed) -> Attempt {
        if let Some(why) = model::url_refusal(&row.url, &self.settings.allow_http_hosts) {
            return refused(format!("the URL {why}"));
        }
        let id = row.event_id.to_string();
        let timestamp = Utc::now().timestamp();
        let signature = match standardwebhooks::Webhook::new(&row.secret)
            .and_then(|hook| hook.sign(&id, timestamp, row.body.as_bytes()))
        {
            Ok(signature) => signature,
            Err(e) => return refused(format!("could not sign: {e}")),
        };
        let sent = self
            .client
            .post(&row.url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(row.body.clone())
            .send()
            .await;
        let mut answer = match sent {
            Ok(answer) => answer,
            Err(e) => return refused(describe(&e, self.settings.timeout_ms)),
        };
        let status = answer.status();
        let mut kept = Vec::new();
        let mut read = 0;
        let mut unread = None;
        while read <= ANSWER_READ {
            match answer.chunk().await {
                Ok(Some(chunk)) => {
                    read += chunk.len();
                    if kept.len() < ANSWER_KEPT {
                        kept.extend_from_slice(&chunk);
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    unread = Some(describe(&e, self.settings.timeout_ms));
                    break;
                }
            }
        }
        let error = if !status.is_success() {
            Some(format!("the receiver answered {status}"))
        } else if read > ANSWER_READ {
            Some(format!(
                "the answer is longer than {} KiB",
                ANSWER_READ / 1024
            ))
        } else {
            unread
        };
        Attempt {
            status: Some(i32::from(status.as_u16())),
            body: Some(cut(&kept)),
            error,
        }
    }
}

/// Counts a finished delivery out of its subscription's share; answers
/// whether the subscription has nothing in flight any more.
fn settle(
    per_subscription: &mut HashMap<Uuid, usize>,
    done: Result<Uuid, tokio::task::JoinError>,
) -> bool {
    let Ok(subscription) = done else { return true };
    match per_subscription.get_mut(&subscription) {
        Some(n) if *n > 1 => {
            *n -= 1;
            false
        }
        _ => {
            per_subscription.remove(&subscription);
            true
        }
    }
}

fn refused(error: String) -> Attempt {
    Attempt {
        error: Some(error),
        ..Attempt::default()
    }
}

/// Why a request got no answer, in words for the subscriber's log.
fn describe(e: &reqwest::Error, timeout_ms: u64) -> String {
    if e.is_timeout() {
        return format!("no answer within {} ms", timeout_ms);
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        text = format!("{text}: {inner}");
        source = inner.source();
    }
    text
}

/// At most 1 KiB of an answer, as text, cut on a character boundary.
fn cut(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(ANSWER_KEPT)]);
    let mut end = text.len().min(ANSWER_KEPT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].chars().take(ANSWER_KEPT).collect()
}

/// Emails whoever made a subscription that it was turned off.
async fn tell_creator(
    conn: &mut AsyncPgConnection,
    subscription: Uuid,
    off: TurnedOff,
) -> AppResult<()> {
    let payload = json!({
        "full_name": off.full_name,
        "url": off.url,
        "failing_since": off.failing_since.date_naive(),
    });
    let key = format!(
        "webhook_disabled:{subscription}:{}",
        off.failing_since.timestamp()
    );
    email::queue_to(
        conn,
        "webhook_disabled",
        &off.email,
        off.locale,
        payload,
        key,
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_kept_to_one_kibibyte_on_a_character_boundary() {
        assert_eq!(cut(b"ok"), "ok");
        let long = "é".repeat(1000);
        let kept = cut(long.as_bytes());
        assert!(kept.len() <= ANSWER_KEPT && kept.chars().all(|c| c == 'é'));
        assert_eq!(cut(&[b'x'; 5000]).len(), ANSWER_KEPT);
    }
}
