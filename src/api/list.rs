//! Lists: `limit`, keyset `cursor`, `count`, `sort`, `q`, `updated_since` and
//! per-collection filters, the same for every collection.
//!
//! A collection declares a [`ListSpec`] (sortable fields, searchable columns,
//! filter names) and a function that builds its filtered diesel query; this
//! module adds the keyset condition, the order, the limit and the count.

use std::{
    collections::HashMap,
    future::{ready, Ready},
};

use actix_web::{dev::Payload, web, FromRequest, HttpRequest};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use chrono::{DateTime, Utc};
use diesel::{
    dsl::sql,
    pg::Pg,
    query_builder::BoxedSelectStatement,
    query_dsl::methods::SelectDsl,
    sql_types::{BigInt, Bool, Text, Timestamptz},
    QueryDsl,
};
use diesel_async::{methods::LoadQuery, AsyncPgConnection, RunQueryDsl};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::csv;
use crate::db::{Prepare, Prepared};
use crate::error::{AppError, AppResult, FieldError};

/// Default and largest page sizes.
pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

/// A field a list may be sorted on.
#[derive(Debug)]
pub struct SortField {
    /// The name in the API (and in the JSON of an item).
    pub name: &'static str,
    /// The SQL column; never null.
    pub column: &'static str,
    /// The SQL type to cast the cursor value to.
    pub sql_type: &'static str,
}

impl SortField {
    /// A sortable field whose column has the same name.
    pub const fn new(name: &'static str, sql_type: &'static str) -> Self {
        SortField {
            name,
            column: name,
            sql_type,
        }
    }
}

/// What a collection's list accepts.
#[derive(Debug)]
pub struct ListSpec {
    pub sorts: &'static [SortField],
    /// Sort when none is asked for, e.g. `created_at` or `-at`.
    pub default_sort: &'static str,
    /// Columns `q` searches (case-insensitive substring).
    pub search: &'static [&'static str],
    /// Filter parameters the collection reads itself.
    pub filters: &'static [&'static str],
    /// Column `updated_since` compares with, if the collection has one.
    pub updated_column: Option<&'static str>,
}

