//! The SQL of certificates: issued in the transaction that completes an
//! enrollment, verified by code, revoked once.

use crate::db::Prepare;
use chrono::Utc;
use diesel::{sql_query, sql_types::Text, ExpressionMethods, SelectableHelper};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde_json::json;
use uuid::Uuid;

use super::model::{Certificate, Verification};
use crate::{
    audit::{self, Actor},
    error::{AppError, AppResult, Conflict},
    schema::certificates,
    webhooks::events,
};

/// Issues the certificate of a completed enrollment; call in the move's
/// transaction. Its code is 22 URL-safe characters (132 bits).
pub async fn issue(conn: &mut AsyncPgConnection, enrollment_id: Uuid) -> AppResult<String> {
    let code = crate::auth::secret::generate().0[..22].to_string();
    let issued: Certificate = diesel::insert_into(certificates::table)
        .values((
            certificates::id.eq(Uuid::now_v7()),
            certificates::enrollment_id.eq(enrollment_id),
            certificates::code.eq(&code),
        ))
        .returning(Certificate::as_returning())
        .prepared()
        .get_result(conn)
        .await?;
    events::emit(conn, "certificate.issued", &issued).await?;
    Ok(code)
}

/// What a code verifies, or 404.
pub async fn verification(conn: &mut AsyncPgConnection, code: &str) -> AppResult<Verification> {
    Ok(sql_query(
        "SELECT c.revoked_at IS NULL AS valid, t.given_name || ' ' || t.family_name AS holder_name, \
                p.title AS program_title, co.title AS cohort_title, co.starts_on, co.ends_on, \
                c.issued_at, c.revoked_at \
         FROM certificates c JOIN enrollments e ON e.id = c.enrollment_id \
         JOIN trainees t ON t.id = e.trainee_id JOIN cohorts co ON co.id = e.cohort_id \
         JOIN programs p ON p.id = co.program_id WHERE c.code = $1",
    )
    .bind::<Text, _>(code)
    .prepared()
    .get_result(conn)
    .await?)
}

/// Revokes a certificate once (409 `already-revoked` after), with its audit
/// record.
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    actor: &Actor,
    code: &str,
    reason: &str,
) -> AppResult<()> {
    conn.transaction(async |conn| {
        verification(conn, code).await?;
        let revoked: Vec<Certificate> = diesel::update(certificates::table)
            .filter(certificates::code.eq(code))
            .filter(certificates::revoked_at.is_null())
            .set((
                certificates::revoked_at.eq(Utc::now()),
                certificates::revocation_reason.eq(reason),
            ))
            .returning(Certificate::as_returning())
            .prepared()
            .get_results(conn)
            .await?;
        let Some(revoked) = revoked.into_iter().next() else {
            return Err(AppError::conflict(
                Conflict::AlreadyRevoked,
                "The certificate is already revoked.",
            ));
        };
        events::emit(conn, "certificate.revoked", &revoked).await?;
        let changes = json!({ "reason": reason });
        let id = revoked.id;
        audit::record(conn, actor.clone(), "certificate", "revoke", id, changes).await
    })
    .await
}
