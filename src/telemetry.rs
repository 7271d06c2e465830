//! Logs, request ids and Prometheus metrics.

use std::time::Instant;

use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header::{HeaderName, HeaderValue},
    middleware::Next,
    web, HttpMessage, HttpRequest,
};
use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry,
};
use tracing::Instrument;
use tracing_subscriber::{layer::SubscriberExt, util::SubscriberInitExt, EnvFilter};

use crate::{
    config::{LogFormat, LogSettings},
    db::PgPool,
};

/// Installs the global subscriber: JSON in production, readable otherwise.
pub fn init(settings: &LogSettings) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.filter));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match settings.format {
        LogFormat::Json => registry
            .with(tracing_subscriber::fmt::layer().json().flatten_event(true))
            .try_init(),
        LogFormat::Pretty => registry.with(tracing_subscriber::fmt::layer()).try_init(),
    };
}

/// The header that carries the request id in and out.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the current request, taken from `X-Request-Id` when sane.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

impl RequestId {
    /// The id stored on a request by [`observe`].
    pub fn of(req: &HttpRequest) -> String {
        req.extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default()
    }

    fn from_header(value: Option<&HeaderValue>) -> Self {
        let given = value
            .and_then(|v| v.to_str().ok())
            .filter(|v| {
                !v.is_empty()
                    && v.len() <= 128
                    && v.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c))
            })
            .map(str::to_string);
        RequestId(given.unwrap_or_else(|| uuid::Uuid::now_v7().to_string()))
    }
}

/// Process-wide metrics, registered once at start.
#[derive(Clone)]
pub struct Metrics {
    pub registry: Registry,
    requests: IntCounterVec,
    latency: HistogramVec,
    pool: IntGaugeVec,
    outbox: IntGaugeVec,
    emails: IntCounterVec,
    email_latency: Histogram,
    webhooks: IntCounterVec,
    webhook_latency: Histogram,
    webhook_queue: IntGaugeVec,
}

