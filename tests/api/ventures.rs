//! Incubators and ventures: exact money, the venture lifecycle, capacity
//! under concurrent admissions, founder scopes and emails.

use meridian::auth::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{
    helpers::{
        assert_invalid, assert_problem, id, item_texts, items, mail_settings, merged, path_of,
        spawn_app, spawn_app_with, TestApp, TestUser,
    },
    smtp::SmtpServer,
};

async fn incubator(app: &TestApp, token: &str, capacity: i32) -> Value {
    let admin = app.admin().await;
    let host = app
        .institution(&admin.token, &format!("Host {}", Uuid::now_v7()), "CN")
        .await;
    let res = app
        .post(
            "/api/v1/incubators",
            token,
            &json!({"name": "Shenzhen AI Venture Hub", "host_institution_id": host["id"], "country_code": "CN",
                    "city": "Shenzhen", "themes": ["agriculture", "energy"], "capacity": capacity,
                    "services": ["legal", "compute", "capital_matching"]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

async fn venture(app: &TestApp, token: &str, incubator: &Value, founders: &[Uuid]) -> String {
    let v = app.create("/api/v1/ventures", token, &json!({"incubator_id": incubator["id"], "name": "AgriSense", "theme": "agriculture", "country_code": "KE", "founder_trainee_ids": founders, "jobs_created": 12, "funding_raised_usd": "250000.5"})).await;
    assert_eq!(v["funding_raised_usd"], "250000.50");
    path_of("ventures", &v)
}

async fn coordinator(app: &TestApp) -> TestUser {
    app.user(Role::Coordinator, None).await
}

#[tokio::test]
async fn bad_incubators_and_ventures_list_every_field() {
    let app = spawn_app().await;
    let c = coordinator(&app).await;
    let res = app
        .post(
            "/api/v1/incubators",
            &c.token,
            &json!({"name": "X", "country_code": "CN", "capacity": 0, "services": ["legal", "catering"]}),
        )
        .await;
    assert_invalid(res, &["capacity", "host_institution_id", "services"]).await;
    let inc = incubator(&app, &c.token, 3).await;
    let bad: [(Value, &[&str]); 4] = [
        (
            json!({"jobs_created": -1, "funding_raised_usd": 12.5}),
            &["funding_raised_usd", "jobs_created"],
        ),
        (
            json!({"funding_raised_usd": "1.005"}),
            &["funding_raised_usd"],
        ),
        (json!({"funding_raised_usd": "-3"}), &["funding_raised_usd"]),
        (
            json!({"name": "Ghost founders", "theme": "energy", "founder_trainee_ids": [Uuid::now_v7()]}),
            &["founder_trainee_ids"],
        ),
    ];
    for (extra, fields) in bad {
        let body = json!({"incubator_id": inc["id"], "name": "Bad", "theme": "agriculture", "country_code": "KE"});
        let res = app
            .post("/api/v1/ventures", &c.token, &merged(body, extra))
            .await;
        app.assert_invalid_leaving(res, fields, "ventures", 0).await;
    }
}

#[tokio::test]
async fn concurrent_admissions_never_exceed_the_incubator_capacity() {
    let app = spawn_app().await;
    let c = coordinator(&app).await;
    let inc = incubator(&app, &c.token, 2).await;
    let mut paths = Vec::new();
    for _ in 0..12 {
        paths.push(venture(&app, &c.token, &inc, &[]).await);
    }
    let moves = paths.iter().map(|p| {
        let app = &app;
        let token = c.token.clone();
        async move { app.move_to(&token, p, "admitted").await.status().as_u16() }
    });
    let statuses = futures_util::future::join_all(moves).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        2,
        "{statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 10);
    let p = app
        .move_refused(&c.token, &paths[0], "graduated", "illegal-transition")
        .await;
    assert!(p["allowed"].is_array());
}

#[tokio::test]
async fn founders_are_told_and_partners_see_their_trainees_ventures() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_with(mail_settings(&smtp.url())).await;
    let c = coordinator(&app).await;
    let admin = app.admin().await;
    let inst = app
        .institution(&admin.token, "Jomo Kenyatta University", "KE")
        .await;
    let inst_id: Uuid = id(&inst);
    let founder = app.trainee_record(Some(inst_id)).await;
    let inc = incubator(&app, &c.token, 5).await;
    let path = venture(&app, &c.token, &inc, &[founder]).await;
    for to in ["admitted", "incubating", "graduated"] {
        assert_eq!(app.move_to(&c.token, &path, to).await.status(), 200, "{to}");
    }
    let v: Value = app.get_json(&path, &c.token).await;
    assert!(v["admitted_on"].is_string() && v["graduated_on"].is_string());
    let mail = smtp.wait_for(2, 10).await;
    let subjects: Vec<String> = mail
        .iter()
        .map(|m| m.parsed().subject().unwrap().to_string())
        .collect();
    assert_eq!(subjects.len(), 2, "{subjects:?}");
    assert!(subjects.iter().any(|s| s.contains("is admitted to")));
    assert!(subjects.iter().any(|s| s.contains("has graduated")));

    // The founder's journey shows the venture with its jobs and funding.
    let journey: Value = app
        .get_json(&format!("/api/v1/trainees/{founder}/journey"), &c.token)
        .await;
    let step = &journey["steps"][0];
    assert_eq!(
        (step["kind"].as_str(), step["status"].as_str()),
        (Some("venture"), Some("graduated"))
    );
    assert_eq!(
        (
            step["jobs_created"].as_i64(),
            step["funding_raised_usd"].as_str()
        ),
        (Some(12), Some("250000.50"))
    );

    let partner = app.user(Role::Partner, Some(inst_id)).await;
    assert_eq!(app.get(&path, &partner.token).await.status(), 200);
    let listed: Value = app.get_json("/api/v1/ventures", &partner.token).await;
    assert_eq!(items(&listed).len(), 1);
    let other_inst = app
        .institution(&admin.token, "Makerere University", "UG")
        .await;
    let other = app.member(Role::Partner, &other_inst).await;
    assert_problem(app.get(&path, &other.token).await, 404, "not-found").await;
    let viewer = app.user(Role::Viewer, None).await;
    assert_problem(
        app.get("/api/v1/ventures", &viewer.token).await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(
        app.get("/api/v1/incubators", &viewer.token).await.status(),
        200
    );
}

#[tokio::test]
async fn service_requests_name_an_offered_service_and_move_through_their_lifecycle() {
    let app = spawn_app().await;
    let c = coordinator(&app).await;
    let inc = incubator(&app, &c.token, 3).await;
    let path = venture(&app, &c.token, &inc, &[]).await;
    let res = app
        .post(
            &format!("{path}/service-requests"),
            &c.token,
            &json!({"service": "mentoring", "description": "Pitch coaching"}),
        )
        .await;
    assert_invalid(res, &["service"]).await;
    let mut ids = Vec::new();
    for what in [
        "GPU hours for crop-disease model",
        "Trademark filing in Kenya",
    ] {
        let service = if what.starts_with("GPU") {
            "compute"
        } else {
            "legal"
        };
        let r = app
            .create(
                &format!("{path}/service-requests"),
                &c.token,
                &json!({"service": service, "description": what}),
            )
            .await;
        assert_eq!(r["status"], "open");
        ids.push(path_of("service-requests", &r));
    }
    let queue: Value = app
        .get_json("/api/v1/service-requests?status=open", &c.token)
        .await;
    let descriptions: Vec<&str> = item_texts(&queue, "description");
    assert_eq!(
        descriptions,
        [
            "GPU hours for crop-disease model",
            "Trademark filing in Kenya"
        ]
    );
    let p = app
        .move_refused(&c.token, &ids[0], "resolved", "illegal-transition")
        .await;
    assert_eq!(p["allowed"], json!(["in_progress", "declined"]));
    app.patched(&ids[0], &c.token, &json!({"assignee_id": c.id}))
        .await;
    for to in ["in_progress", "resolved"] {
        app.moved(&c.token, &ids[0], to).await;
    }
    let queue: Value = app
        .get_json("/api/v1/service-requests?status=open", &c.token)
        .await;
    assert_eq!(items(&queue).len(), 1);

    app.create(
        &format!("{path}/milestones"),
        &c.token,
        &json!({"title": "First paying cooperative", "due_on": "2027-06-30"}),
    )
    .await;
    let res = app
        .post(
            &format!("{path}/milestones"),
            &c.token,
            &json!({"due_on": "someday"}),
        )
        .await;
    assert_invalid(res, &["due_on", "title"]).await;
    let listed: Value = app.get_json(&format!("{path}/milestones"), &c.token).await;
    assert_eq!(listed["items"][0]["title"], "First paying cooperative");
}

#[tokio::test]
async fn a_venture_keeps_its_incubator_and_funding_is_never_null() {
    let app = spawn_app().await;
    let c = coordinator(&app).await;
    let inc = incubator(&app, &c.token, 3).await;
    let other = incubator(&app, &c.token, 3).await;
    let body = json!({"incubator_id": inc["id"], "name": "NoFunds", "theme": "agriculture", "country_code": "KE"});
    let v = app.create("/api/v1/ventures", &c.token, &body).await;
    let funding: f64 = v["funding_raised_usd"].as_str().unwrap().parse().unwrap();
    assert_eq!(funding, 0.0);
    assert_eq!(v["jobs_created"], 0);
    let path = path_of("ventures", &v);
    let res = app
        .patch(
            &path,
            &c.token,
            &json!({"incubator_id": other["id"], "name": "Moved"}),
        )
        .await;
    let problem = assert_invalid(res, &["incubator_id"]).await;
    assert_eq!(problem["errors"][0]["message"], "cannot be changed");
    let now = app.get_ok(&path, &c.token).await;
    assert_eq!(
        (&now["incubator_id"], &now["name"]),
        (&inc["id"], &v["name"])
    );
    let mut null_funding = body.clone();
    null_funding["funding_raised_usd"] = Value::Null;
    let res = app.post("/api/v1/ventures", &c.token, &null_funding).await;
    app.assert_invalid_leaving(res, &["funding_raised_usd"], "ventures", 1)
        .await;
}
