//! Problem types as absolute URIs that answer: every problem answer's
//! `type` is `<public_base_url>/problems/<slug>`, and `GET /problems/<slug>`
//! serves a small page saying what the problem means and what to do.

use actix_web::{
    body::{self, BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    get,
    http::{
        header::{self, HeaderMap},
        StatusCode,
    },
    middleware::Next,
    web::{self, Bytes},
    HttpResponse, ResponseError,
};
use serde_json::Value;
use strum::VariantArray;

use crate::{
    error::{AppError, AppResult, Conflict, PROBLEM_JSON},
    state::AppState,
};

/// What a problem means and what to do about it, by slug.
pub fn explain(slug: &str) -> Option<(&'static str, &'static str)> {
    use Conflict::*;
    let conflict = Conflict::VARIANTS
        .iter()
        .copied()
        .find(|c| <&str>::from(*c) == slug);
    if let Some(c) = conflict {
        return Some(match c {
            Duplicate => ("A record with these unique values exists already.", "Use the existing record, or change the values that must be unique."),
            HasDependants => ("Other records still refer to this one.", "Remove or move the records that refer to it first; approved exchanges stay on record."),
            ConcurrentUpdate => ("Another request changed the same records at the same moment.", "Send the request again."),
            IllegalTransition => ("The record's lifecycle does not allow this move now.", "Choose one of the moves listed in `allowed`."),
            CohortFull => ("Every seat of the cohort is taken.", "Waitlist the enrollment, or raise the cohort's capacity."),
            InstitutionQuotaReached => ("The institution holds as many seats in the cohort as it may.", "Waitlist the enrollment, or raise `max_per_institution`."),
            AttendanceTooLow => ("The trainee attended fewer of the cohort's ended sessions than it requires.", "Record attendance first, or record the outcome as not_completed."),
            CohortNotRunning => ("Outcomes are recorded once the cohort is running or completed.", "Move the cohort to running first."),
            NominationsClosed => ("The cohort takes no nominations now: it is not open, or outside its nomination window.", "Nominate while the cohort is open and its window runs."),
            ResourceNotPublished => ("Only a published resource can be linked.", "Publish the resource first, or link another one."),
            IncubatorFull => ("The incubator holds as many ventures as it can.", "Wait for a venture to graduate, exit or close, or raise the incubator's capacity."),
            QuotaExceeded => ("The agreement's yearly quota in this direction is spent.", "Choose another year, or amend the agreement's quota."),
            AgreementTerminated => ("The agreement is terminated.", "Choose an active agreement, or none."),
            KindNotCovered => ("The agreement does not cover this kind of exchange.", "Choose a kind the agreement lists, or another agreement."),
            OutsideAgreement => ("The exchange falls outside the agreement's dates.", "Move the exchange's dates inside the agreement's."),
            AlreadyRevoked => ("The certificate is revoked already.", "Nothing to do."),
            NotFailed => ("Only failed emails can be retried.", "Wait for the delivery to finish or fail."),
            RequestInProgress => ("A request with this Idempotency-Key is still being processed.", "Wait a moment and send it again with the same key."),
        });
    }
    Some(match slug {
        "malformed-request" => (
            "The request could not be read: its body is not JSON of the expected shape.",
            "Fix the body and send it again.",
        ),
        "unauthorized" => (
            "The request carries no valid access token.",
            "Log in or refresh the token, and send it as `Authorization: Bearer <token>`.",
        ),
        "forbidden" => (
            "Your role may not do this at all.",
            "Ask someone whose role may.",
        ),
        "not-found" => ("No such record, or none you may see.", "Check the id."),
        "no-route" => (
            "No endpoint has this path and method.",
            "See the API document at /api/v1/openapi.json.",
        ),
        "precondition-failed" => (
            "The record changed since you read it (`If-Match`).",
            "Read it again, apply your change to what it is now, and send it with the new ETag.",
        ),
        "payload-too-large" => (
            "The request body is too large: JSON over 1 MiB, CSV over 10 MiB.",
            "Send less at once.",
        ),
        "unsupported-media-type" => (
            "The body is not of the media type this endpoint takes.",
            "Send JSON as application/json, files as text/csv.",
        ),
        "validation" => (
            "Some fields are invalid; `errors` lists every one.",
            "Fix each field named and send the request again.",
        ),
        "too-many-requests" => (
            "Too many requests: from this address, or failed logins for this account.",
            "Wait the seconds `Retry-After` gives.",
        ),
        "unavailable" => ("The service cannot answer now.", "Try again shortly."),
        "internal" => (
            "Something went wrong on our side; it is logged with the request id.",
            "Try again; if it lasts, tell the secretariat the `x-request-id`.",
        ),
        _ => return None,
    })
}

/// Describes a problem type.
#[utoipa::path(
    tag = "operations",
    params(("slug" = String, Path, description = "A problem type, e.g. cohort-full")),
    responses(
        (status = 200, description = "What the problem means and what to do", content_type = "text/html"),
        (status = 404, body = crate::error::Problem),
    )
)]
#[get("/problems/{slug}")]
pub async fn describe(slug: web::Path<String>) -> AppResult<HttpResponse> {
    let (meaning, advice) = explain(&slug).ok_or(AppError::NotFound)?;
    let page = format!(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>{slug}</title>\
         <h1>{slug}</h1><p>{meaning}</p><p><strong>What to do:</strong> {advice}</p></html>",
        slug = escape(&slug),
        meaning = escape(meaning),
        advice = escape(advice),
    );
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(page))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('`', "")
}

/// A problem answer made again with its `type` absolute, for errors that
/// travel through the middleware as errors rather than responses.
#[derive(Debug)]
struct Rewritten {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl std::fmt::Display for Rewritten {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "problem {}", self.status)
    }
}

impl ResponseError for Rewritten {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status).body(self.body.clone());
        for (name, value) in &self.headers {
            res.headers_mut().insert(name.clone(), value.clone());
        }
        res
    }
}

/// The body of a problem answer with its `type` made absolute under `base`.
fn absolute(base: &str, bytes: &[u8]) -> Bytes {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(mut problem)) => {
            if let Some(Value::String(kind)) = problem.get("type") {
                if kind.starts_with('/') {
                    let absolute = format!("{base}{kind}");
                    problem.insert("type".into(), Value::String(absolute));
                }
            }
            serde_json::to_vec(&problem).map_or_else(|_| Bytes::copy_from_slice(bytes), Bytes::from)
        }
        _ => Bytes::copy_from_slice(bytes),
    }
}

fn is_problem(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes() == PROBLEM_JSON.as_bytes())
}

/// Makes the `type` of every problem answer absolute, under
/// `public_base_url`.
pub async fn absolute_types(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(base) = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.settings.public_base_url.trim_end_matches('/').to_string())
    else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    match next.call(req).await {
        Ok(res) if is_problem(res.headers()) => {
            let (req, res) = res.into_parts();
            let (head, body) = res.into_parts();
            let bytes = body::to_bytes(body).await.unwrap_or_default();
            let body = absolute(&base, &bytes);
            Ok(ServiceResponse::new(
                req,
                head.set_body(body).map_into_boxed_body(),
            ))
        }
        Ok(res) => Ok(res.map_into_boxed_body()),
        Err(e) => {
            let res = e.error_response();
            if !is_problem(res.headers()) {
                return Err(e);
            }
            let (status, headers) = (res.status(), res.headers().clone());
            let bytes = body::to_bytes(res.into_body()).await.unwrap_or_default();
            Err(Rewritten {
                status,
                headers,
                body: absolute(&base, &bytes),
            }
            .into())
        }
    }
}
