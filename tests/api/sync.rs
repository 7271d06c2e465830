//! Sync over poor connections: `GET /deletions` tells a copy of removals,
//! in the reader's scope.

use meridian::auth::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{
    assert_invalid, course_body, id, items, path_of, spawn_app_with_admin,
    spawn_app_with_institutions, TestApp, GHANA, ZHEJIANG,
};

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
    let (app, admin, [ghana, china, spare]) =
        spawn_app_with_institutions([GHANA, ZHEJIANG, ("Spare Institute", "KE")]).await;
    let ghana_id: Uuid = id(&ghana);
    let china_id: Uuid = id(&china);
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
    let (app, admin) = spawn_app_with_admin().await;
    let res = app
        .get("/api/v1/deletions?since=yesterday", &admin.token)
        .await;
    assert_invalid(res, &["since"]).await;
    let res = app
        .get("/api/v1/deletions?type=castles", &admin.token)
        .await;
    assert_invalid(res, &["type"]).await;
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
    let (app, admin) = spawn_app_with_admin().await;
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
    assert_eq!(items(&last).len(), 1);
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

/// The ETag of a `GET`, and whether it answers 304 to `If-None-Match`
/// with `tag`.
async fn etag_of(app: &TestApp, path: &str, token: &str, tag: Option<&str>) -> (u16, String) {
    let res = match tag {
        Some(tag) => app.revalidate(path, Some(token), tag).await,
        None => app.get(path, token).await,
    };
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    (res.status().as_u16(), etag)
}

