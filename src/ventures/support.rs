//! What incubators give ventures: milestones to reach and service requests
//! (legal, technical, compute, ...) that move open → in_progress → resolved,
//! or declined.

use actix_web::{get, patch, post, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{ExpressionMethods, QueryDsl, Queryable, Selectable, SelectableHelper};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::model::Venture;
use crate::{
    api::{
        self, collection,
        input::{Checker, Field, Unknown},
        list::{self, CommonListParams, ListParams, ListQuery, ListSpec, Page, SortField},
        Versioned,
    },
    audit::{self},
    auth::{
        policy::{may, Action, Resource, Scope},
        scope, Ctx, Principal,
    },
    error::{AppError, AppResult, Problem},
    incubators::model::Service,
    lifecycle::{self, Lifecycle, Move, MoveInput},
    schema::{incubators, milestones, service_requests},
    state::AppState,
    store::{Kind, Moving, Record},
    types::{LongText, Name},
};

crate::text_enum! {
    /// open → in_progress, declined; in_progress → resolved, declined.
    pub enum RequestStatus {
        Open,
        InProgress,
        Resolved,
        Declined,
    }
}

impl Lifecycle for RequestStatus {
    fn next(self) -> &'static [Self] {
        use RequestStatus::*;
        match self {
            Open => &[InProgress, Declined],
            InProgress => &[Resolved, Declined],
            Resolved | Declined => &[],
        }
    }
}

/// A milestone of a venture.
#[derive(Debug, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = milestones)]
pub struct Milestone {
    pub id: Uuid,
    pub venture_id: Uuid,
    pub title: String,
    pub due_on: NaiveDate,
    pub achieved_on: Option<NaiveDate>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

impl Versioned for Milestone {
    fn version(&self) -> i32 {
        self.version
    }
}

/// A venture's request for one of its incubator's services.
#[derive(Debug, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = service_requests)]
pub struct ServiceRequest {
    pub id: Uuid,
    pub venture_id: Uuid,
    pub service: Service,
    pub description: String,
    pub status: RequestStatus,
    pub assignee_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

impl Versioned for ServiceRequest {
    fn version(&self) -> i32 {
        self.version
    }
}

impl Kind for ServiceRequest {
    const KIND: &'static str = "service_request";
}

/// Service requests move as the incubator's staff work on them.
impl Moving for ServiceRequest {
    type State = RequestStatus;
    type Held = ();

    fn state(&self) -> RequestStatus {
        self.status
    }

    async fn lock_for_move(
        conn: &mut AsyncPgConnection,
        _: Scope,
        id: Uuid,
    ) -> AppResult<(Self, ())> {
        let current = service_requests::table
            .find(id)
            .select(ServiceRequest::as_select())
            .for_update()
            .first(conn)
            .await?;
        Ok((current, ()))
    }

