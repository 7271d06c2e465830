//! `GET /trainees/{id}/journey`: one person across the programme, oldest
//! first: enrollments and their outcomes, certificates, exchanges and the
//! ventures it founded with their jobs and funding; and the knowledge
//! resources of the cohorts it took.

use actix_web::{get, web};
use bigdecimal::BigDecimal;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::{
    sql_query,
    sql_types::{Date, Nullable, Text, Timestamptz, Uuid as SqlUuid},
    ExpressionMethods, PgArrayExpressionMethods, QueryDsl, QueryableByName, SelectableHelper,
};
use diesel_async::RunQueryDsl;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::model::Trainee;
use crate::{
    api::{self, Answer},
    auth::{
        policy::{may, Action, Resource, Scope},
        scope::Scoped,
    },
    exchanges::model::Exchange,
    resources::{self, model::ResourceKind},
    schema::{exchanges, ventures},
    store::Record,
    ventures::model::Venture,
};

/// One step of a journey.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Step {
    /// A nomination into a cohort, and where it stands.
    Enrollment {
        #[serde(serialize_with = "crate::api::stamp::utc")]
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
        #[serde(serialize_with = "crate::api::stamp::utc")]
        at: DateTime<Utc>,
        enrollment_id: Uuid,
        code: String,
        #[serde(serialize_with = "crate::api::stamp::utc")]
        revoked_at: Option<DateTime<Utc>>,
    },
    /// A move to another institution.
    Exchange {
        #[serde(serialize_with = "crate::api::stamp::utc")]
        at: DateTime<Utc>,
        exchange_id: Uuid,
        exchange_kind: String,
        sending_institution_id: Uuid,
        receiving_institution_id: Uuid,
        starts_on: NaiveDate,
        ends_on: NaiveDate,
        status: String,
    },
    /// A venture the trainee founded, with what it has achieved.
    Venture {
        #[serde(serialize_with = "crate::api::stamp::utc")]
        at: DateTime<Utc>,
        venture_id: Uuid,
        name: String,
        status: String,
        jobs_created: i32,
        /// US dollars, a decimal string.
        #[schema(value_type = String)]
        funding_raised_usd: BigDecimal,
    },
}

impl Step {
    fn at(&self) -> DateTime<Utc> {
        match self {
            Step::Enrollment { at, .. }
            | Step::Certificate { at, .. }
            | Step::Exchange { at, .. }
            | Step::Venture { at, .. } => *at,
        }
    }
}

/// A resource of a cohort the trainee took (was accepted into or
/// completed).
#[derive(Debug, Serialize, ToSchema)]
pub struct Material {
    pub cohort_id: Uuid,
    pub resource_id: Uuid,
    pub title: String,
    pub kind: ResourceKind,
    pub url: String,
    pub licence: String,
}

/// A trainee's path through the programme.
#[derive(Debug, Serialize, ToSchema)]
pub struct Journey {
    pub trainee_id: Uuid,
    pub institution_id: Uuid,
    pub steps: Vec<Step>,
    /// The materials of the cohorts it took that the reader may read.
    pub materials: Vec<Material>,
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

crate::endpoint! {
/// The journey of a trainee.
get "/trainees/{id}/journey", tag = "trainees",
params(("id" = Uuid, Path)),
ok((status = 200, body = Journey)), fails[404], may = Trainee Read as scope;
pub(crate) async fn journey(call: Call, id: web::Path<Uuid>) -> Answer {
    // Each part of the journey stays in the call.ctx.caller's scope of its kind: a
    // partner sees its own institution's enrollments of the trainee and the
    // exchanges its institution takes part in.
    let enrollment_scope = may(&call.ctx.caller, Resource::Enrollment, Action::Read)?;
    let exchange_scope = may(&call.ctx.caller, Resource::Exchange, Action::Read)?;
    let knowledge_scope = may(&call.ctx.caller, Resource::Knowledge, Action::Read)?;
    let mut conn = call.conn().await?;
    let trainee = Trainee::find(&mut conn, scope, *id).await?;
    let institution = match enrollment_scope {
        Scope::Institution(i) => Some(i),
        _ => None,
    };
    let rows: Vec<Row> = sql_query(
        "SELECT e.created_at, e.id AS enrollment_id, c.id AS cohort_id, c.title AS cohort_title, \
                p.title AS program_title, c.starts_on, c.ends_on, e.status, \
                ce.code, ce.issued_at, ce.revoked_at \
         FROM enrollments e JOIN cohorts c ON c.id = e.cohort_id JOIN programs p ON p.id = c.program_id \
         LEFT JOIN certificates ce ON ce.enrollment_id = e.id \
         WHERE e.trainee_id = $1 AND ($2::uuid IS NULL OR e.institution_id = $2) \
         ORDER BY e.created_at, e.id",
    )
    .bind::<SqlUuid, _>(trainee.id)
    .bind::<Nullable<SqlUuid>, _>(institution)
    .load(&mut conn)
    .await?;
    let taken: Vec<Uuid> = rows
        .iter()
        .filter(|r| matches!(r.status.as_str(), "accepted" | "completed"))
        .map(|r| r.cohort_id)
        .collect();
    let materials = resources::repo::of_cohorts(&mut conn, knowledge_scope, &taken)
        .await?
        .into_iter()
        .map(|(cohort_id, r)| Material {
            cohort_id,
            resource_id: r.id,
            title: r.title,
            kind: r.kind,
            url: r.url,
            licence: r.licence,
        })
        .collect();
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
    let mut moves = exchanges::table
        .filter(exchanges::trainee_id.eq(trainee.id))
        .select(Exchange::as_select())
        .into_boxed();
    if let Some(cond) = exchanges::table::condition(exchange_scope) {
        moves = moves.filter(cond);
    }
    let moves: Vec<Exchange> = moves.load(&mut conn).await?;
    steps.extend(moves.into_iter().map(|e| Step::Exchange {
        at: e.created_at,
        exchange_id: e.id,
        exchange_kind: <&str>::from(e.kind).to_string(),
        sending_institution_id: e.sending_institution_id,
        receiving_institution_id: e.receiving_institution_id,
        starts_on: e.starts_on,
        ends_on: e.ends_on,
        status: <&str>::from(e.status).to_string(),
    }));
    let founded: Vec<Venture> = ventures::table
        .filter(ventures::founder_trainee_ids.contains(vec![trainee.id]))
        .select(Venture::as_select())
        .load(&mut conn)
        .await?;
    steps.extend(founded.into_iter().map(|v| Step::Venture {
        at: v.created_at,
        venture_id: v.id,
        name: v.name,
        status: <&str>::from(v.status).to_string(),
        jobs_created: v.jobs_created,
        funding_raised_usd: v.funding_raised_usd,
    }));
    steps.sort_by_key(Step::at);
    api::ok(&Journey {
        trainee_id: trainee.id,
        institution_id: trainee.institution_id,
        steps,
        materials,
    })
}
}
