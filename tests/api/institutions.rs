//! `/institutions`: create, read, conditional requests, update, delete.

use meridian::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{
    assert_invalid, assert_problem, id, path_of, spawn_app_with_admin, spawn_app_with_institution,
    spawn_app_with_institutions,
};

#[tokio::test]
async fn create_answers_201_with_location_etag_and_un_regions() {
    let (app, admin) = spawn_app_with_admin().await;
    let res = app
        .post(
            "/api/v1/institutions",
            &admin.token,
            &json!({
                "name": "  Addis Ababa University ",
                "short_name": "AAU",
                "kind": "university",
                "country_code": "et",
                "city": "Addis Ababa",
                "website": "https://www.aau.edu.et",
                "contact_email": "Partnerships@AAU.edu.et",
            }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(res.headers()["etag"], "\"1\"");
    let body: Value = res.json().await.unwrap();
    assert_eq!(location, path_of("institutions", &body));
    assert_eq!(body["name"], "Addis Ababa University");
    assert_eq!(body["country_code"], "ET");
    assert_eq!(body["region"], "africa");
    assert_eq!(body["subregion"], "eastern-africa");
    assert_eq!(body["contact_email"], "partnerships@aau.edu.et");
    assert_eq!(body["status"], "active");
    assert_eq!(body["version"], 1);
    let id: uuid::Uuid = id(&body);
    assert_eq!(id.get_version_num(), 7);

    let fetched: Value = app.get_json(&location, &admin.token).await;
    assert_eq!(fetched, body);
}

#[tokio::test]
async fn get_sends_an_etag_and_answers_304_when_unchanged() {
    let (app, admin, inst) = spawn_app_with_institution("Universidad de Chile", "CL").await;
    let path = path_of("institutions", &inst);
    let res = app.get(&path, &admin.token).await;
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(etag, "\"1\"");
    let res = app.revalidate(&path, Some(&admin.token), &etag).await;
    assert_eq!(res.status(), 304);
    assert!(res.bytes().await.unwrap().is_empty());
    app.patch(&path, &admin.token, &json!({"city": "Santiago"}))
        .await;
    let res = app.revalidate(&path, Some(&admin.token), &etag).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"2\"");
}

#[tokio::test]
async fn patch_changes_only_what_is_sent_and_null_clears() {
    let (app, admin, inst) = spawn_app_with_institution("University of Ghana", "GH").await;
    let path = path_of("institutions", &inst);
    let res = app
        .patch(
            &path,
            &admin.token,
            &json!({"city": "Accra", "short_name": "UG"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["city"], "Accra");
    assert_eq!(body["name"], "University of Ghana");
    assert_eq!(body["version"], 2);
    let body: Value = app
        .patch(&path, &admin.token, &json!({"short_name": null}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["short_name"], Value::Null);
    assert_eq!(body["city"], "Accra");
    assert_eq!(body["version"], 3);

    // Required fields cannot be cleared; nothing changes.
    let res = app
        .patch(
            &path,
            &admin.token,
            &json!({"name": null, "kind": "castle", "city": "Legon"}),
        )
        .await;
    assert_invalid(res, &["kind", "name"]).await;
    let body: Value = app.get_json(&path, &admin.token).await;
    assert_eq!(body["city"], "Accra");
    assert_eq!(body["version"], 3);
}

#[tokio::test]
async fn patch_with_a_stale_if_match_is_412_and_writes_nothing() {
    let (app, admin, inst) = spawn_app_with_institution("Universidade de Sao Paulo", "BR").await;
    let path = path_of("institutions", &inst);
    let res = app
        .patch_if_match(&path, &admin.token, "\"1\"", &json!({"city": "Sao Paulo"}))
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .patch_if_match(&path, &admin.token, "\"1\"", &json!({"city": "Campinas"}))
        .await;
    assert_problem(res, 412, "precondition-failed").await;
    let body: Value = app.get_json(&path, &admin.token).await;
    assert_eq!(body["city"], "Sao Paulo");
    assert_eq!(body["version"], 2);
    let audits = app.count("audit_events").await;
    assert_eq!(audits, 2, "create and one update");
}

#[tokio::test]
async fn the_same_name_in_one_country_is_409_but_fine_elsewhere() {
    let (app, admin) = spawn_app_with_admin().await;
    app.institution(&admin.token, "National University", "NG")
        .await;
    let res = app
        .post(
            "/api/v1/institutions",
            &admin.token,
            &json!({"name": "NATIONAL UNIVERSITY", "kind": "university", "country_code": "NG"}),
        )
        .await;
    assert_problem(res, 409, "duplicate").await;
    app.institution(&admin.token, "National University", "RW")
        .await;
    assert_eq!(app.count("institutions").await, 2);
}

#[tokio::test]
async fn delete_removes_a_record_without_dependants_only() {
    let (app, admin, [lonely, busy]) =
        spawn_app_with_institutions([("Lonely Institute", "PK"), ("Busy Institute", "PK")]).await;
    let busy_id = busy["id"].as_str().unwrap();
    app.user(Role::Partner, Some(busy_id.parse().unwrap()))
        .await;

    let path = path_of("institutions", &lonely);
    let res = app
        .request(Method::DELETE, &path, Some(&admin.token))
        .header("if-match", "\"7\"")
        .send()
        .await
        .unwrap();
    assert_problem(res, 412, "precondition-failed").await;
    assert_eq!(app.delete(&path, &admin.token).await.status(), 204);
    assert_problem(app.get(&path, &admin.token).await, 404, "not-found").await;
    assert_problem(app.delete(&path, &admin.token).await, 404, "not-found").await;

    let res = app
        .delete(&format!("/api/v1/institutions/{busy_id}"), &admin.token)
        .await;
    assert_problem(res, 409, "has-dependants").await;
    assert_eq!(app.count("institutions").await, 1);
}
