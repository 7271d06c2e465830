//! Scope of ids in request bodies and of nested reads (SPEC §1): an id out
//! of the caller's scope answers exactly as an id that does not exist, and
//! nothing is written; a read carries nothing of people outside the scope.

use meridian::auth::{
    policy::{access, Access, Action, Resource},
    Role,
};
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{
    assert_problem, course_body, error_fields, id, path_of, spawn_app, Cast, TestApp, TestUser,
    GHANA, NAIROBI, TSINGHUA, ZHEJIANG,
};

/// The cast of a scope test: `own` is the University of Ghana, `other`
/// Zhejiang University.
async fn two(app: &TestApp) -> Cast {
    app.cast(GHANA, ZHEJIANG).await
}

/// The problem of a body, to compare an out-of-scope answer with a
/// missing one: status, type and the fields named.
async fn verdict(res: reqwest::Response) -> (u16, String, Vec<String>) {
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap();
    let fields = match body["errors"] {
        Value::Null => Vec::new(),
        _ => error_fields(&body),
    };
    (
        status,
        body["type"].as_str().unwrap_or_default().to_string(),
        fields,
    )
}

#[tokio::test]
async fn a_partner_cannot_propose_an_exchange_for_another_institutions_trainee() {
    let app = spawn_app().await;
    let t = two(&app).await;
    let ghanaian = app.trainee_record(Some(id(&t.own))).await;
    let chinese = app.trainee_record(Some(id(&t.other))).await;
    let body = |trainee: Uuid| {
        json!({"kind": "fellowship", "trainee_id": trainee, "sending_institution_id": t.other["id"],
               "receiving_institution_id": t.own["id"], "starts_on": "2027-09-01", "ends_on": "2028-02-28"})
    };
    let out_of_scope = app
        .post("/api/v1/exchanges", &t.other_staff.token, &body(ghanaian))
        .await;
    let missing = app
        .post(
            "/api/v1/exchanges",
            &t.other_staff.token,
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
        .get_json(
            &format!("/api/v1/trainees/{ghanaian}/journey"),
            &t.coordinator.token,
        )
        .await;
    assert_eq!(journey["steps"].as_array().unwrap().len(), 0);
    // Its own trainee, it may propose; staff may name anyone's.
    app.create("/api/v1/exchanges", &t.other_staff.token, &body(chinese))
        .await;
    app.create("/api/v1/exchanges", &t.coordinator.token, &body(ghanaian))
        .await;
}

#[tokio::test]
async fn a_partner_reads_only_its_own_institutions_attendance_marks() {
    let app = spawn_app().await;
    let t = two(&app).await;
    let token = &t.coordinator.token;
    let programme = app.programme(token, "AIHEALTH", &t.other).await;
    let (_, cohort) = app
        .open_cohort(token, &programme, &t.other, "H1", json!({"capacity": 5}))
        .await;
    let mut enrollments = Vec::new();
    for (staff, inst) in [(&t.own_staff, &t.own), (&t.other_staff, &t.other)] {
        let trainee = app.trainee_record(Some(id(inst))).await;
        let e = app.enroll(&cohort, &staff.token, &trainee).await;
        let path = path_of("enrollments", &e);
        app.moved(token, &path, "accepted").await;
        enrollments.push(e["id"].as_str().unwrap().to_string());
    }
    let now = chrono::Utc::now();
    let session = app.create(&format!("{cohort}/sessions"), token, &json!({"title": "Day 1", "starts_at": now - chrono::Duration::hours(4), "ends_at": now - chrono::Duration::hours(1)})).await;
    let session = path_of("sessions", &session);
    let marks: Vec<Value> = enrollments
        .iter()
        .map(|e| json!({"enrollment_id": e, "status": "present"}))
        .collect();
    let res = app
        .put(&format!("{session}/attendance"), token, &marks)
        .await;
    assert_eq!(res.status(), 200);
    let marked = |body: Value| -> Vec<String> {
        body["attendance"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["enrollment_id"].as_str().unwrap().to_string())
            .collect()
    };
    let all: Value = app.get_json(&session, token).await;
    assert_eq!(marked(all).len(), 2);
    let ghana: Value = app.get_json(&session, &t.own_staff.token).await;
    assert_eq!(marked(ghana), [enrollments[0].clone()]);
    let china: Value = app.get_json(&session, &t.other_staff.token).await;
    assert_eq!(marked(china), [enrollments[1].clone()]);
}

#[tokio::test]
async fn service_requests_are_assigned_only_to_staff_and_only_by_staff() {
    let app = spawn_app().await;
    let t = two(&app).await;
    let token = &t.coordinator.token;
    let incubator = app.create("/api/v1/incubators", token, &json!({"name": "Hangzhou AI Hub", "host_institution_id": t.other["id"], "country_code": "CN", "themes": ["health"], "capacity": 3, "services": ["legal", "compute"]})).await;
    let founder = app.trainee_record(Some(id(&t.own))).await;
    let venture = app.create("/api/v1/ventures", token, &json!({"incubator_id": incubator["id"], "name": "MalariaScan", "theme": "health", "country_code": "GH", "founder_trainee_ids": [founder], "jobs_created": 3, "funding_raised_usd": "1000"})).await;
    let requests = format!(
        "/api/v1/ventures/{}/service-requests",
        venture["id"].as_str().unwrap()
    );
    let ask = |assignee: Uuid| json!({"service": "compute", "description": "GPU hours", "assignee_id": assignee});
    // A partner names nobody: a coordinator is out of its scope, and
    // answers as a user that does not exist.
    let out_of_scope = app
        .post(&requests, &t.own_staff.token, &ask(t.coordinator.id))
        .await;
    let missing = app
        .post(&requests, &t.own_staff.token, &ask(Uuid::now_v7()))
        .await;
    let out_of_scope = verdict(out_of_scope).await;
    assert_eq!(
        (out_of_scope.0, out_of_scope.2.clone()),
        (422, vec!["assignee_id".to_string()])
    );
    assert_eq!(out_of_scope, verdict(missing).await);
    // Staff assign staff, never partner staff or trainees.
    let res = app.post(&requests, token, &ask(t.other_staff.id)).await;
    assert_eq!(verdict(res).await, out_of_scope);
    assert_eq!(app.count("service_requests").await, 0);
    let request = app
        .create(
            &requests,
            &t.own_staff.token,
            &json!({"service": "compute", "description": "GPU hours"}),
        )
        .await;
    let path = path_of("service-requests", &request);
    let res = app
        .patch(&path, token, &json!({ "assignee_id": t.own_staff.id }))
        .await;
    assert_eq!(verdict(res).await, out_of_scope);
    app.patched(&path, token, &json!({ "assignee_id": t.coordinator.id }))
        .await;
    // The partner of another institution does not see the venture at all.
    let res = app
        .post(
            &requests,
            &t.other_staff.token,
            &json!({"service": "compute", "description": "GPU hours"}),
        )
        .await;
    assert_problem(res, 404, "not-found").await;
}

#[tokio::test]
async fn partners_do_not_delete_trainees_and_viewers_do_not_read_agreements() {
    let app = spawn_app().await;
    let t = two(&app).await;
    let trainee = app.trainee_record(Some(id(&t.own))).await;
    let path = format!("/api/v1/trainees/{trainee}");
    assert_problem(
        app.delete(&path, &t.own_staff.token).await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(app.get(&path, &t.own_staff.token).await.status(), 200);
    assert_problem(
        app.get("/api/v1/exchange-agreements", &t.viewer.token)
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(
        app.get("/api/v1/exchange-agreements", &t.own_staff.token)
            .await
            .status(),
        200
    );
}

/// What an operation is, for the access test: the kind of record and action
/// the policy table is asked about, and which record its `{id}` names.
#[derive(Clone, Copy)]
enum Rule {
    /// Needs no token.
    Public,
    /// Any signed-in user, about itself.
    Own,
    /// A right of the role table; `{id}` is a record of this kind.
    May(Resource, Action, Fixture),
}

/// The records a path's `{id}` (or `{code}`) can name.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Fixture {
    None,
    Institution,
    Program,
    Cohort,
    Trainee,
    Enrollment,
    Session,
    Incubator,
    Venture,
    ServiceRequest,
    Agreement,
    Exchange,
    User,
    Invitation,
    Notification,
    Certificate,
    Knowledge,
    Webhook,
}

/// The collections with the five plain operations (list, create, read,
/// change, delete), whose `{id}` names a record of the fixture; with
/// `moves`, also a history to read and transitions to post.
const COLLECTIONS: [(&str, Resource, Fixture, bool); 10] = [
    (
        "/institutions",
        Resource::Institution,
        Fixture::Institution,
        false,
    ),
    ("/programs", Resource::Program, Fixture::Program, false),
    ("/cohorts", Resource::Cohort, Fixture::Cohort, true),
    ("/trainees", Resource::Trainee, Fixture::Trainee, false),
    (
        "/incubators",
        Resource::Incubator,
        Fixture::Incubator,
        false,
    ),
    ("/ventures", Resource::Venture, Fixture::Venture, true),
    (
        "/exchange-agreements",
        Resource::Agreement,
        Fixture::Agreement,
        false,
    ),
    ("/exchanges", Resource::Exchange, Fixture::Exchange, true),
    ("/resources", Resource::Knowledge, Fixture::Knowledge, true),
    ("/webhooks", Resource::Webhook, Fixture::Webhook, false),
];

/// The rule of a plain operation of one of [`COLLECTIONS`].
fn plain_rule(method: &str, path: &str) -> Option<Rule> {
    use Action::*;
    COLLECTIONS
        .iter()
        .find_map(|&(base, resource, fixture, moves)| {
            let (action, fixture) = match (method, path.strip_prefix(base)?) {
                ("get", "") => (Read, Fixture::None),
                ("post", "") => (Create, Fixture::None),
                ("get", "/{id}") => (Read, fixture),
                ("patch", "/{id}") => (Update, fixture),
                ("delete", "/{id}") => (Delete, fixture),
                ("get", "/{id}/transitions") if moves => (Read, fixture),
                ("post", "/{id}/transitions") if moves => (Move, fixture),
                _ => return None,
            };
            Some(Rule::May(resource, action, fixture))
        })
}

/// Every operation of the API and the question it asks the policy. An
/// operation of the OpenAPI document missing here fails the test.
fn rule(method: &str, path: &str) -> Option<Rule> {
    use Action::*;
    use Fixture as F;
    use Resource as R;
    use Rule::*;
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    if let Some(rule) = plain_rule(method, path) {
        return Some(rule);
    }
    Some(match (method, path) {
        (_, "/healthz" | "/readyz" | "/metrics") => Public,
        ("post", p) if p.starts_with("/auth/") => Public,
        ("get", "/certificates/{code}" | "/problems/{slug}") => Public,
        ("get", "/public/resources" | "/public/resources/{id}") => Public,
        (_, "/me") | ("get", "/deletions") => Own,
        ("get", "/users") => May(R::User, Read, F::None),
        ("get", "/users/{id}") => May(R::User, Read, F::User),
        ("patch", "/users/{id}") => May(R::User, Update, F::User),
        ("post", "/invitations") => May(R::Invitation, Create, F::None),
        ("get", "/invitations/{id}") => May(R::Invitation, Read, F::Invitation),
        ("post", "/trainees/import") => May(R::Trainee, Create, F::None),
        ("get", "/trainees/{id}/journey") => May(R::Trainee, Read, F::Trainee),
        ("get", "/cohorts/{id}/enrollments") => May(R::Enrollment, Read, F::Cohort),
        ("post", "/cohorts/{id}/enrollments") => May(R::Enrollment, Create, F::Cohort),
        ("post", "/cohorts/{id}/enrollments/transitions") => May(R::Enrollment, Move, F::Cohort),
        ("get", "/enrollments") => May(R::Enrollment, Read, F::None),
        ("get", "/enrollments/{id}" | "/enrollments/{id}/transitions") => {
            May(R::Enrollment, Read, F::Enrollment)
        }
        ("post", "/enrollments/{id}/transitions") => May(R::Enrollment, Withdraw, F::Enrollment),
        ("get", "/cohorts/{id}/sessions") => May(R::Session, Read, F::Cohort),
        ("post", "/cohorts/{id}/sessions") => May(R::Session, Create, F::Cohort),
        ("get", "/sessions/{id}") => May(R::Session, Read, F::Session),
        ("put", "/sessions/{id}/attendance") => May(R::Session, Update, F::Session),
        ("post", "/certificates/{code}/revoke") => May(R::Certificate, Update, F::Certificate),
        ("get", "/ventures/{id}/milestones" | "/ventures/{id}/service-requests") => {
            May(R::Venture, Read, F::Venture)
        }
        ("post", "/ventures/{id}/milestones") => May(R::Venture, Update, F::Venture),
        ("post", "/ventures/{id}/service-requests") => May(R::ServiceRequest, Create, F::Venture),
        ("get", "/service-requests") => May(R::ServiceRequest, Read, F::None),
        ("get", "/service-requests/{id}/transitions") => {
            May(R::ServiceRequest, Read, F::ServiceRequest)
        }
        ("patch", "/service-requests/{id}") => May(R::ServiceRequest, Update, F::ServiceRequest),
        ("post", "/service-requests/{id}/transitions") => {
            May(R::ServiceRequest, Move, F::ServiceRequest)
        }
        ("get", "/exchange-agreements/{id}/usage" | "/exchange-agreements/{id}/history") => {
            May(R::Agreement, Read, F::Agreement)
        }
        ("get", "/cohorts/{id}/resources") => May(R::Cohort, Read, F::Cohort),
        ("put" | "delete", "/cohorts/{id}/resources/{resource_id}") => {
            May(R::Cohort, Update, F::Cohort)
        }
        ("get", "/ventures/{id}/resources") => May(R::Venture, Read, F::Venture),
        ("put" | "delete", "/ventures/{id}/resources/{resource_id}") => {
            May(R::Venture, Update, F::Venture)
        }
        (
            "post",
            "/webhooks/{id}/rotate-secret" | "/webhooks/{id}/deliveries/{delivery_id}/retry",
        ) => May(R::Webhook, Update, F::Webhook),
        ("get", "/webhooks/{id}/deliveries") => May(R::Webhook, Read, F::Webhook),
        ("get", "/stats/cohorts/{id}") => May(R::Stats, Read, F::Cohort),
        ("get", p) if p.starts_with("/stats/") => May(R::Stats, Read, F::None),
        ("get", "/audit-events") => May(R::AuditEvent, Read, F::None),
        ("get", "/notifications") => May(R::Notification, Read, F::None),
        ("get", "/notifications/{id}") => May(R::Notification, Read, F::Notification),
        ("post", "/notifications/{id}/retry") => May(R::Notification, Update, F::Notification),
        _ => return None,
    })
}

/// Records of every kind: one the partner's institution (and the trainee
/// user) may reach, one of another institution.
struct World {
    callers: Vec<(Role, TestUser)>,
    records: std::collections::HashMap<Fixture, (String, String)>,
}

fn sid(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// Creates a fellowship agreement of two institutions for 2027–2028.
async fn agreement(
    app: &TestApp,
    token: &str,
    a: &Value,
    b: &Value,
    title: &str,
    quota: u32,
) -> Value {
    let body = json!({"institution_a_id": a["id"], "institution_b_id": b["id"], "title": title,
                      "valid_from": "2027-01-01", "valid_to": "2028-12-31", "kinds": ["fellowship"],
                      "annual_quota": quota});
    app.create("/api/v1/exchange-agreements", token, &body)
        .await
}

/// Creates a record with a `POST` that must answer 201; its id.
async fn made(app: &TestApp, path: &str, token: &str, body: Value) -> String {
    sid(&app.create(path, token, &body).await)
}

async fn world(app: &TestApp) -> World {
    use Fixture as F;
    let (admin, [own, other, host]) = app
        .admin_with_institutions([GHANA, NAIROBI, TSINGHUA])
        .await;
    let coordinator = app.user(Role::Coordinator, None).await;
    let partner = app.member(Role::Partner, &own).await;
    let viewer = app.user(Role::Viewer, None).await;
    let own_trainee = app.trainee_record(Some(id(&own))).await;
    let other_trainee = app.trainee_record(Some(id(&other))).await;
    let trainee = app.user_for_trainee(own_trainee).await;
    let token = coordinator.token.clone();
    let programme = app.programme(&token, "ACCESS", &host).await;
    let (cohort, cohort_path) = app
        .open_cohort(&token, &programme, &host, "A1", json!({"capacity": 5}))
        .await;
    let mut enrollments = Vec::new();
    for t in [own_trainee, other_trainee] {
        let body = json!({ "trainee_id": t });
        enrollments.push(made(app, &format!("{cohort_path}/enrollments"), &token, body).await);
    }
    let now = chrono::Utc::now();
    let body =
        json!({"title": "Day 1", "starts_at": now, "ends_at": now + chrono::Duration::hours(2)});
    let session = made(app, &format!("{cohort_path}/sessions"), &token, body).await;
    let incubator = app
        .create(
            "/api/v1/incubators",
            &token,
            &json!({"name": "Beijing AI Hub", "host_institution_id": host["id"], "country_code": "CN",
                    "themes": ["health"], "capacity": 5, "services": ["compute"]}),
        )
        .await;
    let mut ventures = Vec::new();
    for (name, founder) in [("OwnCo", own_trainee), ("OtherCo", other_trainee)] {
        let body = json!({"incubator_id": incubator["id"], "name": name, "theme": "health",
                          "country_code": "GH", "founder_trainee_ids": [founder], "jobs_created": 1,
                          "funding_raised_usd": "10"});
        ventures.push(made(app, "/api/v1/ventures", &token, body).await);
    }
    let requests = format!("/api/v1/ventures/{}/service-requests", ventures[0]);
    let body = json!({"service": "compute", "description": "GPU hours"});
    let request = made(app, &requests, &token, body).await;
    let agreement = sid(&agreement(app, &token, &own, &host, "Ghana-Tsinghua", 5).await);
    let mut exchanges = Vec::new();
    for (trainee, from) in [(own_trainee, &own), (other_trainee, &other)] {
        let body = json!({"kind": "fellowship", "trainee_id": trainee, "sending_institution_id": from["id"],
                          "receiving_institution_id": host["id"], "starts_on": "2027-09-01",
                          "ends_on": "2028-02-28"});
        exchanges.push(made(app, "/api/v1/exchanges", &token, body).await);
    }
    let mut invitations = Vec::new();
    for (who, email) in [
        (&coordinator, "own@ug.edu.gh"),
        (&admin, "other@uonbi.ac.ke"),
    ] {
        let body = json!({"email": email, "role": "partner", "institution_id": own["id"]});
        invitations.push(made(app, "/api/v1/invitations", &who.token, body).await);
    }
    app.run_sql(&format!(
        "INSERT INTO certificates (id, enrollment_id, code) VALUES \
         ('{}', '{}', 'access-own-code'), ('{}', '{}', 'access-other-code')",
        Uuid::now_v7(),
        enrollments[0],
        Uuid::now_v7(),
        enrollments[1],
    ))
    .await;
    let notification = app.first_notification().await;
    let mut knowledge = Vec::new();
    let mut hooks = Vec::new();
    for owner in [&own, &other] {
        let body = course_body(owner);
        knowledge.push(made(app, "/api/v1/resources", &token, body).await);
        let body = json!({"url": "https://sis.example.org/meridian", "events": ["*"],
                          "institution_id": owner["id"]});
        let hook = made(app, "/api/v1/webhooks", &admin.token, body).await;
        app.run_sql(&format!(
            "INSERT INTO webhook_events (id, event_type, record_id, body) \
               VALUES ('{hook}', 'trainee.created', '{hook}', '{{}}'); \
             INSERT INTO webhook_deliveries (id, subscription_id, event_id, event_type, record_id) \
               VALUES ('{hook}', '{hook}', '{hook}', 'trainee.created', '{hook}');"
        ))
        .await;
        hooks.push(hook);
    }
    let pair = |a: String, b: String| (a, b);
    let same = |a: String| (a.clone(), a);
    let records = [
        (F::None, same(String::new())),
        (F::Institution, pair(sid(&own), sid(&other))),
        (F::Program, same(sid(&programme))),
        (F::Cohort, same(sid(&cohort))),
        (
            F::Trainee,
            pair(own_trainee.to_string(), other_trainee.to_string()),
        ),
        (
            F::Enrollment,
            pair(enrollments[0].clone(), enrollments[1].clone()),
        ),
        (F::Session, same(session)),
        (F::Incubator, same(sid(&incubator))),
        (F::Venture, pair(ventures[0].clone(), ventures[1].clone())),
        (F::ServiceRequest, same(request)),
        (F::Agreement, same(agreement)),
        (
            F::Exchange,
            pair(exchanges[0].clone(), exchanges[1].clone()),
        ),
        (F::User, same(partner.id.to_string())),
        (
            F::Invitation,
            pair(invitations[0].clone(), invitations[1].clone()),
        ),
        (F::Notification, same(notification.to_string())),
        (
            F::Certificate,
            pair("access-own-code".into(), "access-other-code".into()),
        ),
        (
            F::Knowledge,
            pair(knowledge[0].clone(), knowledge[1].clone()),
        ),
        (F::Webhook, pair(hooks[0].clone(), hooks[1].clone())),
    ]
    .into_iter()
    .collect();
    World {
        callers: vec![
            (Role::Admin, admin),
            (Role::Coordinator, coordinator),
            (Role::Partner, partner),
            (Role::Trainee, trainee),
            (Role::Viewer, viewer),
        ],
        records,
    }
}

/// Sends an operation without changing anything it may reach: writes carry a
/// stale `If-Match`, moves a legal-looking target, bodies are empty.
async fn send(app: &TestApp, method: &str, path: &str, token: Option<&str>) -> u16 {
    let method: Method = method.to_uppercase().parse().unwrap();
    let mut rb = app.request(method.clone(), path, token);
    rb = match method {
        Method::PUT => rb.json(&json!([])),
        Method::PATCH | Method::DELETE => rb.header("if-match", "\"0\"").json(&json!({})),
        Method::POST
            if path.ends_with("/transitions")
                && (path.contains("/enrollments/") || path.contains("/resources/")) =>
        {
            rb.json(&json!({"to": "withdrawn"}))
        }
        Method::POST => rb.json(&json!({})),
        _ => rb,
    };
    rb.send().await.unwrap().status().as_u16()
}

#[tokio::test]
async fn every_operation_answers_every_role_as_the_policy_table_says() {
    let app = spawn_app().await;
    let doc = app.openapi().await;
    let w = world(&app).await;
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let rule = rule(method, path)
                .unwrap_or_else(|| panic!("{method} {path} is not covered by the access test"));
            let (resource, action, fixture) = match rule {
                Rule::Public => {
                    let status = send(&app, method, path, None).await;
                    assert!(!matches!(status, 401 | 403), "{method} {path}: {status}");
                    continue;
                }
                Rule::Own => {
                    for (role, user) in &w.callers {
                        let status = send(&app, method, path, Some(&user.token)).await;
                        assert!(
                            !matches!(status, 401 | 403 | 404),
                            "{role:?} {method} {path}: {status}"
                        );
                    }
                    continue;
                }
                Rule::May(resource, action, fixture) => (resource, action, fixture),
            };
            let (own, other) = &w.records[&fixture];
            // A link names a draft: linking it is refused, writing nothing.
            let draft = &w.records[&Fixture::Knowledge].0;
            let at = |record: &str| {
                path.replace("{id}", record)
                    .replace("{code}", record)
                    .replace("{resource_id}", draft)
                    // Each fixture subscription has a delivery of its id.
                    .replace("{delivery_id}", record)
            };
            assert_eq!(
                send(&app, method, &at(own), None).await,
                401,
                "{method} {path} anonymous"
            );
            for (role, user) in &w.callers {
                let token = Some(user.token.as_str());
                let expected = access(*role, resource, action);
                for (record, mine) in [(own, true), (other, false)] {
                    let status = send(&app, method, &at(record), token).await;
                    let what = format!(
                        "{role:?} {method} {} ({expected:?}, own: {mine})",
                        at(record)
                    );
                    match expected {
                        Access::Deny => assert_eq!(status, 403, "{what}"),
                        Access::Own if !mine && own != other => {
                            assert_eq!(status, 404, "{what}")
                        }
                        // The fixtures are drafts: only their own
                        // institution's staff read them.
                        Access::Published if own != other && !(mine && *role == Role::Partner) => {
                            assert_eq!(status, 404, "{what}")
                        }
                        _ => assert!(!matches!(status, 401 | 403 | 404), "{what}: {status}"),
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 800, "only {checked} checks");
}

#[tokio::test]
async fn histories_name_the_staff_who_acted_to_staff_only() {
    let app = spawn_app().await;
    let t = two(&app).await;
    let token = &t.coordinator.token;
    let programme = app.programme(token, "AIEDU", &t.other).await;
    let (_, cohort) = app
        .open_cohort(token, &programme, &t.other, "E1", json!({}))
        .await;
    let trainee = app.trainee_record(Some(id(&t.own))).await;
    let e = app.enroll(&cohort, &t.own_staff.token, &trainee).await;
    let path = path_of("enrollments", &e);
    app.moved(token, &path, "accepted").await;
    let by = |history: &Value| -> Vec<Value> {
        history["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["by"].clone())
            .collect()
    };
    let history = format!("{path}/transitions");
    let staff: Value = app.get_json(&history, token).await;
    assert_eq!(by(&staff)[1], json!(t.coordinator.id));
    let me = app.user_for_trainee(trainee).await;
    for reader in [&t.own_staff, &me] {
        let seen: Value = app.get_json(&history, &reader.token).await;
        assert_eq!(by(&seen), [Value::Null, Value::Null]);
    }
    let agreement = agreement(&app, token, &t.own, &t.other, "Ghana-Zhejiang", 2).await;
    let history = format!("{}/history", path_of("exchange-agreements", &agreement));
    let staff: Value = app.get_json(&history, token).await;
    assert_eq!(staff["items"][0]["actor_id"], json!(t.coordinator.id));
    let partner: Value = app.get_json(&history, &t.own_staff.token).await;
    assert_eq!(partner["items"][0]["actor_id"], Value::Null);
}

#[tokio::test]
async fn every_id_in_a_body_out_of_scope_answers_as_a_missing_one_and_writes_nothing() {
    let app = spawn_app().await;
    let t = two(&app).await;
    let token = &t.coordinator.token;
    let programme = app.programme(token, "AIAGRI", &t.other).await;
    let (_, cohort) = app
        .open_cohort(token, &programme, &t.other, "B1", json!({}))
        .await;
    agreement(&app, token, &t.own, &t.other, "Ghana-Zhejiang", 2).await;
    let kenya = app
        .institution(&t.admin.token, "Strathmore University", "KE")
        .await;
    let unrelated = agreement(&app, token, &kenya, &t.other, "Kenya-Zhejiang", 2).await;
    let foreign_trainee = app.trainee_record(Some(id(&t.other))).await;
    let own_trainee = app.trainee_record(Some(id(&t.own))).await;
    let cohort_body = |coordinator: Value| {
        let mut body = TestApp::cohort_body(&programme, &t.other, "B2", json!({}));
        body["coordinator_id"] = coordinator;
        body
    };
    let exchange = |agreement: Value| {
        json!({"kind": "fellowship", "trainee_id": own_trainee, "sending_institution_id": t.own["id"],
               "receiving_institution_id": t.other["id"], "agreement_id": agreement,
               "starts_on": "2027-09-01", "ends_on": "2028-02-28"})
    };
    let resource = |owner: Value| {
        json!({"title": "Crop vision", "kind": "course", "url": "https://open.example.org/c",
               "licence": "CC-BY-4.0", "ip_terms": "open", "owner_institution_id": owner})
    };
    // (who, path, body naming a record out of scope, the same naming none,
    // the table that must stay as it is)
    let cases = [
        (
            &t.own_staff,
            format!("{cohort}/enrollments"),
            json!({ "trainee_id": foreign_trainee }),
            json!({ "trainee_id": Uuid::now_v7() }),
            "enrollments",
        ),
        (
            &t.own_staff,
            "/api/v1/exchanges".to_string(),
            exchange(unrelated["id"].clone()),
            exchange(json!(Uuid::now_v7())),
            "exchanges",
        ),
        (
            &t.coordinator,
            "/api/v1/cohorts".to_string(),
            cohort_body(json!(t.own_staff.id)),
            cohort_body(json!(Uuid::now_v7())),
            "cohorts",
        ),
        (
            &t.own_staff,
            "/api/v1/trainees".to_string(),
            json!({"institution_id": t.other["id"], "given_name": "Wei", "family_name": "Zhang",
                   "email": "wei@zju.edu.cn", "nationality": "CN", "gender": "male"}),
            json!({"institution_id": Uuid::now_v7(), "given_name": "Wei", "family_name": "Zhang",
                   "email": "wei@zju.edu.cn", "nationality": "CN", "gender": "male"}),
            "trainees",
        ),
        (
            &t.own_staff,
            "/api/v1/resources".to_string(),
            resource(t.other["id"].clone()),
            resource(json!(Uuid::now_v7())),
            "resources",
        ),
        (
            &t.own_staff,
            "/api/v1/webhooks".to_string(),
            json!({"url": "https://sis.example.org/hook", "events": ["*"], "institution_id": t.other["id"]}),
            json!({"url": "https://sis.example.org/hook", "events": ["*"], "institution_id": Uuid::now_v7()}),
            "webhook_subscriptions",
        ),
    ];
    for (who, path, out_of_scope, missing, table) in cases {
        let before = app.count(table).await;
        let a = verdict(app.post(&path, &who.token, &out_of_scope).await).await;
        let b = verdict(app.post(&path, &who.token, &missing).await).await;
        assert!(a.0 >= 400, "{path}: {a:?}");
        assert_eq!(a, b, "{path}");
        assert_eq!(app.count(table).await, before, "{path} wrote");
    }
}

#[tokio::test]
async fn a_journey_carries_only_what_the_reader_may_see() {
    let app = spawn_app().await;
    let t = two(&app).await;
    let kenya = app
        .institution(&t.admin.token, "Strathmore University", "KE")
        .await;
    let trainee = app.trainee_record(Some(id(&t.own))).await;
    // An exchange between two other institutions, made by staff.
    app.create(
        "/api/v1/exchanges",
        &t.coordinator.token,
        &json!({"kind": "fellowship", "trainee_id": trainee, "sending_institution_id": kenya["id"],
                "receiving_institution_id": t.other["id"], "starts_on": "2027-09-01", "ends_on": "2028-02-28"}),
    )
    .await;
    let path = format!("/api/v1/trainees/{trainee}/journey");
    let kinds = |journey: Value| -> Vec<String> {
        journey["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["kind"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        kinds(app.get_json(&path, &t.coordinator.token).await),
        ["exchange"]
    );
    let me = app.user_for_trainee(trainee).await;
    assert_eq!(kinds(app.get_json(&path, &me.token).await), ["exchange"]);
    assert!(kinds(app.get_json(&path, &t.own_staff.token).await).is_empty());
}

#[tokio::test]
async fn a_partner_reads_a_venture_with_its_own_founders_only() {
    let app = spawn_app().await;
    let t = two(&app).await;
    let token = &t.coordinator.token;
    let incubator = app
        .create(
            "/api/v1/incubators",
            token,
            &json!({"name": "Hangzhou AI Hub", "host_institution_id": t.other["id"], "country_code": "CN",
                    "themes": ["health"], "capacity": 3, "services": ["compute"]}),
        )
        .await;
    let ghanaian = app.trainee_record(Some(id(&t.own))).await;
    let chinese = app.trainee_record(Some(id(&t.other))).await;
    let venture = app
        .create(
            "/api/v1/ventures",
            token,
            &json!({"incubator_id": incubator["id"], "name": "MalariaScan", "theme": "health",
                    "country_code": "GH", "founder_trainee_ids": [ghanaian, chinese], "jobs_created": 3,
                    "funding_raised_usd": "1000"}),
        )
        .await;
    let path = path_of("ventures", &venture);
    let founders = |v: &Value| v["founder_trainee_ids"].clone();
    assert_eq!(
        founders(&app.get_json(&path, token).await),
        json!([ghanaian, chinese])
    );
    for (staff, own) in [(&t.own_staff, ghanaian), (&t.other_staff, chinese)] {
        assert_eq!(
            founders(&app.get_json(&path, &staff.token).await),
            json!([own])
        );
        let listed = app.get_json("/api/v1/ventures", &staff.token).await;
        assert_eq!(founders(&listed["items"][0]), json!([own]));
    }
}
