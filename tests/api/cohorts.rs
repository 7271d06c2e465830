//! Programmes and cohorts: fields, rules and the cohort lifecycle.

use meridian::auth::Role;
use serde_json::{json, Value};

use crate::helpers::{
    assert_invalid, assert_problem, error_fields, item_texts, items, path_of, spawn_app, TestApp,
};

async fn setup(app: &TestApp) -> (String, Value, Value) {
    let admin = app.admin().await;
    let host = app
        .institution(&admin.token, "Strathmore University", "KE")
        .await;
    let coordinator = app.user(Role::Coordinator, None).await;
    let programme = app.programme(&coordinator.token, "AI4AG-2027", &host).await;
    (coordinator.token, programme, host)
}

/// Creates a draft cohort of a programme hosted by `host`.
async fn draft(
    app: &TestApp,
    token: &str,
    programme: &Value,
    host: &Value,
    code: &str,
    extra: Value,
) -> Value {
    app.cohort(token, &TestApp::cohort_body(programme, host, code, extra))
        .await
}

#[tokio::test]
async fn programmes_have_unique_codes_and_ordered_dates() {
    let app = spawn_app().await;
    let (token, programme, host) = setup(&app).await;
    assert_eq!(programme["status"], "draft");
    let body = |code: &str, title: &str, theme: &str, lead: &Value, dates: [&str; 2]| {
        json!({"code": code, "title": title, "theme": theme, "lead_institution_id": lead,
               "starts_on": dates[0], "ends_on": dates[1]})
    };
    let ghost = json!("01a22228-d8ed-7441-b9a0-c214e2fc361d");
    let (lead, in_order) = (&host["id"], ["2027-01-01", "2027-02-01"]);
    // (body, status, problem, fields named)
    let refused: [(Value, u16, &str, &[&str]); 3] = [
        (
            body("ai4ag-2027", "Again", "agriculture", lead, in_order),
            409,
            "duplicate",
            &[],
        ),
        (
            body("bad code", "", "mining", lead, ["2027-05-01", "2027-02-01"]),
            422,
            "validation",
            &["code", "ends_on", "theme", "title"],
        ),
        (
            body("X1", "Ghost lead", "energy", &ghost, in_order),
            422,
            "validation",
            &["lead_institution_id"],
        ),
    ];
    for (body, status, kind, fields) in refused {
        let res = app.post("/api/v1/programs", &token, &body).await;
        let problem = assert_problem(res, status, kind).await;
        if status == 422 {
            assert_eq!(error_fields(&problem), fields);
        }
    }
    // A change that breaks the date order is refused once merged.
    let path = path_of("programs", &programme);
    let res = app
        .patch(&path, &token, &json!({"ends_on": "2026-01-01"}))
        .await;
    app.assert_invalid_leaving(res, &["ends_on"], "programs", 1)
        .await;
}

