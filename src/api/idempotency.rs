//! `Idempotency-Key` on POST: the same key and body within 24 hours replays
//! the first answer; the same key with another body is 422. Keys are kept
//! for authenticated callers only, per user, so one caller can never replay
//! another's, and never for `/auth/*`, whose answers carry fresh secrets.
//! A key whose first request died mid-way is leased for a minute only.

use crate::db::Prepare;
use actix_web::{
    body::{self, BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{header, Method, StatusCode},
    middleware::Next,
    web, HttpResponse,
};
use diesel::{
    ExpressionMethods, OptionalExtension, QueryDsl, QueryResult, Queryable, Selectable,
    SelectableHelper,
};
use diesel_async::RunQueryDsl;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{
    error::{AppError, Conflict},
    schema::idempotency_keys,
    state::AppState,
};

/// The request header.
pub const HEADER: &str = "idempotency-key";
/// Set on a replayed answer.
pub const REPLAYED: &str = "idempotent-replayed";

/// How long an answer is kept for replay.
pub const KEPT_FOR: chrono::Duration = chrono::Duration::hours(24);

/// Claims a key, or takes over one whose 24 hours are over, or whose
/// first request has had it for a minute without an answer (it died).
const CLAIM: &str = "INSERT INTO idempotency_keys (scope, key, request_hash) VALUES ($1, $2, $3) \
     ON CONFLICT (scope, key) DO UPDATE SET request_hash = EXCLUDED.request_hash, \
       status_code = NULL, headers = NULL, body = NULL, created_at = now() \
     WHERE idempotency_keys.created_at < now() - interval '24 hours' \
        OR (idempotency_keys.status_code IS NULL \
            AND idempotency_keys.created_at < now() - interval '1 minute')";

/// Headers of an answer worth replaying.
const KEPT_HEADERS: [header::HeaderName; 3] =
    [header::CONTENT_TYPE, header::LOCATION, header::ETAG];

/// A remembered request and, once finished, its answer.
#[derive(Queryable, Selectable)]
#[diesel(table_name = idempotency_keys)]
struct Stored {
    request_hash: Vec<u8>,
    status_code: Option<i16>,
    headers: Option<serde_json::Value>,
    body: Option<Vec<u8>>,
}

/// The middleware; a no-op for requests without the header.
pub async fn idempotency(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let key = match req.headers().get(HEADER) {
        Some(v) if req.method() == Method::POST && !req.path().starts_with("/api/v1/auth/") => {
            v.to_str().unwrap_or_default().to_string()
        }
        _ => return Ok(next.call(req).await?.map_into_boxed_body()),
    };
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(AppError::invalid(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters",
        )
        .into());
    }
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("state missing")))?;
    // Anonymous requests are answered as if the key were not there: they
    // share no key space, and nothing of theirs is stored.
    let Some(scope) = bearer_subject(&req, &state) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };

    // Read the body to fingerprint it, then hand it on unchanged.
    let bytes = super::body::read_whole(&mut req, state.settings.server.csv_limit_bytes).await?;
    let mut hasher = Sha256::new();
    hasher.update(req.path().as_bytes());
    hasher.update([0]);
    hasher.update(req.query_string().as_bytes());
    hasher.update([0]);
    hasher.update(&bytes);
    let hash = hasher.finalize().to_vec();

    let mut conn = state.pool.get().await.map_err(AppError::from)?;
    // A key older than its 24 hours is taken over as new; the jobs loop
    // clears the rest (`jobs`), not the request path.
    let claimed = diesel::sql_query(CLAIM)
        .bind::<diesel::sql_types::Uuid, _>(scope)
        .bind::<diesel::sql_types::Text, _>(&key)
        .bind::<diesel::sql_types::Binary, _>(&hash)
        .prepared()
        .execute(&mut conn)
        .await
        .map_err(AppError::from)?;
    if claimed == 0 {
        let stored: Option<Stored> = idempotency_keys::table
            .find((scope, &key))
            .select(Stored::as_select())
            .first(&mut conn)
            .await
            .optional()
            .map_err(AppError::from)?;
        return match stored {
            Some(stored) if stored.request_hash != hash => Err(AppError::invalid(
                "Idempotency-Key",
                "was already used with another request",
            )
            .into()),
            Some(Stored {
                status_code: Some(status),
                headers,
                body,
                ..
            }) => Ok(req.into_response(replay(status, headers, body.unwrap_or_default()))),
            _ => Err(AppError::conflict(
                Conflict::RequestInProgress,
                "A request with this Idempotency-Key is still being processed.",
            )
            .into()),
        };
    }
    drop(conn);

    let res = next.call(req).await?;
    let (req, res) = res.into_parts();
    let status = res.status();
    let mut kept = serde_json::Map::new();
    for name in KEPT_HEADERS {
        if let Some(v) = res.headers().get(&name).and_then(|v| v.to_str().ok()) {
            kept.insert(name.to_string(), v.into());
        }
    }
    let (head, body) = res.into_parts();
    let body = body::to_bytes(body)
        .await
        .map_err(|_| AppError::Internal(anyhow::anyhow!("reading the answer failed")))?;

    let mut conn = state.pool.get().await.map_err(AppError::from)?;
    let row = idempotency_keys::table.find((scope, &key));
    if status.is_server_error() {
        // A failure of ours is not an answer: let the client try again.
        diesel::delete(row)
            .execute(&mut conn)
            .await
            .map_err(AppError::from)?;
    } else {
        diesel::update(row)
            .set((
                idempotency_keys::status_code.eq(status.as_u16() as i16),
                idempotency_keys::headers.eq(serde_json::Value::Object(kept)),
                idempotency_keys::body.eq(body.to_vec()),
            ))
            .prepared()
            .execute(&mut conn)
            .await
            .map_err(AppError::from)?;
    }
    Ok(ServiceResponse::new(
        req,
        head.set_body(body).map_into_boxed_body(),
    ))
}

fn bearer_subject(req: &ServiceRequest, state: &AppState) -> Option<Uuid> {
    let token = crate::auth::bearer(req.request())?;
    state.tokens.verify(token).map(|c| c.sub)
}

fn replay(status: i16, headers: Option<serde_json::Value>, body: Vec<u8>) -> HttpResponse {
    let status = StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK);
    let mut res = HttpResponse::build(status);
    if let Some(serde_json::Value::Object(headers)) = headers {
        for (name, value) in headers {
            if let Some(v) = value.as_str() {
                res.insert_header((name, v.to_string()));
            }
        }
    }
    res.insert_header((REPLAYED, "true"));
    res.body(body)
}

/// Clears keys past their 24 hours; run by the jobs loop.
pub async fn purge_expired(conn: &mut diesel_async::AsyncPgConnection) -> QueryResult<usize> {
    diesel::delete(idempotency_keys::table)
        .filter(idempotency_keys::created_at.lt(chrono::Utc::now() - KEPT_FOR))
        .execute(conn)
        .await
}
