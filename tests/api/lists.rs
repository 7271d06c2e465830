//! The list conventions, shown on `/institutions`.

use std::collections::HashSet;

use diesel::QueryDsl;
use diesel_async::RunQueryDsl;
use meridian::auth::Role;
use serde_json::{json, Value};

use crate::helpers::{
    assert_problem, items, spawn_app_with_admin, spawn_app_with_institutions, TestApp, TestUser,
};

async fn seed(app: &TestApp, token: &str) {
    let rows = [
        ("Makerere University", "UG", "university"),
        (
            "Kenya Medical Research Institute",
            "KE",
            "research_institute",
        ),
        ("iHub Nairobi", "KE", "incubator_operator"),
        ("Tsinghua University", "CN", "university"),
        ("Zhejiang University", "CN", "university"),
        ("Universidad de los Andes", "CO", "university"),
        ("Ministry of ICT", "RW", "government"),
    ];
    for (name, country, kind) in rows {
        app.create(
            "/api/v1/institutions",
            token,
            &json!({"name": name, "country_code": country, "kind": kind}),
        )
        .await;
    }
}

/// A fresh app whose admin made the seven institutions of [`seed`].
async fn seeded() -> (TestApp, TestUser) {
    let (app, admin) = spawn_app_with_admin().await;
    seed(&app, &admin.token).await;
    (app, admin)
}

async fn walk(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let mut path = format!("/api/v1/institutions?limit=3&{query}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page: Value = app.get_json(&path, token).await;
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 3);
        names.extend(
            items
                .iter()
                .map(|i| i["name"].as_str().unwrap().to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return names,
        }
    }
    panic!("the walk did not end");
}

#[tokio::test]
async fn a_cursor_walk_visits_every_record_once_in_order() {
    let (app, admin) = seeded().await;

    let by_creation = walk(&app, &admin.token, "").await;
    assert_eq!(by_creation.len(), 7);
    assert_eq!(by_creation[0], "Makerere University");
    assert_eq!(by_creation[6], "Ministry of ICT");

    let by_name = walk(&app, &admin.token, "sort=name").await;
    let mut sorted = by_name.clone();
    sorted.sort();
    assert_eq!(by_name, sorted);
    assert_eq!(by_name.iter().collect::<HashSet<_>>().len(), 7);

    let by_name_desc = walk(&app, &admin.token, "sort=-name").await;
    sorted.reverse();
    assert_eq!(by_name_desc, sorted);

    // Ties on country are broken by id, so nothing repeats or goes missing.
    let by_country = walk(&app, &admin.token, "sort=country_code").await;
    assert_eq!(by_country.iter().collect::<HashSet<_>>().len(), 7);
}

#[tokio::test]
async fn a_cursor_of_another_sort_is_refused() {
    let (app, admin) = seeded().await;
    let page: Value = app
        .get_json("/api/v1/institutions?limit=2&sort=name", &admin.token)
        .await;
    let cursor = page["next_cursor"].as_str().unwrap();
    let res = app
        .get(
            &format!("/api/v1/institutions?limit=2&sort=-name&cursor={cursor}"),
            &admin.token,
        )
        .await;
    assert_problem(res, 422, "validation").await;
}

#[tokio::test]
async fn count_filters_and_search_narrow_the_list() {
    let (app, admin) = seeded().await;
    let get = |q: &'static str| {
        let app = &app;
        let token = admin.token.clone();
        async move {
            let v: Value = app
                .get_json(&format!("/api/v1/institutions?{q}"), &token)
                .await;
            v
        }
    };
    let page = get("count=true&limit=2").await;
    assert_eq!(page["total"], 7);
    assert_eq!(items(&page).len(), 2);
    assert!(get("").await.get("total").is_none());

    let kenya = get("country_code=ke&count=true").await;
    assert_eq!(kenya["total"], 2);
    let universities_in_china = get("country_code=CN&kind=university").await;
    assert_eq!(items(&universities_in_china).len(), 2);
    assert_eq!(get("status=suspended").await["items"], json!([]));

    let search = get("q=UNIVERSI&count=true").await;
    assert_eq!(search["total"], 4);
    let search = get("q=nairobi").await;
    assert_eq!(search["items"][0]["name"], "iHub Nairobi");
    // Wildcards in the search term are plain characters.
    assert_eq!(get("q=%25").await["items"], json!([]));
}

#[tokio::test]
async fn updated_since_returns_only_what_changed() {
    let (app, admin) = seeded().await;
    let all: Value = app
        .get_json("/api/v1/institutions?sort=created_at", &admin.token)
        .await;
    let last_sync = chrono::Utc::now();
    let id = all["items"][2]["id"].as_str().unwrap();
    app.patch(
        &format!("/api/v1/institutions/{id}"),
        &admin.token,
        &json!({"status": "suspended"}),
    )
    .await;
    let since = last_sync.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let changed: Value = app
        .get_json(
            &format!("/api/v1/institutions?updated_since={since}&sort=updated_at"),
            &admin.token,
        )
        .await;
    let items = changed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], id);
}

