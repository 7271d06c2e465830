//! The OpenAPI 3 document, generated from the handlers and types.

use serde_json::{json, Value};
use utoipa::{
    openapi::{
        schema::{ObjectBuilder, Type},
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
    Modify, OpenApi,
};

/// Endpoints under `/api/v1`.
#[derive(OpenApi)]
#[openapi(
    paths(
        crate::auth::routes::login,
        crate::auth::routes::refresh,
        crate::auth::routes::logout,
        crate::auth::routes::request_reset,
        crate::auth::routes::confirm_reset,
        crate::users::invitations::accept_invitation,
        crate::users::invitations::create_invitation,
        crate::users::invitations::get_invitation,
        crate::users::routes::me,
        crate::users::routes::update_me,
        crate::users::routes::list_users,
        crate::users::routes::get_user,
        crate::users::routes::update_user,
        crate::institutions::list_institutions,
        crate::institutions::create_institution,
        crate::institutions::get_institution,
        crate::institutions::update_institution,
        crate::institutions::delete_institution,
        crate::programmes::list_programs,
        crate::programmes::create_program,
        crate::programmes::get_program,
        crate::programmes::update_program,
        crate::programmes::delete_program,
        crate::cohorts::list_cohorts,
        crate::cohorts::create_cohort,
        crate::cohorts::get_cohort,
        crate::cohorts::update_cohort,
        crate::cohorts::delete_cohort,
        crate::cohorts::move_cohort,
        crate::cohorts::cohort_history,
        crate::trainees::list_trainees,
        crate::trainees::create_trainee,
        crate::trainees::get_trainee,
        crate::trainees::update_trainee,
        crate::trainees::delete_trainee,
        crate::trainees::journey::journey,
        crate::trainees::import::import,
        crate::enrollments::list_enrollments,
        crate::enrollments::list_all_enrollments,
        crate::enrollments::nominate,
        crate::enrollments::move_many,
        crate::enrollments::get_enrollment,
        crate::enrollments::move_enrollment,
        crate::enrollments::enrollment_history,
        crate::sessions::list_sessions,
        crate::sessions::create_session,
        crate::sessions::get_session,
        crate::sessions::put_attendance,
        crate::certificates::verify,
        crate::certificates::revoke,
        crate::incubators::list_incubators,
        crate::incubators::create_incubator,
        crate::incubators::get_incubator,
        crate::incubators::update_incubator,
        crate::incubators::delete_incubator,
        crate::ventures::list_ventures,
        crate::ventures::create_venture,
        crate::ventures::get_venture,
        crate::ventures::update_venture,
        crate::ventures::delete_venture,
        crate::ventures::move_venture,
        crate::ventures::venture_history,
        crate::milestones::list_milestones,
        crate::milestones::create_milestone,
        crate::service_requests::list_venture_requests,
        crate::service_requests::create_request,
        crate::service_requests::request_queue,
        crate::service_requests::update_request,
        crate::service_requests::move_request,
        crate::service_requests::request_history,
        crate::exchanges::list_agreements,
        crate::exchanges::create_agreement,
        crate::exchanges::get_agreement,
        crate::exchanges::update_agreement,
        crate::exchanges::agreement_usage,
        crate::exchanges::delete_agreement,
        crate::exchanges::agreement_history,
        crate::exchanges::delete_exchange,
        crate::exchanges::list_exchanges,
        crate::exchanges::propose_exchange,
        crate::exchanges::get_exchange,
        crate::exchanges::update_exchange,
        crate::exchanges::move_exchange,
        crate::exchanges::exchange_history,
        crate::stats::overview,
        crate::stats::enrollments_by,
        crate::stats::cohort,
        crate::stats::flows,
        crate::stats::incubators,
        crate::resources::list_resources,
        crate::resources::create_resource,
        crate::resources::get_resource,
        crate::resources::update_resource,
        crate::resources::delete_resource,
        crate::resources::move_resource,
        crate::resources::resource_history,
        crate::resources::public_resources,
        crate::resources::public_resource,
        crate::resources::cohort_resources,
        crate::resources::venture_resources,
        crate::resources::link_cohort,
        crate::resources::unlink_cohort,
        crate::resources::link_venture,
        crate::resources::unlink_venture,
        crate::resources::stats::knowledge,
        crate::webhooks::list_webhooks,
        crate::webhooks::create_webhook,
        crate::webhooks::get_webhook,
        crate::webhooks::update_webhook,
        crate::webhooks::delete_webhook,
        crate::webhooks::rotate_secret,
        crate::webhooks::list_deliveries,
        crate::webhooks::retry_delivery,
        crate::audit::routes::list_events,
        crate::deletions::list_deletions,
        crate::email::routes::list_notifications,
        crate::email::routes::get_notification,
        crate::email::routes::retry_notification,
    ),
    components(schemas(
        crate::error::Problem,
        crate::error::FieldError,
        crate::email::routes::DeliveryStatus
    )),
    modifiers(&BearerAuth)
)]
struct V1;

