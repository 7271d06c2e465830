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
    auth::Call,
    cohorts::repo as cohorts,
    error::Problem,
    store,
};
use model::{MarkInput, Session, SessionInput, SessionWithAttendance};

/// Lists the sessions of a cohort, earliest first.
#[utoipa::path(
    tag = "sessions",
    params(("id" = Uuid, Path, description = "The cohort"), CommonListParams),
    responses(
        (status = 200, body = Page<Session>),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/cohorts/{id}/sessions")]
async fn list_sessions(call: Call, id: web::Path<Uuid>, query: ListQuery) -> Answer {
    may(&call.ctx.caller, Resource::Session, Action::Read)?;
    let params = ListParams::parse(query.into_inner(), &repo::LIST).finish()?;
    let mut conn = call.conn().await?;
    cohorts::get(&mut conn, *id).await?;
    api::page(&repo::list(&mut conn, &params, *id).await?)
}

/// Schedules a session of a cohort.
#[utoipa::path(
    tag = "sessions",
    request_body = SessionInput,
    params(("id" = Uuid, Path, description = "The cohort")),
    responses(
        (status = 201, body = Session, headers(("Location" = String))),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/cohorts/{id}/sessions")]
async fn create_session(call: Call, id: web::Path<Uuid>, body: web::Json<SessionInput>) -> Answer {
    let scope = may(&call.ctx.caller, Resource::Session, Action::Create)?;
    let new = body.into_inner().read_new(*id)?;
    let mut conn = call.conn().await?;
    let created = store::create::<Session>(&mut conn, &Actor::from(&call.ctx), scope, new).await?;
    api::created(format!("/api/v1/sessions/{}", created.id), &created)
}

/// Reads a session with its attendance.
#[utoipa::path(
    tag = "sessions",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = SessionWithAttendance),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/sessions/{id}")]
async fn get_session(call: Call, id: web::Path<Uuid>) -> Answer {
    may(&call.ctx.caller, Resource::Session, Action::Read)?;
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

/// Records attendance: one mark per accepted enrollment of the session's
/// cohort; marks given again replace the earlier ones. All or nothing.
#[utoipa::path(
    tag = "sessions",
    request_body = Vec<MarkInput>,
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = SessionWithAttendance),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem, description = "Every bad mark, as `[i].field`"),
    ),
    security(("bearer" = []))
)]
#[put("/sessions/{id}/attendance")]
async fn put_attendance(
    call: Call,
    id: web::Path<Uuid>,
    body: web::Json<Vec<MarkInput>>,
) -> Answer {
    let scope = may(&call.ctx.caller, Resource::Session, Action::Update)?;
    let mut conn = call.conn().await?;
    repo::mark(&mut conn, &Actor::from(&call.ctx), *id, body.into_inner()).await?;
    api::ok(&repo::with_attendance(&mut conn, scope, *id).await?)
}
/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_sessions)
        .service(create_session)
        .service(get_session)
        .service(put_attendance);
}
