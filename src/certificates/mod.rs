//! Certificates: issued when an enrollment completes, verifiable by anyone
//! with the code, revocable by coordinators.

pub mod model;
pub mod repo;

use actix_web::{get, post, web, HttpResponse};

use crate::{
    api::{self, Answer},
    audit::Actor,
    error::{AppResult, Problem},
    state::AppState,
};
use model::{RevokeInput, Verification};

/// Verifies a certificate; no token needed.
#[utoipa::path(
    tag = "certificates",
    params(("code" = String, Path)),
    responses((status = 200, body = Verification), (status = 404, body = Problem))
)]
#[get("/certificates/{code}")]
async fn verify(state: web::Data<AppState>, code: web::Path<String>) -> AppResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    api::ok(&repo::verification(&mut conn, &code).await?)
}

crate::endpoint! {
/// Revokes a certificate, with a reason.
post "/certificates/{code}/revoke", tag = "certificates", body = RevokeInput,
params(("code" = String, Path)),
ok((status = 200, body = Verification)), fails[404, 409: "Already revoked", 422], may = Certificate Update;
async fn revoke(call: Call, code: web::Path<String>, body: web::Json<RevokeInput>) -> Answer {
    let reason = body.into_inner().into_reason()?;
    let mut conn = call.conn().await?;
    repo::revoke(&mut conn, &Actor::from(&call.ctx), &code, &reason).await?;
    api::ok(&repo::verification(&mut conn, &code).await?)
}
}

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(verify).service(revoke);
}
