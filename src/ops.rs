//! Probes and metrics for operators and load balancers.

use actix_web::{get, web, HttpResponse};
use serde_json::json;

use crate::{db, email::outbox, state::AppState, telemetry::Metrics};

/// The process is up.
#[utoipa::path(tag = "operations", responses((status = 200, description = "Up")))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The database answers and carries every migration.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "Ready"), (status = 503, description = "Not ready"))
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    if db::is_ready(&state.pool, &state.latest_migration).await {
        HttpResponse::Ok().json(json!({ "status": "ready" }))
    } else {
        HttpResponse::ServiceUnavailable().json(json!({ "status": "unavailable" }))
    }
}

/// Prometheus metrics: requests by route and status, latency, pool use,
/// outbox depth, emails sent and failed, delivery latency.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain"))
)]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>, metrics: web::Data<Metrics>) -> HttpResponse {
    if let Ok(mut conn) = state.pool.get().await {
        if let Ok(depth) = outbox::depth(&mut conn).await {
            metrics.set_outbox_depth(&depth);
        }
    }
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(metrics.render(&state.pool))
}

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(healthz).service(readyz).service(metrics);
}