/// Declares the list of the records of a table under one parent (a
/// cohort's sessions, a venture's milestones): its `LIST` (one sort, a
/// search) and `list(conn, params, parent)`, a page of the parent's rows.
#[macro_export]
macro_rules! child_list {
    (
        $(#[$meta:meta])*
        $record:ident in $table:ident under $parent:ident,
        sort = $sort:ident: $sort_type:literal, search = [$($search:literal),*] $(,)?
    ) => {
        /// What the list accepts.
        pub static LIST: $crate::api::list::ListSpec = $crate::api::list::ListSpec {
            sorts: &[$crate::api::list::SortField::new(stringify!($sort), $sort_type)],
            default_sort: stringify!($sort),
            search: &[$($search),*],
            filters: &[],
            updated_column: Some("updated_at"),
        };

        $(#[$meta])*
        pub async fn list(
            conn: &mut diesel_async::AsyncPgConnection,
            params: &$crate::api::list::ListParams,
            parent: uuid::Uuid,
        ) -> $crate::error::AppResult<$crate::api::list::Page<$record>> {
            use diesel::{ExpressionMethods, QueryDsl, SelectableHelper};
            let build = || {
                $crate::schema::$table::table
                    .select(<$record>::as_select())
                    .filter($crate::schema::$table::$parent.eq(parent))
                    .into_boxed()
            };
            $crate::api::list::fetch(conn, params, build, |r: $record| r).await
        }
    };
}

/// Declares the filters of a list: the struct, its `ListSpec` (sorts: every
/// list sorts on `created_at`, the default, and `updated_at`, and `sorts`
/// adds its own; the columns `q` searches, filter names; `updated_since`
/// compares with `updated_at`), reading the filters from the query, and narrowing a boxed
/// query of `$table` to the caller's scope ([`crate::auth::scope`]) and by
/// each column filter (an equality on the column of the same name) and each
/// `contains` filter (`theme in themes`: the array column holds the value).
/// `custom` filters are read and documented the same way but applied by the
/// list itself.
#[macro_export]
macro_rules! list_filter {
    (
        $(#[$meta:meta])*
        pub struct $name:ident on $table:ident {
            $(sorts: [$($sort:ident: $sql:ident),* $(,)?],)?
            search: [$($search:literal),* $(,)?],
            columns: { $($field:ident: $ty:ty),* $(,)? },
            $(contains: { $($afield:ident in $acol:ident: $aty:ty),* $(,)? },)?
            $(custom: { $($cfield:ident: $cty:ty),* $(,)? },)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Default)]
        pub struct $name {
            $(pub $field: Option<$ty>,)*
            $($(pub $afield: Option<$aty>,)*)?
            $($(pub $cfield: Option<$cty>,)*)?
        }

        impl $crate::api::collection::Filter for $name {
            const SPEC: &'static $crate::api::list::ListSpec = &$crate::api::list::ListSpec {
                sorts: &[
                    $crate::api::list::SortField::new("created_at", "timestamptz"),
                    $crate::api::list::SortField::new("updated_at", "timestamptz"),
                    $($($crate::api::list::SortField::new(stringify!($sort), stringify!($sql)),)*)?
                ],
                default_sort: "created_at",
                search: &[$($search),*],
                filters: &[
                    $(stringify!($field),)* $($(stringify!($afield),)*)? $($(stringify!($cfield),)*)?
                ],
                updated_column: Some("updated_at"),
            };

            fn read(params: &mut $crate::api::list::ListParams) -> Self {
                $name {
                    $($field: params.filter(stringify!($field)),)*
                    $($($afield: params.filter(stringify!($afield)),)*)?
                    $($($cfield: params.filter(stringify!($cfield)),)*)?
                }
            }
        }

        impl $name {
            /// Narrows a query of the table to the caller's scope and by the
            /// column filters.
            pub fn narrow<'a, ST>(
                &self,
                query: $table::BoxedQuery<'a, diesel::pg::Pg, ST>,
                scope: $crate::auth::policy::Scope,
            ) -> $table::BoxedQuery<'a, diesel::pg::Pg, ST> {
                #[allow(unused_imports)]
                use diesel::{ExpressionMethods, QueryDsl};
                let mut query = query;
                if let Some(cond) = $crate::auth::scope::condition::<$table::table>(scope) {
                    query = query.filter(cond);
                }
                $(if let Some(v) = self.$field.clone() {
                    query = query.filter($table::$field.eq(v));
                })*
                $($(if let Some(v) = &self.$afield {
                    use diesel::PgArrayExpressionMethods;
                    query = query.filter($table::$acol.contains(vec![$crate::api::list::text_of(v)]));
                })*)?
                query
            }
        }
    };
}

/// The text a string-valued filter (an enum, a language tag) is stored as.
pub fn text_of<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// The list parameters every collection shares, for the API document.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct CommonListParams {
    /// Page size, 1 to 200 (default 50).
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    /// `true` adds `total`, the count of all matching records.
    count: Option<bool>,
    /// A documented field, `-field` for descending.
    sort: Option<String>,
    /// Searches names.
    q: Option<String>,
    /// Only records changed at or after this time (RFC 3339).
    updated_since: Option<DateTime<Utc>>,
}

/// The query of a list request. Reading it also arms a CSV export of the
/// list, now that the request is routed ([`csv::arm`]).
pub struct ListQuery(HashMap<String, String>);

impl ListQuery {
    pub fn into_inner(self) -> HashMap<String, String> {
        self.0
    }
}

impl FromRequest for ListQuery {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        csv::arm(req);
        ready(
            web::Query::<HashMap<String, String>>::from_query(req.query_string())
                .map(|q| ListQuery(q.into_inner()))
                .map_err(|e| crate::error::query_error(e, req)),
        )
    }
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` for the next page; null on the last one.
    pub next_cursor: Option<String>,
    /// Present when asked for with `count=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<i64>,
}

