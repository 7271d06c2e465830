//! `Accept: text/csv` on any `GET` answer: the JSON a handler made becomes
//! RFC 4180 CSV, a row per item of a list (or one row for a single
//! record), nested members flattened to `a.b` columns. Cells that a
//! spreadsheet would run as a formula are neutralised.
//!
//! A list asked for with a `limit` or `cursor` answers that page, and the
//! next page's cursor travels in `X-Next-Cursor`. Without either, it is an
//! export of the whole list: the handler runs in a task of its own while
//! [`super::list::fetch`] walks the list page by page into a small channel
//! ([`export_sink`]), and the answer streams from that channel as soon as
//! the first page is written. Memory holds a few pages, whatever the size.

use std::{cell::RefCell, rc::Rc};

use actix_web::{
    body::{self, BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{
        header::{self, HeaderValue},
        Method, StatusCode,
    },
    middleware::Next,
    web::Bytes,
    HttpRequest, HttpResponse,
};
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot};

use crate::error::AppError;

/// The header that carries `next_cursor` of a CSV page.
pub const NEXT_CURSOR: &str = "x-next-cursor";

/// A piece of an export, or word that it broke off.
pub type Chunk = Result<Bytes, String>;

/// Pages written ahead of the client, at most.
const EXPORT_BUFFER: usize = 4;

/// An export under way: where its pages go, and the routed request its
/// streamed answer is made for.
struct Export {
    sink: mpsc::Sender<Chunk>,
    request: Rc<RefCell<Option<HttpRequest>>>,
}

tokio::task_local! {
    /// Set while a handler answers an export.
    static EXPORT: Export;
}

/// Marks the request of a list as routed (its query is read), so that the
/// list may stream: see [`super::list::ListQuery`]. The request cannot be
/// kept before routing is done.
pub fn arm(req: &HttpRequest) {
    let _ = EXPORT.try_with(|e| *e.request.borrow_mut() = Some(req.clone()));
}

/// Where the list being loaded goes, when the request is an armed export.
pub fn export_sink() -> Option<mpsc::Sender<Chunk>> {
    EXPORT
        .try_with(|e| e.request.borrow().is_some().then(|| e.sink.clone()))
        .ok()
        .flatten()
}

/// CSV of a whole list: neither `limit` nor `cursor` is asked for.
fn wants_export(req: &ServiceRequest) -> bool {
    wants_csv(req)
        && !url::form_urlencoded::parse(req.query_string().as_bytes())
            .any(|(k, _)| k == "limit" || k == "cursor")
}

fn wants_csv(req: &ServiceRequest) -> bool {
    req.method() == Method::GET
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|t| t.trim().starts_with("text/csv")))
}

/// The link to the next page of a list: the request's own path and query,
/// with `cursor` set to the next page's.
fn next_link(uri: &actix_web::http::Uri, cursor: &HeaderValue) -> Option<HeaderValue> {
    let cursor = cursor.to_str().ok()?;
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()) {
        if k != "cursor" {
            query.append_pair(&k, &v);
        }
    }
    query.append_pair("cursor", cursor);
    HeaderValue::from_str(&format!(
        "<{}?{}>; rel=\"next\"",
        uri.path(),
        query.finish()
    ))
    .ok()
}

/// Adds `Link: <…>; rel="next"` to a page that has a next one.
fn link_next(uri: &actix_web::http::Uri, headers: &mut header::HeaderMap) {
    let link = headers
        .get(NEXT_CURSOR)
        .and_then(|cursor| next_link(uri, cursor));
    if let Some(link) = link {
        headers.insert(header::LINK, link);
    }
}

/// Takes `bom` out of the query of a CSV request (it asks for a UTF-8 byte
/// order mark, which spreadsheets need to read accented and Arabic names)
/// so that lists do not see it as a filter.
fn take_bom(req: &mut ServiceRequest) -> bool {
    let query = req.query_string().to_string();
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let bom = pairs.iter().any(|(k, v)| k == "bom" && v == "true");
    if pairs.iter().any(|(k, _)| k == "bom") {
        let kept = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs.iter().filter(|(k, _)| k != "bom"))
            .finish();
        let path_and_query = match kept.is_empty() {
            true => req.path().to_string(),
            false => format!("{}?{kept}", req.path()),
        };
        if let Ok(uri) = path_and_query.parse() {
            req.head_mut().uri = uri;
        }
    }
    bom
}

