//! Every malformed request comes back as problem+json and writes nothing.

use reqwest::{Method, Response};
use serde_json::{json, Value};

use crate::helpers::{assert_invalid, assert_problem, error_fields, spawn_app_with_admin, TestApp};

/// Posts a raw body to `/institutions`, with a content type if given.
async fn post_raw(app: &TestApp, token: &str, content_type: Option<&str>, body: &str) -> Response {
    let mut rb = app
        .request(Method::POST, "/api/v1/institutions", Some(token))
        .body(body.to_string());
    if let Some(ct) = content_type {
        rb = rb.header("content-type", ct);
    }
    rb.send().await.unwrap()
}

async fn post_institution(app: &TestApp, token: &str, body: Value) -> Response {
    app.post("/api/v1/institutions", token, &body).await
}

#[tokio::test]
async fn malformed_json_is_400() {
    let (app, admin) = spawn_app_with_admin().await;
    for body in [r#"{"name": "Makerere University", "#, "[1, 2]"] {
        let res = post_raw(&app, &admin.token, Some("application/json"), body).await;
        assert_problem(res, 400, "malformed-request").await;
    }
    assert_eq!(app.count("institutions").await, 0);
}

#[tokio::test]
async fn a_wrong_content_type_is_415() {
    let (app, admin) = spawn_app_with_admin().await;
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let body = r#"{"name":"Makerere University","kind":"university","country_code":"UG"}"#;
        let res = post_raw(&app, &admin.token, content_type, body).await;
        assert_problem(res, 415, "unsupported-media-type").await;
    }
    assert_eq!(app.count("institutions").await, 0);
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_413() {
    let (app, admin) = spawn_app_with_admin().await;
    let huge = "x".repeat(1024 * 1024 + 10);
    let body = json!({"name": huge, "kind": "university", "country_code": "UG"});
    let res = post_institution(&app, &admin.token, body).await;
    assert_problem(res, 413, "payload-too-large").await;
    assert_eq!(app.count("institutions").await, 0);
}

#[tokio::test]
async fn every_invalid_field_is_listed_at_once() {
    let (app, admin) = spawn_app_with_admin().await;
    let body = json!({
        "name": 42,
        "kind": "castle",
        "country_code": "ZZ",
        "website": "not a url",
        "contact_email": "nobody",
        "status": true,
        "colour": "blue",
    });
    let res = post_institution(&app, &admin.token, body).await;
    app.assert_invalid_leaving(
        res,
        &[
            "colour",
            "contact_email",
            "country_code",
            "kind",
            "name",
            "status",
            "website",
        ],
        "institutions",
        0,
    )
    .await;
    assert_eq!(app.count("audit_events").await, 0);
}

#[tokio::test]
async fn missing_required_fields_are_each_named() {
    let (app, admin) = spawn_app_with_admin().await;
    let res = post_institution(&app, &admin.token, json!({})).await;
    assert_invalid(res, &["country_code", "kind", "name"]).await;
    let body = json!({"name": null, "kind": "ngo", "country_code": "GH"});
    let res = post_institution(&app, &admin.token, body).await;
    assert_invalid(res, &["name"]).await;
}

#[tokio::test]
async fn ids_that_are_not_uuids_and_unknown_routes_are_404() {
    let (app, admin) = spawn_app_with_admin().await;
    for (path, kind) in [
        ("/api/v1/institutions/not-a-uuid", "not-found"),
        (
            "/api/v1/institutions/01a22228-d8ed-7441-b9a0-c214e2fc361d",
            "not-found",
        ),
        ("/api/v1/no-such-collection", "no-route"),
    ] {
        assert_problem(app.get(path, &admin.token).await, 404, kind).await;
    }
}

#[tokio::test]
async fn list_parameters_out_of_range_are_422() {
    let (app, admin) = spawn_app_with_admin().await;
    for query in [
        "limit=0",
        "limit=201",
        "limit=ten",
        "count=maybe",
        "sort=password",
        "cursor=garbage",
        "updated_since=yesterday",
        "kind=castle",
        "country_code=ZZ",
        "colour=blue",
        "q=Accra%00",
        "q=Ac%0Acra",
    ] {
        let res = app
            .get(&format!("/api/v1/institutions?{query}"), &admin.token)
            .await;
        let body = assert_problem(res, 422, "validation").await;
        let field = query.split('=').next().unwrap();
        assert_eq!(error_fields(&body), [field], "{query}");
    }
}