/// A whole, short list that is not paged (a record's history, an
/// agreement's usage, the results of a move of many).
#[derive(Debug, Serialize, ToSchema)]
pub struct Items<T> {
    pub items: Vec<T>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Cursor {
    /// Sort it belongs to (with a leading `-` when descending).
    s: String,
    /// The sort value of the last item.
    v: String,
    /// The id of the last item.
    id: Uuid,
}

/// Parsed list parameters, plus the raw filters for the collection to read.
#[derive(Debug)]
pub struct ListParams {
    pub limit: i64,
    pub count: bool,
    sort: &'static SortField,
    desc: bool,
    cursor: Option<Cursor>,
    q: Option<String>,
    updated_since: Option<DateTime<Utc>>,
    spec: &'static ListSpec,
    raw: HashMap<String, String>,
    errors: Vec<FieldError>,
}

impl ListParams {
    /// Reads the shared parameters; errors are kept until [`Self::finish`].
    pub fn parse(mut raw: HashMap<String, String>, spec: &'static ListSpec) -> Self {
        let mut errors = Vec::new();
        // No query value reaches the database with a control character
        // (PostgreSQL's text refuses NUL outright).
        raw.retain(|name, value| {
            let clean = !value.chars().any(char::is_control);
            if !clean {
                errors.push(FieldError::new(
                    name.clone(),
                    "may not contain control characters",
                ));
            }
            clean
        });
        let limit = match raw.remove("limit") {
            None => DEFAULT_LIMIT,
            Some(v) => match v.parse::<i64>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    errors.push(FieldError::new(
                        "limit",
                        format!("must be a whole number from 1 to {MAX_LIMIT}"),
                    ));
                    DEFAULT_LIMIT
                }
            },
        };
        let count = match raw.remove("count").as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(_) => {
                errors.push(FieldError::new("count", "must be true or false"));
                false
            }
        };
        let sort_raw = raw
            .remove("sort")
            .unwrap_or_else(|| spec.default_sort.to_string());
        let (desc, sort_name) = match sort_raw.strip_prefix('-') {
            Some(name) => (true, name),
            None => (false, sort_raw.as_str()),
        };
        let sort = match spec.sorts.iter().find(|s| s.name == sort_name) {
            Some(s) => s,
            None => {
                let names: Vec<_> = spec.sorts.iter().map(|s| s.name).collect();
                errors.push(FieldError::new(
                    "sort",
                    format!("must be one of {}, with - for descending", names.join(", ")),
                ));
                &spec.sorts[0]
            }
        };
        let cursor = raw.remove("cursor").and_then(|c| {
            let parsed = URL_SAFE_NO_PAD
                .decode(c.as_bytes())
                .ok()
                .and_then(|b| serde_json::from_slice::<Cursor>(&b).ok())
                .filter(|cur| cur.s == sort_raw);
            if parsed.is_none() {
                errors.push(FieldError::new(
                    "cursor",
                    "is not a cursor of this list and sort",
                ));
            }
            parsed
        });
        let q = raw
            .remove("q")
            .map(|q| q.trim().to_string())
            .filter(|q| !q.is_empty());
        if q.is_some() && spec.search.is_empty() {
            errors.push(FieldError::new("q", "this list cannot be searched"));
        }
        let updated_since = raw.remove("updated_since").and_then(|v| {
            let parsed = DateTime::parse_from_rfc3339(&v)
                .ok()
                .map(|d| d.with_timezone(&Utc));
            if parsed.is_none() || spec.updated_column.is_none() {
                errors.push(FieldError::new("updated_since", "must be an RFC 3339 time"));
            }
            parsed
        });
        let mut unknown: Vec<_> = raw
            .keys()
            .filter(|k| !spec.filters.contains(&k.as_str()))
            .cloned()
            .collect();
        unknown.sort();
        errors.extend(
            unknown
                .into_iter()
                .map(|k| FieldError::new(k, "unknown query parameter")),
        );
        ListParams {
            limit,
            count,
            sort,
            desc,
            cursor,
            q,
            updated_since,
            spec,
            raw,
            errors,
        }
    }

    /// Reads a filter parameter of the collection.
    pub fn filter<T: DeserializeOwned>(&mut self, name: &str) -> Option<T> {
        let raw = self.raw.remove(name)?;
        let parsed = serde_json::from_value::<T>(Value::String(raw.clone()))
            .or_else(|_| serde_json::from_str::<T>(&raw));
        match parsed {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(FieldError::new(name, e.to_string()));
                None
            }
        }
    }

    /// Fails with every bad parameter at once.
    pub fn finish(self) -> AppResult<Self> {
        if self.errors.is_empty() {
            Ok(self)
        } else {
            Err(AppError::Validation(self.errors.clone()))
        }
    }
}