#[tokio::test]
async fn every_record_read_by_id_changes_its_etag_when_its_answer_does() {
    let (app, admin) = spawn_app_with_admin().await;
    let token = &admin.token;
    let ghana = app.institution(token, "University of Ghana", "GH").await;
    let china = app.institution(token, "Zhejiang University", "CN").await;
    let ghana_id: Uuid = id(&ghana);
    let programme = app.programme(token, "SYNC", &china).await;
    let (cohort, cohort_path) = app
        .open_cohort(token, &programme, &china, "S1", json!({"capacity": 5}))
        .await;
    let trainee = app.trainee_record(Some(ghana_id)).await;
    let enrollment = app.enroll(&cohort_path, token, &trainee).await;
    let enrollment_path = path_of("enrollments", &enrollment);
    let now = chrono::Utc::now();
    let session = app
        .create(
            &format!("{cohort_path}/sessions"),
            token,
            &json!({"title": "Day 1", "starts_at": now, "ends_at": now + chrono::Duration::hours(2)}),
        )
        .await;
    let session_path = path_of("sessions", &session);
    let incubator = app
        .create(
            "/api/v1/incubators",
            token,
            &json!({"name": "Hub", "host_institution_id": china["id"], "country_code": "CN",
                    "themes": ["health"], "capacity": 3, "services": ["compute"]}),
        )
        .await;
    let venture = app
        .create(
            "/api/v1/ventures",
            token,
            &json!({"incubator_id": incubator["id"], "name": "Scan", "theme": "health",
                    "country_code": "GH", "founder_trainee_ids": [trainee], "jobs_created": 1,
                    "funding_raised_usd": "10"}),
        )
        .await;
    let agreement = app
        .create(
            "/api/v1/exchange-agreements",
            token,
            &json!({"institution_a_id": ghana["id"], "institution_b_id": china["id"], "title": "GH-CN",
                    "valid_from": "2027-01-01", "valid_to": "2028-12-31", "kinds": ["fellowship"],
                    "annual_quota": 2}),
        )
        .await;
    let exchange = app
        .create(
            "/api/v1/exchanges",
            token,
            &json!({"kind": "fellowship", "trainee_id": trainee, "sending_institution_id": ghana["id"],
                    "receiving_institution_id": china["id"], "starts_on": "2027-09-01", "ends_on": "2028-02-28"}),
        )
        .await;
    let partner = app.user(Role::Partner, Some(ghana_id)).await;
    let invitation = app
        .create(
            "/api/v1/invitations",
            token,
            &json!({"email": "new@ug.edu.gh", "role": "partner", "institution_id": ghana["id"]}),
        )
        .await;
    let resource = app
        .create("/api/v1/resources", token, &course_body(&ghana))
        .await;
    let hook = app
        .create(
            "/api/v1/webhooks",
            token,
            &json!({"url": "https://sis.example.org/meridian", "events": ["trainee.created"]}),
        )
        .await;
    let id_of = |v: &Value| v["id"].as_str().unwrap().to_string();
    let notification = app.first_notification().await;
    // Each record, and a change of what its answer shows. Cohorts and
    // sessions change by their computed parts, their own row untouched.
    let cases: Vec<(String, String, String)> = vec![
        (
            "institutions".into(),
            id_of(&ghana),
            "UPDATE institutions SET city = 'Accra'".into(),
        ),
        (
            "programs".into(),
            id_of(&programme),
            "UPDATE programs SET title = 'Renamed'".into(),
        ),
        ("cohorts".into(), id_of(&cohort), String::new()),
        (
            "trainees".into(),
            trainee.to_string(),
            "UPDATE trainees SET field = 'Robotics'".into(),
        ),
        (
            "enrollments".into(),
            id_of(&enrollment),
            "UPDATE enrollments SET note = 'seen'".into(),
        ),
        ("sessions".into(), id_of(&session), String::new()),
        (
            "incubators".into(),
            id_of(&incubator),
            "UPDATE incubators SET city = 'Hangzhou'".into(),
        ),
        (
            "ventures".into(),
            id_of(&venture),
            "UPDATE ventures SET jobs_created = 7".into(),
        ),
        (
            "exchange-agreements".into(),
            id_of(&agreement),
            "UPDATE exchange_agreements SET title = 'Renamed'".into(),
        ),
        (
            "exchanges".into(),
            id_of(&exchange),
            "UPDATE exchanges SET funding_usd = 5".into(),
        ),
        (
            "resources".into(),
            id_of(&resource),
            "UPDATE resources SET licence = 'MIT'".into(),
        ),
        (
            "webhooks".into(),
            id_of(&hook),
            "UPDATE webhook_subscriptions SET description = 'Registry'".into(),
        ),
        (
            "users".into(),
            partner.id.to_string(),
            "UPDATE users SET full_name = 'Renamed'".into(),
        ),
        (
            "invitations".into(),
            id_of(&invitation),
            "UPDATE invitations SET expires_at = expires_at + interval '1 day'".into(),
        ),
        (
            "notifications".into(),
            notification.to_string(),
            "UPDATE notifications SET attempts = attempts + 1".into(),
        ),
    ];
    let doc = app.get_json("/api/v1/openapi.json", token).await;
    let by_id: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(path, item)| {
            item.get("get").is_some() && path.ends_with("/{id}") && path.matches('/').count() == 4
        })
        .map(|(path, _)| path.clone())
        .collect();
    for path in &by_id {
        let collection = path
            .trim_start_matches("/api/v1/")
            .trim_end_matches("/{id}");
        let case = cases.iter().find(|(c, _, _)| c == collection);
        let (_, id, change) = case.unwrap_or_else(|| panic!("{path} is not walked"));
        let at = path.replace("{id}", id);
        let (_, before) = etag_of(&app, &at, token, None).await;
        assert_eq!(
            etag_of(&app, &at, token, Some(&before)).await.0,
            304,
            "{at}"
        );
        match collection {
            "cohorts" => app.moved(token, &enrollment_path, "accepted").await,
            "sessions" => {
                let res = app
                    .request(
                        reqwest::Method::PUT,
                        &format!("{session_path}/attendance"),
                        Some(token),
                    )
                    .json(&json!([{"enrollment_id": enrollment["id"], "status": "present"}]))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 200);
            }
            _ => {
                let table = change.split_whitespace().nth(1).unwrap();
                app.run_sql(&format!("{change} WHERE id = '{id}'")).await;
                assert!(!table.is_empty());
            }
        }
        let (status, after) = etag_of(&app, &at, token, Some(&before)).await;
        assert_eq!(status, 200, "{at}: the old ETag still answered 304");
        assert_ne!(after, before, "{at}");
        // JSON and CSV never share a tag.
        let res = app
            .get_with_header(&at, Some(token), "accept", "text/csv")
            .await;
        let csv_tag = res.headers()["etag"].to_str().unwrap().to_string();
        assert_ne!(csv_tag, after, "{at}");
        let again = app
            .request(reqwest::Method::GET, &at, Some(token))
            .header("accept", "text/csv")
            .header("if-none-match", &csv_tag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{at}: CSV revalidation");
        assert_eq!(again.headers()["etag"].to_str().unwrap(), csv_tag);
        let vary: Vec<String> = res
            .headers()
            .get_all("vary")
            .iter()
            .flat_map(|v| {
                v.to_str()
                    .unwrap()
                    .split(',')
                    .map(|s| s.trim().to_lowercase())
            })
            .collect();
        assert!(vary.iter().any(|v| v == "accept"), "{at}: {vary:?}");
    }
    assert_eq!(by_id.len(), cases.len());
}
