//! `Idempotency-Key` on POST.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, spawn_app_with_admin, TestApp, TestUser};

/// The body of a university.
fn university(name: &str, country: &str) -> Value {
    json!({"name": name, "kind": "university", "country_code": country})
}

/// A fresh Meridian, its admin, and the body of Cairo University, which
/// the admin is about to post.
async fn spawn_app_with_cairo() -> (TestApp, TestUser, Value) {
    let (app, admin) = spawn_app_with_admin().await;
    (app, admin, university("Cairo University", "EG"))
}

/// A `POST` of `body` to `path` under an `Idempotency-Key`.
async fn post_keyed(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    key: &str,
    body: &Value,
) -> reqwest::Response {
    app.request(Method::POST, path, token)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// An institution posted under an `Idempotency-Key`.
async fn post_with_key(app: &TestApp, token: &str, key: &str, body: &Value) -> reqwest::Response {
    post_keyed(app, "/api/v1/institutions", Some(token), key, body).await
}

/// An institution posted under an `Idempotency-Key`, which must be created.
async fn created_with_key(app: &TestApp, token: &str, key: &str, body: &Value) {
    let res = post_with_key(app, token, key, body).await;
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn the_same_key_and_body_replay_the_first_answer() {
    let (app, admin, body) = spawn_app_with_cairo().await;
    let first = post_with_key(&app, &admin.token, "create-cairo-1", &body).await;
    assert_eq!(first.status(), 201);
    let location = first.headers()["location"].clone();
    let first: Value = first.json().await.unwrap();
    let again = post_with_key(&app, &admin.token, "create-cairo-1", &body).await;
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["location"], location);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(first, again);
    assert_eq!(app.count("institutions").await, 1);
    assert_eq!(app.count("audit_events").await, 1);
}

#[tokio::test]
async fn the_same_key_with_another_body_is_422() {
    let (app, admin, body) = spawn_app_with_cairo().await;
    post_with_key(&app, &admin.token, "k-1", &body).await;
    let other = university("Alexandria University", "EG");
    let res = post_with_key(&app, &admin.token, "k-1", &other).await;
    assert_problem(res, 422, "validation").await;
    assert_eq!(app.count("institutions").await, 1);
}

#[tokio::test]
async fn keys_of_one_user_never_replay_for_another() {
    let app = spawn_app().await;
    let a = app.admin().await;
    let b = app.admin().await;
    let body = university("Cairo University", "EG");
    created_with_key(&app, &a.token, "shared", &body).await;
    let res = post_with_key(&app, &b.token, "shared", &body).await;
    assert_problem(res, 409, "duplicate").await;
}

#[tokio::test]
async fn failed_requests_are_replayed_too_and_write_nothing() {
    let (app, admin) = spawn_app_with_admin().await;
    let body = university("", "EG");
    let res = post_with_key(&app, &admin.token, "bad-1", &body).await;
    assert_problem(res, 422, "validation").await;
    let res = post_with_key(&app, &admin.token, "bad-1", &body).await;
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    assert_problem(res, 422, "validation").await;
    assert_eq!(app.count("institutions").await, 0);
}

#[tokio::test]
async fn a_key_past_its_24_hours_is_new_again() {
    let (app, admin, body) = spawn_app_with_cairo().await;
    created_with_key(&app, &admin.token, "yearly", &body).await;
    app.run_sql("UPDATE idempotency_keys SET created_at = now() - interval '25 hours'")
        .await;
    let other = university("Alexandria University", "EG");
    let res = post_with_key(&app, &admin.token, "yearly", &other).await;
    assert_eq!(res.status(), 201);
    assert!(res.headers().get("idempotent-replayed").is_none());
    assert_eq!(app.count("institutions").await, 2);
    // The new answer is the one replayed from now on.
    let res = post_with_key(&app, &admin.token, "yearly", &other).await;
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    assert_eq!(app.count("idempotency_keys").await, 1);
}

#[tokio::test]
async fn a_key_whose_first_request_died_is_leased_for_a_minute_only() {
    let (app, admin) = spawn_app_with_admin().await;
    let body = university("Makerere University", "UG");
    // The first request claimed the key and died before its answer was kept.
    created_with_key(&app, &admin.token, "died", &body).await;
    app.run_sql(
        "UPDATE idempotency_keys SET status_code = NULL, headers = NULL, body = NULL; \
         DELETE FROM audit_events; DELETE FROM institutions",
    )
    .await;
    let res = post_with_key(&app, &admin.token, "died", &body).await;
    assert_problem(res, 409, "request-in-progress").await;
    app.run_sql("UPDATE idempotency_keys SET created_at = now() - interval '61 seconds'")
        .await;
    let res = post_with_key(&app, &admin.token, "died", &body).await;
    assert_eq!(res.status(), 201);
    assert_eq!(app.count("institutions").await, 1);
}

#[tokio::test]
async fn anonymous_and_auth_requests_are_never_stored_or_replayed() {
    let app = spawn_app().await;
    let body = json!({"name": "Nowhere"});
    let anonymous = post_keyed(&app, "/api/v1/institutions", None, "shared", &body).await;
    assert_problem(anonymous, 401, "unauthorized").await;
    let body = json!({"email": "someone@example.org"});
    for _ in 0..2 {
        let res = post_keyed(&app, "/api/v1/auth/password-reset", None, "reset", &body).await;
        assert_eq!(res.status(), 202);
        assert!(res.headers().get("idempotent-replayed").is_none());
    }
    assert_eq!(app.count("idempotency_keys").await, 0);
}