type Boxed<'a, QS, ST> = BoxedSelectStatement<'a, ST, diesel::query_builder::FromClause<QS>, Pg>;

/// Escapes `%`, `_` and `\` so a search term matches literally.
fn like_pattern(q: &str) -> String {
    let mut out = String::with_capacity(q.len() + 2);
    out.push('%');
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

impl ListParams {
    /// Adds the shared conditions (`q`, `updated_since`) to a query.
    fn narrow<'a, QS, ST>(&self, mut query: Boxed<'a, QS, ST>) -> Boxed<'a, QS, ST>
    where
        QS: diesel::QuerySource + 'a,
        ST: 'a,
    {
        if let Some(q) = &self.q {
            let columns = self.spec.search.join(", ");
            query = query.filter(
                sql::<Bool>(&format!("concat_ws(' ', {columns}) ILIKE "))
                    .bind::<Text, _>(like_pattern(q)),
            );
        }
        if let (Some(since), Some(column)) = (self.updated_since, self.spec.updated_column) {
            query = query.filter(
                sql::<Bool>(column)
                    .sql(" >= ")
                    .bind::<Timestamptz, _>(since),
            );
        }
        query
    }
}

/// Rows per query when a list is exported whole.
const EXPORT_PAGE: i64 = 1000;

/// Loads one page (and the total when asked) of the query `build` makes;
/// during a CSV export, walks the whole list into it instead and answers
/// an empty page.
pub async fn fetch<QS, ST, Row, Item>(
    conn: &mut AsyncPgConnection,
    params: &ListParams,
    build: impl Fn() -> Boxed<'static, QS, ST>,
    to_item: impl Fn(Row) -> Item,
) -> AppResult<Page<Item>>
where
    QS: diesel::QuerySource + 'static,
    ST: 'static,
    Row: Send + 'static,
    Item: Serialize,
    Prepared<Boxed<'static, QS, ST>>: LoadQuery<'static, AsyncPgConnection, Row>,
    Boxed<'static, QS, ST>:
        SelectDsl<diesel::expression::SqlLiteral<BigInt>, Output = Boxed<'static, QS, BigInt>>,
    Boxed<'static, QS, BigInt>: LoadQuery<'static, AsyncPgConnection, i64>,
{
    if let Some(sink) = csv::export_sink() {
        export(conn, params, &build, &to_item, sink).await?;
        return Ok(Page {
            items: Vec::new(),
            next_cursor: None,
            total: None,
        });
    }
    let (items, next) = page(
        conn,
        params,
        params.cursor.as_ref(),
        params.limit,
        &build,
        &to_item,
    )
    .await?;
    let total = if params.count {
        let count_query = SelectDsl::select(params.narrow(build()), sql::<BigInt>("count(*)"));
        Some(count_query.get_result::<i64>(conn).await?)
    } else {
        None
    };
    Ok(Page {
        items,
        next_cursor: next.map(|c| c.encode()).transpose()?,
        total,
    })
}

