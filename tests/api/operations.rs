use std::io::Read;

use crate::helpers::{empty_database, spawn_app, spawn_app_on, spawn_app_with, test_settings};

#[tokio::test]
async fn healthz_and_readyz_answer_when_migrated() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn readyz_is_503_on_an_unmigrated_database() {
    let app = spawn_app_on(test_settings(), empty_database().await).await;
    let res = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 503);
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn readyz_is_503_when_the_database_is_unreachable() {
    let app = spawn_app_on(
        test_settings(),
        "postgres://postgres@127.0.0.1:9/meridian".into(),
    )
    .await;
    let res = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 503);
}

#[tokio::test]
async fn request_ids_are_echoed_or_made() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "req-abc.123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-request-id"], "req-abc.123");
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    let made = res.headers()["x-request-id"].to_str().unwrap();
    assert!(made.len() == 36 && made != "bad id with spaces", "{made}");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_show_the_pool() {
    let app = spawn_app().await;
    app.client.get(app.url("/healthz")).send().await.unwrap();
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(
            r#"meridian_http_requests_total{method="GET",route="/healthz",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains("meridian_http_request_duration_seconds_bucket"));
    assert!(text.contains(r#"meridian_db_pool_connections{state="max"} 4"#));
}

#[tokio::test]
async fn made_up_methods_are_counted_as_other() {
    let app = spawn_app().await;
    for method in ["BREW", "PROPFIND", "X-ANYTHING"] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        app.client
            .request(method, app.url("/healthz"))
            .send()
            .await
            .unwrap();
    }
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains(r#"method="other""#), "{text}");
    for method in ["BREW", "PROPFIND", "X-ANYTHING"] {
        assert!(!text.contains(method), "{text}");
    }
}

#[tokio::test]
async fn answers_are_compressed_when_the_client_accepts_it() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-encoding"], "gzip");
    let bytes = res.bytes().await.unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut text)
        .unwrap();
    assert!(text.len() > bytes.len());
    assert!(text.starts_with('{'));
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let mut settings = test_settings();
    settings.server.cors_allowed_origins = vec!["https://dashboard.example.org".into()];
    let app = crate::helpers::spawn_app_with(settings).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/v1/institutions"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .send()
    };
    let ok = preflight("https://dashboard.example.org").await.unwrap();
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://dashboard.example.org"
    );
    let refused = preflight("https://evil.example.com").await.unwrap();
    assert!(refused
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

#[tokio::test]
async fn metrics_need_the_token_when_one_is_set() {
    let mut settings = test_settings();
    settings.metrics.token = "scraper-token".to_string().into();
    let app = spawn_app_with(settings).await;
    let scrape = |authorization: Option<&'static str>| {
        let mut req = app.client.get(app.url("/metrics"));
        if let Some(value) = authorization {
            req = req.header("authorization", value);
        }
        req.send()
    };
    for wrong in [
        None,
        Some("Bearer scraper-toke"),
        Some("Bearer scraper-token2"),
        Some("scraper-token"),
    ] {
        let res = scrape(wrong).await.unwrap();
        assert_eq!(res.status(), 401, "{wrong:?}");
        assert_eq!(res.headers()["content-type"], "application/problem+json");
        assert!(!res.text().await.unwrap().contains("meridian_"));
    }
    let res = scrape(Some("Bearer scraper-token")).await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("meridian_http_requests_total"));
}
