//! Enrollments: partners nominate, coordinators decide, trainees may
//! withdraw. `/cohorts/{id}/enrollments` and `/enrollments/{id}`.

pub mod model;
pub mod repo;

use actix_web::{get, post, web, ResponseError};
use uuid::Uuid;

use crate::{
    api::{
        self,
        collection::{Filter, Listing},
        list::{CommonListParams, Items, ListParams, ListQuery, ListSpec, Page},
        Answer,
    },
    audit::Actor,
    auth::policy::{self, may, Resource},
    cohorts::repo as cohorts,
    lifecycle::{self, Move, MoveInput},
    store::{self, Within},
};
use model::{BulkMoveInput, BulkResult, Enrollment, EnrollmentStatus, NominationInput};

/// A cohort's enrollments: the filters of every enrollment but the cohort
/// and the trainee.
static LIST: ListSpec = ListSpec {
    filters: &["status", "institution_id"],
    ..*<repo::Filter as Filter>::SPEC
};

crate::endpoint! {
/// Lists a cohort's enrollments the caller may see.
get "/cohorts/{id}/enrollments", tag = "enrollments",
params(("id" = Uuid, Path, description = "The cohort"), CommonListParams, ("status" = Option<EnrollmentStatus>, Query), ("institution_id" = Option<Uuid>, Query)),
ok((status = 200, body = Page<Enrollment>)), fails[404, 422], may = Enrollment Read as scope;
async fn list_enrollments(call: Call, id: web::Path<Uuid>, query: ListQuery) -> Answer {
    let mut params = ListParams::parse(query.into_inner(), &LIST);
    let filter = repo::Filter {
        cohort_id: Some(*id),
        status: params.filter("status"),
        institution_id: params.filter("institution_id"),
        trainee_id: None,
    };
    let params = params.finish()?;
    let mut conn = call.lister().await?;
    cohorts::get(&mut conn, *id).await?;
    api::page(&repo::list(&mut conn, Listing::new(scope, &params, &filter)).await?)
}
}

crate::endpoint! {
/// Lists the enrollments the caller may see, across cohorts: for analysts'
/// exports (`Accept: text/csv` streams them all) and partners' overviews.
get "/enrollments", tag = "enrollments",
params(CommonListParams, ("status" = Option<EnrollmentStatus>, Query), ("institution_id" = Option<Uuid>, Query), ("cohort_id" = Option<Uuid>, Query), ("trainee_id" = Option<Uuid>, Query)),
ok((status = 200, body = Page<Enrollment>)), fails[422], may = Enrollment Read as scope;
async fn list_all_enrollments(call: Call, query: ListQuery) -> Answer {
    let mut params = ListParams::parse(query.into_inner(), repo::Filter::SPEC);
    let filter = repo::Filter::read(&mut params);
    let params = params.finish()?;
    let mut conn = call.lister().await?;
    api::page(&repo::list(&mut conn, Listing::new(scope, &params, &filter)).await?)
}
}

crate::endpoint! {
/// Nominates a trainee into a cohort that is open and inside its
/// nomination window. Partner staff nominate their own trainees.
post "/cohorts/{id}/enrollments", tag = "enrollments", body = NominationInput,
params(("id" = Uuid, Path, description = "The cohort"), ("Idempotency-Key" = Option<String>, Header)),
ok((status = 201, body = Enrollment, headers(("Location" = String)))), fails[404, 409: "nominations-closed, or the trainee is already in the cohort", 422], may = Enrollment Create as scope;
async fn nominate(call: Call, id: web::Path<Uuid>, body: web::Json<NominationInput>) -> Answer {
    let (trainee_id, motivation) = body.into_inner().parse()?;
    let mut conn = call.conn().await?;
    let created = repo::nominate(
        &mut conn,
        &Actor::from(&call.ctx),
        scope,
        *id,
        trainee_id,
        motivation,
    )
    .await?;
    api::created(format!("/api/v1/enrollments/{}", created.id), &created)
}
}

