//! Probes and metrics for operators and load balancers.

use actix_web::{get, web, HttpRequest, HttpResponse};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::{
    auth, db,
    email::outbox,
    error::{AppError, Problem},
    state::AppState,
    telemetry::Metrics,
};

/// The process is up.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Up")))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The database answers and carries every migration; `replica` says where
/// dashboards and exports read: `replica`, `primary` (the replica does not
/// answer; it is ready all the same) or `none` configured.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "Ready"), (status = 503, description = "Not ready"))
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    if !db::is_ready(&state.pool, &state.latest_migration).await {
        return HttpResponse::ServiceUnavailable().json(json!({ "status": "unavailable" }));
    }
    let replica = match &state.replica {
        None => "none",
        Some(_) if state.reader_is_replica().await => "replica",
        Some(_) => "primary",
    };
    HttpResponse::Ok().json(json!({ "status": "ready", "replica": replica }))
}

/// Prometheus metrics: requests by route and status, latency, pool use,
/// outbox depth, emails sent and failed, delivery latency.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, description = "Prometheus text format", content_type = "text/plain"),
        (status = 401, body = Problem, description = "`metrics.token` is set and the request does not carry it")
    ),
    security((), ("metrics_token" = []))
)]
#[get("/metrics")]
pub async fn metrics(
    req: HttpRequest,
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
) -> Result<HttpResponse, AppError> {
    if let Some(token) = state.settings.metrics.required_token() {
        let given = auth::bearer(&req).unwrap_or_default();
        // Digests are compared, not the token: how long the comparison
        // takes says nothing about how much of the token was right.
        if Sha256::digest(given) != Sha256::digest(token) {
            return Err(AppError::Unauthorized(
                "this endpoint needs the metrics token",
            ));
        }
    }
    if let Ok(mut conn) = state.pool.get().await {
        if let Ok(depth) = outbox::depth(&mut conn).await {
            metrics.set_outbox_depth(&depth);
        }
        if let Ok((pending, age)) = crate::webhooks::delivery::queue(&mut conn).await {
            metrics.set_webhook_queue(pending, age);
        }
    }
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(metrics.render(&state.pool)))
}

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(healthz).service(readyz).service(metrics);
}
