//! The role matrix (docs/roles.md): every endpoint with every role. An
//! endpoint missing here fails the OpenAPI test; a role answered other than
//! the table says fails here.

use meridian::auth::Role;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{id, spawn_app_with_institution};

/// One endpoint and who may use it at all: `public` needs no token; else the
/// letters of the roles (Admin, Coordinator, Partner, Trainee, Viewer).
pub struct Endpoint {
    pub method: &'static str,
    pub path: &'static str,
    pub allowed: &'static str,
}

const fn e(method: &'static str, path: &'static str, allowed: &'static str) -> Endpoint {
    Endpoint {
        method,
        path,
        allowed,
    }
}

pub const ENDPOINTS: &[Endpoint] = &[
    e("get", "/healthz", "public"),
    e("get", "/readyz", "public"),
    e("get", "/metrics", "public"),
    e("get", "/problems/{slug}", "public"),
    e("post", "/api/v1/auth/login", "public"),
    e("post", "/api/v1/auth/refresh", "public"),
    e("post", "/api/v1/auth/logout", "public"),
    e("post", "/api/v1/auth/password-reset", "public"),
    e("post", "/api/v1/auth/password-reset/confirm", "public"),
    e("post", "/api/v1/auth/invitations/accept", "public"),
    e("get", "/api/v1/me", "ACPTV"),
    e("patch", "/api/v1/me", "ACPTV"),
    e("get", "/api/v1/users", "A"),
    e("get", "/api/v1/users/{id}", "A"),
    e("patch", "/api/v1/users/{id}", "A"),
    e("post", "/api/v1/invitations", "AC"),
    e("get", "/api/v1/invitations/{id}", "AC"),
    e("get", "/api/v1/institutions", "ACPV"),
    e("post", "/api/v1/institutions", "A"),
    e("get", "/api/v1/institutions/{id}", "ACPV"),
    e("patch", "/api/v1/institutions/{id}", "A"),
    e("delete", "/api/v1/institutions/{id}", "A"),
    e("get", "/api/v1/programs", "ACPV"),
    e("post", "/api/v1/programs", "AC"),
    e("get", "/api/v1/programs/{id}", "ACPV"),
    e("patch", "/api/v1/programs/{id}", "AC"),
    e("delete", "/api/v1/programs/{id}", "AC"),
    e("get", "/api/v1/cohorts", "ACPV"),
    e("post", "/api/v1/cohorts", "AC"),
    e("get", "/api/v1/cohorts/{id}", "ACPV"),
    e("patch", "/api/v1/cohorts/{id}", "AC"),
    e("delete", "/api/v1/cohorts/{id}", "AC"),
    e("post", "/api/v1/cohorts/{id}/transitions", "AC"),
    e("get", "/api/v1/cohorts/{id}/transitions", "ACPV"),
    e("get", "/api/v1/trainees", "ACPT"),
    e("post", "/api/v1/trainees", "ACP"),
    e("get", "/api/v1/trainees/{id}", "ACPT"),
    e("patch", "/api/v1/trainees/{id}", "ACPT"),
    e("delete", "/api/v1/trainees/{id}", "AC"),
    e("get", "/api/v1/trainees/{id}/journey", "ACPT"),
    e("post", "/api/v1/trainees/import", "ACP"),
    e("get", "/api/v1/cohorts/{id}/enrollments", "ACPT"),
    e("post", "/api/v1/cohorts/{id}/enrollments", "ACP"),
    e("post", "/api/v1/cohorts/{id}/enrollments/transitions", "AC"),
    e("get", "/api/v1/enrollments", "ACPT"),
    e("get", "/api/v1/enrollments/{id}", "ACPT"),
    e("post", "/api/v1/enrollments/{id}/transitions", "ACPT"),
    e("get", "/api/v1/enrollments/{id}/transitions", "ACPT"),
    e("get", "/api/v1/cohorts/{id}/sessions", "ACP"),
    e("post", "/api/v1/cohorts/{id}/sessions", "AC"),
    e("get", "/api/v1/sessions/{id}", "ACP"),
    e("put", "/api/v1/sessions/{id}/attendance", "AC"),
    e("get", "/api/v1/certificates/{code}", "public"),
    e("post", "/api/v1/certificates/{code}/revoke", "AC"),
    e("get", "/api/v1/incubators", "ACPV"),
    e("post", "/api/v1/incubators", "AC"),
    e("get", "/api/v1/incubators/{id}", "ACPV"),
    e("patch", "/api/v1/incubators/{id}", "AC"),
    e("delete", "/api/v1/incubators/{id}", "AC"),
    e("get", "/api/v1/ventures", "ACP"),
    e("post", "/api/v1/ventures", "AC"),
    e("get", "/api/v1/ventures/{id}", "ACP"),
    e("patch", "/api/v1/ventures/{id}", "AC"),
    e("delete", "/api/v1/ventures/{id}", "AC"),
    e("post", "/api/v1/ventures/{id}/transitions", "AC"),
    e("get", "/api/v1/ventures/{id}/transitions", "ACP"),
    e("get", "/api/v1/ventures/{id}/milestones", "ACP"),
    e("post", "/api/v1/ventures/{id}/milestones", "AC"),
    e("get", "/api/v1/ventures/{id}/service-requests", "ACP"),
    e("post", "/api/v1/ventures/{id}/service-requests", "ACP"),
    e("get", "/api/v1/service-requests", "AC"),
    e("patch", "/api/v1/service-requests/{id}", "AC"),
    e("post", "/api/v1/service-requests/{id}/transitions", "AC"),
    e("get", "/api/v1/service-requests/{id}/transitions", "AC"),
    e("get", "/api/v1/exchange-agreements", "ACP"),
    e("post", "/api/v1/exchange-agreements", "AC"),
    e("get", "/api/v1/exchange-agreements/{id}", "ACP"),
    e("patch", "/api/v1/exchange-agreements/{id}", "AC"),
    e("get", "/api/v1/exchange-agreements/{id}/usage", "ACP"),
    e("delete", "/api/v1/exchange-agreements/{id}", "AC"),
    e("get", "/api/v1/exchange-agreements/{id}/history", "ACP"),
    e("delete", "/api/v1/exchanges/{id}", "AC"),
    e("get", "/api/v1/exchanges", "ACPT"),
    e("post", "/api/v1/exchanges", "ACP"),
    e("get", "/api/v1/exchanges/{id}", "ACPT"),
    e("patch", "/api/v1/exchanges/{id}", "ACP"),
    e("post", "/api/v1/exchanges/{id}/transitions", "AC"),
    e("get", "/api/v1/exchanges/{id}/transitions", "ACPT"),
    e("get", "/api/v1/stats/overview", "ACV"),
    e("get", "/api/v1/stats/enrollments", "ACV"),
    e("get", "/api/v1/stats/cohorts/{id}", "ACV"),
    e("get", "/api/v1/stats/exchanges/flows", "ACV"),
    e("get", "/api/v1/stats/incubators", "ACV"),
    e("get", "/api/v1/stats/knowledge", "ACV"),
    e("get", "/api/v1/resources", "ACPTV"),
    e("post", "/api/v1/resources", "ACP"),
    e("get", "/api/v1/resources/{id}", "ACPTV"),
    e("patch", "/api/v1/resources/{id}", "ACP"),
    e("delete", "/api/v1/resources/{id}", "ACP"),
    e("post", "/api/v1/resources/{id}/transitions", "ACP"),
    e("get", "/api/v1/resources/{id}/transitions", "ACPTV"),
    e("get", "/api/v1/webhooks", "AP"),
    e("post", "/api/v1/webhooks", "AP"),
    e("get", "/api/v1/webhooks/{id}", "AP"),
    e("patch", "/api/v1/webhooks/{id}", "AP"),
    e("delete", "/api/v1/webhooks/{id}", "AP"),
    e("post", "/api/v1/webhooks/{id}/rotate-secret", "AP"),
    e("get", "/api/v1/webhooks/{id}/deliveries", "AP"),
    e(
        "post",
        "/api/v1/webhooks/{id}/deliveries/{delivery_id}/retry",
        "AP",
    ),
    e("get", "/api/v1/public/resources", "public"),
    e("get", "/api/v1/public/resources/{id}", "public"),
    e("get", "/api/v1/cohorts/{id}/resources", "ACPV"),
    e("put", "/api/v1/cohorts/{id}/resources/{resource_id}", "AC"),
    e(
        "delete",
        "/api/v1/cohorts/{id}/resources/{resource_id}",
        "AC",
    ),
    e("get", "/api/v1/ventures/{id}/resources", "ACP"),
    e("put", "/api/v1/ventures/{id}/resources/{resource_id}", "AC"),
    e(
        "delete",
        "/api/v1/ventures/{id}/resources/{resource_id}",
        "AC",
    ),
    e("get", "/api/v1/audit-events", "A"),
    e("get", "/api/v1/deletions", "ACPTV"),
    e("get", "/api/v1/notifications", "A"),
    e("get", "/api/v1/notifications/{id}", "A"),
    e("post", "/api/v1/notifications/{id}/retry", "A"),
];

