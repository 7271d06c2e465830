//! The five endpoints of a collection (list, create, read, change, remove),
//! written once. A kind of record says where it lives, how its body and its
//! list filters are parsed and how it is listed and read ([`Collection`]);
//! the handlers here parse, ask the policy, call the store and answer, the
//! same way for every collection. [`crate::collection_routes`] gives each
//! collection its documented routes.

use std::{
    collections::HashSet,
    future::{ready, Future},
};

use actix_web::HttpResponse;
use diesel_async::AsyncPgConnection;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::list::{ListParams, ListQuery, ListSpec, Page};
use crate::{
    audit::Actor,
    auth::{
        policy::{may, Action, Resource, Scope},
        Call, Principal,
    },
    error::AppResult,
    lifecycle::{self, MoveInput},
    store::{self, Moving, Record},
};

/// The body of a collection's POST and PATCH.
pub trait Input: DeserializeOwned {
    /// The checked new record.
    type New;
    /// The checked changes.
    type Changes;

    /// Checks a POST body of `by`, whose scope for creating is `scope`.
    fn into_new(self, by: &Principal, scope: Scope) -> AppResult<Self::New>;

    /// Checks a PATCH body.
    fn into_changes(self) -> AppResult<Self::Changes>;
}

/// The filters of a collection's list.
pub trait Filter: Sized {
    /// Sorts, searches and filter names the list accepts.
    const SPEC: &'static ListSpec;

    /// Reads the filters out of the query (bad values are kept as errors
    /// that [`ListParams::finish`] reports).
    fn read(params: &mut ListParams) -> Self;
}

/// A kind of record served as a collection.
pub trait Collection: Record {
    /// Its row in the role table.
    const RESOURCE: Resource;
    /// Its path under `/api/v1`, e.g. `/programs`.
    const PATH: &'static str;
    /// The body of its POST and PATCH.
    type Input: Input<New = Self::New, Changes = Self::Changes>;
    /// Its list filters.
    type Filter: Filter;

    /// The people named in records of this kind (a venture's founders) that
    /// a reader in `scope` may see, when it may not see them all: `None` for
    /// all of them.
    fn visible_people(
        _conn: &mut AsyncPgConnection,
        _scope: Scope,
    ) -> impl Future<Output = AppResult<Option<HashSet<Uuid>>>> {
        ready(Ok(None))
    }

    /// The record as a reader who may see only `people` reads it.
    fn trimmed(self, _people: &HashSet<Uuid>) -> Self {
        self
    }

    /// The record as a reader who may see `people` (all when `None`) reads it.
    fn for_reader(self, people: &Option<HashSet<Uuid>>) -> Self {
        match people {
            Some(people) => self.trimmed(people),
            None => self,
        }
    }

    /// A page of the records in scope that pass the filters.
    fn list(
        conn: &mut AsyncPgConnection,
        asked: Listing<'_, Self::Filter>,
    ) -> impl Future<Output = AppResult<Page<Self>>>;
}

/// What a list is asked for: records in `scope`, that pass `filter`, a
/// page of them as `params` say.
#[derive(Debug, Clone, Copy)]
pub struct Listing<'a, F> {
    pub scope: Scope,
    pub params: &'a ListParams,
    pub filter: &'a F,
}

impl<'a, F> Listing<'a, F> {
    pub fn new(scope: Scope, params: &'a ListParams, filter: &'a F) -> Self {
        Listing {
            scope,
            params,
            filter,
        }
    }
}

