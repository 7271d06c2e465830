use std::io::Read;

use crate::helpers::{
    empty_database, spawn_app, spawn_app_on, spawn_app_with, test_settings, TestApp,
};

#[tokio::test]
async fn healthz_and_readyz_answer_when_migrated() {
    let app = spawn_app().await;
    assert_eq!(app.get_anonymous("/healthz").await.status(), 200);
    assert_eq!(app.get_anonymous("/readyz").await.status(), 200);
}

#[tokio::test]
async fn readyz_is_503_on_an_unmigrated_database() {
    let app = spawn_app_on(test_settings(), empty_database().await).await;
    assert_eq!(app.get_anonymous("/readyz").await.status(), 503);
    assert_eq!(app.get_anonymous("/healthz").await.status(), 200);
}

#[tokio::test]
async fn readyz_is_503_when_the_database_is_unreachable() {
    let app = spawn_app_on(
        test_settings(),
        "postgres://postgres@127.0.0.1:9/meridian".into(),
    )
    .await;
    assert_eq!(app.get_anonymous("/readyz").await.status(), 503);
}

/// The request id Meridian answers to a `/healthz` sent with `sent`.
async fn answered_request_id(app: &TestApp, sent: &str) -> String {
    let res = app
        .get_with_header("/healthz", None, "x-request-id", sent)
        .await;
    res.headers()["x-request-id"].to_str().unwrap().to_string()
}

#[tokio::test]
async fn request_ids_are_echoed_or_made() {
    let app = spawn_app().await;
    assert_eq!(
        answered_request_id(&app, "req-abc.123").await,
        "req-abc.123"
    );
    let made = answered_request_id(&app, "bad id with spaces").await;
    assert!(made.len() == 36 && made != "bad id with spaces", "{made}");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_show_the_pool() {
    let app = spawn_app().await;
    app.get_anonymous("/healthz").await;
    let text = app.metrics().await;
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
    let text = app.metrics().await;
    assert!(text.contains(r#"method="other""#), "{text}");
    for method in ["BREW", "PROPFIND", "X-ANYTHING"] {
        assert!(!text.contains(method), "{text}");
    }
}

#[tokio::test]
async fn answers_are_compressed_when_the_client_accepts_it() {
    let app = spawn_app().await;
    let res = app
        .get_with_header("/api/v1/openapi.json", None, "accept-encoding", "gzip")
        .await;
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

/// A request holds one pooled connection, and none while its client is
/// still sending the body: with a pool of one, a caller whose JSON body
/// stalls half-way does not stop another from being answered, and is
/// answered itself once the rest arrives.
#[tokio::test]
async fn a_body_still_arriving_holds_no_database_connection() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut settings = test_settings();
    settings.database.pool_size = 1;
    settings.server.workers = 1;
    settings.worker.enabled = false;
    let app = spawn_app_with(settings).await;
    let admin = app.admin().await;
    let body = r#"{"name":"Slow Link University","country_code":"KE","kind":"university"}"#;
    let head = format!(
        "POST /api/v1/institutions HTTP/1.1\r\nHost: meridian\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        admin.token,
        body.len()
    );
    let mut slow = tokio::net::TcpStream::connect(app.base.trim_start_matches("http://"))
        .await
        .unwrap();
    slow.write_all(head.as_bytes()).await.unwrap();
    slow.write_all(&body.as_bytes()[..10]).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // The pool waits 5 s for a connection before answering 503.
    let me = tokio::time::timeout(
        std::time::Duration::from_secs(3),
        app.get("/api/v1/me", &admin.token),
    )
    .await
    .expect("answered while the other body is still arriving");
    assert_eq!(me.status(), 200);
    slow.write_all(&body.as_bytes()[10..]).await.unwrap();
    let mut answer = String::new();
    slow.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
}

/// Connections the server holds to its database, from PostgreSQL's view.
async fn connections(app: &TestApp) -> i64 {
    app.count(
        "pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() \
         AND backend_type = 'client backend'",
    )
    .await
}

#[tokio::test]
async fn an_instance_never_opens_more_connections_than_its_pool_size() {
    for (pool_size, threads, worker) in [(2, 2, false), (5, 2, true)] {
        let mut settings = test_settings();
        settings.database.pool_size = pool_size;
        settings.server.workers = threads;
        settings.worker.enabled = worker;
        let app = spawn_app_with(settings).await;
        let admin = app.admin().await;
        let reads = (0..60).map(|n| {
            let path = if n % 2 == 0 {
                "/api/v1/cohorts"
            } else {
                "/api/v1/stats/overview"
            };
            app.get(path, &admin.token)
        });
        for res in futures_util::future::join_all(reads).await {
            assert_eq!(res.status(), 200);
        }
        // Idle connections stay in their pools: the count is the most opened.
        let opened = connections(&app).await;
        assert!(
            opened >= 1 && opened <= pool_size as i64,
            "{pool_size}: {opened}"
        );
    }
    // Too small a pool for the threads is refused at start, in one line.
    let mut settings = test_settings();
    settings.database.pool_size = 2;
    settings.server.workers = 1;
    settings.worker.enabled = true;
    let refused = meridian::startup::Application::build(settings, "postgres://nowhere/none");
    let message = refused.err().unwrap().to_string();
    assert!(message.contains("database.pool_size (2)"), "{message}");
}