/// The whole document: operations at the root, the API under `/api/v1`.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Meridian API",
        description = "Cross-border AI capacity-building programmes: institutions, programmes, \
                       cohorts, trainees, incubators, ventures and talent exchanges. Errors are \
                       application/problem+json (RFC 9457)."
    ),
    paths(
        crate::ops::healthz,
        crate::ops::readyz,
        crate::ops::metrics,
        crate::problems::describe
    ),
    nest((path = "/api/v1", api = V1))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    /// The bearer scheme, and `ProblemType`: every `type` a problem answer
    /// may carry, so that clients can branch on them.
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let slugs = crate::error::AppError::problem_types()
            .into_iter()
            .map(|slug| format!("/problems/{slug}"));
        components.schemas.insert(
            "ProblemType".into(),
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(
                    "The `type` of a problem answer; 409 answers name their conflict.",
                ))
                .enum_values(Some(slugs))
                .into(),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "metrics_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("`metrics.token`, when the deployment sets one"))
                    .build(),
            ),
        );
    }
}

/// The document as served at `/api/v1/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("the document is JSON");
    if let Some(paths) = doc["paths"].as_object_mut() {
        for operation in paths.values_mut().filter_map(Value::as_object_mut) {
            for (method, op) in operation.iter_mut() {
                if method != "parameters" {
                    document_problems(op);
                }
            }
        }
    }
    serde_json::from_value(doc).expect("the document reads back")
}

/// Problems as the server sends them: `application/problem+json`, and the
/// refusals every operation may meet whatever its own rules (no valid
/// token; a body that is not JSON, too large or of another type; bad query
/// parameters).
fn document_problems(op: &mut Value) {
    let has_body = op.get("requestBody").is_some();
    let signed_in = op["security"].as_array().is_some_and(|s| !s.is_empty());
    let has_params = op["parameters"]
        .as_array()
        .is_some_and(|p| p.iter().any(|p| p["in"] != "header"));
    let Some(responses) = op["responses"].as_object_mut() else {
        return;
    };
    let problem = || json!({"$ref": "#/components/schemas/Problem"});
    let mut common: Vec<(&str, &str)> = Vec::new();
    if signed_in {
        common.push(("401", "No valid access token"));
    }
    if has_body {
        common.extend([
            ("400", "The body is not JSON of the expected shape"),
            ("413", "The body is too large"),
            ("415", "The body is not of a type the operation takes"),
            ("422", "Invalid fields"),
        ]);
    }
    if has_params || has_body {
        common.push(("422", "Invalid fields or query parameters"));
    }
    for (status, description) in common {
        responses
            .entry(status)
            .or_insert_with(|| json!({"description": description, "content": {}}));
    }
    for response in responses.values_mut() {
        let Some(content) = response.get_mut("content").and_then(Value::as_object_mut) else {
            continue;
        };
        let is_problem = content.is_empty()
            || content
                .get("application/json")
                .is_some_and(|c| c["schema"] == problem());
        if is_problem {
            content.remove("application/json");
            content.insert(
                "application/problem+json".into(),
                json!({"schema": problem()}),
            );
        }
    }
}