impl Metrics {
    pub fn new() -> anyhow::Result<Self> {
        let registry = Registry::new_custom(Some("meridian".into()), None)?;
        let requests = IntCounterVec::new(
            Opts::new("http_requests_total", "HTTP requests by route and status"),
            &["method", "route", "status"],
        )?;
        let latency = HistogramVec::new(
            HistogramOpts::new("http_request_duration_seconds", "HTTP request latency").buckets(
                vec![
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                ],
            ),
            &["method", "route"],
        )?;
        let pool = IntGaugeVec::new(
            Opts::new("db_pool_connections", "Database pool connections by state"),
            &["state"],
        )?;
        let outbox = IntGaugeVec::new(
            Opts::new("outbox_emails", "Emails in the outbox by status"),
            &["status"],
        )?;
        let emails = IntCounterVec::new(
            Opts::new(
                "emails_total",
                "Emails delivered or given up by this process",
            ),
            &["outcome"],
        )?;
        let email_latency = Histogram::with_opts(
            HistogramOpts::new(
                "email_delivery_seconds",
                "Time from queueing an email to the server accepting it",
            )
            .buckets(vec![
                0.1, 0.5, 1.0, 5.0, 30.0, 60.0, 300.0, 1800.0, 3600.0, 21600.0,
            ]),
        )?;
        let webhooks = IntCounterVec::new(
            Opts::new(
                "webhook_deliveries_total",
                "Webhook attempts by outcome (delivered, retried, failed), and subscriptions turned off",
            ),
            &["outcome"],
        )?;
        let webhook_latency = Histogram::with_opts(
            HistogramOpts::new(
                "webhook_delivery_seconds",
                "Time from an event's commit to the receiver's 2xx",
            )
            .buckets(vec![
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0, 300.0, 3600.0,
            ]),
        )?;
        let webhook_queue = IntGaugeVec::new(
            Opts::new(
                "webhook_queue",
                "Pending webhook deliveries, and the age of the oldest in seconds",
            ),
            &["measure"],
        )?;
        registry.register(Box::new(webhooks.clone()))?;
        registry.register(Box::new(webhook_latency.clone()))?;
        registry.register(Box::new(webhook_queue.clone()))?;
        registry.register(Box::new(outbox.clone()))?;
        registry.register(Box::new(emails.clone()))?;
        registry.register(Box::new(email_latency.clone()))?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(latency.clone()))?;
        registry.register(Box::new(pool.clone()))?;
        Ok(Metrics {
            registry,
            requests,
            latency,
            pool,
            outbox,
            emails,
            email_latency,
            webhooks,
            webhook_latency,
            webhook_queue,
        })
    }

    /// A webhook attempt's outcome; a delivery `waited` after its event.
    pub fn webhook_outcome(&self, outcome: &str, waited: chrono::Duration) {
        self.webhooks.with_label_values(&[outcome]).inc();
        if outcome == "delivered" {
            self.webhook_latency
                .observe(waited.num_microseconds().unwrap_or(i64::MAX).max(0) as f64 / 1e6);
        }
    }

    /// A subscription turned off after failing too long.
    pub fn webhook_turned_off(&self) {
        self.webhooks.with_label_values(&["turned_off"]).inc();
    }

    /// The webhook queue read from the database.
    pub fn set_webhook_queue(&self, pending: i64, oldest_secs: f64) {
        self.webhook_queue
            .with_label_values(&["pending"])
            .set(pending);
        self.webhook_queue
            .with_label_values(&["oldest_age_seconds"])
            .set(oldest_secs as i64);
    }

    /// An email the server accepted, `waited` after it was queued.
    pub fn email_sent(&self, waited: chrono::Duration) {
        self.emails.with_label_values(&["sent"]).inc();
        self.email_latency
            .observe(waited.num_milliseconds().max(0) as f64 / 1000.0);
    }

    /// An email given up for good.
    pub fn email_failed(&self) {
        self.emails.with_label_values(&["failed"]).inc();
    }

    /// The outbox depth read from the database.
    pub fn set_outbox_depth(&self, depth: &[(String, i64)]) {
        for status in ["pending", "sent", "failed"] {
            let n = depth
                .iter()
                .find(|(s, _)| s == status)
                .map_or(0, |(_, n)| *n);
            self.outbox.with_label_values(&[status]).set(n);
        }
    }

    /// The Prometheus text exposition, with the pool read now.
    pub fn render(&self, pool: &PgPool) -> String {
        let status = pool.status();
        self.pool
            .with_label_values(&["size"])
            .set(status.size as i64);
        self.pool
            .with_label_values(&["available"])
            .set(status.available as i64);
        self.pool
            .with_label_values(&["in_use"])
            .set(status.size.saturating_sub(status.available) as i64);
        self.pool
            .with_label_values(&["max"])
            .set(status.max_size as i64);
        self.pool
            .with_label_values(&["waiting"])
            .set(status.waiting as i64);
        let mut out = Vec::new();
        let _ = prometheus::TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// The method as a metric label: the standard ones by name, any other as
/// `other`, so that made-up methods cannot grow the metrics without bound.
fn method_label(method: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ]
    .iter()
    .find(|m| *m == method)
    .map_or("other", |m| m.as_str())
}

/// Middleware: request id in and out, a span per request, one log line per
/// answer (with the error chain of server errors) and the request metrics.
pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let id = RequestId::from_header(req.headers().get(REQUEST_ID));
    req.extensions_mut().insert(id.clone());
    let metrics = req.app_data::<web::Data<Metrics>>().cloned();
    let method = method_label(req.method());
    let span =
        tracing::info_span!("request", request_id = %id.0, method = %method, path = %req.path());
    let mut res = next.call(req).instrument(span.clone()).await?;
    let status = res.status();
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".into());
    let elapsed = started.elapsed();
    if let Some(metrics) = metrics {
        metrics
            .requests
            .with_label_values(&[method, &route, status.as_str()])
            .inc();
        metrics
            .latency
            .with_label_values(&[method, &route])
            .observe(elapsed.as_secs_f64());
    }
    span.in_scope(|| {
        if let Some(err) = res.response().error().filter(|_| status.is_server_error()) {
            tracing::error!(status = status.as_u16(), error = ?err, "request failed");
        } else {
            tracing::info!(
                status = status.as_u16(),
                elapsed_ms = elapsed.as_millis() as u64,
                "request"
            );
        }
    });
    if let Ok(value) = HeaderValue::from_str(&id.0) {
        res.headers_mut().insert(REQUEST_ID, value);
    }
    Ok(res)
}