/// `Content-Disposition` of a CSV download: the collection's path, ids left
/// out, and the day, e.g. `cohorts-enrollments-2026-11-30.csv`.
fn attachment(path: &str) -> HeaderValue {
    let name: Vec<&str> = path
        .trim_start_matches("/api/v1/")
        .split('/')
        .filter(|s| !s.is_empty() && s.parse::<uuid::Uuid>().is_err())
        .collect();
    let day = chrono::Utc::now().date_naive();
    let value = format!("attachment; filename=\"{}-{day}.csv\"", name.join("-"));
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("attachment"))
}

/// The UTF-8 byte order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The ETag of the CSV form of an answer whose JSON form has `tag`: the
/// two differ, so that a cache never answers one for the other.
fn csv_tag(tag: &HeaderValue) -> HeaderValue {
    let text = tag.to_str().unwrap_or_default();
    let value = match text.strip_suffix('"') {
        Some(open) => format!("{open}-csv\""),
        None => format!("{text}-csv"),
    };
    HeaderValue::from_str(&value).unwrap_or_else(|_| tag.clone())
}

/// Turns the CSV tags of an `If-None-Match` back into the JSON tags the
/// handler compares with.
fn json_tags(req: &mut ServiceRequest) {
    let tags = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.replace("-csv\"", "\""));
    if let Some(tags) = tags.and_then(|t| HeaderValue::from_str(&t).ok()) {
        req.headers_mut().insert(header::IF_NONE_MATCH, tags);
    }
}

/// `Vary: Accept` on every answer to a `GET`: its form depends on it.
fn vary_accept(method_is_get: bool, headers: &mut header::HeaderMap) {
    if method_is_get {
        headers.append(header::VARY, HeaderValue::from_static("accept"));
    }
}

/// The middleware.
pub async fn negotiate(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let uri = req.uri().clone();
    let is_get = req.method() == Method::GET;
    if !wants_csv(&req) {
        let mut res = next.call(req).await?;
        link_next(&uri, res.headers_mut());
        vary_accept(is_get, res.headers_mut());
        return Ok(res.map_into_boxed_body());
    }
    let bom = take_bom(&mut req);
    json_tags(&mut req);
    let disposition = attachment(req.path());
    let res = if wants_export(&req) {
        let (sink, mut chunks) = mpsc::channel(EXPORT_BUFFER);
        let request = Rc::new(RefCell::new(None));
        let export = Export {
            sink,
            request: request.clone(),
        };
        let (done, answer) = oneshot::channel();
        actix_web::rt::spawn(async move {
            let _ = done.send(EXPORT.scope(export, next.call(req)).await);
        });
        // A list sends its first page; anything else (a problem, a single
        // record, a list failing at once) answers as usual.
        let first = chunks.recv().await;
        let routed = request.borrow_mut().take();
        if let (Some(Ok(first)), Some(http)) = (first, routed) {
            let rest = futures_util::stream::unfold(chunks, |mut chunks| async move {
                chunks.recv().await.map(|chunk| (chunk, chunks))
            });
            let first = if bom {
                Bytes::from([BOM, &first[..]].concat())
            } else {
                first
            };
            let body = futures_util::stream::once(async { Ok(first) })
                .chain(rest)
                .map(|chunk| chunk.map_err(|e| AppError::Internal(anyhow::anyhow!(e))));
            let out = HttpResponse::Ok()
                .content_type("text/csv; charset=utf-8")
                .insert_header((header::CONTENT_DISPOSITION, disposition))
                .insert_header((header::VARY, "accept"))
                .streaming(body);
            return Ok(ServiceResponse::new(http, out));
        }
        answer
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("the export task stopped")))??
    } else {
        next.call(req).await?
    };
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if res.status() != StatusCode::OK || !is_json {
        let mut res = res.map_into_boxed_body();
        if res.status() == StatusCode::NOT_MODIFIED {
            if let Some(tag) = res.headers().get(header::ETAG).map(csv_tag) {
                res.headers_mut().insert(header::ETAG, tag);
            }
        }
        vary_accept(is_get, res.headers_mut());
        return Ok(res);
    }
    let (req, res) = res.into_parts();
    let etag = res.headers().get(header::ETAG).cloned();
    let bytes = body::to_bytes(res.into_body())
        .await
        .map_err(|_| AppError::Internal(anyhow::anyhow!("reading the answer failed")))?;
    let json: Value = serde_json::from_slice(&bytes).map_err(|e| AppError::Internal(e.into()))?;
    let next_cursor = json
        .get("next_cursor")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut csv = to_csv(&json).map_err(AppError::Internal)?;
    if bom {
        csv.splice(0..0, BOM.iter().copied());
    }
    let mut out = HttpResponse::Ok();
    out.content_type("text/csv; charset=utf-8")
        .insert_header((header::CONTENT_DISPOSITION, disposition));
    if let Some(c) = next_cursor.and_then(|c| HeaderValue::from_str(&c).ok()) {
        out.insert_header((NEXT_CURSOR, c));
    }
    if let Some(tag) = etag {
        out.insert_header((header::ETAG, csv_tag(&tag)));
    }
    let mut out = out.body(csv);
    link_next(&uri, out.headers_mut());
    vary_accept(is_get, out.headers_mut());
    Ok(ServiceResponse::new(req, out))
}

