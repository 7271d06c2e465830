//! `POST /trainees/import`: many trainees from a CSV file, all or none,
//! with a report that names the line and field of every problem.

use std::collections::{HashMap, HashSet};

use actix_web::{http::header, post, web, HttpResponse};
use diesel::{ExpressionMethods, QueryDsl, SelectableHelper};
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde::Serialize;
use serde_json::{json, Map, Value};
use utoipa::ToSchema;
use uuid::Uuid;

use super::model::{NewTrainee, Trainee, TraineeInput};
use crate::api::collection::Input;
use crate::{
    api, audit,
    auth::{
        policy::{may, Action, Resource, Scope},
        Call, Principal,
    },
    error::{AppError, AppResult, FieldError, Problem},
    schema::trainees,
    webhooks::events,
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

/// What became, or with `dry_run` would become, of one data row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowStatus {
    Created,
    WouldCreate,
    Error,
}

/// One data row of the file, in file order.
#[derive(Debug, Serialize, ToSchema)]
pub struct RowResult {
    /// The row's line in the file (the header is line 1), whatever the line
    /// endings.
    pub line: u64,
    pub status: RowStatus,
    /// Every problem of the row; empty unless `status` is `error`.
    pub errors: Vec<FieldError>,
}

/// What an import did (or, with `dry_run`, would do), row by row.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReport {
    pub dry_run: bool,
    /// Data rows in the file.
    pub rows: usize,
    pub created: usize,
    pub would_create: usize,
    /// Rows with a problem.
    pub errors: usize,
    pub results: Vec<RowResult>,
}

impl ImportReport {
    fn new(dry_run: bool, results: Vec<RowResult>) -> Self {
        let count = |s: RowStatus| results.iter().filter(|r| r.status == s).count();
        ImportReport {
            dry_run,
            rows: results.len(),
            created: count(RowStatus::Created),
            would_create: count(RowStatus::WouldCreate),
            errors: count(RowStatus::Error),
            results,
        }
    }
}

fn at(line: u64, field: &str, message: impl Into<String>) -> FieldError {
    FieldError::new(format!("line {line}: {field}"), message)
}

/// The line of the file a record starting at byte `byte` is on: the header
/// is line 1, and a CRLF ending counts as one line as LF does. (After a
/// CRLF, the CSV reader starts the next record at the LF, so the byte at the
/// offset itself is counted.)
fn line_at(bytes: &[u8], byte: u64) -> u64 {
    let end = (byte as usize + 1).min(bytes.len());
    1 + bytes[..end].iter().filter(|b| **b == b'\n').count() as u64
}

/// One data row, checked: the trainee it makes, or every problem it has.
pub type Row = (u64, Result<NewTrainee, Vec<FieldError>>);

