//! Every malformed request comes back as problem+json and writes nothing.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{assert_invalid, assert_problem, error_fields, spawn_app_with_admin};

#[tokio::test]
async fn malformed_json_is_400() {
    let (app, admin) = spawn_app_with_admin().await;
    let res = app
        .request(Method::POST, "/api/v1/institutions", Some(&admin.token))
        .header("content-type", "application/json")
        .body(r#"{"name": "Makerere University", "#)
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "malformed-request").await;
    let res = app
        .request(Method::POST, "/api/v1/institutions", Some(&admin.token))
        .header("content-type", "application/json")
        .body("[1, 2]")
        .send()
        .await
        .unwrap();
    assert_problem(res, 400, "malformed-request").await;
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
        let mut rb = app
            .request(Method::POST, "/api/v1/institutions", Some(&admin.token))
            .body(r#"{"name":"Makerere University","kind":"university","country_code":"UG"}"#);
        if let Some(ct) = content_type {
            rb = rb.header("content-type", ct);
        }
        assert_problem(rb.send().await.unwrap(), 415, "unsupported-media-type").await;
    }
    assert_eq!(app.count("institutions").await, 0);
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_413() {
    let (app, admin) = spawn_app_with_admin().await;
    let huge = "x".repeat(1024 * 1024 + 10);
    let res = app
        .post(
            "/api/v1/institutions",
            &admin.token,
            &json!({"name": huge, "kind": "university", "country_code": "UG"}),
        )
        .await;
    assert_problem(res, 413, "payload-too-large").await;
    assert_eq!(app.count("institutions").await, 0);
}

#[tokio::test]
async fn every_invalid_field_is_listed_at_once() {
    let (app, admin) = spawn_app_with_admin().await;
    let res = app
        .post(
            "/api/v1/institutions",
            &admin.token,
            &json!({
                "name": 42,
                "kind": "castle",
                "country_code": "ZZ",
                "website": "not a url",
                "contact_email": "nobody",
                "status": true,
                "colour": "blue",
            }),
        )
        .await;
    assert_invalid(
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
    )
    .await;
    assert_eq!(app.count("institutions").await, 0);
    assert_eq!(app.count("audit_events").await, 0);
}

#[tokio::test]
async fn missing_required_fields_are_each_named() {
    let (app, admin) = spawn_app_with_admin().await;
    let res = app
        .post("/api/v1/institutions", &admin.token, &json!({}))
        .await;
    assert_invalid(res, &["country_code", "kind", "name"]).await;
    let res = app
        .post(
            "/api/v1/institutions",
            &admin.token,
            &json!({"name": null, "kind": "ngo", "country_code": "GH"}),
        )
        .await;
    assert_invalid(res, &["name"]).await;
}

#[tokio::test]
async fn ids_that_are_not_uuids_and_unknown_routes_are_404() {
    let (app, admin) = spawn_app_with_admin().await;
    let res = app
        .get("/api/v1/institutions/not-a-uuid", &admin.token)
        .await;
    assert_problem(res, 404, "not-found").await;
    let res = app
        .get(
            "/api/v1/institutions/01a22228-d8ed-7441-b9a0-c214e2fc361d",
            &admin.token,
        )
        .await;
    assert_problem(res, 404, "not-found").await;
    let res = app.get("/api/v1/no-such-collection", &admin.token).await;
    assert_problem(res, 404, "no-route").await;
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
    ] {
        let res = app
            .get(&format!("/api/v1/institutions?{query}"), &admin.token)
            .await;
        let body = assert_problem(res, 422, "validation").await;
        let field = query.split('=').next().unwrap();
        assert_eq!(error_fields(&body), [field], "{query}");
    }
}
