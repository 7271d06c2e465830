//! Machinery every resource shares: input checking, lists, ETags and
//! conditional requests, idempotent POSTs.

pub mod body;
pub mod collection;
pub mod csv;
pub mod endpoint;
pub mod idempotency;
pub mod input;
pub mod list;
pub mod record;
pub mod stamp;

use actix_web::{
    http::{header, StatusCode},
    HttpRequest, HttpResponse,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};

/// What a handler answers.
pub type Answer = AppResult<HttpResponse>;

/// A record that carries a version. Its ETag is the version, followed by
/// whatever else of its answer can change while the version does not (a
/// cohort's seats, a session's attendance), so that a cached answer is
/// never taken for a changed one.
pub trait Versioned {
    fn version(&self) -> i32;

    /// The parts of the answer computed from other records, if any.
    fn computed(&self) -> Option<String> {
        None
    }

    /// The ETag: `"<version>"`, or `"<version>.<computed>"`.
    fn etag(&self) -> String {
        match self.computed() {
            Some(parts) => format!("\"{}.{parts}\"", self.version()),
            None => format!("\"{}\"", self.version()),
        }
    }
}

fn json<T: Serialize>(status: StatusCode, body: &T) -> AppResult<HttpResponse> {
    let bytes = serde_json::to_vec(body).map_err(|e| AppError::Internal(e.into()))?;
    Ok(HttpResponse::build(status)
        .content_type("application/json")
        .body(bytes))
}

/// 200 with the JSON body.
pub fn ok<T: Serialize>(body: &T) -> AppResult<HttpResponse> {
    json(StatusCode::OK, body)
}

/// 200 with a page of a list. While there is a next page its cursor also
/// travels in `X-Next-Cursor`, which [`csv::negotiate`] turns into a
/// `Link: <…>; rel="next"` header.
pub fn page<T: Serialize>(page: &list::Page<T>) -> AppResult<HttpResponse> {
    with_cursor(ok(page)?, page)
}

fn with_cursor<T>(mut res: HttpResponse, page: &list::Page<T>) -> AppResult<HttpResponse> {
    if let Some(cursor) = page.next_cursor.as_deref() {
        let value = cursor
            .parse()
            .map_err(|_| AppError::Internal(anyhow::anyhow!("a cursor that is no header")))?;
        res.headers_mut()
            .insert(header::HeaderName::from_static(csv::NEXT_CURSOR), value);
    }
    Ok(res)
}

/// 200 with the record and its ETag, or 304 when `If-None-Match` matches.
pub fn record<T: Serialize + Versioned>(req: &HttpRequest, body: &T) -> AppResult<HttpResponse> {
    tagged(req, body.etag(), serde_json::to_vec(body), None)
}

/// 200 with the JSON body and `tag`, or 304 when `If-None-Match` matches;
/// `cache` is the `Cache-Control` of both.
fn tagged(
    req: &HttpRequest,
    tag: String,
    body: serde_json::Result<Vec<u8>>,
    cache: Option<&'static str>,
) -> AppResult<HttpResponse> {
    let mut res = if none_match(req.headers(), &tag) {
        HttpResponse::NotModified().finish()
    } else {
        let bytes = body.map_err(|e| AppError::Internal(e.into()))?;
        HttpResponse::Ok()
            .content_type("application/json")
            .body(bytes)
    };
    let headers = res.headers_mut();
    headers.insert(
        header::ETAG,
        tag.parse().expect("an ETag is a valid header"),
    );
    if let Some(cache) = cache {
        headers.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static(cache),
        );
    }
    Ok(res)
}

/// Whether `If-None-Match` names `tag` (or `*`).
pub fn none_match(headers: &header::HeaderMap, tag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == tag || t == "*")
        })
}

/// An ETag of a body's bytes.
pub fn content_tag(bytes: &[u8]) -> String {
    digest_tag(&Sha256::digest(bytes))
}

/// The ETag of a body whose SHA-256 digest is `digest`.
pub fn digest_tag(digest: &[u8]) -> String {
    format!("\"{}\"", URL_SAFE_NO_PAD.encode(&digest[..12]))
}

