//! Sessions of a cohort and the attendance taken at them.

use actix_web::{get, post, put, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use diesel::{ExpressionMethods, QueryDsl, Queryable, Selectable, SelectableHelper};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    api::{
        self,
        input::{Checker, Field, Unknown},
        list::{self, CommonListParams, ListParams, ListQuery, ListSpec, Page, SortField},
        Versioned,
    },
    audit,
    auth::{
        policy::{may, Action, Resource, Scope},
        scope::Scoped,
        Ctx, Principal,
    },
    cohorts::repo as cohorts,
    enrollments::model::EnrollmentStatus,
    error::{AppError, AppResult, Problem},
    schema::{attendance, enrollments, sessions},
    state::AppState,
    types::Name,
};

/// A session of a cohort.
#[derive(Debug, Clone, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id: Uuid,
    pub cohort_id: Uuid,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

impl Versioned for Session {
    fn version(&self) -> i32 {
        self.version
    }
}

crate::text_enum! {
    /// Whether a trainee came.
    pub enum AttendanceStatus {
        Present,
        Absent,
        /// Counts as neither present nor held.
        Excused,
    }
}

/// One attendance mark.
#[derive(Debug, Clone, Serialize, Queryable, Selectable, ToSchema)]
#[diesel(table_name = attendance)]
pub struct Mark {
    pub enrollment_id: Uuid,
    pub status: AttendanceStatus,
    pub marked_at: DateTime<Utc>,
    pub marked_by: Option<Uuid>,
}

/// The body of `POST /cohorts/{id}/sessions`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SessionInput {
    #[serde(default)]
    title: Field<Name>,
    #[serde(default)]
    #[schema(value_type = String, format = DateTime)]
    starts_at: Field<DateTime<Utc>>,
    #[serde(default)]
    #[schema(value_type = String, format = DateTime)]
    ends_at: Field<DateTime<Utc>>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

/// One member of the body of `PUT /sessions/{id}/attendance`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MarkInput {
    #[serde(default)]
    enrollment_id: Field<Uuid>,
    #[serde(default)]
    status: Field<AttendanceStatus>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

static LIST: ListSpec = ListSpec {
    sorts: &[SortField::new("starts_at", "timestamptz")],
    default_sort: "starts_at",
    search: &["title"],
    filters: &[],
    updated_column: Some("updated_at"),
};

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
async fn list_sessions(
    state: web::Data<AppState>,
    caller: Principal,
    id: web::Path<Uuid>,
    query: ListQuery,
) -> AppResult<HttpResponse> {
    may(&caller, Resource::Session, Action::Read)?;
    let params = ListParams::parse(query.into_inner(), &LIST).finish()?;
    let mut conn = state.pool.get().await?;
    cohorts::get(&mut conn, *id).await?;
    let cohort_id = *id;
    let build = || {
        sessions::table
            .select(Session::as_select())
            .filter(sessions::cohort_id.eq(cohort_id))
            .into_boxed()
    };
    api::ok(&list::fetch(&mut conn, &params, build, |s: Session| s).await?)
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
async fn create_session(
    state: web::Data<AppState>,
    ctx: Ctx,
    id: web::Path<Uuid>,
    body: web::Json<SessionInput>,
) -> AppResult<HttpResponse> {
    may(&ctx.caller, Resource::Session, Action::Create)?;
    let body = body.into_inner();
    let mut c = Checker::new(&body.unknown);
    let title = c.required("title", body.title);
    let starts_at = c.required("starts_at", body.starts_at);
    let ends_at = c.required("ends_at", body.ends_at);
    if let (Some(s), Some(e)) = (starts_at, ends_at) {
        c.ensure(s < e, "ends_at", "must be after starts_at");
    }
    let (title, starts_at, ends_at) = c.finish(|| Some((title?, starts_at?, ends_at?)))?;
    let cohort_id = *id;
    let mut conn = state.pool.get().await?;
    let created = conn
        .transaction(async |conn| {
            cohorts::lock(conn, cohort_id).await?;
            let s: Session = diesel::insert_into(sessions::table)
                .values((
                    sessions::id.eq(Uuid::now_v7()),
                    sessions::cohort_id.eq(cohort_id),
                    sessions::title.eq(title.into_inner()),
                    sessions::starts_at.eq(starts_at),
                    sessions::ends_at.eq(ends_at),
                ))
                .returning(Session::as_returning())
                .get_result(conn)
                .await?;
            audit::record(conn, &ctx, "session", "create", s.id, audit::snapshot(&s)).await?;
            Ok::<_, AppError>(s)
        })
        .await?;
    api::created(format!("/api/v1/sessions/{}", created.id), &created)
}

/// A session and its attendance marks.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionWithAttendance {
    #[serde(flatten)]
    pub session: Session,
    pub attendance: Vec<Mark>,
}

