//! `/trainees`: the people partner institutions register and nominate.
//! Partner staff see and edit their own institution's; a trainee sees
//! itself and edits its contact details; viewers never see them.

pub mod import;
pub mod journey;
pub mod model;
pub mod repo;

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use uuid::Uuid;

use crate::{
    api::{
        self,
        list::{CommonListParams, ListParams, ListQuery, ListSpec, Page, SortField},
    },
    auth::{
        policy::{self, may, Action, Resource, Scope},
        Ctx, Principal,
    },
    error::{AppError, AppResult, Problem},
    state::AppState,
    types::CountryCode,
};
use model::{Gender, Trainee, TraineeInput};

static LIST: ListSpec = ListSpec {
    sorts: &[
        SortField {
            name: "created_at",
            column: "created_at",
            sql_type: "timestamptz",
        },
        SortField {
            name: "updated_at",
            column: "updated_at",
            sql_type: "timestamptz",
        },
        SortField {
            name: "family_name",
            column: "family_name",
            sql_type: "text",
        },
    ],
    default_sort: "created_at",
    search: &["given_name", "family_name", "email"],
    filters: &["institution_id", "nationality", "gender"],
    updated_column: Some("updated_at"),
};

/// Lists the trainees the caller may see.
#[utoipa::path(
    tag = "trainees",
    params(
        CommonListParams,
        ("institution_id" = Option<Uuid>, Query),
        ("nationality" = Option<String>, Query),
        ("gender" = Option<Gender>, Query),
    ),
    responses(
        (status = 200, body = Page<Trainee>, description = "Sortable on created_at, updated_at, family_name; q searches names and email."),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/trainees")]
async fn list_trainees(
    state: web::Data<AppState>,
    caller: Principal,
    query: ListQuery,
) -> AppResult<HttpResponse> {
    let scope = may(&caller, Resource::Trainee, Action::Read)?;
    let mut params = ListParams::parse(query.into_inner(), &LIST);
    let filter = repo::Filter {
        institution_id: params.filter("institution_id"),
        nationality: params
            .filter::<CountryCode>("nationality")
            .map(|c| c.as_str()),
        gender: params.filter("gender"),
    };
    let params = params.finish()?;
    let mut conn = state.pool.get().await?;
    api::ok(&repo::list(&mut conn, scope, &params, &filter).await?)
}

/// Registers a trainee. Partner staff register their own institution's.
#[utoipa::path(
    tag = "trainees",
    request_body = TraineeInput,
    params(("Idempotency-Key" = Option<String>, Header)),
    responses(
        (status = 201, body = Trainee, headers(("Location" = String), ("ETag" = String))),
        (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem, description = "The email is taken; `existing_id` names the record when the caller may see it"),
        (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[post("/trainees")]
async fn create_trainee(
    state: web::Data<AppState>,
    ctx: Ctx,
    body: web::Json<TraineeInput>,
) -> AppResult<HttpResponse> {
    let scope = may(&ctx.caller, Resource::Trainee, Action::Create)?;
    let own = match scope {
        Scope::Institution(i) => Some(i),
        _ => None,
    };
    let new = body.into_inner().into_new(own)?;
    if own.is_some_and(|i| i != new.institution_id) {
        return Err(AppError::Forbidden);
    }
    let mut conn = state.pool.get().await?;
    let created = repo::create(&mut conn, &ctx, scope, new).await?;
    api::created(format!("/api/v1/trainees/{}", created.id), &created)
}

/// Reads a trainee.
#[utoipa::path(
    tag = "trainees",
    params(("id" = Uuid, Path), ("If-None-Match" = Option<String>, Header)),
    responses(
        (status = 200, body = Trainee, headers(("ETag" = String))),
        (status = 304, description = "Not modified"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
    ),
    security(("bearer" = []))
)]
#[get("/trainees/{id}")]
async fn get_trainee(
    state: web::Data<AppState>,
    caller: Principal,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let scope = may(&caller, Resource::Trainee, Action::Read)?;
    let mut conn = state.pool.get().await?;
    api::record(&req, &repo::get(&mut conn, scope, *id).await?)
}

/// Changes a trainee. A trainee may change only its email and locale;
/// partner staff cannot move a trainee to another institution.
#[utoipa::path(
    tag = "trainees",
    request_body = TraineeInput,
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses(
        (status = 200, body = Trainee),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 412, body = Problem), (status = 422, body = Problem),
    ),
    security(("bearer" = []))
)]
#[patch("/trainees/{id}")]
async fn update_trainee(
    state: web::Data<AppState>,
    ctx: Ctx,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: web::Json<TraineeInput>,
) -> AppResult<HttpResponse> {
    let scope = may(&ctx.caller, Resource::Trainee, Action::Update)?;
    let expected = api::if_match(&req)?;
    let changes = body.into_inner().into_changes()?;
    let allowed = policy::may_change_trainee(
        &ctx.caller,
        changes.only_contact_details(),
        changes.institution_id,
    );
    let mut conn = state.pool.get().await?;
    if !allowed {
        // Out of scope stays 404; in scope but not allowed is 403.
        repo::get(&mut conn, scope, *id).await?;
        return Err(AppError::Forbidden);
    }
    api::record(
        &req,
        &repo::update(&mut conn, &ctx, scope, *id, expected, changes).await?,
    )
}

/// Removes a trainee that has no enrollments or account.
#[utoipa::path(
    tag = "trainees",
    params(("id" = Uuid, Path), ("If-Match" = Option<String>, Header)),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 412, body = Problem),
    ),
    security(("bearer" = []))
)]
#[delete("/trainees/{id}")]
async fn delete_trainee(
    state: web::Data<AppState>,
    ctx: Ctx,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> AppResult<HttpResponse> {
    let scope = may(&ctx.caller, Resource::Trainee, Action::Delete)?;
    let expected = api::if_match(&req)?;
    let mut conn = state.pool.get().await?;
    repo::delete(&mut conn, &ctx, scope, *id, expected).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    // Before `/trainees/{id}` routes, so that `import` is no id.
    cfg.service(import::import)
        .service(list_trainees)
        .service(create_trainee)
        .service(get_trainee)
        .service(update_trainee)
        .service(delete_trainee)
        .service(journey::journey);
}
