//! The one error type of the API, rendered as `application/problem+json`
//! (RFC 9457), and the single place where database and extractor failures are
//! mapped onto it.

use actix_web::{
    error::{JsonPayloadError, PathError, PayloadError, QueryPayloadError},
    http::{header, StatusCode},
    HttpRequest, HttpResponse, ResponseError,
};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use serde_json::Value;
use strum::VariantArray;
use utoipa::ToSchema;

/// Media type of every error answer.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A stable, machine-readable kind, e.g. `/problems/cohort-full`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// Further members of some kinds, e.g. `allowed` for an illegal move.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub extra: Option<serde_json::Map<String, Value>>,
}

/// Every kind of 409 Conflict, by the slug of its problem type
/// (`/problems/<slug>`). A client branches on these.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr, strum::VariantArray, strum::Display,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Conflict {
    /// A record with these unique values exists already.
    Duplicate,
    /// Other records still refer to this one.
    HasDependants,
    /// Another transaction changed the same records at the same moment.
    ConcurrentUpdate,
    /// The lifecycle does not allow this move; `allowed` lists those it does.
    IllegalTransition,
    /// Every seat of the cohort is taken.
    CohortFull,
    /// The institution has as many seats in the cohort as it may.
    InstitutionQuotaReached,
    /// The trainee attended too few of the cohort's sessions to complete.
    AttendanceTooLow,
    /// Outcomes are recorded once the cohort runs.
    CohortNotRunning,
    /// The cohort takes no nominations now.
    NominationsClosed,
    /// The incubator holds as many ventures as it can.
    IncubatorFull,
    /// The agreement's yearly quota in this direction is spent.
    QuotaExceeded,
    /// The agreement is terminated.
    AgreementTerminated,
    /// The agreement does not cover this kind of exchange.
    KindNotCovered,
    /// The exchange falls outside the agreement's dates.
    OutsideAgreement,
    /// The certificate is revoked already.
    AlreadyRevoked,
    /// Only failed emails can be retried.
    NotFailed,
    /// A request with this `Idempotency-Key` is still being processed.
    RequestInProgress,
    /// Only published resources can be linked to cohorts and ventures.
    ResourceNotPublished,
}