/// The most of an answer [`revalidate`] reads to tag it.
const TAGGED_AT_MOST: u64 = 4 << 20;

/// Tags the reads that carry no version of their own (statistics, lists)
/// with an ETag of their bytes, with `Cache-Control: private, no-cache`,
/// and answers 304 when `If-None-Match` names it: a dashboard reloaded over
/// a metered link moves only headers while nothing changed. Streamed
/// answers (whole-list CSV exports) are left as they are.
pub async fn revalidate(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<actix_web::dev::ServiceResponse<actix_web::body::BoxBody>, actix_web::Error> {
    use actix_web::body::{BodySize, MessageBody};
    let get = req.method() == actix_web::http::Method::GET;
    let res = next.call(req).await?.map_into_boxed_body();
    let sized = matches!(res.response().body().size(), BodySize::Sized(n) if n <= TAGGED_AT_MOST);
    if !get || !sized || res.status() != StatusCode::OK || res.headers().contains_key(header::ETAG)
    {
        return Ok(res);
    }
    let (req, res) = res.into_parts();
    let (mut head, body) = res.into_parts();
    let bytes = actix_web::body::to_bytes(body)
        .await
        .map_err(|_| actix_web::error::ErrorInternalServerError("an unreadable answer"))?;
    let tag = content_tag(&bytes);
    let headers = head.headers_mut();
    headers.insert(header::ETAG, tag.parse().expect("a valid header"));
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("private, no-cache"),
        );
    }
    let res = if none_match(req.headers(), &tag) {
        *head.status_mut() = StatusCode::NOT_MODIFIED;
        head.headers_mut().remove(header::CONTENT_TYPE);
        head.set_body(actix_web::body::BoxBody::new(()))
    } else {
        head.set_body(bytes.boxed())
    };
    Ok(actix_web::dev::ServiceResponse::new(req, res))
}

/// How long any cache may keep what anyone may read.
const PUBLIC_CACHE: &str = "public, max-age=300";

/// 200 with a body anyone may read, tagged by its content, that any cache
/// may keep for five minutes; 304 when `If-None-Match` matches.
pub fn public<T: Serialize>(req: &HttpRequest, body: &T) -> AppResult<HttpResponse> {
    let bytes = serde_json::to_vec(body).map_err(|e| AppError::Internal(e.into()))?;
    tagged(req, content_tag(&bytes), Ok(bytes), Some(PUBLIC_CACHE))
}

/// [`public`] for a page of a list.
pub fn public_page<T: Serialize>(
    req: &HttpRequest,
    page: &list::Page<T>,
) -> AppResult<HttpResponse> {
    with_cursor(public(req, page)?, page)
}

/// 201 with `Location`, the ETag and the record.
pub fn created<T: Serialize + Versioned>(location: String, body: &T) -> AppResult<HttpResponse> {
    let mut res = json(StatusCode::CREATED, body)?;
    let headers = res.headers_mut();
    headers.insert(
        header::LOCATION,
        location
            .parse()
            .map_err(|_| AppError::Internal(anyhow::anyhow!("bad location")))?,
    );
    headers.insert(header::ETAG, body.etag().parse().expect("valid"));
    Ok(res)
}

/// 412 unless the stored version is the one an `If-Match` asked for.
pub fn require_version(expected: Option<i32>, stored: i32) -> AppResult<()> {
    if expected.is_some_and(|v| v != stored) {
        Err(AppError::PreconditionFailed)
    } else {
        Ok(())
    }
}

/// The version an `If-Match` header demands, if any: the version at the
/// head of an ETag this service sent.
pub fn if_match(req: &HttpRequest) -> AppResult<Option<i32>> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value.to_str().unwrap_or_default().trim();
    if text == "*" {
        return Ok(None);
    }
    let tag = text.trim_start_matches("W/").trim_matches('"');
    tag.split('.')
        .next()
        .unwrap_or_default()
        .parse::<i32>()
        .map(Some)
        .map_err(|_| AppError::PreconditionFailed)
}
