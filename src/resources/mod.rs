//! `/resources`: the knowledge-sharing catalogue. Institutions share
//! courses, curricula, datasets, models, toolkits and papers under a licence;
//! coordinators link them to the cohorts and ventures that use them;
//! published public ones are readable without a token at
//! `/public/resources`.

pub mod model;
pub mod repo;
pub mod stats;

use actix_web::{delete, get, patch, post, put, web, HttpRequest, HttpResponse};
use uuid::Uuid;

use crate::{
    api::{
        self,
        collection::{Collection, Filter as _, Listing},
        list::{Items, ListParams, ListQuery, Page},
    },
    audit::Actor,
    auth::{
        policy::{may, Action, Resource, Scope},
        Call, Principal,
    },
    cohorts::model::Cohort,
    error::{AppResult, Problem},
    programmes::model::Theme,
    state::AppState,
    store::Record,
    ventures::model::Venture,
};
use model::{IpTerms, KnowledgeResource, ResourceInput, ResourceKind, ResourceStatus, Visibility};
use repo::{Filter, Holder};

crate::collection_routes!(
    KnowledgeResource, ResourceInput, tag = "resources",
    paths = ("/resources", "/resources/{id}"), serve = routes(public_resources, public_resource),
    list = list_resources(
        "Lists the catalogue: staff see every resource, others what is published and their own institution's.",
        "Sortable on created_at, updated_at, title; q searches title and description.",
        ("kind" = Option<ResourceKind>, Query),
        ("status" = Option<ResourceStatus>, Query),
        ("visibility" = Option<Visibility>, Query),
        ("ip_terms" = Option<IpTerms>, Query),
        ("licence" = Option<String>, Query, description = "An SPDX expression, as written"),
        ("owner_institution_id" = Option<Uuid>, Query),
        ("theme" = Option<Theme>, Query),
        ("language" = Option<String>, Query, description = "A BCP 47 tag the resource is in"),
    ),
    create = create_resource("Shares a resource, in `draft`. Partner staff share for their own institution."),
    get = get_resource("Reads a resource."),
    update = update_resource("Changes a resource (not its owner, not its status: see transitions)."),
    delete = delete_resource("Removes a resource no cohort or venture uses."),
    lifecycle = Knowledge at "/resources/{id}/transitions":
        move_resource("Moves a resource: draft → published → withdrawn; withdrawn → published. Withdrawing emails the coordinators of the cohorts that use it."),
        resource_history("The moves of a resource, oldest first."),
);

/// The catalogue as anyone reads it: published public resources, in a
/// page that any cache may keep for five minutes.
#[utoipa::path(
    tag = "resources",
    params(
        crate::api::list::CommonListParams,
        ("kind" = Option<ResourceKind>, Query),
        ("ip_terms" = Option<IpTerms>, Query),
        ("licence" = Option<String>, Query),
        ("owner_institution_id" = Option<Uuid>, Query),
        ("theme" = Option<Theme>, Query),
        ("language" = Option<String>, Query),
        ("If-None-Match" = Option<String>, Header),
    ),
    responses(
        (status = 200, body = Page<KnowledgeResource>, headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "Not modified"),
        (status = 422, body = Problem),
        (status = 429, body = Problem),
    )
)]
#[get("/public/resources")]
async fn public_resources(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: ListQuery,
) -> AppResult<HttpResponse> {
    let mut params = ListParams::parse(query.into_inner(), Filter::SPEC);
    let mut filter = Filter::read(&mut params);
    let params = params.finish()?;
    filter.status = None;
    filter.visibility = Some(Visibility::Public);
    let mut conn = state.pool.get().await?;
    let asked = Listing::new(Scope::Published(None), &params, &filter);
    let page = KnowledgeResource::list(&mut conn, asked).await?;
    api::public_page(&req, &page)
}

/// A published public resource, as anyone reads it.
#[utoipa::path(
    tag = "resources",
    params(("id" = Uuid, Path), ("If-None-Match" = Option<String>, Header)),
    responses(
        (status = 200, body = KnowledgeResource, headers(("ETag" = String), ("Cache-Control" = String))),
        (status = 304, description = "Not modified"),
        (status = 404, body = Problem),
        (status = 429, body = Problem),
    )
)]
#[get("/public/resources/{id}")]
async fn public_resource(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let mut conn = state.pool.get().await?;
    let resource = KnowledgeResource::find(&mut conn, Scope::Published(None), *id).await?;
    if resource.visibility != Visibility::Public {
        return Err(crate::error::AppError::NotFound);
    }
    api::public(&req, &resource)
}