/// Up to `limit` items after `cursor`, and the cursor after the last when
/// more follow.
async fn page<QS, ST, Row, Item>(
    conn: &mut AsyncPgConnection,
    params: &ListParams,
    cursor: Option<&Cursor>,
    limit: i64,
    build: &impl Fn() -> Boxed<'static, QS, ST>,
    to_item: &impl Fn(Row) -> Item,
) -> AppResult<(Vec<Item>, Option<Cursor>)>
where
    QS: diesel::QuerySource + 'static,
    ST: 'static,
    Row: Send + 'static,
    Item: Serialize,
    Prepared<Boxed<'static, QS, ST>>: LoadQuery<'static, AsyncPgConnection, Row>,
{
    let sort = params.sort;
    let (dir, cmp) = if params.desc {
        ("DESC", "<")
    } else {
        ("ASC", ">")
    };
    let mut query = params.narrow(build());
    if let Some(cursor) = cursor {
        query = query.filter(
            sql::<Bool>(&format!("({}, id) {cmp} (CAST(", sort.column))
                .bind::<Text, _>(cursor.v.clone())
                .sql(&format!(" AS {}), ", sort.sql_type))
                .bind::<diesel::sql_types::Uuid, _>(cursor.id)
                .sql(")"),
        );
    }
    let query = query
        .order_by(sql::<Text>(&format!("{} {dir}, id {dir}", sort.column)))
        .limit(limit + 1);
    let rows: Vec<Row> = query.prepared().load(conn).await?;
    let more = rows.len() as i64 > limit;
    let items: Vec<Item> = rows.into_iter().take(limit as usize).map(to_item).collect();
    let next = match items.last() {
        Some(last) if more => Some(cursor_after(last, params)?),
        _ => None,
    };
    Ok((items, next))
}

/// Sends the whole list to `sink` as CSV, a page at a time; stops early
/// when the client has gone.
async fn export<QS, ST, Row, Item>(
    conn: &mut AsyncPgConnection,
    params: &ListParams,
    build: &impl Fn() -> Boxed<'static, QS, ST>,
    to_item: &impl Fn(Row) -> Item,
    sink: tokio::sync::mpsc::Sender<csv::Chunk>,
) -> AppResult<()>
where
    QS: diesel::QuerySource + 'static,
    ST: 'static,
    Row: Send + 'static,
    Item: Serialize,
    Prepared<Boxed<'static, QS, ST>>: LoadQuery<'static, AsyncPgConnection, Row>,
{
    let mut rows = csv::Rows::default();
    let mut cursor = None;
    loop {
        let written = match page(conn, params, cursor.as_ref(), EXPORT_PAGE, build, to_item).await {
            Ok((items, next)) => rows
                .write(&items)
                .map(|chunk| (chunk, next))
                .map_err(AppError::Internal),
            Err(e) => Err(e),
        };
        let (chunk, next) = match written {
            Ok(done) => done,
            Err(e) => {
                let _ = sink.send(Err(e.to_string())).await;
                return Err(e);
            }
        };
        if sink.send(Ok(chunk)).await.is_err() {
            return Ok(());
        }
        match next {
            Some(next) => cursor = Some(next),
            None => return Ok(()),
        }
    }
}

/// The cursor after `item` in the list's sort.
fn cursor_after(item: &impl Serialize, params: &ListParams) -> AppResult<Cursor> {
    let json = serde_json::to_value(item).map_err(|e| AppError::Internal(e.into()))?;
    let value = match &json[params.sort.name] {
        Value::String(s) => s.clone(),
        Value::Null => return Err(AppError::Internal(anyhow::anyhow!("null sort value"))),
        other => other.to_string(),
    };
    let id = json["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("item without id")))?;
    let sort = if params.desc {
        format!("-{}", params.sort.name)
    } else {
        params.sort.name.to_string()
    };
    Ok(Cursor {
        s: sort,
        v: value,
        id,
    })
}

impl Cursor {
    fn encode(&self) -> AppResult<String> {
        let bytes = serde_json::to_vec(self).map_err(|e| AppError::Internal(e.into()))?;
        Ok(URL_SAFE_NO_PAD.encode(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_terms_match_literally() {
        assert_eq!(like_pattern("50%_a\\"), "%50\\%\\_a\\\\%");
    }
}