/// Every failure a handler can answer with.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("malformed request: {0}")]
    BadRequest(String),
    #[error("authentication required: {0}")]
    Unauthorized(&'static str),
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("no such route")]
    NoRoute,
    #[error("conflict ({kind}): {detail}")]
    Conflict {
        kind: Conflict,
        detail: String,
        extra: Option<serde_json::Map<String, Value>>,
    },
    #[error("precondition failed")]
    PreconditionFailed,
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("invalid fields")]
    Validation(Vec<FieldError>),
    /// Invalid fields, with further members (a report of what was checked).
    #[error("invalid fields")]
    ValidationWith {
        errors: Vec<FieldError>,
        extra: Option<serde_json::Map<String, Value>>,
    },
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Shorthand for handler results.
pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// A 409 of a given kind.
    pub fn conflict(kind: Conflict, detail: impl Into<String>) -> Self {
        AppError::Conflict {
            kind,
            detail: detail.into(),
            extra: None,
        }
    }

    /// A 422 for a single field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError::new(field, message)])
    }

    /// The slugs of every problem type the API answers with, for the
    /// OpenAPI document.
    pub fn problem_types() -> Vec<&'static str> {
        let mut slugs = vec![
            "malformed-request",
            "unauthorized",
            "forbidden",
            "not-found",
            "no-route",
            "precondition-failed",
            "payload-too-large",
            "unsupported-media-type",
            "validation",
            "too-many-requests",
            "unavailable",
            "internal",
        ];
        slugs.extend(Conflict::VARIANTS.iter().map(|c| <&str>::from(*c)));
        slugs
    }

    fn kind_and_title(&self) -> (&'static str, &'static str) {
        match self {
            AppError::BadRequest(_) => ("malformed-request", "Malformed request"),
            AppError::Unauthorized(_) => ("unauthorized", "Authentication required"),
            AppError::Forbidden => ("forbidden", "Forbidden"),
            AppError::NotFound => ("not-found", "Not found"),
            AppError::NoRoute => ("no-route", "Not found"),
            AppError::Conflict { kind, .. } => ((*kind).into(), "Conflict"),
            AppError::PreconditionFailed => ("precondition-failed", "Precondition failed"),
            AppError::PayloadTooLarge => ("payload-too-large", "Payload too large"),
            AppError::UnsupportedMediaType(_) => {
                ("unsupported-media-type", "Unsupported media type")
            }
            AppError::Validation(_) | AppError::ValidationWith { .. } => {
                ("validation", "Invalid fields")
            }
            AppError::TooManyRequests { .. } => ("too-many-requests", "Too many requests"),
            AppError::Unavailable(_) => ("unavailable", "Service unavailable"),
            AppError::Internal(_) => ("internal", "Internal error"),
        }
    }

    fn detail(&self) -> String {
        match self {
            AppError::BadRequest(d) | AppError::UnsupportedMediaType(d) => d.clone(),
            AppError::Unauthorized(d) => (*d).to_string(),
            AppError::Forbidden => "Your role may not do this.".into(),
            AppError::NotFound => "No such resource.".into(),
            AppError::NoRoute => "No endpoint has this path and method.".into(),
            AppError::Conflict { detail, .. } => detail.clone(),
            AppError::PreconditionFailed => {
                "The record changed since you read it; fetch it again.".into()
            }
            AppError::PayloadTooLarge => "The request body is too large.".into(),
            AppError::Validation(errors) | AppError::ValidationWith { errors, .. } => {
                format!("{} field(s) are invalid.", errors.len())
            }
            AppError::TooManyRequests { retry_after_secs } => {
                format!("Try again in {retry_after_secs} seconds.")
            }
            // Never the cause: it may hold SQL or internals. It is logged instead.
            AppError::Unavailable(_) => "The service is temporarily unavailable.".into(),
            AppError::Internal(_) => "Something went wrong on our side.".into(),
        }
    }

    /// The problem document of this error.
    pub fn problem(&self) -> Problem {
        let (kind, title) = self.kind_and_title();
        Problem {
            kind: format!("/problems/{kind}"),
            title: title.into(),
            status: self.status_code().as_u16(),
            detail: self.detail(),
            errors: match self {
                AppError::Validation(errors) | AppError::ValidationWith { errors, .. } => {
                    Some(errors.clone())
                }
                _ => None,
            },
            extra: match self {
                AppError::Conflict { extra, .. } | AppError::ValidationWith { extra, .. } => {
                    extra.clone()
                }
                _ => None,
            },
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::NotFound | AppError::NoRoute => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::Validation(_) | AppError::ValidationWith { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            AppError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        match self {
            AppError::TooManyRequests { retry_after_secs } => {
                res.insert_header((header::RETRY_AFTER, retry_after_secs.to_string()));
            }
            AppError::Unauthorized(_) => {
                res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
            }
            // Whatever is short (pooled connections, hashing slots) frees
            // within moments.
            AppError::Unavailable(_) => {
                res.insert_header((header::RETRY_AFTER, "2"));
            }
            _ => {}
        }
        res.body(serde_json::to_vec(&self.problem()).unwrap_or_default())
    }
}

impl From<DieselError> for AppError {
    fn from(err: DieselError) -> Self {
        match err {
            DieselError::NotFound => AppError::NotFound,
            DieselError::DatabaseError(kind, info) => match kind {
                DatabaseErrorKind::UniqueViolation => AppError::conflict(
                    Conflict::Duplicate,
                    unique_violation_detail(info.constraint_name().unwrap_or_default()),
                ),
                DatabaseErrorKind::ForeignKeyViolation => {
                    let details = info.details().unwrap_or_default();
                    if details.contains("still referenced") {
                        AppError::conflict(
                            Conflict::HasDependants,
                            "Other records still refer to this one; remove them first.",
                        )
                    } else {
                        AppError::invalid(
                            referenced_column(details).unwrap_or("id"),
                            "refers to a record that does not exist",
                        )
                    }
                }
                DatabaseErrorKind::CheckViolation => {
                    let (field, message) =
                        check_violation(info.constraint_name().unwrap_or_default());
                    AppError::invalid(field, message)
                }
                DatabaseErrorKind::SerializationFailure => AppError::conflict(
                    Conflict::ConcurrentUpdate,
                    "Another request changed the same records; try again.",
                ),
                // PostgreSQL broke a deadlock by aborting this transaction:
                // the same answer as a serialization failure.
                DatabaseErrorKind::Unknown if info.message().starts_with("deadlock detected") => {
                    AppError::conflict(
                        Conflict::ConcurrentUpdate,
                        "Another request changed the same records; try again.",
                    )
                }
                _ => AppError::Internal(anyhow::anyhow!(
                    "database error {kind:?}: {}",
                    info.message()
                )),
            },
            other => AppError::Internal(anyhow::Error::new(other)),
        }
    }
}

/// Human text for the unique constraints of the schema.
fn unique_violation_detail(constraint: &str) -> String {
    match constraint {
        "institutions_name_country_key" => {
            "An institution with this name already exists in this country.".into()
        }
        "users_email_key" => "A user with this email already exists.".into(),
        "programs_code_key" => "A programme with this code already exists.".into(),
        "cohorts_code_key" => "This programme already has a cohort with this code.".into(),
        "enrollments_trainee_cohort_key" => "The trainee is already in this cohort.".into(),
        _ => "A record with these values already exists.".into(),
    }
}

/// The field and message of the cross-field rules the schema enforces (and
/// that updates meet only once merged with the stored record).
fn check_violation(constraint: &str) -> (&str, &'static str) {
    match constraint {
        "programs_dates" | "cohorts_dates" | "exchanges_dates" => {
            ("ends_on", "must not be before starts_on")
        }
        "cohorts_window" => ("nominations_close_at", "must be after nominations_open_at"),
        "cohorts_place" => ("country_code", "is required unless delivery is online"),
        "sessions_times" => ("ends_at", "must be after starts_at"),
        "users_partner_has_institution" => ("institution_id", "is required for partner users"),
        "users_trainee_has_trainee" => ("trainee_id", "is required for trainee users"),
        "" => ("record", "violates a rule of the record"),
        other => (other, "violates a rule of the record"),
    }
}

/// Pulls `col` out of PostgreSQL's `Key (col)=(value) is not present ...`.
fn referenced_column(details: &str) -> Option<&str> {
    let start = details.find("Key (")? + 5;
    let end = details[start..].find(')')? + start;
    Some(&details[start..end])
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for AppError {
    fn from(err: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        AppError::Unavailable(format!("database pool: {err}"))
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(err: actix_web::error::BlockingError) -> Self {
        AppError::Internal(anyhow::anyhow!("blocking task failed: {err}"))
    }
}

/// Maps actix's JSON extractor failures onto problems.
pub fn json_error(err: JsonPayloadError, _req: &HttpRequest) -> actix_web::Error {
    let app = match err {
        JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
            AppError::PayloadTooLarge
        }
        JsonPayloadError::ContentType => {
            AppError::UnsupportedMediaType("Send the body as application/json.".into())
        }
        JsonPayloadError::Deserialize(e) if e.is_data() => {
            AppError::BadRequest(format!("The body does not have the expected shape: {e}"))
        }
        JsonPayloadError::Deserialize(e) => {
            AppError::BadRequest(format!("The body is not valid JSON: {e}"))
        }
        JsonPayloadError::Payload(PayloadError::Overflow) => AppError::PayloadTooLarge,
        _ => AppError::BadRequest("The body could not be read.".into()),
    };
    app.into()
}

/// Path parameters that do not parse (a non-UUID id) name no resource.
pub fn path_error(_err: PathError, _req: &HttpRequest) -> actix_web::Error {
    AppError::NotFound.into()
}

/// Query strings that do not parse.
pub fn query_error(err: QueryPayloadError, _req: &HttpRequest) -> actix_web::Error {
    AppError::invalid("query", err.to_string()).into()
}

/// Raw body limits (CSV uploads and the like).
pub fn payload_error(err: PayloadError) -> AppError {
    match err {
        PayloadError::Overflow => AppError::PayloadTooLarge,
        _ => AppError::BadRequest("The body could not be read.".into()),
    }
}
