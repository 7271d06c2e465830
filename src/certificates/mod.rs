//! Certificates: issued when an enrollment completes, verifiable by anyone
//! with the code, revocable by coordinators.

use actix_web::{get, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{
    sql_query,
    sql_types::{Date, Nullable, Text, Timestamptz},
    ExpressionMethods, QueryableByName,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::{
    api::{
        self,
        input::{Checker, Field, Unknown},
    },
    audit,
    auth::{
        policy::{may, Action, Resource},
        Ctx,
    },
    error::{AppError, AppResult, Conflict, Problem},
    schema::certificates,
    state::AppState,
    types::LongText,
};

/// What anyone may learn of a certificate from its code, and nothing more.
#[derive(Debug, Serialize, QueryableByName, ToSchema)]
pub struct Verification {
    /// Issued and not revoked.
    #[diesel(sql_type = diesel::sql_types::Bool)]
    pub valid: bool,
    #[diesel(sql_type = Text)]
    pub holder_name: String,
    #[diesel(sql_type = Text)]
    pub program_title: String,
    #[diesel(sql_type = Text)]
    pub cohort_title: String,
    #[diesel(sql_type = Date)]
    pub starts_on: NaiveDate,
    #[diesel(sql_type = Date)]
    pub ends_on: NaiveDate,
    #[diesel(sql_type = Timestamptz)]
    pub issued_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub revoked_at: Option<DateTime<Utc>>,
}

async fn verification(conn: &mut AsyncPgConnection, code: &str) -> AppResult<Verification> {
    Ok(sql_query(
        "SELECT c.revoked_at IS NULL AS valid, t.given_name || ' ' || t.family_name AS holder_name, \
                p.title AS program_title, co.title AS cohort_title, co.starts_on, co.ends_on, \
                c.issued_at, c.revoked_at \
         FROM certificates c JOIN enrollments e ON e.id = c.enrollment_id \
         JOIN trainees t ON t.id = e.trainee_id JOIN cohorts co ON co.id = e.cohort_id \
         JOIN programs p ON p.id = co.program_id WHERE c.code = $1",
    )
    .bind::<Text, _>(code)
    .get_result(conn)
    .await?)
}

/// Verifies a certificate; no token needed.
#[utoipa::path(
    tag = "certificates",
    params(("code" = String, Path)),
    responses((status = 200, body = Verification), (status = 404, body = Problem))
)]
#[get("/certificates/{code}")]
async fn verify(state: web::Data<AppState>, code: web::Path<String>) -> AppResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    api::ok(&verification(&mut conn, &code).await?)
}

/// The body of a revocation.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RevokeInput {
    #[serde(default)]
    reason: Field<LongText>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

/// Revokes a certificate, with a reason.
#[utoipa::path(
    tag = "certificates",
    request_body = RevokeInput,
    params(("code" = String, Path)),
    responses(
        (status = 200, body = Verification),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem, description = "Already revoked"), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/certificates/{code}/revoke")]
async fn revoke(
    state: web::Data<AppState>,
    ctx: Ctx,
    code: web::Path<String>,
    body: web::Json<RevokeInput>,
) -> AppResult<HttpResponse> {
    may(&ctx.caller, Resource::Certificate, Action::Update)?;
    let body = body.into_inner();
    let mut c = Checker::new(&body.unknown);
    let reason = c.required("reason", body.reason);
    let reason = c.finish(|| reason)?.into_inner();
    let mut conn = state.pool.get().await?;
    let code = code.into_inner();
    conn.transaction(async |conn| {
        verification(conn, &code).await?;
        let revoked: Vec<uuid::Uuid> = diesel::update(certificates::table)
            .filter(certificates::code.eq(&code))
            .filter(certificates::revoked_at.is_null())
            .set((
                certificates::revoked_at.eq(Utc::now()),
                certificates::revocation_reason.eq(&reason),
            ))
            .returning(certificates::id)
            .get_results(conn)
            .await?;
        let Some(id) = revoked.into_iter().next() else {
            return Err(AppError::conflict(
                Conflict::AlreadyRevoked,
                "The certificate is already revoked.",
            ));
        };
        audit::record(
            conn,
            &ctx,
            "certificate",
            "revoke",
            id,
            json!({ "reason": reason }),
        )
        .await
    })
    .await?;
    api::ok(&verification(&mut conn, &code).await?)
}

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(verify).service(revoke);
}
