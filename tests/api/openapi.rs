//! The API document is generated from the code and covers every endpoint.

use serde_json::Value;

use crate::helpers::spawn_app;

/// Every endpoint the service has. A route added without documentation, or
/// documentation of a route that does not exist, fails here.
const ENDPOINTS: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/metrics"),
    ("post", "/api/v1/auth/login"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/institutions"),
    ("post", "/api/v1/institutions"),
    ("get", "/api/v1/institutions/{id}"),
    ("patch", "/api/v1/institutions/{id}"),
    ("delete", "/api/v1/institutions/{id}"),
    ("get", "/api/v1/audit-events"),
    ("get", "/api/v1/notifications"),
    ("get", "/api/v1/notifications/{id}"),
    ("post", "/api/v1/notifications/{id}/retry"),
];

#[tokio::test]
async fn the_document_lists_exactly_the_endpoints_and_each_route_exists() {
    let app = spawn_app().await;
    let doc: Value = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut documented = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push((method.clone(), path.clone()));
        }
    }
    documented.sort();
    let mut expected: Vec<_> = ENDPOINTS
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    expected.sort();
    assert_eq!(documented, expected);

    // Each documented route is served: never the "no route" 404 or a 405.
    for (method, path) in ENDPOINTS {
        let concrete = path.replace("{id}", "01a22228-d8ed-7441-b9a0-c214e2fc361d");
        let res = app
            .client
            .request(method.to_uppercase().parse().unwrap(), app.url(&concrete))
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        assert!(
            matches!(status, 200 | 401 | 415 | 400 | 422),
            "{method} {path}: {status}"
        );
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert!(doc["components"]["schemas"]["Problem"].is_object());
}

#[tokio::test]
async fn the_interactive_page_is_served_by_the_binary() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(res.status(), 308);
    let res = app.client.get(app.url("/docs/")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("swagger"), "{html}");
    let res = app
        .client
        .get(app.url("/docs/swagger-ui-bundle.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}