/// Declares a collection kept in one table: its [`Collection`] (listed
/// straight from the table, narrowed by the filter, `Filter` unless named,
/// and the caller's scope) and its store ([`table_record!`], with the hooks
/// after `;`). A record that wraps its row names the row with `as` and the
/// member holding it in brackets. `narrow = f` applies the filters that are
/// neither a column nor an array (`f(query, filter)`); `people` and `trim`
/// keep people outside the reader's scope out of the records it reads.
#[macro_export]
macro_rules! collection {
    (
        $record:ident $([$at:ident] as $row:ty)?: $resource:ident at $path:literal in $table:ident,
        kind = $kind:literal $(, filter = $filter:ty)? $(, narrow = $narrow:path)?
        $(, people = $people:path, trim = $trim:path)? $(,)? $(; $($hooks:tt)*)?
    ) => {
        impl $crate::api::collection::Collection for $record {
            const RESOURCE: $crate::auth::policy::Resource =
                $crate::auth::policy::Resource::$resource;
            const PATH: &'static str = $path;
            type Input = <$crate::__or!($($row)?; $record) as $crate::api::record::Forms>::Input;
            type Filter = $crate::__or!($($filter)?; Filter);

            async fn list(
                conn: &mut diesel_async::AsyncPgConnection,
                asked: $crate::api::collection::Listing<'_, Self::Filter>,
            ) -> $crate::error::AppResult<$crate::api::list::Page<Self>> {
                use diesel::{QueryDsl, SelectableHelper};
                let $crate::api::collection::Listing { scope, params, filter } = asked;
                type Row = $crate::__or!($($row)?; $record);
                let people = <Self as $crate::api::collection::Collection>::visible_people(conn, scope).await?;
                let select = || $crate::schema::$table::table.select(Row::as_select());
                let build = || {
                    let query = filter.narrow(select().into_boxed(), scope);
                    $(let query = $narrow(query, filter);)?
                    query
                };
                let to_item = |r: Row| Self::from(r).for_reader(&people);
                $crate::api::list::fetch(conn, params, build, to_item).await
            }

            $(fn visible_people(
                conn: &mut diesel_async::AsyncPgConnection,
                scope: $crate::auth::policy::Scope,
            ) -> impl std::future::Future<
                Output = $crate::error::AppResult<Option<std::collections::HashSet<uuid::Uuid>>>,
            > {
                $people(conn, scope)
            }

            fn trimmed(self, people: &std::collections::HashSet<uuid::Uuid>) -> Self {
                $trim(self, people)
            })?
        }

        $crate::table_record!(
            $record [$($at)?], $table, $crate::__or!($($row)?; $record), kind = $kind
            $(, $($hooks)*)?
        );
    };
}

/// `GET /{collection}`.
pub async fn list<C: Collection>(call: &Call, query: ListQuery) -> AppResult<HttpResponse> {
    let scope = may(&call.ctx.caller, C::RESOURCE, Action::Read)?;
    let mut params = ListParams::parse(query.into_inner(), C::Filter::SPEC);
    let filter = C::Filter::read(&mut params);
    let params = params.finish()?;
    let mut conn = call.lister().await?;
    super::page(&C::list(&mut conn, Listing::new(scope, &params, &filter)).await?)
}

/// `POST /{collection}`: 201 with `Location`.
pub async fn create<C: Collection>(call: &Call, body: C::Input) -> AppResult<HttpResponse> {
    let ctx = &call.ctx;
    let scope = may(&ctx.caller, C::RESOURCE, Action::Create)?;
    let new = body.into_new(&ctx.caller, scope)?;
    let mut conn = call.conn().await?;
    let created = store::create::<C>(&mut conn, &Actor::from(ctx), scope, new).await?;
    super::created(format!("/api/v1{}/{}", C::PATH, created.id()), &created)
}

/// `GET /{collection}/{id}`: the record with its ETag, or 304.
pub async fn get<C: Collection>(call: &Call, id: Uuid) -> AppResult<HttpResponse> {
    let scope = may(&call.ctx.caller, C::RESOURCE, Action::Read)?;
    let mut conn = call.conn().await?;
    let people = C::visible_people(&mut conn, scope).await?;
    let record = C::find(&mut conn, scope, id).await?.for_reader(&people);
    super::record(&call.req, &record)
}