impl Versioned for SessionWithAttendance {
    fn version(&self) -> i32 {
        self.session.version
    }
}

/// A session with the attendance marks of the enrollments in `scope`.
/// Marks follow their enrollment: partner staff see their institution's.
async fn with_attendance(
    conn: &mut AsyncPgConnection,
    scope: Scope,
    id: Uuid,
) -> AppResult<SessionWithAttendance> {
    let session: Session = sessions::table
        .find(id)
        .select(Session::as_select())
        .first(conn)
        .await?;
    let mut marks = attendance::table
        .filter(attendance::session_id.eq(id))
        .order(attendance::enrollment_id)
        .select(Mark::as_select())
        .into_boxed();
    if let Some(cond) = attendance::table::condition(scope) {
        marks = marks.filter(cond);
    }
    let marks: Vec<Mark> = marks.load(conn).await?;
    Ok(SessionWithAttendance {
        session,
        attendance: marks,
    })
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
async fn get_session(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    may(&caller, Resource::Session, Action::Read)?;
    let marks = may(&caller, Resource::Enrollment, Action::Read)?;
    let mut conn = state.pool.get().await?;
    api::record(&req, &with_attendance(&mut conn, marks, *id).await?)
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
    state: web::Data<AppState>,
    ctx: Ctx,
    id: web::Path<Uuid>,
    body: web::Json<Vec<MarkInput>>,
) -> AppResult<HttpResponse> {
    let scope = may(&ctx.caller, Resource::Session, Action::Update)?;
    let session_id = *id;
    let mut conn = state.pool.get().await?;
    let cohort_id: Uuid = sessions::table
        .find(session_id)
        .select(sessions::cohort_id)
        .first(&mut conn)
        .await?;
    let accepted: Vec<Uuid> = enrollments::table
        .filter(enrollments::cohort_id.eq(cohort_id))
        .filter(enrollments::status.eq_any([
            EnrollmentStatus::Accepted,
            EnrollmentStatus::Completed,
            EnrollmentStatus::NotCompleted,
        ]))
        .select(enrollments::id)
        .load(&mut conn)
        .await?;
    let mut c = Checker::default();
    let mut marks = Vec::new();
    for (i, m) in body.into_inner().into_iter().enumerate() {
        for key in m.unknown_keys() {
            c.error(&format!("[{i}].{key}"), "unknown field");
        }
        let enrollment = c.required(&format!("[{i}].enrollment_id"), m.enrollment_id);
        let status = c.required(&format!("[{i}].status"), m.status);
        if let Some(e) = enrollment {
            c.ensure(
                accepted.contains(&e),
                &format!("[{i}].enrollment_id"),
                "is not an accepted enrollment of this session's cohort",
            );
            if marks.iter().any(|(other, _)| *other == e) {
                c.error(&format!("[{i}].enrollment_id"), "is marked twice");
            }
        }
        if let (Some(e), Some(s)) = (enrollment, status) {
            marks.push((e, s));
        }
    }
    c.finish(|| Some(()))?;
    conn.transaction(async |conn| {
        for (enrollment_id, status) in &marks {
            diesel::insert_into(attendance::table)
                .values((
                    attendance::session_id.eq(session_id),
                    attendance::enrollment_id.eq(enrollment_id),
                    attendance::status.eq(status),
                    attendance::marked_by.eq(ctx.caller.user_id),
                ))
                .on_conflict((attendance::session_id, attendance::enrollment_id))
                .do_update()
                .set((
                    attendance::status.eq(status),
                    attendance::marked_at.eq(Utc::now()),
                    attendance::marked_by.eq(ctx.caller.user_id),
                ))
                .execute(conn)
                .await?;
        }
        let summary = json!({ "marks": marks.len() });
        audit::record(conn, &ctx, "session", "attendance", session_id, summary).await
    })
    .await?;
    api::ok(&with_attendance(&mut conn, scope, session_id).await?)
}

impl MarkInput {
    fn unknown_keys(&self) -> Vec<String> {
        self.unknown.keys()
    }
}

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_sessions)
        .service(create_session)
        .service(get_session)
        .service(put_attendance);
}