#[tokio::test]
async fn lists_and_dashboards_answer_csv_when_asked() {
    let (app, admin) = seeded().await;
    app.post(
        "/api/v1/institutions",
        &admin.token,
        &json!({"name": "=cmd|' /C calc'!A0", "country_code": "KE", "kind": "other"}),
    )
    .await;
    let res = app
        .get_with_header(
            "/api/v1/institutions?limit=5&sort=name",
            Some(&admin.token),
            "accept",
            "text/csv",
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let cursor = res.headers()["x-next-cursor"].to_str().unwrap().to_string();
    let text = res.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(&header[..3], ["id", "name", "short_name"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 5);
    assert_eq!(
        &rows[0][1], "'=cmd|' /C calc'!A0",
        "formulas are neutralised"
    );
    // The cursor of the CSV page continues the walk.
    let res = app
        .get_with_header(
            &format!("/api/v1/institutions?limit=5&sort=name&cursor={cursor}"),
            Some(&admin.token),
            "accept",
            "text/csv",
        )
        .await;
    let rest = res.text().await.unwrap();
    assert_eq!(rest.lines().count(), 1 + 3);
    assert!(res_headers_lack_cursor(&app, &admin.token, &cursor).await);

    let res = app
        .get_with_header(
            "/api/v1/stats/overview",
            Some(&admin.token),
            "accept",
            "text/csv",
        )
        .await;
    let text = res.text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let row = reader.records().next().unwrap().unwrap();
    let at = |name: &str| row[header.iter().position(|h| h == name).unwrap()].to_string();
    assert_eq!(at("institutions"), "8");
    assert_eq!(at("enrollments.total"), "0");
}

async fn res_headers_lack_cursor(app: &TestApp, token: &str, cursor: &str) -> bool {
    let res = app
        .get_with_header(
            &format!("/api/v1/institutions?limit=5&sort=name&cursor={cursor}"),
            Some(token),
            "accept",
            "text/csv",
        )
        .await;
    res.headers().get("x-next-cursor").is_none()
}

#[tokio::test]
async fn a_csv_export_streams_the_whole_list_in_order_within_scope() {
    let (app, admin, [home, other]) = spawn_app_with_institutions([
        ("Universidade Eduardo Mondlane", "MZ"),
        ("Makerere University", "UG"),
    ])
    .await;
    // More than two export pages, one with a formula for a name.
    app.run_sql(&format!(
        "INSERT INTO trainees (id, institution_id, given_name, family_name, email, nationality, gender) \
         SELECT gen_random_uuid(), '{}', CASE WHEN g = 7 THEN '=HYPERLINK(\"x\")' ELSE 'Given' || g END, \
                'Family', 'export' || g || '@uem.ac.mz', CASE WHEN g % 3 = 0 THEN 'KE' ELSE 'MZ' END, 'female' \
         FROM generate_series(1, 2345) g",
        home["id"].as_str().unwrap()
    ))
    .await;
    let export = |path: &'static str, token: String| {
        let app = &app;
        async move {
            let res = app
                .get_with_header(path, Some(&token), "accept", "text/csv")
                .await;
            assert_eq!(res.status(), 200, "{path}");
            assert!(res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv"));
            assert!(res.headers().get("x-next-cursor").is_none());
            let text = res.text().await.unwrap();
            let mut reader = csv::Reader::from_reader(text.as_bytes());
            let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
            let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
            (header, rows)
        }
    };
    let (header, rows) = export("/api/v1/trainees", admin.token.clone()).await;
    assert_eq!(&header[..2], ["id", "institution_id"]);
    assert_eq!(rows.len(), 2345);
    let mut conn = app.conn().await;
    let expected: Vec<uuid::Uuid> = meridian::schema::trainees::table
        .select(meridian::schema::trainees::id)
        .order((
            meridian::schema::trainees::created_at,
            meridian::schema::trainees::id,
        ))
        .load(&mut conn)
        .await
        .unwrap();
    let exported: Vec<uuid::Uuid> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    assert_eq!(exported, expected, "every trainee once, in list order");
    let name = header.iter().position(|h| h == "given_name").unwrap();
    assert!(rows.iter().any(|r| &r[name] == "'=HYPERLINK(\"x\")"));

    let (_, kenyans) = export("/api/v1/trainees?nationality=KE", admin.token.clone()).await;
    assert_eq!(kenyans.len(), 781, "filters hold");
    let stranger = app.member(Role::Partner, &other).await;
    let (_, theirs) = export("/api/v1/trainees", stranger.token.clone()).await;
    assert!(theirs.is_empty(), "scopes hold");

    // A bad request is still a problem, not a stream.
    let res = app
        .get_with_header(
            "/api/v1/trainees?sort=shoe_size",
            Some(&admin.token),
            "accept",
            "text/csv",
        )
        .await;
    assert_problem(res, 422, "validation").await;
}
