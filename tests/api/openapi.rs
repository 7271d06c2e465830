//! The API document is generated from the code and covers every endpoint.

use meridian::error::Conflict;
use serde_json::Value;
use strum::VariantArray;

use crate::{
    helpers::{spawn_app, spawn_app_with_admin},
    matrix::ENDPOINTS,
};

#[tokio::test]
async fn the_document_lists_exactly_the_endpoints_of_the_role_matrix() {
    let app = spawn_app().await;
    let doc = app.openapi().await;
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
        .map(|e| (e.method.to_string(), e.path.to_string()))
        .collect();
    expected.sort();
    assert_eq!(documented, expected);
    // Problems are documented as they are sent, and every operation with a
    // body documents the refusals of bodies.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                let content = response["content"].as_object();
                let json_problem = content
                    .and_then(|c| c.get("application/json"))
                    .is_some_and(|c| c["schema"]["$ref"] == "#/components/schemas/Problem");
                assert!(!json_problem, "{method} {path} {status}");
            }
            if op.get("requestBody").is_some() {
                for status in ["400", "413", "415", "422"] {
                    let problem = &op["responses"][status]["content"]["application/problem+json"];
                    assert!(problem.is_object(), "{method} {path} {status}");
                }
            }
        }
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    let types: Vec<&str> = doc["components"]["schemas"]["ProblemType"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    for conflict in Conflict::VARIANTS {
        let slug: &str = (*conflict).into();
        assert!(
            types.contains(&format!("/problems/{slug}").as_str()),
            "{slug}"
        );
    }
    for slug in [
        "validation",
        "forbidden",
        "not-found",
        "precondition-failed",
    ] {
        assert!(
            types.contains(&format!("/problems/{slug}").as_str()),
            "{slug}"
        );
    }
}

#[tokio::test]
async fn the_interactive_page_is_served_by_the_binary() {
    let app = spawn_app().await;
    assert_eq!(app.get_anonymous("/docs").await.status(), 308);
    let res = app.get_anonymous("/docs/").await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("swagger"), "{html}");
    let script = app.get_anonymous("/docs/swagger-ui-bundle.js").await;
    assert_eq!(script.status(), 200);
}

#[tokio::test]
async fn every_problem_type_is_an_absolute_uri_that_answers() {
    let (app, admin) = spawn_app_with_admin().await;
    let res = app
        .get(
            "/api/v1/cohorts/01a22228-d8ed-7441-b9a0-c214e2fc361d",
            &admin.token,
        )
        .await;
    let problem: Value = res.json().await.unwrap();
    let kind = problem["type"].as_str().unwrap();
    assert_eq!(kind, "http://127.0.0.1:8080/problems/not-found");
    let doc = app.get_json("/api/v1/openapi.json", &admin.token).await;
    for kind in doc["components"]["schemas"]["ProblemType"]["enum"]
        .as_array()
        .unwrap()
    {
        let res = app.get_anonymous(kind.as_str().unwrap()).await;
        assert_eq!(res.status(), 200, "{kind}");
        let page = res.text().await.unwrap();
        assert!(page.contains("What to do"), "{kind}: {page}");
    }
    let unknown = app.get_anonymous("/problems/no-such-problem").await;
    assert_eq!(unknown.status(), 404);
}

/// Every `$ref` of a JSON value, recursively.
fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn every_schema_the_document_refers_to_is_in_it() {
    let app = spawn_app().await;
    let doc = app.openapi().await;
    let mut all = Vec::new();
    refs(&doc, &mut all);
    all.sort();
    all.dedup();
    let missing: Vec<&String> = all
        .iter()
        .filter(|r| {
            let name = r.trim_start_matches("#/components/schemas/");
            doc["components"]["schemas"][name].is_null()
        })
        .collect();
    assert!(missing.is_empty(), "unresolved: {missing:?}");
}