#[tokio::test]
async fn a_cohort_checks_every_field_and_reports_them_together() {
    let app = spawn_app().await;
    let (token, programme, host) = setup(&app).await;
    let body = TestApp::cohort_body(
        &programme,
        &host,
        "C1",
        json!({
            "delivery": "onsite", "country_code": null, "languages": ["en", "klingonese"],
            "capacity": 0, "max_per_institution": -1, "min_attendance_pct": 101,
            "starts_on": "2027-06-01", "ends_on": "2027-05-01",
            "nominations_open_at": "2027-03-01T00:00:00Z", "nominations_close_at": "2027-02-01T00:00:00Z",
        }),
    );
    let res = app.post("/api/v1/cohorts", &token, &body).await;
    app.assert_invalid_leaving(
        res,
        &[
            "capacity",
            "country_code",
            "ends_on",
            "languages",
            "max_per_institution",
            "min_attendance_pct",
            "nominations_close_at",
        ],
        "cohorts",
        0,
    )
    .await;

    let online = TestApp::cohort_body(
        &programme,
        &host,
        "C2",
        json!({"delivery": "online", "country_code": null}),
    );
    let cohort = app.cohort(&token, &online).await;
    assert_eq!(cohort["status"], "draft");
    assert_eq!(
        (
            cohort["seats_taken"].as_i64(),
            cohort["waitlist_length"].as_i64()
        ),
        (Some(0), Some(0))
    );
    assert_eq!(cohort["min_attendance_pct"], 80);
    assert_eq!(cohort["auto_promote"], true);
    let path = path_of("cohorts", &cohort);
    let res = app
        .patch(
            &path,
            &token,
            &json!({"program_id": programme["id"], "capacity": 0, "status": "open"}),
        )
        .await;
    assert_invalid(res, &["capacity", "program_id", "status"]).await;
    let res = app
        .patch(&path, &token, &json!({"delivery": "onsite"}))
        .await;
    assert_invalid(res, &["country_code"]).await;
    // Codes are unique within a programme.
    let res = app.post("/api/v1/cohorts", &token, &online).await;
    assert_problem(res, 409, "duplicate").await;
}

