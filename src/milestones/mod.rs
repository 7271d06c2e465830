//! Milestones of ventures: what an incubated venture means to reach, and
//! when. Under `/ventures/{id}/milestones`.

pub mod model;
pub mod repo;

use actix_web::{get, post, web};
use uuid::Uuid;

use crate::{
    api::{
        self,
        list::{CommonListParams, ListParams, ListQuery, Page},
        Answer,
    },
    audit::Actor,
    auth::policy::{may, Action, Resource},
    auth::Call,
    error::Problem,
    store::{self, Record},
    ventures::model::Venture,
};
use model::{Milestone, MilestoneInput};

/// Lists a venture's milestones, soonest first.
#[utoipa::path(
    tag = "ventures",
    params(("id" = Uuid, Path, description = "The venture"), CommonListParams),
    responses((status = 200, body = Page<Milestone>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
#[get("/ventures/{id}/milestones")]
pub(crate) async fn list_milestones(call: Call, id: web::Path<Uuid>, query: ListQuery) -> Answer {
    let scope = may(&call.ctx.caller, Resource::Venture, Action::Read)?;
    let params = ListParams::parse(query.into_inner(), &repo::LIST).finish()?;
    let mut conn = call.conn().await?;
    let venture = Venture::find(&mut conn, scope, *id).await?;
    api::page(&repo::list(&mut conn, &params, venture.id).await?)
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
    call: Call,
    id: web::Path<Uuid>,
    body: web::Json<MilestoneInput>,
) -> Answer {
    let scope = may(&call.ctx.caller, Resource::Venture, Action::Update)?;
    let new = body.into_inner().read_new(*id)?;
    let mut conn = call.conn().await?;
    Venture::find(&mut conn, scope, *id).await?;
    let created =
        store::create::<Milestone>(&mut conn, &Actor::from(&call.ctx), scope, new).await?;
    api::created(format!("/api/v1/ventures/{}/milestones", *id), &created)
}

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_milestones).service(create_milestone);
}
