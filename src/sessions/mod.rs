//! Sessions of a cohort and the attendance taken at them:
//! `/cohorts/{id}/sessions`, `/sessions/{id}`, `/sessions/{id}/attendance`.

pub mod model;
pub mod repo;

use actix_web::{get, post, put, web};
use uuid::Uuid;

use crate::{
    api::{
        self,
        list::{CommonListParams, ListParams, ListQuery, Page},
        Answer,
    },
    audit::Actor,
    auth::policy::{may, Action, Resource},
    cohorts::repo as cohorts,
    store,
};
use model::{MarkInput, Session, SessionInput, SessionWithAttendance};

crate::endpoint! {
/// Lists the sessions of a cohort, earliest first.
get "/cohorts/{id}/sessions", tag = "sessions",
params(("id" = Uuid, Path, description = "The cohort"), CommonListParams),
ok((status = 200, body = Page<Session>)), fails[404], may = Session Read;
async fn list_sessions(call: Call, id: web::Path<Uuid>, query: ListQuery) -> Answer {
    let params = ListParams::parse(query.into_inner(), &repo::LIST).finish()?;
    let mut conn = call.conn().await?;
    cohorts::get(&mut conn, *id).await?;
    api::page(&repo::list(&mut conn, &params, *id).await?)
}
}

crate::endpoint! {
/// Schedules a session of a cohort.
post "/cohorts/{id}/sessions", tag = "sessions", body = SessionInput,
params(("id" = Uuid, Path, description = "The cohort")),
ok((status = 201, body = Session, headers(("Location" = String)))), fails[404, 422], may = Session Create as scope;
async fn create_session(call: Call, id: web::Path<Uuid>, body: web::Json<SessionInput>) -> Answer {
    let new = body.into_inner().read_new(*id)?;
    let mut conn = call.conn().await?;
    let created = store::create::<Session>(&mut conn, &Actor::from(&call.ctx), scope, new).await?;
    api::created(format!("/api/v1/sessions/{}", created.id), &created)
}
}

crate::endpoint! {
/// Reads a session with its attendance.
get "/sessions/{id}", tag = "sessions",
params(("id" = Uuid, Path)),
ok((status = 200, body = SessionWithAttendance)), fails[404], may = Session Read;
async fn get_session(call: Call, id: web::Path<Uuid>) -> Answer {
    let marks = may(&call.ctx.caller, Resource::Enrollment, Action::Read)?;
    let mut conn = call.conn().await?;
    let mut session = repo::with_attendance(&mut conn, marks, *id).await?;
    // Who took attendance is staff, whom partner staff may not read.
    if !call.ctx.caller.is_staff() {
        session
            .attendance
            .iter_mut()
            .for_each(|m| m.marked_by = None);
    }
    api::record(&call.req, &session)
}
}

crate::endpoint! {
/// Records attendance: one mark per accepted enrollment of the session's
/// cohort; marks given again replace the earlier ones. All or nothing.
put "/sessions/{id}/attendance", tag = "sessions", body = Vec<MarkInput>,
params(("id" = Uuid, Path)),
ok((status = 200, body = SessionWithAttendance)), fails[404, 422: "Every bad mark, as `[i].field`"], may = Session Update as scope;
async fn put_attendance(
    call: Call,
    id: web::Path<Uuid>,
    body: web::Json<Vec<MarkInput>>,
) -> Answer {
    let mut conn = call.conn().await?;
    repo::mark(&mut conn, &Actor::from(&call.ctx), *id, body.into_inner()).await?;
    api::ok(&repo::with_attendance(&mut conn, scope, *id).await?)
}
}
/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_sessions)
        .service(create_session)
        .service(get_session)
        .service(put_attendance);
}