/// `PATCH /{collection}/{id}`, honouring `If-Match`.
pub async fn update<C: Collection>(
    call: &Call,
    id: Uuid,
    body: C::Input,
) -> AppResult<HttpResponse> {
    let scope = may(&call.ctx.caller, C::RESOURCE, Action::Update)?;
    let expected = super::if_match(&call.req)?;
    let changes = body.into_changes()?;
    let mut conn = call.conn().await?;
    let actor = Actor::from(&call.ctx);
    let updated = store::update::<C>(&mut conn, &actor, scope, id, expected, changes).await?;
    super::record(&call.req, &updated)
}

/// `DELETE /{collection}/{id}`, honouring `If-Match`: 204.
pub async fn delete<C: Collection>(call: &Call, id: Uuid) -> AppResult<HttpResponse> {
    let scope = may(&call.ctx.caller, C::RESOURCE, Action::Delete)?;
    let expected = super::if_match(&call.req)?;
    let mut conn = call.conn().await?;
    store::delete::<C>(&mut conn, &Actor::from(&call.ctx), scope, id, expected).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// `POST /{collection}/{id}/transitions`: moves a record of `resource` and
/// answers it.
pub async fn move_to<R: Moving>(
    call: &Call,
    resource: Resource,
    id: Uuid,
    body: MoveInput,
) -> AppResult<HttpResponse> {
    let scope = may(&call.ctx.caller, resource, Action::Move)?;
    let (to, note) = body.parse::<R::State>()?;
    let mut conn = call.conn().await?;
    let actor = Actor::from(&call.ctx);
    let moved = store::transition::<R>(&mut conn, &actor, scope, id, to, note).await?;
    super::ok(&moved)
}

/// `GET /{collection}/{id}/transitions`: the moves of a record of
/// `resource` in the caller's scope.
pub async fn history<R: Moving + Record>(
    call: &Call,
    resource: Resource,
    id: Uuid,
) -> AppResult<HttpResponse> {
    let scope = may(&call.ctx.caller, resource, Action::Read)?;
    let mut conn = call.conn().await?;
    R::find(&mut conn, scope, id).await?;
    lifecycle::history(&mut conn, &call.ctx.caller, R::KIND, id).await
}

/// Serves the two endpoints of a lifecycle, `POST` and `GET
/// {path}/transitions`, with their OpenAPI documentation, for a [`Moving`]
/// record of role-table row `$resource`.
#[macro_export]
macro_rules! lifecycle_routes {
    (
        $record:ident, tag = $tag:literal, resource = $resource:ident, path = $path:literal,
        move = $move:ident($move_doc:literal),
        history = $history:ident($history_doc:literal) $(,)?
    ) => {
        $crate::endpoint! {
            #[doc = $move_doc]
            post $path, tag = $tag, body = $crate::lifecycle::MoveInput, params(("id" = uuid::Uuid, Path)),
            ok((status = 200, body = $record)),
            fails[404, 409: "Illegal move (`allowed` lists the legal ones), or a rule of the move", 422];
            async fn $move(
                call: Call,
                id: actix_web::web::Path<uuid::Uuid>,
                body: actix_web::web::Json<$crate::lifecycle::MoveInput>,
            ) -> $crate::api::Answer {
                use $crate::auth::policy::Resource;
                let body = body.into_inner();
                $crate::api::collection::move_to::<$record>(&call, Resource::$resource, *id, body).await
            }
        }

        $crate::endpoint! {
            #[doc = $history_doc]
            get $path, tag = $tag, params(("id" = uuid::Uuid, Path)),
            ok((status = 200, body = $crate::api::list::Items<$crate::lifecycle::Move>, description = "The moves, oldest first")),
            fails[404];
            async fn $history(call: Call, id: actix_web::web::Path<uuid::Uuid>) -> $crate::api::Answer {
                use $crate::auth::policy::Resource;
                $crate::api::collection::history::<$record>(&call, Resource::$resource, *id).await
            }
        }
    };
}

/// Serves the five endpoints of a [`Collection`] with their OpenAPI
/// documentation: one handler each, named as given, that calls the function
/// of this module of the same job; with `lifecycle = Row at "path": move(..),
/// history(..)`, the two of its lifecycle too ([`lifecycle_routes!`], `Row`
/// naming its role-table row). `serve = name(extra, ...)` writes `pub fn
/// name`, which registers the extra handlers, then these. The calling
/// module imports actix's `get`, `post`, `patch` and `delete` route
/// attributes.
#[macro_export]
macro_rules! collection_routes {
    (
        $record:ident, $input:ident, tag = $tag:literal,
        paths = ($path:literal, $item:literal), serve = $serve:ident($($extra:path),* $(,)?),
        list = $list:ident($list_doc:literal, $list_about:literal $(, $param:tt)* $(,)?),
        create = $create:ident($create_doc:literal),
        get = $get:ident($get_doc:literal),
        update = $update:ident($update_doc:literal),
        delete = $delete:ident($delete_doc:literal)
        $(, lifecycle = $resource:ident at $moves:literal:
            $move:ident($move_doc:literal), $history:ident($history_doc:literal))? $(,)?
    ) => {
        /// Routes of this collection.
        pub fn $serve(cfg: &mut actix_web::web::ServiceConfig) {
            $(cfg.service($extra);)*
            cfg.service($list).service($create).service($get).service($update).service($delete);
            $(cfg.service($move).service($history);)?
        }

        $($crate::lifecycle_routes!(
            $record, tag = $tag, resource = $resource, path = $moves,
            move = $move($move_doc), history = $history($history_doc),
        );)?

        $crate::endpoint! {
            #[doc = $list_doc]
            get $path, tag = $tag, params($crate::api::list::CommonListParams $(, $param)*),
            ok((status = 200, body = $crate::api::list::Page<$record>, description = $list_about)),
            fails[422];
            async fn $list(call: Call, query: $crate::api::list::ListQuery) -> $crate::api::Answer {
                $crate::api::collection::list::<$record>(&call, query).await
            }
        }

        $crate::endpoint! {
            #[doc = $create_doc]
            post $path, tag = $tag, body = $input,
            params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer for 24 h")),
            ok((status = 201, body = $record, headers(("Location" = String), ("ETag" = String)))),
            fails[400, 409, 413, 415, 422];
            async fn $create(call: Call, body: actix_web::web::Json<$input>) -> $crate::api::Answer {
                $crate::api::collection::create::<$record>(&call, body.into_inner()).await
            }
        }

        $crate::endpoint! {
            #[doc = $get_doc]
            get $item, tag = $tag, params(("id" = uuid::Uuid, Path), ("If-None-Match" = Option<String>, Header)),
            ok((status = 200, body = $record, headers(("ETag" = String))), (status = 304, description = "Not modified")),
            fails[404];
            async fn $get(call: Call, id: actix_web::web::Path<uuid::Uuid>) -> $crate::api::Answer {
                $crate::api::collection::get::<$record>(&call, *id).await
            }
        }

        $crate::endpoint! {
            #[doc = $update_doc]
            patch $item, tag = $tag, body = $input,
            params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header, description = "The ETag read; 412 if stale")),
            ok((status = 200, body = $record, headers(("ETag" = String)))),
            fails[400, 404, 409, 412, 422];
            async fn $update(
                call: Call,
                id: actix_web::web::Path<uuid::Uuid>,
                body: actix_web::web::Json<$input>,
            ) -> $crate::api::Answer {
                $crate::api::collection::update::<$record>(&call, *id, body.into_inner()).await
            }
        }

        $crate::endpoint! {
            #[doc = $delete_doc]
            delete $item, tag = $tag, params(("id" = uuid::Uuid, Path), ("If-Match" = Option<String>, Header)),
            ok((status = 204, description = "Removed")),
            fails[404, 409: "Other records refer to it", 412];
            async fn $delete(call: Call, id: actix_web::web::Path<uuid::Uuid>) -> $crate::api::Answer {
                $crate::api::collection::delete::<$record>(&call, *id).await
            }
        }
    };
}