crate::endpoint! {
/// Reads an enrollment.
get "/enrollments/{id}", tag = "enrollments",
params(("id" = Uuid, Path), ("If-None-Match" = Option<String>, Header)),
ok((status = 200, body = Enrollment, headers(("ETag" = String))), (status = 304, description = "Not modified")), fails[404], may = Enrollment Read as scope;
async fn get_enrollment(call: Call, id: web::Path<Uuid>) -> Answer {
    let mut conn = call.conn().await?;
    api::record(&call.req, &repo::get(&mut conn, scope, *id).await?)
}
}

crate::endpoint! {
/// Moves an enrollment. Accepting checks seats (409 `cohort-full`) and the
/// institution quota (409 `institution-quota-reached`); completing checks
/// attendance (409 `attendance-too-low`) and issues the certificate;
/// withdrawing an accepted trainee promotes the waitlist.
post "/enrollments/{id}/transitions", tag = "enrollments", body = MoveInput,
params(("id" = Uuid, Path)),
ok((status = 200, body = Enrollment)), fails[404, 409, 422], may = Enrollment Read as read;
async fn move_enrollment(call: Call, id: web::Path<Uuid>, body: web::Json<MoveInput>) -> Answer {
    let (to, note) = body.into_inner().parse::<EnrollmentStatus>()?;
    let mut conn = call.conn().await?;
    let action = policy::enrollment_move(to == EnrollmentStatus::Withdrawn);
    let scope = match may(&call.ctx.caller, Resource::Enrollment, action) {
        Ok(scope) => scope,
        Err(refused) => {
            // Out of scope stays 404; in scope but not allowed is 403.
            repo::get(&mut conn, read, *id).await?;
            return Err(refused);
        }
    };
    let moved =
        store::transition::<Enrollment>(&mut conn, &Actor::from(&call.ctx), scope, *id, to, note)
            .await?;
    api::ok(&moved)
}
}

crate::endpoint! {
/// The moves of an enrollment, oldest first.
get "/enrollments/{id}/transitions", tag = "enrollments",
params(("id" = Uuid, Path)),
ok((status = 200, body = Items<Move>)), fails[404], may = Enrollment Read as scope;
async fn enrollment_history(call: Call, id: web::Path<Uuid>) -> Answer {
    let mut conn = call.conn().await?;
    repo::get(&mut conn, scope, *id).await?;
    lifecycle::history(&mut conn, &call.ctx.caller, repo::ENTITY, *id).await
}
}

crate::endpoint! {
/// Moves many enrollments of a cohort at once; each moves or fails on its
/// own, and the answer has a result per id.
post "/cohorts/{id}/enrollments/transitions", tag = "enrollments", body = BulkMoveInput,
params(("id" = Uuid, Path, description = "The cohort")),
ok((status = 200, body = Items<BulkResult>)), fails[404, 422], may = Enrollment Move as scope;
async fn move_many(call: Call, id: web::Path<Uuid>, body: web::Json<BulkMoveInput>) -> Answer {
    let (ids, to, note) = body.into_inner().parse()?;
    let cohort_id = *id;
    let mut conn = call.conn().await?;
    cohorts::get(&mut conn, cohort_id).await?;
    let actor = Actor::from(&call.ctx);
    let within = Within {
        scope,
        parent_id: Some(cohort_id),
    };
    let base = call.state.settings.public_base_url.trim_end_matches('/');
    let mut results = Vec::with_capacity(ids.len());
    for enrollment_id in ids {
        let outcome = store::transition::<Enrollment>(
            &mut conn,
            &actor,
            within,
            enrollment_id,
            to,
            note.clone(),
        )
        .await;
        results.push(match outcome {
            Ok(e) => BulkResult {
                id: enrollment_id,
                status: 200,
                enrollment: Some(e),
                problem: None,
            },
            Err(err) => {
                let mut problem = err.problem();
                problem.kind = format!("{base}{}", problem.kind);
                BulkResult {
                    id: enrollment_id,
                    status: err.status_code().as_u16(),
                    enrollment: None,
                    problem: Some(problem),
                }
            }
        });
    }
    api::ok(&Items { items: results })
}
}

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(list_enrollments)
        .service(list_all_enrollments)
        .service(nominate)
        .service(move_many)
        .service(get_enrollment)
        .service(move_enrollment)
        .service(enrollment_history);
}
