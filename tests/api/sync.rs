//! Sync over poor connections: `GET /deletions` tells a copy of removals,
//! in the reader's scope.

use meridian::auth::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{assert_problem, error_fields, spawn_app, TestApp};

fn ids(feed: &Value) -> Vec<(String, String)> {
    feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["type"].as_str().unwrap().to_string(),
                d["id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn deleted(app: &TestApp, path: &str, token: &str) {
    assert_eq!(app.delete(path, token).await.status(), 204, "DELETE {path}");
}

#[tokio::test]
async fn deletions_reach_those_who_could_read_the_record_and_no_one_else() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let ghana = app
        .institution(&admin.token, "University of Ghana", "GH")
        .await;
    let china = app
        .institution(&admin.token, "Zhejiang University", "CN")
        .await;
    let spare = app.institution(&admin.token, "Spare Institute", "KE").await;
    let ghana_id: Uuid = ghana["id"].as_str().unwrap().parse().unwrap();
    let china_id: Uuid = china["id"].as_str().unwrap().parse().unwrap();
    let ghana_staff = app.user(Role::Partner, Some(ghana_id)).await;
    let china_staff = app.user(Role::Partner, Some(china_id)).await;
    let viewer = app.user(Role::Viewer, None).await;
    let trainee = app.trainee_record(Some(ghana_id)).await;
    let before = chrono::Utc::now() - chrono::Duration::seconds(5);
    deleted(&app, &format!("/api/v1/trainees/{trainee}"), &admin.token).await;
    let spare_id = spare["id"].as_str().unwrap().to_string();
    deleted(
        &app,
        &format!("/api/v1/institutions/{spare_id}"),
        &admin.token,
    )
    .await;
    let since = format!("/api/v1/deletions?since={}", before.to_rfc3339());
    let since = since.replace('+', "%2B");
    let gone_trainee = ("trainees".to_string(), trainee.to_string());
    let gone_institution = ("institutions".to_string(), spare_id);
    assert_eq!(
        ids(&app.get_json(&since, &admin.token).await),
        [gone_trainee.clone(), gone_institution.clone()]
    );
    assert_eq!(
        ids(&app.get_json(&since, &ghana_staff.token).await),
        [gone_trainee.clone(), gone_institution.clone()]
    );
    // Another institution's staff and viewers never learn of the trainee.
    assert_eq!(
        ids(&app.get_json(&since, &china_staff.token).await),
        vec![gone_institution.clone()]
    );
    assert_eq!(
        ids(&app.get_json(&since, &viewer.token).await),
        vec![gone_institution.clone()]
    );
    let only = format!("{since}&type=trainees");
    assert_eq!(
        ids(&app.get_json(&only, &ghana_staff.token).await),
        [gone_trainee]
    );
    assert!(ids(&app.get_json(&only, &viewer.token).await).is_empty());
    // Nothing since now.
    let later = (chrono::Utc::now() + chrono::Duration::seconds(60)).to_rfc3339();
    let later = format!("/api/v1/deletions?since={}", later.replace('+', "%2B"));
    assert!(ids(&app.get_json(&later, &admin.token).await).is_empty());
    // Paged like every list.
    let page = app
        .get_json("/api/v1/deletions?limit=1", &admin.token)
        .await;
    assert_eq!(ids(&page).len(), 1);
    assert!(page["next_cursor"].is_string());
}

#[tokio::test]
async fn a_bad_since_or_type_is_named() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let res = app
        .get("/api/v1/deletions?since=yesterday", &admin.token)
        .await;
    assert_eq!(
        error_fields(&assert_problem(res, 422, "validation").await),
        ["since"]
    );
    let res = app
        .get("/api/v1/deletions?type=castles", &admin.token)
        .await;
    assert_eq!(
        error_fields(&assert_problem(res, 422, "validation").await),
        ["type"]
    );
    let res = app
        .get(
            "/api/v1/deletions?type=trainees&since=2026-01-01T00:00:00Z",
            &admin.token,
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["items"], json!([]));
}

#[tokio::test]
async fn pages_link_to_the_next_one_and_csv_downloads_are_named() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for (name, country) in [("Université de Dakar", "SN"), ("جامعة القاهرة", "EG")] {
        app.institution(&admin.token, name, country).await;
    }
    let res = app
        .get("/api/v1/institutions?limit=1&sort=name", &admin.token)
        .await;
    let link = res.headers()["link"].to_str().unwrap().to_string();
    let page: Value = res.json().await.unwrap();
    let cursor = page["next_cursor"].as_str().unwrap();
    assert!(link.starts_with("</api/v1/institutions?"), "{link}");
    assert!(link.ends_with(">; rel=\"next\""), "{link}");
    assert!(
        link.contains("limit=1") && link.contains("sort=name"),
        "{link}"
    );
    // Following the link gives the last page, which links nowhere.
    let next = link.trim_start_matches('<').split('>').next().unwrap();
    let res = app.get(next, &admin.token).await;
    assert!(res.headers().get("link").is_none());
    let last: Value = res.json().await.unwrap();
    assert_eq!(last["items"].as_array().unwrap().len(), 1);
    assert_ne!(last["items"][0]["id"], page["items"][0]["id"]);
    assert!(!cursor.is_empty());
    // CSV downloads carry a file name, and a byte order mark when asked.
    let csv = |query: &'static str| {
        app.request(
            reqwest::Method::GET,
            &format!("/api/v1/institutions{query}"),
            Some(&admin.token),
        )
        .header("accept", "text/csv")
        .send()
    };
    let res = csv("?sort=name").await.unwrap();
    let day = chrono::Utc::now().date_naive();
    assert_eq!(
        res.headers()["content-disposition"],
        format!("attachment; filename=\"institutions-{day}.csv\"").as_str()
    );
    let plain = res.bytes().await.unwrap();
    assert!(plain.starts_with(b"id,"), "{plain:?}");
    let marked = csv("?sort=name&bom=true")
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(&marked[..3], b"\xEF\xBB\xBF");
    assert_eq!(&marked[3..], &plain[..]);
    let page = csv("?limit=1&bom=true").await.unwrap();
    assert!(page.headers()["link"]
        .to_str()
        .unwrap()
        .contains("bom=true"));
    assert_eq!(&page.bytes().await.unwrap()[..3], b"\xEF\xBB\xBF");
}