fn letter(role: Role) -> char {
    match role {
        Role::Admin => 'A',
        Role::Coordinator => 'C',
        Role::Partner => 'P',
        Role::Trainee => 'T',
        Role::Viewer => 'V',
    }
}

#[tokio::test]
async fn every_endpoint_answers_every_role_as_the_matrix_says() {
    let (app, _, inst) = spawn_app_with_institution("Universidad Nacional de Colombia", "CO").await;
    let inst_id = id(&inst);
    let mut callers = Vec::new();
    for role in [
        Role::Admin,
        Role::Coordinator,
        Role::Partner,
        Role::Trainee,
        Role::Viewer,
    ] {
        let institution = (role == Role::Partner).then_some(inst_id);
        callers.push((role, app.user(role, institution).await));
    }
    let some_id = "01a22228-d8ed-7441-b9a0-c214e2fc361d";
    for endpoint in ENDPOINTS {
        let path = endpoint
            .path
            .replace("{id}", some_id)
            .replace("{code}", "no-such-code")
            .replace("{resource_id}", some_id)
            .replace("{delivery_id}", some_id);
        let method: Method = endpoint.method.to_uppercase().parse().unwrap();
        let send = |token: Option<String>| {
            let mut rb = app.request(method.clone(), &path, token.as_deref());
            if method == Method::PUT {
                rb = rb.json(&json!([]));
            } else if matches!(method, Method::POST | Method::PATCH) {
                rb = rb.json(&json!({}));
            }
            rb.send()
        };
        let res = send(None).await.unwrap();
        let anonymous = res.status().as_u16();
        let body = res.text().await.unwrap();
        let route = format!("{} {}", endpoint.method, endpoint.path);
        assert!(!body.contains("/problems/no-route"), "{route} has no route");
        if endpoint.allowed == "public" {
            assert!(
                !matches!(anonymous, 401 | 403 | 405),
                "{route}: {anonymous}"
            );
            continue;
        }
        assert_eq!(
            anonymous, 401,
            "{} {} without a token",
            endpoint.method, endpoint.path
        );
        for (role, user) in &callers {
            let status = send(Some(user.token.clone()))
                .await
                .unwrap()
                .status()
                .as_u16();
            let allowed = endpoint.allowed.contains(letter(*role));
            if allowed {
                assert!(
                    !matches!(status, 401 | 403 | 405),
                    "{role:?} {} {}: {status}",
                    endpoint.method,
                    endpoint.path
                );
            } else {
                assert_eq!(
                    status, 403,
                    "{role:?} {} {}",
                    endpoint.method, endpoint.path
                );
            }
        }
    }
}
