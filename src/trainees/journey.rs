//! `GET /trainees/{id}/journey`: one person across the programme, oldest
//! first: enrollments and their outcomes, certificates.

use actix_web::{get, web, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{
    sql_query,
    sql_types::{Date, Nullable, Text, Timestamptz, Uuid as SqlUuid},
    QueryableByName,
};
use diesel_async::RunQueryDsl;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::repo;
use crate::{
    api,
    auth::{
        policy::{authorize, people_scope, Action, Resource},
        Caller,
    },
    error::{AppResult, Problem},
    startup::AppState,
};

/// One step of a journey.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Step {
    /// A nomination into a cohort, and where it stands.
    Enrollment {
        at: DateTime<Utc>,
        enrollment_id: Uuid,
        cohort_id: Uuid,
        cohort_title: String,
        program_title: String,
        starts_on: NaiveDate,
        ends_on: NaiveDate,
        status: String,
    },
    /// A certificate earned by completing a cohort.
    Certificate {
        at: DateTime<Utc>,
        enrollment_id: Uuid,
        code: String,
        revoked_at: Option<DateTime<Utc>>,
    },
}

impl Step {
    fn at(&self) -> DateTime<Utc> {
        match self {
            Step::Enrollment { at, .. } | Step::Certificate { at, .. } => *at,
        }
    }
}

/// A trainee's path through the programme.
#[derive(Debug, Serialize, ToSchema)]
pub struct Journey {
    pub trainee_id: Uuid,
    pub institution_id: Uuid,
    pub steps: Vec<Step>,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
    #[diesel(sql_type = SqlUuid)]
    enrollment_id: Uuid,
    #[diesel(sql_type = SqlUuid)]
    cohort_id: Uuid,
    #[diesel(sql_type = Text)]
    cohort_title: String,
    #[diesel(sql_type = Text)]
    program_title: String,
    #[diesel(sql_type = Date)]
    starts_on: NaiveDate,
    #[diesel(sql_type = Date)]
    ends_on: NaiveDate,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Nullable<Text>)]
    code: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    issued_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    revoked_at: Option<DateTime<Utc>>,
}

/// The journey of a trainee.
#[utoipa::path(
    tag = "trainees",
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = Journey),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/trainees/{id}/journey")]
pub(crate) async fn journey(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    authorize(&caller, Resource::Trainee, Action::Read)?;
    let mut conn = state.pool.get().await?;
    let trainee = repo::get(&mut conn, people_scope(&caller), *id).await?;
    let rows: Vec<Row> = sql_query(
        "SELECT e.created_at, e.id AS enrollment_id, c.id AS cohort_id, c.title AS cohort_title, \
                p.title AS program_title, c.starts_on, c.ends_on, e.status, \
                ce.code, ce.issued_at, ce.revoked_at \
         FROM enrollments e JOIN cohorts c ON c.id = e.cohort_id JOIN programs p ON p.id = c.program_id \
         LEFT JOIN certificates ce ON ce.enrollment_id = e.id \
         WHERE e.trainee_id = $1 ORDER BY e.created_at, e.id",
    )
    .bind::<SqlUuid, _>(trainee.id)
    .load(&mut conn)
    .await?;
    let mut steps = Vec::with_capacity(rows.len() * 2);
    for r in rows {
        if let (Some(code), Some(issued_at)) = (r.code, r.issued_at) {
            steps.push(Step::Certificate {
                at: issued_at,
                enrollment_id: r.enrollment_id,
                code,
                revoked_at: r.revoked_at,
            });
        }
        steps.push(Step::Enrollment {
            at: r.created_at,
            enrollment_id: r.enrollment_id,
            cohort_id: r.cohort_id,
            cohort_title: r.cohort_title,
            program_title: r.program_title,
            starts_on: r.starts_on,
            ends_on: r.ends_on,
            status: r.status,
        });
    }
    steps.sort_by_key(Step::at);
    api::ok(&Journey {
        trainee_id: trainee.id,
        institution_id: trainee.institution_id,
        steps,
    })
}