/// Parses and checks every row. A file that cannot be read as the CSV of
/// the header (encoding, column count) fails at its first broken line.
pub fn parse(bytes: &[u8], by: &Principal, institution_id: Uuid) -> Result<Vec<Row>, FieldError> {
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
            return Err(at(
                1,
                "header",
                format!("must be exactly: {}", COLUMNS.join(",")),
            ))
        }
        Err(_) => return Err(at(1, "header", "is not valid UTF-8 CSV")),
    }
    let mut rows = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| line_at(bytes, p.byte()));
                let message = match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => "is not valid UTF-8".to_string(),
                    csv::ErrorKind::UnequalLengths { len, .. } => {
                        format!("has {len} fields; the header has {}", COLUMNS.len())
                    }
                    _ => "cannot be read as CSV".to_string(),
                };
                // A broken row makes the rest of the file untrustworthy.
                return Err(at(line, "row", message));
            }
        };
        let line = record.position().map_or(0, |p| line_at(bytes, p.byte()));
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
        let checked = match serde_json::from_value::<TraineeInput>(Value::Object(object)) {
            Err(e) => Err(vec![FieldError::new("row", e.to_string())]),
            Ok(input) => match input.into_new(by, Scope::Institution(institution_id)) {
                Ok(t) => match seen.insert(t.email.clone(), line) {
                    Some(first) => Err(vec![FieldError::new(
                        "email",
                        format!("repeats the email of line {first}"),
                    )]),
                    None => Ok(t),
                },
                Err(AppError::Validation(errs)) => Err(errs),
                Err(other) => Err(vec![FieldError::new("row", other.to_string())]),
            },
        };
        rows.push((line, checked));
    }
    Ok(rows)
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
        (status = 200, body = ImportReport, description = "Dry run: every row is valid and would be created"),
        (status = 201, body = ImportReport, description = "Every row imported"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 413, body = Problem),
        (status = 415, body = Problem),
        (status = 422, body = Problem, description = "Nothing written; `errors` name `line N: field`, and `results` is the report row by row (`would_create` or `error`)"),
    ),
    security(("bearer" = []))
)]
#[post("/trainees/import")]
pub(crate) async fn import(
    call: Call,
    query: web::Query<HashMap<String, String>>,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    // The file is read before a connection is taken: the call holds none
    // while a body is arriving.
    let (state, ctx) = (&call.state, &call.ctx);
    let scope = may(&ctx.caller, Resource::Trainee, Action::Create)?;
    let is_csv = call
        .req
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
    let bytes = crate::api::body::collect(payload, state.settings.server.csv_limit_bytes).await?;
    let mut rows =
        parse(&bytes, &ctx.caller, institution_id).map_err(|e| AppError::Validation(vec![e]))?;
    let mut conn = call.conn().await?;
    let emails: Vec<&str> = rows
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok().map(|t| t.email.as_str()))
        .collect();
    let taken: HashSet<String> = trainees::table
        .filter(trainees::email.eq_any(&emails))
        .select(trainees::email)
        .load::<String>(&mut conn)
        .await?
        .into_iter()
        .collect();
    for (_, row) in &mut rows {
        if row.as_ref().is_ok_and(|t| taken.contains(&t.email)) {
            *row = Err(vec![FieldError::new("email", "is already registered")]);
        }
    }
    let valid = rows.iter().all(|(_, r)| r.is_ok());
    let done = if valid && !dry_run {
        RowStatus::Created
    } else {
        RowStatus::WouldCreate
    };
    let mut problems = Vec::new();
    let mut new = Vec::new();
    let results: Vec<RowResult> = rows
        .into_iter()
        .map(|(line, row)| match row {
            Ok(t) => {
                new.push(t);
                RowResult {
                    line,
                    status: done,
                    errors: Vec::new(),
                }
            }
            Err(errors) => {
                problems.extend(errors.iter().map(|e| at(line, &e.field, e.message.clone())));
                RowResult {
                    line,
                    status: RowStatus::Error,
                    errors,
                }
            }
        })
        .collect();
    let report = ImportReport::new(dry_run, results);
    if !valid {
        // Nothing is written; the problem carries the report row by row.
        let results =
            serde_json::to_value(&report.results).map_err(|e| AppError::Internal(e.into()))?;
        return Err(AppError::ValidationWith {
            errors: problems,
            extra: json!({ "results": results }).as_object().cloned(),
        });
    }
    if dry_run {
        return api::ok(&report);
    }
    conn.transaction(async |conn| {
        for chunk in new.chunks(1000) {
            let created: Vec<Trainee> = diesel::insert_into(trainees::table)
                .values(chunk)
                .returning(Trainee::as_returning())
                .get_results(conn)
                .await?;
            events::emit_each(conn, "trainee.created", &created).await?;
        }
        let summary = json!({ "institution_id": institution_id, "created": new.len() });
        audit::record(conn, ctx, "trainee", "import", institution_id, summary).await
    })
    .await?;
    let mut res = api::ok(&report)?;
    *res.status_mut() = actix_web::http::StatusCode::CREATED;
    Ok(res)
}
