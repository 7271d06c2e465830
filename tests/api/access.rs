//! Scope of ids in request bodies and of nested reads (SPEC §1): an id out
//! of the caller's scope answers exactly as an id that does not exist, and
//! nothing is written; a read carries nothing of people outside the scope.

use meridian::auth::Role;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{assert_problem, error_fields, spawn_app, TestApp, TestUser};

fn id(v: &Value) -> Uuid {
    v["id"].as_str().unwrap().parse().unwrap()
}

/// Two partner institutions in different countries, with staff each.
struct Two {
    coordinator: TestUser,
    ghana: Value,
    china: Value,
    ghana_staff: TestUser,
    china_staff: TestUser,
}

async fn two(app: &TestApp) -> Two {
    let admin = app.admin().await;
    let ghana = app
        .institution(&admin.token, "University of Ghana", "GH")
        .await;
    let china = app
        .institution(&admin.token, "Zhejiang University", "CN")
        .await;
    Two {
        coordinator: app.user(Role::Coordinator, None).await,
        ghana_staff: app.user(Role::Partner, Some(id(&ghana))).await,
        china_staff: app.user(Role::Partner, Some(id(&china))).await,
        ghana,
        china,
    }
}

/// The problem of a body, to compare an out-of-scope answer with a
/// missing one: status, type and the fields named.
async fn verdict(res: reqwest::Response) -> (u16, String, Vec<String>) {
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap();
    (
        status,
        body["type"].as_str().unwrap_or_default().to_string(),
        error_fields(&body),
    )
}