/// 404 unless the cohort or venture exists and the caller may `action` it;
/// the caller's scope in the catalogue.
async fn holder_in_scope(
    conn: &mut diesel_async::AsyncPgConnection,
    caller: &Principal,
    holder: Holder,
    id: Uuid,
    action: Action,
) -> AppResult<()> {
    match holder {
        Holder::Cohort => {
            let scope = may(caller, Resource::Cohort, action)?;
            Cohort::find(conn, scope, id).await.map(drop)
        }
        Holder::Venture => {
            let scope = may(caller, Resource::Venture, action)?;
            Venture::find(conn, scope, id).await.map(drop)
        }
    }
}

async fn linked(call: &Call, holder: Holder, id: Uuid) -> AppResult<HttpResponse> {
    let caller = &call.ctx.caller;
    let mut conn = call.conn().await?;
    holder_in_scope(&mut conn, caller, holder, id, Action::Read).await?;
    let scope = may(caller, Resource::Knowledge, Action::Read)?;
    let items = repo::linked(&mut conn, scope, holder, id).await?;
    api::ok(&Items { items })
}

async fn relink(
    call: &Call,
    holder: Holder,
    (id, resource_id): (Uuid, Uuid),
    on: bool,
) -> AppResult<HttpResponse> {
    let mut conn = call.conn().await?;
    holder_in_scope(&mut conn, &call.ctx.caller, holder, id, Action::Update).await?;
    let actor = Actor::from(&call.ctx);
    repo::set_link(&mut conn, &actor, (holder, id), resource_id, on).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The routes of the resources a cohort or venture uses: their list, and a
/// link's `PUT` and `DELETE`, with their documentation; `pub fn $serve`
/// registers them.
macro_rules! holder_routes {
    (
        $holder:ident, $serve:ident, $list:ident($list_path:literal, $list_doc:literal),
        $link:ident($link_path:literal, $link_doc:literal), $unlink:ident($unlink_doc:literal)
    ) => {
        /// Routes of the resources a cohort or venture uses.
        pub fn $serve(cfg: &mut web::ServiceConfig) {
            cfg.service($list).service($link).service($unlink);
        }

        $crate::endpoint! {
            #[doc = $list_doc]
            get $list_path, tag = "resources", params(("id" = Uuid, Path)),
            ok((status = 200, body = Items<KnowledgeResource>)), fails[404];
            async fn $list(call: Call, id: web::Path<Uuid>) -> AppResult<HttpResponse> {
                linked(&call, Holder::$holder, *id).await
            }
        }

        $crate::endpoint! {
            #[doc = $link_doc]
            put $link_path, tag = "resources", params(("id" = Uuid, Path), ("resource_id" = Uuid, Path)),
            ok((status = 204, description = "Linked")), fails[404, 409: "The resource is not published"];
            async fn $link(call: Call, ids: web::Path<(Uuid, Uuid)>) -> AppResult<HttpResponse> {
                relink(&call, Holder::$holder, *ids, true).await
            }
        }

        $crate::endpoint! {
            #[doc = $unlink_doc]
            delete $link_path, tag = "resources", params(("id" = Uuid, Path), ("resource_id" = Uuid, Path)),
            ok((status = 204, description = "Unlinked")), fails[404];
            async fn $unlink(call: Call, ids: web::Path<(Uuid, Uuid)>) -> AppResult<HttpResponse> {
                relink(&call, Holder::$holder, *ids, false).await
            }
        }
    };
}

holder_routes!(
    Cohort,
    cohort_routes,
    cohort_resources(
        "/cohorts/{id}/resources",
        "The resources a cohort uses that the caller may read."
    ),
    link_cohort(
        "/cohorts/{id}/resources/{resource_id}",
        "Links a published resource to a cohort; linking twice changes nothing."
    ),
    unlink_cohort(
        "Unlinks a resource from a cohort; unlinking what is not linked changes nothing."
    )
);

holder_routes!(
    Venture,
    venture_routes,
    venture_resources(
        "/ventures/{id}/resources",
        "The resources a venture uses that the caller may read."
    ),
    link_venture(
        "/ventures/{id}/resources/{resource_id}",
        "Links a published resource to a venture; linking twice changes nothing."
    ),
    unlink_venture(
        "Unlinks a resource from a venture; unlinking what is not linked changes nothing."
    )
);