    async fn set_state(
        conn: &mut AsyncPgConnection,
        before: &Self,
        to: RequestStatus,
        _: Option<&str>,
    ) -> AppResult<Self> {
        Ok(diesel::update(service_requests::table.find(before.id))
            .set(service_requests::status.eq(to))
            .returning(ServiceRequest::as_returning())
            .get_result(conn)
            .await?)
    }
}

static MILESTONES: ListSpec = ListSpec {
    sorts: &[SortField::new("due_on", "date")],
    default_sort: "due_on",
    search: &["title"],
    filters: &[],
    updated_column: Some("updated_at"),
};

/// Lists a venture's milestones, soonest first.
#[utoipa::path(
    tag = "ventures",
    params(("id" = Uuid, Path, description = "The venture"), CommonListParams),
    responses((status = 200, body = Page<Milestone>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/ventures/{id}/milestones")]
pub(crate) async fn list_milestones(
    state: web::Data<AppState>,
    caller: Principal,
    id: web::Path<Uuid>,
    query: ListQuery,
) -> AppResult<HttpResponse> {
    let scope = may(&caller, Resource::Venture, Action::Read)?;
    let params = ListParams::parse(query.into_inner(), &MILESTONES).finish()?;
    let mut conn = state.pool.get().await?;
    let venture_id = Venture::find(&mut conn, scope, *id).await?.id;
    let build = || {
        milestones::table
            .select(Milestone::as_select())
            .filter(milestones::venture_id.eq(venture_id))
            .into_boxed()
    };
    api::ok(&list::fetch(&mut conn, &params, build, |m: Milestone| m).await?)
}

/// The body of `POST /ventures/{id}/milestones`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MilestoneInput {
    #[serde(default)]
    title: Field<Name>,
    #[serde(default)]
    due_on: Field<NaiveDate>,
    #[serde(default)]
    achieved_on: Field<NaiveDate>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

/// Adds a milestone to a venture.
#[utoipa::path(
    tag = "ventures",
    request_body = MilestoneInput,
    params(("id" = Uuid, Path, description = "The venture")),
    responses((status = 201, body = Milestone), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[post("/ventures/{id}/milestones")]
pub(crate) async fn create_milestone(
    state: web::Data<AppState>,
    ctx: Ctx,
    id: web::Path<Uuid>,
    body: web::Json<MilestoneInput>,
) -> AppResult<HttpResponse> {
    let scope = may(&ctx.caller, Resource::Venture, Action::Update)?;
    let body = body.into_inner();
    let mut c = Checker::new(&body.unknown);
    let title = c.required("title", body.title);
    let due_on = c.required("due_on", body.due_on);
    let achieved_on = c.optional("achieved_on", body.achieved_on);
    let (title, due_on) = c.finish(|| Some((title?, due_on?)))?;
    let venture_id = *id;
    let mut conn = state.pool.get().await?;
    Venture::find(&mut conn, scope, venture_id).await?;
    let created = conn
        .transaction(async |conn| {
            let m: Milestone = diesel::insert_into(milestones::table)
                .values((
                    milestones::id.eq(Uuid::now_v7()),
                    milestones::venture_id.eq(venture_id),
                    milestones::title.eq(title.into_inner()),
                    milestones::due_on.eq(due_on),
                    milestones::achieved_on.eq(achieved_on),
                ))
                .returning(Milestone::as_returning())
                .get_result(conn)
                .await?;
            audit::record(conn, &ctx, "milestone", "create", m.id, audit::snapshot(&m)).await?;
            Ok::<_, AppError>(m)
        })
        .await?;
    api::created(
        format!("/api/v1/ventures/{venture_id}/milestones"),
        &created,
    )
}

static REQUESTS: ListSpec = ListSpec {
    sorts: &[
        SortField::new("created_at", "timestamptz"),
        SortField::new("updated_at", "timestamptz"),
    ],
    default_sort: "created_at",
    search: &["description"],
    filters: &["status", "service"],
    updated_column: Some("updated_at"),
};

type RequestQuery = service_requests::BoxedQuery<
    'static,
    diesel::pg::Pg,
    diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<ServiceRequest, diesel::pg::Pg>>,
>;

/// Service requests, of one venture or all, narrowed by the list filters.
fn requests(
    venture_id: Option<Uuid>,
    status: Option<RequestStatus>,
    service: Option<Service>,
) -> RequestQuery {
    let mut q = service_requests::table
        .select(ServiceRequest::as_select())
        .into_boxed();
    if let Some(v) = venture_id {
        q = q.filter(service_requests::venture_id.eq(v));
    }
    if let Some(s) = status {
        q = q.filter(service_requests::status.eq(s));
    }
    if let Some(s) = service {
        q = q.filter(service_requests::service.eq(s));
    }
    q
}

/// Lists a venture's service requests.
#[utoipa::path(
    tag = "ventures",
    params(("id" = Uuid, Path, description = "The venture"), CommonListParams, ("status" = Option<RequestStatus>, Query), ("service" = Option<Service>, Query)),
    responses((status = 200, body = Page<ServiceRequest>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/ventures/{id}/service-requests")]
pub(crate) async fn list_venture_requests(
    state: web::Data<AppState>,
    caller: Principal,
    id: web::Path<Uuid>,
    query: ListQuery,
) -> AppResult<HttpResponse> {
    let scope = may(&caller, Resource::Venture, Action::Read)?;
    let mut params = ListParams::parse(query.into_inner(), &REQUESTS);
    let (status, service) = (params.filter("status"), params.filter("service"));
    let params = params.finish()?;
    let mut conn = state.pool.get().await?;
    let venture_id = Venture::find(&mut conn, scope, *id).await?.id;
    let build = || requests(Some(venture_id), status, service);
    api::ok(&list::fetch(&mut conn, &params, build, |r: ServiceRequest| r).await?)
}

/// The coordinators' queue: service requests across incubators, oldest
/// first (filter `status=open` for what waits).
#[utoipa::path(
    tag = "ventures",
    params(CommonListParams, ("status" = Option<RequestStatus>, Query), ("service" = Option<Service>, Query)),
    responses((status = 200, body = Page<ServiceRequest>), (status = 401, body = Problem), (status = 403, body = Problem)),
    security(("bearer" = []))
)]
#[get("/service-requests")]
pub(crate) async fn request_queue(
    state: web::Data<AppState>,
    caller: Principal,
    query: ListQuery,
) -> AppResult<HttpResponse> {
    may(&caller, Resource::ServiceRequest, Action::Read)?;
    let mut params = ListParams::parse(query.into_inner(), &REQUESTS);
    let (status, service) = (params.filter("status"), params.filter("service"));
    let params = params.finish()?;
    let build = || requests(None, status, service);
    let mut conn = state.pool.get().await?;
    api::ok(&list::fetch(&mut conn, &params, build, |r: ServiceRequest| r).await?)
}

/// The body of a service request.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RequestInput {
    #[serde(default)]
    service: Field<Service>,
    #[serde(default)]
    description: Field<LongText>,
    #[serde(default)]
    assignee_id: Field<Uuid>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

/// Asks the incubator for one of the services it offers (422 otherwise).
#[utoipa::path(
    tag = "ventures",
    request_body = RequestInput,
    params(("id" = Uuid, Path, description = "The venture")),
    responses((status = 201, body = ServiceRequest), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[post("/ventures/{id}/service-requests")]
pub(crate) async fn create_request(
    state: web::Data<AppState>,
    ctx: Ctx,
    id: web::Path<Uuid>,
    body: web::Json<RequestInput>,
) -> AppResult<HttpResponse> {
    let scope = may(&ctx.caller, Resource::ServiceRequest, Action::Create)?;
    // The venture first: one out of scope answers 404 whatever the body.
    let mut conn = state.pool.get().await?;
    let venture = Venture::find(&mut conn, scope, *id).await?;
    let body = body.into_inner();
    let mut c = Checker::new(&body.unknown);
    let service = c.required("service", body.service);
    let description = c.required("description", body.description);
    let assignee = c.optional("assignee_id", body.assignee_id);
    let (service, description) = c.finish(|| Some((service?, description?)))?;
    if let Some(assignee) = assignee {
        require_assignee(&mut conn, &ctx.caller, assignee).await?;
    }
    let offered: Vec<String> = incubators::table
        .find(venture.incubator_id)
        .select(incubators::services)
        .first(&mut conn)
        .await?;
    if !offered.iter().any(|s| s == <&str>::from(service)) {
        return Err(AppError::invalid(
            "service",
            "is not offered by the venture's incubator",
        ));
    }
    let created = conn
        .transaction(async |conn| {
            let r: ServiceRequest = diesel::insert_into(service_requests::table)
                .values((
                    service_requests::id.eq(Uuid::now_v7()),
                    service_requests::venture_id.eq(venture.id),
                    service_requests::service.eq(service),
                    service_requests::description.eq(description.into_inner()),
                    service_requests::assignee_id.eq(assignee),
                ))
                .returning(ServiceRequest::as_returning())
                .get_result(conn)
                .await?;
            lifecycle::record(conn, &ctx, "service_request", r.id, "new", "open", None).await?;
            Ok::<_, AppError>(r)
        })
        .await?;
    api::created(format!("/api/v1/service-requests/{}", created.id), &created)
}

/// Reassigns a request or changes its description.
#[utoipa::path(
    tag = "ventures",
    request_body = RequestInput,
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ServiceRequest), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[patch("/service-requests/{id}")]
pub(crate) async fn update_request(
    state: web::Data<AppState>,
    ctx: Ctx,
    id: web::Path<Uuid>,
    body: web::Json<RequestInput>,
) -> AppResult<HttpResponse> {
    may(&ctx.caller, Resource::ServiceRequest, Action::Update)?;
    let body = body.into_inner();
    let mut c = Checker::new(&body.unknown);
    if !matches!(body.service, Field::Absent) {
        c.error("service", "cannot be changed");
    }
    let description = c.patch("description", body.description).into_option();
    let assignee = c
        .patch_nullable("assignee_id", body.assignee_id)
        .into_option();
    c.finish(|| Some(()))?;
    let request_id = *id;
    let mut conn = state.pool.get().await?;
    if let Some(Some(assignee)) = assignee {
        require_assignee(&mut conn, &ctx.caller, assignee).await?;
    }
    let updated = conn
        .transaction(async |conn| {
            let before: ServiceRequest = service_requests::table
                .find(request_id)
                .select(ServiceRequest::as_select())
                .for_update()
                .first(conn)
                .await?;
            let after: ServiceRequest = diesel::update(service_requests::table.find(request_id))
                .set((
                    service_requests::description.eq(description
                        .map(LongText::into_inner)
                        .unwrap_or(before.description.clone())),
                    service_requests::assignee_id.eq(assignee.unwrap_or(before.assignee_id)),
                ))
                .returning(ServiceRequest::as_returning())
                .get_result(conn)
                .await?;
            audit::record(
                conn,
                &ctx,
                "service_request",
                "update",
                request_id,
                audit::diff(&before, &after),
            )
            .await?;
            Ok::<_, AppError>(after)
        })
        .await?;
    api::ok(&updated)
}

/// 422 unless `id` names a user the caller may assign work to; one out of
/// scope answers exactly as one that does not exist.
async fn require_assignee(
    conn: &mut AsyncPgConnection,
    principal: &Principal,
    id: Uuid,
) -> AppResult<()> {
    if scope::assignee_in_scope(conn, principal, id).await? {
        Ok(())
    } else {
        Err(AppError::invalid(
            "assignee_id",
            "refers to a record that does not exist",
        ))
    }
}

/// Moves a service request.
#[utoipa::path(
    tag = "ventures",
    request_body = MoveInput,
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ServiceRequest), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)),
    security(("bearer" = []))
)]
#[post("/service-requests/{id}/transitions")]
pub(crate) async fn move_request(
    state: web::Data<AppState>,
    ctx: Ctx,
    id: web::Path<Uuid>,
    body: web::Json<MoveInput>,
) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    collection::move_to::<ServiceRequest>(&state, &ctx, Resource::ServiceRequest, *id, body).await
}

/// The moves of a service request, oldest first.
#[utoipa::path(
    tag = "ventures",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<Move>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/service-requests/{id}/transitions")]
pub(crate) async fn request_history(
    state: web::Data<AppState>,
    caller: Principal,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    may(&caller, Resource::ServiceRequest, Action::Read)?;
    let mut conn = state.pool.get().await?;
    service_requests::table
        .find(*id)
        .select(service_requests::id)
        .first::<Uuid>(&mut conn)
        .await?;
    lifecycle::history(&mut conn, &caller, "service_request", *id).await
}

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_milestones)
        .service(create_milestone)
        .service(list_venture_requests)
        .service(create_request)
        .service(request_queue)
        .service(update_request)
        .service(move_request)
        .service(request_history);
}