#[tokio::test]
async fn the_cohort_lifecycle_allows_only_its_moves_and_keeps_history() {
    let app = spawn_app().await;
    let (token, programme, host) = setup(&app).await;
    let cohort = draft(&app, &token, &programme, &host, "C1", json!({})).await;
    let path = path_of("cohorts", &cohort);

    let problem = app
        .move_refused(&token, &path, "running", "illegal-transition")
        .await;
    assert_eq!(problem["allowed"], json!(["open", "cancelled"]));
    assert_eq!(
        (problem["from"].as_str(), problem["to"].as_str()),
        (Some("draft"), Some("running"))
    );
    let res = app.move_to(&token, &path, "flying").await;
    assert_invalid(res, &["to"]).await;

    for to in ["open", "closed", "open", "closed", "running", "completed"] {
        let res = app.move_to(&token, &path, to).await;
        assert_eq!(res.status(), 200, "to {to}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["status"], to);
    }
    for to in ["open", "cancelled", "draft", "running"] {
        let problem = app
            .move_refused(&token, &path, to, "illegal-transition")
            .await;
        assert_eq!(problem["allowed"], json!([]));
    }
    let history: Value = app.get_json(&format!("{path}/transitions"), &token).await;
    let moves = history["items"].as_array().unwrap();
    assert_eq!(moves.len(), 6);
    assert_eq!(
        (moves[0]["from"].as_str(), moves[0]["to"].as_str()),
        (Some("draft"), Some("open"))
    );
    assert!(moves[0]["by"].is_string());

    // Each of draft, open and closed may be cancelled; nothing else.
    for start in [vec![], vec!["open"], vec!["open", "closed"]] {
        let code = format!("X{}", start.len());
        let c = draft(&app, &token, &programme, &host, &code, json!({})).await;
        let p = path_of("cohorts", &c);
        for to in start {
            app.moved(&token, &p, to).await;
        }
        app.moved(&token, &p, "cancelled").await;
    }
}

#[tokio::test]
async fn cohorts_filter_by_programme_status_and_open_window() {
    let app = spawn_app().await;
    let (token, programme, host) = setup(&app).await;
    let other = app.programme(&token, "AI4EN-2027", &host).await;
    let open = draft(&app, &token, &programme, &host, "OPEN", json!({})).await;
    app.move_to(&token, &path_of("cohorts", &open), "open")
        .await;
    let later = chrono::Utc::now() + chrono::Duration::days(5);
    let not_yet = draft(
        &app,
        &token,
        &programme,
        &host,
        "LATER",
        json!({"nominations_open_at": later}),
    )
    .await;
    app.move_to(&token, &path_of("cohorts", &not_yet), "open")
        .await;
    draft(&app, &token, &other, &host, "OTHER", json!({})).await;

    let get = |q: String| {
        let app = &app;
        let token = token.clone();
        async move {
            let v: Value = app.get_json(&format!("/api/v1/cohorts?{q}"), &token).await;
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["code"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        get(format!(
            "program_id={}&sort=code",
            programme["id"].as_str().unwrap()
        ))
        .await,
        ["LATER", "OPEN"]
    );
    assert_eq!(get("status=open&sort=code".into()).await, ["LATER", "OPEN"]);
    assert_eq!(get("open=true".into()).await, ["OPEN"]);
    assert_eq!(get("open=false&sort=code".into()).await, ["LATER", "OTHER"]);
    assert_eq!(get("q=oth".into()).await, ["OTHER"]);
}

#[tokio::test]
async fn the_demo_data_set_loads_once_and_covers_every_cohort_state() {
    let app = spawn_app().await;
    assert!(meridian::demo::seed(&app.db_url).await.unwrap());
    assert!(!meridian::demo::seed(&app.db_url).await.unwrap());
    let admin = app.admin().await;
    // Every state of a cohort and of a venture has at least one record.
    let cohort_states = [
        "draft",
        "open",
        "closed",
        "running",
        "completed",
        "cancelled",
    ];
    let venture_states = [
        "applied",
        "admitted",
        "rejected",
        "incubating",
        "graduated",
        "exited",
        "closed",
    ];
    let states = cohort_states
        .map(|s| ("cohorts", s))
        .into_iter()
        .chain(venture_states.map(|s| ("ventures", s)));
    for (collection, state) in states {
        let page = format!("/api/v1/{collection}?status={state}&count=true");
        let page: Value = app.get_json(&page, &admin.token).await;
        assert!(page["total"].as_i64().unwrap() >= 1, "{collection} {state}");
    }
    assert!(app.count("trainees").await >= 300);
    assert!(app.count("enrollments").await >= 200);
    assert!(app.count("ventures").await >= 21 && app.count("exchanges").await >= 18);
    assert!(app.count("cohort_resources").await >= 10 && app.count("venture_resources").await >= 5);
    let public: Value = app
        .get_anonymous("/api/v1/public/resources")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(items(&public).len(), 4, "published and public");
    let countries: Value = app
        .get_json("/api/v1/institutions?limit=200", &admin.token)
        .await;
    let mut codes: Vec<&str> = item_texts(&countries, "country_code");
    codes.sort();
    codes.dedup();
    assert!(codes.len() >= 12, "{codes:?}");
}

#[tokio::test]
async fn a_cohort_meets_in_an_iana_time_zone() {
    let app = spawn_app().await;
    let (token, programme, host) = setup(&app).await;
    let utc = draft(&app, &token, &programme, &host, "TZ1", json!({})).await;
    assert_eq!(utc["time_zone"], "UTC");
    let nairobi = draft(
        &app,
        &token,
        &programme,
        &host,
        "TZ2",
        json!({"time_zone": "Africa/Nairobi"}),
    )
    .await;
    assert_eq!(nairobi["time_zone"], "Africa/Nairobi");
    let path = path_of("cohorts", &nairobi);
    let changed: Value = app
        .patch(&path, &token, &json!({"time_zone": "Asia/Shanghai"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(changed["time_zone"], "Asia/Shanghai");
    let before = app.count("cohorts").await;
    let res = app
        .post(
            "/api/v1/cohorts",
            &token,
            &TestApp::cohort_body(
                &programme,
                &host,
                "TZ3",
                json!({"time_zone": "Mars/Olympus_Mons"}),
            ),
        )
        .await;
    assert_invalid(res, &["time_zone"]).await;
    let res = app
        .patch(&path, &token, &json!({"time_zone": "EAT+3"}))
        .await;
    app.assert_invalid_leaving(res, &["time_zone"], "cohorts", before)
        .await;
    assert_eq!(
        app.get_json(&path, &token).await["time_zone"],
        "Asia/Shanghai"
    );
}