#[tokio::test]
async fn a_partner_cannot_propose_an_exchange_for_another_institutions_trainee() {
    let app = spawn_app().await;
    let t = two(&app).await;
    let ghanaian = app.trainee_record(Some(id(&t.ghana))).await;
    let chinese = app.trainee_record(Some(id(&t.china))).await;
    let body = |trainee: Uuid| {
        json!({"kind": "fellowship", "trainee_id": trainee, "sending_institution_id": t.china["id"],
               "receiving_institution_id": t.ghana["id"], "starts_on": "2027-09-01", "ends_on": "2028-02-28"})
    };
    let out_of_scope = app
        .post("/api/v1/exchanges", &t.china_staff.token, &body(ghanaian))
        .await;
    let missing = app
        .post(
            "/api/v1/exchanges",
            &t.china_staff.token,
            &body(Uuid::now_v7()),
        )
        .await;
    let out_of_scope = verdict(out_of_scope).await;
    assert_eq!(out_of_scope.0, 422);
    assert_eq!(out_of_scope.2, ["trainee_id"]);
    assert_eq!(out_of_scope, verdict(missing).await);
    assert_eq!(app.count("exchanges").await, 0);
    // Nothing of the exchange reaches the trainee's journey.
    let journey: Value = app
        .get(
            &format!("/api/v1/trainees/{ghanaian}/journey"),
            &t.coordinator.token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(journey["steps"].as_array().unwrap().len(), 0);
    // Its own trainee, it may propose; staff may name anyone's.
    let res = app
        .post("/api/v1/exchanges", &t.china_staff.token, &body(chinese))
        .await;
    assert_eq!(res.status(), 201);
    let res = app
        .post("/api/v1/exchanges", &t.coordinator.token, &body(ghanaian))
        .await;
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn a_partner_reads_only_its_own_institutions_attendance_marks() {
    let app = spawn_app().await;
    let t = two(&app).await;
    let token = &t.coordinator.token;
    let programme = app.programme(token, "AIHEALTH", &t.china).await;
    let (_, cohort) = app
        .open_cohort(token, &programme, &t.china, "H1", json!({"capacity": 5}))
        .await;
    let mut enrollments = Vec::new();
    for (staff, inst) in [(&t.ghana_staff, &t.ghana), (&t.china_staff, &t.china)] {
        let trainee = app.trainee_record(Some(id(inst))).await;
        let res = app
            .post(
                &format!("{cohort}/enrollments"),
                &staff.token,
                &json!({ "trainee_id": trainee }),
            )
            .await;
        assert_eq!(res.status(), 201);
        let e: Value = res.json().await.unwrap();
        let path = format!("/api/v1/enrollments/{}", e["id"].as_str().unwrap());
        assert_eq!(app.move_to(token, &path, "accepted").await.status(), 200);
        enrollments.push(e["id"].as_str().unwrap().to_string());
    }
    let now = chrono::Utc::now();
    let res = app
        .post(
            &format!("{cohort}/sessions"),
            token,
            &json!({"title": "Day 1", "starts_at": now - chrono::Duration::hours(4),
                    "ends_at": now - chrono::Duration::hours(1)}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let session: Value = res.json().await.unwrap();
    let session = format!("/api/v1/sessions/{}", session["id"].as_str().unwrap());
    let marks: Vec<Value> = enrollments
        .iter()
        .map(|e| json!({"enrollment_id": e, "status": "present"}))
        .collect();
    let res = app
        .request(Method::PUT, &format!("{session}/attendance"), Some(token))
        .json(&marks)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let marked = |body: Value| -> Vec<String> {
        body["attendance"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["enrollment_id"].as_str().unwrap().to_string())
            .collect()
    };
    let all: Value = app.get(&session, token).await.json().await.unwrap();
    assert_eq!(marked(all).len(), 2);
    let ghana: Value = app
        .get(&session, &t.ghana_staff.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(marked(ghana), [enrollments[0].clone()]);
    let china: Value = app
        .get(&session, &t.china_staff.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(marked(china), [enrollments[1].clone()]);
}

#[tokio::test]
async fn service_requests_are_assigned_only_to_staff_and_only_by_staff() {
    let app = spawn_app().await;
    let t = two(&app).await;
    let token = &t.coordinator.token;
    let res = app
        .post(
            "/api/v1/incubators",
            token,
            &json!({"name": "Hangzhou AI Hub", "host_institution_id": t.china["id"], "country_code": "CN",
                    "themes": ["health"], "capacity": 3, "services": ["legal", "compute"]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let incubator: Value = res.json().await.unwrap();
    let founder = app.trainee_record(Some(id(&t.ghana))).await;
    let res = app
        .post(
            "/api/v1/ventures",
            token,
            &json!({"incubator_id": incubator["id"], "name": "MalariaScan", "theme": "health",
                    "country_code": "GH", "founder_trainee_ids": [founder], "jobs_created": 3,
                    "funding_raised_usd": "1000"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let venture: Value = res.json().await.unwrap();
    let requests = format!(
        "/api/v1/ventures/{}/service-requests",
        venture["id"].as_str().unwrap()
    );
    let ask = |assignee: Uuid| json!({"service": "compute", "description": "GPU hours", "assignee_id": assignee});
    // A partner names nobody: a coordinator is out of its scope, and
    // answers as a user that does not exist.
    let out_of_scope = app
        .post(&requests, &t.ghana_staff.token, &ask(t.coordinator.id))
        .await;
    let missing = app
        .post(&requests, &t.ghana_staff.token, &ask(Uuid::now_v7()))
        .await;
    let out_of_scope = verdict(out_of_scope).await;
    assert_eq!(
        (out_of_scope.0, out_of_scope.2.clone()),
        (422, vec!["assignee_id".to_string()])
    );
    assert_eq!(out_of_scope, verdict(missing).await);
    // Staff assign staff, never partner staff or trainees.
    let res = app.post(&requests, token, &ask(t.china_staff.id)).await;
    assert_eq!(verdict(res).await, out_of_scope);
    assert_eq!(app.count("service_requests").await, 0);
    let res = app
        .post(
            &requests,
            &t.ghana_staff.token,
            &json!({"service": "compute", "description": "GPU hours"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let request: Value = res.json().await.unwrap();
    let path = format!(
        "/api/v1/service-requests/{}",
        request["id"].as_str().unwrap()
    );
    let res = app
        .patch(&path, token, &json!({ "assignee_id": t.ghana_staff.id }))
        .await;
    assert_eq!(verdict(res).await, out_of_scope);
    let res = app
        .patch(&path, token, &json!({ "assignee_id": t.coordinator.id }))
        .await;
    assert_eq!(res.status(), 200);
    // The partner of another institution does not see the venture at all.
    let res = app
        .post(
            &requests,
            &t.china_staff.token,
            &json!({"service": "compute", "description": "GPU hours"}),
        )
        .await;
    assert_problem(res, 404, "not-found").await;
}

#[tokio::test]
async fn partners_do_not_delete_trainees_and_viewers_do_not_read_agreements() {
    let app = spawn_app().await;
    let t = two(&app).await;
    let trainee = app.trainee_record(Some(id(&t.ghana))).await;
    let path = format!("/api/v1/trainees/{trainee}");
    assert_problem(
        app.delete(&path, &t.ghana_staff.token).await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(app.get(&path, &t.ghana_staff.token).await.status(), 200);
    let viewer = app.user(Role::Viewer, None).await;
    assert_problem(
        app.get("/api/v1/exchange-agreements", &viewer.token).await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(
        app.get("/api/v1/exchange-agreements", &t.ghana_staff.token)
            .await
            .status(),
        200
    );
}
