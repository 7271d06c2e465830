//! Request bodies read whole before the handler runs.
//!
//! A handler's extractors run together: the caller's standing check takes a
//! pooled connection, which [`crate::auth::Call`] keeps for the handler,
//! while the body may still be arriving over a slow link. JSON bodies are
//! therefore read here first (they are small: `server.json_limit_bytes`),
//! and a `Call` keeps its connection only when the body is in memory or
//! there is none. No connection waits on a client.

use actix_web::error::PayloadError;
use actix_web::{
    body::MessageBody,
    dev::{ServiceRequest, ServiceResponse},
    http::header,
    middleware::Next,
    web, HttpMessage, HttpRequest,
};
use futures_util::{Stream, StreamExt};

use crate::{
    error::{payload_error, AppError},
    state::AppState,
};

/// Marks a request whose body has been read whole.
#[derive(Clone, Copy)]
struct InMemory;

/// A body, read whole: at most `limit` bytes (413 past it).
pub async fn collect(
    mut payload: impl Stream<Item = Result<web::Bytes, PayloadError>> + Unpin,
    limit: usize,
) -> Result<web::Bytes, AppError> {
    let mut bytes = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(payload_error)?;
        if bytes.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes.freeze())
}

/// Reads the body of `req` whole ([`collect`]) and hands it on to the
/// handler unchanged.
pub async fn read_whole(req: &mut ServiceRequest, limit: usize) -> Result<web::Bytes, AppError> {
    let bytes = collect(req.take_payload(), limit).await?;
    req.set_payload(actix_web::dev::Payload::from(bytes.clone()));
    req.extensions_mut().insert(InMemory);
    Ok(bytes)
}

/// Whether the handler may still wait for the body of `req`.
pub fn pending(req: &HttpRequest) -> bool {
    if req.extensions().contains::<InMemory>() {
        return false;
    }
    let headers = req.headers();
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0")
}

/// The middleware: a JSON body is read before the extractors run.
pub async fn json_first(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let is_json = req
        .mime_type()
        .ok()
        .flatten()
        .is_some_and(|m| m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json"));
    if is_json && pending(req.request()) {
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map_or(0, |s| s.settings.server.json_limit_bytes);
        read_whole(&mut req, limit).await?;
    }
    next.call(req).await
}
