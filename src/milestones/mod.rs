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
    store::{self, Record},
    ventures::model::Venture,
};
use model::{Milestone, MilestoneInput};

crate::endpoint! {
/// Lists a venture's milestones, soonest first.
get "/ventures/{id}/milestones", tag = "ventures",
params(("id" = Uuid, Path, description = "The venture"), CommonListParams),
ok((status = 200, body = Page<Milestone>)), fails[404], may = Venture Read as scope;
pub(crate) async fn list_milestones(call: Call, id: web::Path<Uuid>, query: ListQuery) -> Answer {
    let params = ListParams::parse(query.into_inner(), &repo::LIST).finish()?;
    let mut conn = call.conn().await?;
    let venture = Venture::find(&mut conn, scope, *id).await?;
    api::page(&repo::list(&mut conn, &params, venture.id).await?)
}
}

crate::endpoint! {
/// Adds a milestone to a venture.
post "/ventures/{id}/milestones", tag = "ventures", body = MilestoneInput,
params(("id" = Uuid, Path, description = "The venture")),
ok((status = 201, body = Milestone)), fails[404, 422], may = Venture Update as scope;
pub(crate) async fn create_milestone(
    call: Call,
    id: web::Path<Uuid>,
    body: web::Json<MilestoneInput>,
) -> Answer {
    let new = body.into_inner().read_new(*id)?;
    let mut conn = call.conn().await?;
    Venture::find(&mut conn, scope, *id).await?;
    let created =
        store::create::<Milestone>(&mut conn, &Actor::from(&call.ctx), scope, new).await?;
    api::created(format!("/api/v1/ventures/{}/milestones", *id), &created)
}
}

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_milestones).service(create_milestone);
}
