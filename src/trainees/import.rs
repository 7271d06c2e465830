//! `POST /trainees/import`: many trainees from a CSV file, all or none,
//! with a report that names the line and field of every problem.

use std::collections::{HashMap, HashSet};

use actix_web::{http::header, post, web, HttpRequest, HttpResponse};
use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::{AsyncConnection, RunQueryDsl};
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::model::{NewTrainee, TraineeInput};
use crate::api::collection::Input;
use crate::{
    api, audit,
    auth::{
        policy::{may, Action, Resource, Scope},
        Ctx, Principal,
    },
    error::{payload_error, AppError, AppResult, FieldError, Problem},
    schema::trainees,
    state::AppState,
};

/// The header the file must start with.
pub const COLUMNS: [&str; 8] = [
    "given_name",
    "family_name",
    "email",
    "nationality",
    "gender",
    "birth_year",
    "field",
    "locale",
];

/// What an import did (or, with `dry_run`, would do).
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    pub dry_run: bool,
    /// Data rows in the file.
    pub rows: usize,
    pub created: usize,
}

fn at(line: u64, field: &str, message: impl Into<String>) -> FieldError {
    FieldError::new(format!("line {line}: {field}"), message)
}

/// Parses and checks every row; all problems at once.
pub fn parse(
    bytes: &[u8],
    by: &Principal,
    institution_id: Uuid,
) -> Result<Vec<(u64, NewTrainee)>, Vec<FieldError>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    match reader.headers() {
        Ok(h)
            if h.iter()
                .map(str::to_ascii_lowercase)
                .eq(COLUMNS.iter().map(|c| c.to_string())) => {}
        Ok(_) => {
            return Err(vec![at(
                1,
                "header",
                format!("must be exactly: {}", COLUMNS.join(",")),
            )])
        }
        Err(_) => return Err(vec![at(1, "header", "is not valid UTF-8 CSV")]),
    }
    let mut errors = Vec::new();
    let mut rows = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                let message = match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => "is not valid UTF-8".to_string(),
                    csv::ErrorKind::UnequalLengths { len, .. } => {
                        format!("has {len} fields; the header has {}", COLUMNS.len())
                    }
                    _ => "cannot be read as CSV".to_string(),
                };
                // A broken row makes the rest of the file untrustworthy.
                errors.push(at(line, "row", message));
                return Err(errors);
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        let mut object = Map::new();
        for (column, cell) in COLUMNS.iter().zip(record.iter()) {
            if cell.is_empty() {
                continue;
            }
            let value = match (*column, cell.parse::<i64>()) {
                ("birth_year", Ok(n)) => Value::from(n),
                _ => Value::from(cell),
            };
            object.insert(column.to_string(), value);
        }
        let input: TraineeInput = match serde_json::from_value(Value::Object(object)) {
            Ok(i) => i,
            Err(e) => {
                errors.push(at(line, "row", e.to_string()));
                continue;
            }
        };
        match input.into_new(by, Scope::Institution(institution_id)) {
            Ok(t) => {
                if let Some(first) = seen.insert(t.email.clone(), line) {
                    errors.push(at(
                        line,
                        "email",
                        format!("repeats the email of line {first}"),
                    ));
                }
                rows.push((line, t));
            }
            Err(AppError::Validation(errs)) => {
                errors.extend(errs.into_iter().map(|e| at(line, &e.field, e.message)));
            }
            Err(other) => errors.push(at(line, "row", other.to_string())),
        }
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// Imports trainees of one institution from `text/csv` (header:
/// given_name,family_name,email,nationality,gender,birth_year,field,locale).
/// With `dry_run=true` nothing is written; otherwise all rows or none.
#[utoipa::path(
    tag = "trainees",
    request_body(content = String, content_type = "text/csv"),
    params(
        ("dry_run" = Option<bool>, Query),
        ("institution_id" = Option<Uuid>, Query, description = "Required for admins and coordinators; partner staff import into their own"),
    ),
    responses(
        (status = 200, body = ImportReport, description = "Dry run: every row is valid"),
        (status = 201, body = ImportReport, description = "Every row imported"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 413, body = Problem),
        (status = 415, body = Problem),
        (status = 422, body = Problem, description = "Nothing written; `errors` name `line N: field`"),
    ),
    security(("bearer" = []))
)]
#[post("/trainees/import")]
pub(crate) async fn import(
    state: web::Data<AppState>,
    ctx: Ctx,
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
    mut payload: web::Payload,
) -> AppResult<HttpResponse> {
    let scope = may(&ctx.caller, Resource::Trainee, Action::Create)?;
    let is_csv = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .eq_ignore_ascii_case("text/csv")
        });
    if !is_csv {
        return Err(AppError::UnsupportedMediaType(
            "Send the file as text/csv.".into(),
        ));
    }
    let query = query.into_inner();
    let dry_run = match query.get("dry_run").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(AppError::invalid("dry_run", "must be true or false")),
    };
    let asked: Option<Uuid> = match query.get("institution_id") {
        Some(raw) => Some(
            raw.parse()
                .map_err(|_| AppError::invalid("institution_id", "must be a UUID"))?,
        ),
        None => None,
    };
    let institution_id = scope
        .own_institution(asked)?
        .ok_or_else(|| AppError::invalid("institution_id", "is required"))?;
    let limit = state.settings.server.csv_limit_bytes;
    let mut bytes = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(payload_error)?;
        if bytes.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    let rows = parse(&bytes, &ctx.caller, institution_id).map_err(AppError::Validation)?;
    let mut conn = state.pool.get().await?;
    let emails: Vec<&str> = rows.iter().map(|(_, r)| r.email.as_str()).collect();
    let taken: HashSet<String> = trainees::table
        .filter(trainees::email.eq_any(&emails))
        .select(trainees::email)
        .load::<String>(&mut conn)
        .await?
        .into_iter()
        .collect();
    if !taken.is_empty() {
        let errors = rows
            .iter()
            .filter(|(_, r)| taken.contains(&r.email))
            .map(|(line, _)| at(*line, "email", "is already registered"))
            .collect();
        return Err(AppError::Validation(errors));
    }
    let report = ImportReport {
        dry_run,
        rows: rows.len(),
        created: if dry_run { 0 } else { rows.len() },
    };
    if dry_run {
        return api::ok(&report);
    }
    let rows: Vec<NewTrainee> = rows.into_iter().map(|(_, r)| r).collect();
    conn.transaction(async |conn| {
        for chunk in rows.chunks(1000) {
            diesel::insert_into(trainees::table)
                .values(chunk)
                .execute(conn)
                .await?;
        }
        let summary = json!({ "institution_id": institution_id, "created": rows.len() });
        audit::record(conn, &ctx, "trainee", "import", institution_id, summary).await
    })
    .await?;
    let mut res = api::ok(&report)?;
    *res.status_mut() = actix_web::http::StatusCode::CREATED;
    Ok(res)
}
