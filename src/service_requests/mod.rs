//! Service requests of ventures (legal, technical, compute, ...): partner
//! staff ask for their ventures, coordinators work the queue. Under
//! `/ventures/{id}/service-requests` and `/service-requests`.

pub mod model;
pub mod repo;

use actix_web::{get, patch, post, web, HttpResponse};
use uuid::Uuid;

use crate::{
    api::{
        self,
        collection::Filter as _,
        list::{self, CommonListParams, ListParams, ListQuery, Page},
        Answer,
    },
    audit::Actor,
    auth::policy::Scope,
    auth::Call,
    error::AppResult,
    incubators::model::Service,
    store::{self, Record},
    ventures::model::Venture,
};
use model::{RequestInput, RequestStatus, ServiceRequest};

/// A page of requests, of one venture (in the caller's scope) or of all.
async fn page(
    call: &Call,
    query: ListQuery,
    venture: Option<(Scope, Uuid)>,
) -> AppResult<HttpResponse> {
    let mut params = ListParams::parse(query.into_inner(), repo::Filter::SPEC);
    let filter = repo::Filter::read(&mut params);
    let params = params.finish()?;
    let mut conn = call.conn().await?;
    let venture_id = match venture {
        Some((scope, id)) => Some(Venture::find(&mut conn, scope, id).await?.id),
        None => None,
    };
    let build = || repo::filtered(&filter, venture_id);
    api::page(&list::fetch(&mut conn, &params, build, |r: ServiceRequest| r).await?)
}

crate::endpoint! {
/// Lists a venture's service requests.
get "/ventures/{id}/service-requests", tag = "ventures",
params(("id" = Uuid, Path, description = "The venture"), CommonListParams, ("status" = Option<RequestStatus>, Query), ("service" = Option<Service>, Query)),
ok((status = 200, body = Page<ServiceRequest>)), fails[404], may = Venture Read as scope;
pub(crate) async fn list_venture_requests(
    call: Call,
    id: web::Path<Uuid>,
    query: ListQuery,
) -> Answer {
    page(&call, query, Some((scope, *id))).await
}
}

crate::endpoint! {
/// The coordinators' queue: service requests across incubators, oldest
/// first (filter `status=open` for what waits).
get "/service-requests", tag = "ventures",
params(CommonListParams, ("status" = Option<RequestStatus>, Query), ("service" = Option<Service>, Query)),
ok((status = 200, body = Page<ServiceRequest>)), may = ServiceRequest Read;
pub(crate) async fn request_queue(call: Call, query: ListQuery) -> Answer {
    page(&call, query, None).await
}
}

crate::endpoint! {
/// Asks the incubator for one of the services it offers (422 otherwise).
post "/ventures/{id}/service-requests", tag = "ventures", body = RequestInput,
params(("id" = Uuid, Path, description = "The venture")),
ok((status = 201, body = ServiceRequest)), fails[404, 422], may = ServiceRequest Create as scope;
pub(crate) async fn create_request(
    call: Call,
    id: web::Path<Uuid>,
    body: web::Json<RequestInput>,
) -> Answer {
    // The venture first: one out of scope answers 404 whatever the body.
    let mut conn = call.conn().await?;
    let venture = Venture::find(&mut conn, scope, *id).await?;
    let new = body.into_inner().read_new(venture.id)?;
    let actor = Actor::from(&call.ctx);
    let created = store::create::<ServiceRequest>(&mut conn, &actor, scope, new).await?;
    api::created(format!("/api/v1/service-requests/{}", created.id), &created)
}
}

crate::endpoint! {
/// Reassigns a request or changes its description.
patch "/service-requests/{id}", tag = "ventures", body = RequestInput,
params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
ok((status = 200, body = ServiceRequest)), fails[404, 412, 422], may = ServiceRequest Update as scope;
pub(crate) async fn update_request(
    call: Call,
    id: web::Path<Uuid>,
    body: web::Json<RequestInput>,
) -> Answer {
    let expected = api::if_match(&call.req)?;
    let changes = body.into_inner().read_changes()?;
    let mut conn = call.conn().await?;
    let actor = Actor::from(&call.ctx);
    let updated =
        store::update::<ServiceRequest>(&mut conn, &actor, scope, *id, expected, changes).await?;
    api::record(&call.req, &updated)
}
}

crate::lifecycle_routes!(
    ServiceRequest, tag = "ventures", resource = ServiceRequest, path = "/service-requests/{id}/transitions",
    move = move_request("Moves a service request."),
    history = request_history("The moves of a service request, oldest first."),
);

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_venture_requests)
        .service(create_request)
        .service(request_queue)
        .service(update_request)
        .service(move_request)
        .service(request_history);
}
