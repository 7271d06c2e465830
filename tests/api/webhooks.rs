//! Webhook subscriptions: who manages which, the secret shown once, and
//! URLs that never reach inside the network.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{
    assert_invalid, assert_problem, error_fields, items, path_of, spawn_app, spawn_app_with,
    spawn_app_with_admin, test_settings, Cast, TestApp,
};

fn hook(url: &str) -> Value {
    json!({"url": url, "events": ["enrollment.accepted", "exchange.approved"],
           "description": "Student information system"})
}

async fn rotate_secret(app: &TestApp, hook: &str, token: &str) -> reqwest::Response {
    let path = format!("{hook}/rotate-secret");
    app.send(Method::POST, &path, Some(token)).await
}

#[tokio::test]
async fn partners_subscribe_their_institution_and_see_the_secret_once() {
    let app = spawn_app().await;
    let Cast {
        own,
        other,
        own_staff: partner,
        other_staff: other_partner,
        coordinator,
        ..
    } = app
        .cast(
            ("Universidad de Chile", "CL"),
            ("Universidad de Lima", "PE"),
        )
        .await;

    let made = app
        .create(
            "/api/v1/webhooks",
            &partner.token,
            &hook("https://sis.uchile.example/meridian"),
        )
        .await;
    assert_eq!(made["institution_id"], own["id"]);
    let secret = made["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let path = path_of("webhooks", &made);
    let read = app.get_json(&path, &partner.token).await;
    assert!(read.get("secret").is_none(), "the secret is shown once");
    assert_eq!(
        read["events"],
        json!(["enrollment.accepted", "exchange.approved"])
    );

    // Another institution's staff do not see it; coordinators may not at all.
    assert_problem(app.get(&path, &other_partner.token).await, 404, "not-found").await;
    assert_problem(app.get(&path, &coordinator.token).await, 403, "forbidden").await;
    let listed = app.get_json("/api/v1/webhooks", &other_partner.token).await;
    assert_eq!(items(&listed).len(), 0);
    // A partner subscribes only its own institution.
    let mut body = hook("https://sis.uchile.example/other");
    body["institution_id"] = other["id"].clone();
    let res = app.post("/api/v1/webhooks", &partner.token, &body).await;
    assert_invalid(res, &["institution_id"]).await;

    // Rotation: a new secret, shown once, and the stored one changes.
    let listed = app.get_json("/api/v1/webhooks", &partner.token).await;
    assert_eq!(items(&listed).len(), 1);
    let res = rotate_secret(&app, &path, &partner.token).await;
    assert_eq!(res.status(), 200);
    let rotated: Value = res.json().await.unwrap();
    let new_secret = rotated["secret"].as_str().unwrap();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);
    assert_eq!(
        app.count(&format!(
            "webhook_subscriptions WHERE secret = '{new_secret}'"
        ))
        .await,
        1
    );
    let res = rotate_secret(&app, &path, &other_partner.token).await;
    assert_problem(res, 404, "not-found").await;
}

#[tokio::test]
async fn urls_inside_the_network_and_unknown_events_are_refused() {
    let (app, admin) = spawn_app_with_admin().await;
    for url in [
        "http://sis.example.org/meridian",
        "https://127.0.0.1/hook",
        "https://10.0.0.8/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://localhost/hook",
        "not a url",
    ] {
        let res = app.post("/api/v1/webhooks", &admin.token, &hook(url)).await;
        let problem = assert_problem(res, 422, "validation").await;
        assert_eq!(error_fields(&problem), ["url"], "{url}");
    }
    for events in [
        json!([]),
        json!(["enrollment.teleported"]),
        json!("everything"),
    ] {
        let res = app
            .post(
                "/api/v1/webhooks",
                &admin.token,
                &json!({"url": "https://sis.example.org/meridian", "events": events}),
            )
            .await;
        let problem = assert_problem(res, 422, "validation").await;
        assert_eq!(error_fields(&problem), ["events"], "{events}");
    }
    assert_eq!(app.count("webhook_subscriptions").await, 0);
    let made = app
        .create(
            "/api/v1/webhooks",
            &admin.token,
            &json!({"url": "https://sis.example.org/meridian", "events": ["*"]}),
        )
        .await;
    // A change is checked the same way.
    let path = path_of("webhooks", &made);
    let res = app
        .patch(
            &path,
            &admin.token,
            &json!({"url": "https://192.168.1.20/hook"}),
        )
        .await;
    assert_invalid(res, &["url"]).await;

    // A host listed in webhooks.allow_http_hosts may be called over http,
    // inside the network: a receiver on this machine.
    let mut settings = test_settings();
    settings.webhooks.allow_http_hosts = vec!["127.0.0.1".into()];
    let app = spawn_app_with(settings).await;
    let admin = app.admin().await;
    app.create(
        "/api/v1/webhooks",
        &admin.token,
        &hook("http://127.0.0.1:9000/hook"),
    )
    .await;
}