fn flatten(prefix: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        Value::Null => out.push((prefix.to_string(), String::new())),
        Value::String(s) => out.push((prefix.to_string(), neutralise(s))),
        Value::Array(_) => out.push((prefix.to_string(), neutralise(&value.to_string()))),
        other => out.push((prefix.to_string(), other.to_string())),
    }
}

/// A cell starting with `=`, `+`, `-`, `@`, tab or carriage return is
/// prefixed with `'`, so that no spreadsheet runs it as a formula.
pub fn neutralise(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

/// The rows of an answer: the items of a list, or the answer itself.
pub fn to_csv(json: &Value) -> anyhow::Result<Vec<u8>> {
    let rows: Vec<Map<String, Value>> = match json.get("items") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::Object(m) => m.clone(),
                other => Map::from_iter([("value".to_string(), other.clone())]),
            })
            .collect(),
        _ => match json {
            Value::Object(m) => vec![m.clone()],
            other => vec![Map::from_iter([("value".to_string(), other.clone())])],
        },
    };
    let flat: Vec<Vec<(String, String)>> = rows
        .iter()
        .map(|r| {
            let mut cells = Vec::new();
            flatten("", &Value::Object(r.clone()), &mut cells);
            cells
        })
        .collect();
    let mut columns: Vec<String> = Vec::new();
    for row in &flat {
        for (k, _) in row {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
        }
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&columns)?;
    for row in &flat {
        let record: Vec<&str> = columns
            .iter()
            .map(|c| {
                row.iter()
                    .find(|(k, _)| k == c)
                    .map_or("", |(_, v)| v.as_str())
            })
            .collect();
        w.write_record(record)?;
    }
    Ok(w.into_inner()?)
}

/// Writes items as CSV rows, a header first; the columns are those of the
/// first item, so that every chunk of an export lines up.
#[derive(Default)]
pub struct Rows {
    columns: Option<Vec<String>>,
}

impl Rows {
    pub fn write<T: Serialize>(&mut self, items: &[T]) -> anyhow::Result<Bytes> {
        let mut w = csv::Writer::from_writer(Vec::new());
        for item in items {
            let mut cells = Vec::new();
            flatten("", &serde_json::to_value(item)?, &mut cells);
            if self.columns.is_none() {
                let columns: Vec<String> = cells.iter().map(|(k, _)| k.clone()).collect();
                w.write_record(&columns)?;
                self.columns = Some(columns);
            }
            let columns = self.columns.as_deref().unwrap_or_default();
            w.write_record(columns.iter().map(|c| {
                cells
                    .iter()
                    .find(|(k, _)| k == c)
                    .map_or("", |(_, v)| v.as_str())
            }))?;
        }
        Ok(w.into_inner()?.into())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn lists_become_rows_with_flattened_columns_and_safe_cells() {
        let page = json!({"items": [
            {"name": "=HYPERLINK(\"x\")", "by_status": {"open": 2}, "tags": ["a", "b"], "note": null},
            {"name": "Universidad, \"Nacional\"", "by_status": {"closed": 1}, "count": -3},
        ], "next_cursor": null});
        let csv = String::from_utf8(to_csv(&page).unwrap()).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "name,by_status.open,tags,note,by_status.closed,count"
        );
        assert_eq!(lines[1], r#""'=HYPERLINK(""x"")",2,"[""a"",""b""]",,,"#);
        assert_eq!(lines[2], r#""Universidad, ""Nacional""",,,,1,-3"#);
        for bad in ["+1", "-cmd", "@SUM(A1)", "\tx"] {
            assert!(neutralise(bad).starts_with('\''));
        }
    }
}
