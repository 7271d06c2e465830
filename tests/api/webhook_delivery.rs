//! Webhook deliveries against a real HTTP receiver on loopback: signatures,
//! retries with the same `webhook-id`, order per record, one delivery per
//! event with two instances, a partner's scope, and receivers that are
//! slow, redirect, answer too much, fail for days or hide inside the
//! network.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use meridian::{auth::Role, config::Settings};
use serde_json::{json, Value};

use crate::helpers::{
    course_body, eventually, path_of, spawn_app_on, spawn_app_with, test_settings, TestApp,
    TestUser,
};

/// One request a receiver got.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    id: String,
    timestamp: String,
    signature: String,
    body: String,
    /// Whether it was answered with a 2xx.
    accepted: bool,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }

    /// Whether the signature verifies with `secret`.
    fn verifies(&self, secret: &str) -> bool {
        let mut headers = http::HeaderMap::new();
        for (name, value) in [
            ("webhook-id", &self.id),
            ("webhook-timestamp", &self.timestamp),
            ("webhook-signature", &self.signature),
        ] {
            headers.insert(name, value.parse().unwrap());
        }
        standardwebhooks::Webhook::new(secret)
            .unwrap()
            .verify(self.body.as_bytes(), &headers)
            .is_ok()
    }
}

/// A partner system on loopback. `/slow` answers after 5 s, `/redirect`
/// with a 307, `/huge` with 200 KiB, `/down` always with a 500; any other
/// path with 200, or 503 while `failing`.
#[derive(Clone, Default)]
struct Receiver {
    base: String,
    log: Arc<Mutex<Vec<Received>>>,
    failing: Arc<AtomicBool>,
}

impl Receiver {
    async fn start() -> Receiver {
        let mut receiver = Receiver::default();
        let shared = receiver.clone();
        let server = HttpServer::new(move || {
            let r = shared.clone();
            App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
                let r = r.clone();
                async move { r.answer(req, body).await }
            }))
        })
        .workers(1)
        .bind(("127.0.0.1", 0))
        .unwrap();
        receiver.base = format!("http://127.0.0.1:{}", server.addrs()[0].port());
        tokio::spawn(server.run());
        receiver
    }

    async fn answer(&self, req: HttpRequest, body: web::Bytes) -> HttpResponse {
        let header = |name: &str| {
            req.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        let path = req.path().to_string();
        let down = self.failing.load(Ordering::SeqCst);
        let accepted = !down && !matches!(path.as_str(), "/redirect" | "/huge" | "/down");
        self.log.lock().unwrap().push(Received {
            path: path.clone(),
            id: header("webhook-id"),
            timestamp: header("webhook-timestamp"),
            signature: header("webhook-signature"),
            body: String::from_utf8(body.to_vec()).unwrap(),
            accepted: accepted && path != "/slow",
        });
        match path.as_str() {
            "/slow" => {
                tokio::time::sleep(Duration::from_secs(5)).await;
                HttpResponse::Ok().finish()
            }
            "/redirect" => HttpResponse::TemporaryRedirect()
                .insert_header(("location", format!("{}/ok", self.base)))
                .finish(),
            "/huge" => HttpResponse::Ok().body("x".repeat(200 * 1024)),
            "/down" => HttpResponse::InternalServerError().body("down"),
            _ if down => HttpResponse::ServiceUnavailable().body("down for maintenance"),
            _ => HttpResponse::Ok().body("thanks"),
        }
    }

    fn received(&self, path: &str) -> Vec<Received> {
        let log = self.log.lock().unwrap();
        log.iter().filter(|r| r.path == path).cloned().collect()
    }

    /// The body of the first event of a type received at `/all`.
    fn first_of(&self, event_type: &str) -> Value {
        self.received("/all")
            .into_iter()
            .map(|r| r.json())
            .find(|b| b["type"] == event_type)
            .unwrap()
    }

    /// Waits until `path` has accepted `n` requests.
    async fn wait_for(&self, path: &str, n: usize) -> Vec<Received> {
        let got = eventually(20, || async {
            self.received(path).iter().filter(|r| r.accepted).count() >= n
        })
        .await;
        let accepted: Vec<_> = self
            .received(path)
            .into_iter()
            .filter(|r| r.accepted)
            .collect();
        assert!(got, "{path}: {} of {n} deliveries", accepted.len());
        accepted
    }
}

/// Settings whose workers deliver webhooks to this machine, with short
/// waits.
fn settings() -> Settings {
    let mut s = test_settings();
    s.worker.enabled = true;
    s.worker.poll_interval_ms = 200;
    s.webhooks.allow_http_hosts = vec!["127.0.0.1".into()];
    s.webhooks.poll_interval_ms = 100;
    s.webhooks.backoff_base_ms = 100;
    s.webhooks.timeout_ms = 2000;
    s.webhooks.lease_secs = 5;
    s
}

/// Subscribes `url` to `events`; answers the subscription with its secret.
async fn subscribe(app: &TestApp, token: &str, url: String, events: Value) -> Value {
    app.create(
        "/api/v1/webhooks",
        token,
        &json!({ "url": url, "events": events }),
    )
    .await
}

async fn trainee(app: &TestApp, token: &str, institution: &Value, name: &str) -> Value {
    app.create(
        "/api/v1/trainees",
        token,
        &json!({"institution_id": institution["id"], "given_name": name, "family_name": "Mensah",
                "email": format!("{}@example.org", name.to_lowercase()),
                "nationality": "GH", "gender": "female"}),
    )
    .await
}

/// An app whose workers deliver, a receiver, an admin and an institution.
struct Scene {
    app: TestApp,
    receiver: Receiver,
    admin: TestUser,
    ghana: Value,
}

async fn scene(settings: Settings) -> Scene {
    let app = spawn_app_with(settings).await;
    let receiver = Receiver::start().await;
    let admin = app.admin().await;
    let ghana = app
        .institution(&admin.token, "University of Ghana", "GH")
        .await;
    Scene {
        app,
        receiver,
        admin,
        ghana,
    }
}

impl Scene {
    /// The admin subscribes the receiver's `path` to `events`.
    async fn hook(&self, path: &str, events: Value) -> Value {
        let url = format!("{}{path}", self.receiver.base);
        subscribe(&self.app, &self.admin.token, url, events).await
    }
}

fn sid(v: &Value) -> &str {
    v["id"].as_str().unwrap()
}

#[tokio::test]
async fn deliveries_are_signed_and_stop_verifying_with_a_rotated_secret() {
    let s = scene(settings()).await;
    let (app, receiver, admin, ghana) = (&s.app, &s.receiver, &s.admin, &s.ghana);
    let hook = s.hook("/sis", json!(["trainee.created"])).await;
    let old = hook["secret"].as_str().unwrap().to_string();

    let ama = trainee(app, &admin.token, ghana, "Ama").await;
    let first = &receiver.wait_for("/sis", 1).await[0];
    assert!(first.verifies(&old));
    let body = first.json();
    assert_eq!(body["type"], "trainee.created");
    assert_eq!(body["id"].as_str().unwrap(), first.id);
    assert_eq!(body["data"], ama, "the record as its reader sees it");
    assert!(body["occurred_at"].as_str().unwrap().ends_with('Z'));
    assert!(!first.verifies("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));

    let path = path_of("webhooks", &hook);
    let res = app
        .post(&format!("{path}/rotate-secret"), &admin.token, &json!({}))
        .await;
    assert_eq!(res.status(), 200);
    let rotated: Value = res.json().await.unwrap();
    let new = rotated["secret"].as_str().unwrap();
    trainee(app, &admin.token, ghana, "Kofi").await;
    let second = &receiver.wait_for("/sis", 2).await[1];
    assert!(second.verifies(new));
    assert!(!second.verifies(&old), "the old secret no longer signs");

    // The log shows both, delivered, with the receiver's answer.
    let log = app
        .get_json(&format!("{path}/deliveries?sort=-created_at"), &admin.token)
        .await;
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["event_id"].as_str().unwrap(), second.id);
    for d in items {
        assert_eq!(d["status"], "delivered");
        assert_eq!(d["response_status"], 200);
        assert_eq!(d["response_body"], "thanks");
        assert_eq!(d["event_type"], "trainee.created");
    }
}

#[tokio::test]
async fn a_receiver_that_was_down_gets_everything_in_order_with_the_same_ids() {
    let s = scene(settings()).await;
    let (app, receiver, admin, ghana) = (&s.app, &s.receiver, &s.admin, &s.ghana);
    s.hook("/sis", json!(["trainee.created", "trainee.updated"]))
        .await;
    receiver.failing.store(true, Ordering::SeqCst);
    let mut expected: HashMap<String, Vec<String>> = HashMap::new();
    for name in ["Abena", "Yaw"] {
        let t = trainee(app, &admin.token, ghana, name).await;
        let path = path_of("trainees", &t);
        let mut names = vec![name.to_string()];
        for n in 1..=3 {
            let renamed = format!("{name}{n}");
            app.patched(&path, &admin.token, &json!({ "given_name": renamed }))
                .await;
            names.push(renamed);
        }
        expected.insert(sid(&t).to_string(), names);
    }
    // Retries come while it is down, each with the id of its first attempt.
    assert!(eventually(10, || async { receiver.received("/sis").len() >= 6 }).await);
    receiver.failing.store(false, Ordering::SeqCst);
    let accepted = receiver.wait_for("/sis", 8).await;
    let mut seen: HashMap<String, Vec<String>> = HashMap::new();
    for r in &accepted {
        let body = r.json();
        let record = body["data"]["id"].as_str().unwrap().to_string();
        let name = body["data"]["given_name"].as_str().unwrap().to_string();
        seen.entry(record).or_default().push(name);
    }
    assert_eq!(
        seen, expected,
        "each record's events in order of occurrence"
    );
    let delivered: HashSet<&str> = accepted.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(delivered.len(), 8, "each event delivered once");
    let refused = receiver.received("/sis");
    let refused: Vec<_> = refused.iter().filter(|r| !r.accepted).collect();
    assert!(refused.len() >= 2);
    for r in refused {
        assert!(delivered.contains(r.id.as_str()), "a retry keeps its id");
    }
    assert_eq!(
        app.count("webhook_deliveries WHERE status = 'delivered'")
            .await,
        8
    );
}

#[tokio::test]
async fn two_instances_deliver_each_event_once() {
    let settings = settings();
    let first = spawn_app_with(settings.clone()).await;
    let second = spawn_app_on(settings, first.db_url.clone()).await;
    let receiver = Receiver::start().await;
    let admin = first.admin().await;
    let ghana = first
        .institution(&admin.token, "University of Ghana", "GH")
        .await;
    subscribe(
        &first,
        &admin.token,
        format!("{}/sis", receiver.base),
        json!(["*"]),
    )
    .await;
    for n in 0..40 {
        let app = if n % 2 == 0 { &first } else { &second };
        trainee(app, &admin.token, &ghana, &format!("Esi{n}")).await;
    }
    receiver.wait_for("/sis", 40).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let all = receiver.received("/sis");
    let ids: HashSet<&str> = all.iter().map(|r| r.id.as_str()).collect();
    assert_eq!((all.len(), ids.len()), (40, 40));
}

#[tokio::test]
async fn a_partner_subscription_hears_only_of_its_institution() {
    let s = scene(settings()).await;
    let (app, receiver, admin, ghana) = (&s.app, &s.receiver, &s.admin, &s.ghana);
    let kenya = app
        .institution(&admin.token, "University of Nairobi", "KE")
        .await;
    let staff = app
        .user(Role::Partner, Some(sid(ghana).parse().unwrap()))
        .await;
    let events = json!([
        "trainee.created",
        "enrollment.nominated",
        "enrollment.accepted"
    ]);
    subscribe(
        app,
        &staff.token,
        format!("{}/ghana", receiver.base),
        events,
    )
    .await;
    s.hook("/secretariat", json!(["*"])).await;

    let programme = app.programme(&admin.token, "AIAG", ghana).await;
    let (_, cohort) = app
        .open_cohort(&admin.token, &programme, &kenya, "K1", json!({}))
        .await;
    let mut enrollments = Vec::new();
    for (home, name) in [(ghana, "Akosua"), (&kenya, "Wanjiru")] {
        let t = trainee(app, &admin.token, home, name).await;
        let e = app.enroll(&cohort, &admin.token, &t["id"]).await;
        let path = path_of("enrollments", &e);
        app.moved(&admin.token, &path, "accepted").await;
        enrollments.push(sid(&e).to_string());
    }

    // The secretariat hears of everything: the cohort made and opened, two
    // trainees, two nominations, two acceptances.
    let all = receiver.wait_for("/secretariat", 8).await;
    let types: Vec<String> = all
        .iter()
        .map(|r| r.json()["type"].as_str().unwrap().to_string())
        .collect();
    for t in ["cohort.draft", "cohort.open", "enrollment.accepted"] {
        assert!(types.iter().any(|x| x == t), "{t} in {types:?}");
    }
    let own = receiver.wait_for("/ghana", 3).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.received("/ghana").len(), 3);
    for r in own {
        let body = r.json();
        let data = &body["data"];
        let ghanaian = data["institution_id"] == ghana["id"];
        assert!(ghanaian, "{body}");
        if body["type"] != "trainee.created" {
            assert_eq!(data["id"].as_str().unwrap(), enrollments[0]);
        }
    }
}

#[tokio::test]
async fn slow_redirecting_and_oversized_answers_fail_without_holding_up_others() {
    let mut settings = settings();
    settings.webhooks.retry_for_secs = 0;
    let s = scene(settings).await;
    let (app, receiver, admin, ghana) = (&s.app, &s.receiver, &s.admin, &s.ghana);
    let mut hooks = HashMap::new();
    for path in ["/slow", "/redirect", "/huge", "/ok"] {
        let url = format!("{}{path}", receiver.base);
        let hook = subscribe(app, &admin.token, url, json!(["trainee.created"])).await;
        hooks.insert(path, sid(&hook).to_string());
    }
    let started = std::time::Instant::now();
    trainee(app, &admin.token, ghana, "Adwoa").await;
    receiver.wait_for("/ok", 1).await;
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "a slow receiver held up another: {:?}",
        started.elapsed()
    );
    let log = |path: &str| format!("/api/v1/webhooks/{}/deliveries", hooks[path]);
    let settled = eventually(10, || async {
        app.count("webhook_deliveries WHERE status = 'failed'")
            .await
            == 3
    })
    .await;
    assert!(settled, "three deliveries failed");
    for (path, error) in [
        ("/slow", "no answer within 2000 ms"),
        ("/redirect", "307"),
        ("/huge", "longer than 64 KiB"),
    ] {
        let page = app.get_json(&log(path), &admin.token).await;
        let d = &page["items"][0];
        assert_eq!(d["status"], "failed", "{path}");
        assert!(d["error"].as_str().unwrap().contains(error), "{path}: {d}");
    }
    let huge = app.get_json(&log("/huge"), &admin.token).await;
    let delivery = &huge["items"][0];
    assert_eq!(delivery["response_body"].as_str().unwrap().len(), 1024);

    // A retry by hand: one more attempt, with the same webhook-id.
    let retry = format!(
        "{}/{}/retry",
        log("/huge"),
        delivery["id"].as_str().unwrap()
    );
    let res = app.post(&retry, &admin.token, &json!({})).await;
    assert_eq!(res.status(), 202);
    let again = eventually(10, || async { receiver.received("/huge").len() == 2 }).await;
    assert!(again);
    let tries = receiver.received("/huge");
    assert_eq!(tries[0].id, tries[1].id);
    let other = app
        .user(Role::Partner, Some(sid(ghana).parse().unwrap()))
        .await;
    let res = app.post(&retry, &other.token, &json!({})).await;
    assert_eq!(res.status(), 404, "another's subscription is not found");
}

#[tokio::test]
async fn a_subscription_failing_for_days_is_turned_off_and_its_creator_told() {
    let mut settings = settings();
    settings.webhooks.disable_after_secs = 1;
    let s = scene(settings).await;
    let (app, admin, ghana) = (&s.app, &s.admin, &s.ghana);
    let hook = s.hook("/down", json!(["*"])).await;
    let path = path_of("webhooks", &hook);
    trainee(app, &admin.token, ghana, "Efua").await;
    let off = eventually(15, || async {
        app.get_json(&path, &admin.token).await["active"] == false
    })
    .await;
    assert!(off, "turned off");
    let read = app.get_json(&path, &admin.token).await;
    assert!(read["failing_since"].is_string(), "{read}");
    let metrics = app.metrics().await;
    for line in [
        "meridian_webhook_deliveries_total{outcome=\"turned_off\"} 1",
        "meridian_webhook_queue{measure=\"pending\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} in {metrics}");
    }
    assert_eq!(
        app.count("notifications WHERE template = 'webhook_disabled'")
            .await,
        1
    );
    // Turned on again, it starts afresh.
    let res = app
        .patch(&path, &admin.token, &json!({ "active": true }))
        .await;
    let on: Value = res.json().await.unwrap();
    assert_eq!(
        (on["active"].clone(), on["failing_since"].clone()),
        (json!(true), Value::Null)
    );
}

#[tokio::test]
async fn a_name_that_resolves_inside_the_network_is_refused_at_delivery() {
    let s = scene(settings()).await;
    let (app, receiver, admin, ghana) = (&s.app, &s.receiver, &s.admin, &s.ghana);
    let hook = s.hook("/sis", json!(["trainee.created"])).await;
    // As if its name now resolved to this machine.
    let port = receiver.base.rsplit(':').next().unwrap();
    app.run_sql(&format!(
        "UPDATE webhook_subscriptions SET url = 'https://localhost:{port}/sis' WHERE id = '{}'",
        sid(&hook)
    ))
    .await;
    trainee(app, &admin.token, ghana, "Afua").await;
    let log = format!("/api/v1/webhooks/{}/deliveries", sid(&hook));
    let refused = eventually(10, || async {
        let page = app.get_json(&log, &admin.token).await;
        page["items"][0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("inside the network"))
    })
    .await;
    assert!(refused);
    assert!(receiver.received("/sis").is_empty());
}

#[tokio::test]
async fn each_family_of_events_is_sent_by_its_write() {
    let s = scene(settings()).await;
    let (app, receiver, admin, ghana) = (&s.app, &s.receiver, &s.admin, &s.ghana);
    let token = &admin.token;
    let china = app.institution(token, "Tsinghua University", "CN").await;
    s.hook("/all", json!(["*"])).await;

    let agreement = app
        .create(
            "/api/v1/exchange-agreements",
            token,
            &json!({"institution_a_id": ghana["id"], "institution_b_id": china["id"],
                    "title": "Ghana-Tsinghua AI fellowships", "valid_from": "2027-01-01",
                    "valid_to": "2028-12-31", "kinds": ["fellowship"], "annual_quota": 2}),
        )
        .await;
    let path = path_of("exchange-agreements", &agreement);
    app.patched(
        &path,
        token,
        &json!({"title": "Ghana-Tsinghua fellowships"}),
    )
    .await;
    let kofi = trainee(app, token, ghana, "Kofi").await;
    app.create(
        "/api/v1/exchanges",
        token,
        &json!({"kind": "fellowship", "trainee_id": kofi["id"], "sending_institution_id": ghana["id"],
                "receiving_institution_id": china["id"], "agreement_id": agreement["id"],
                "starts_on": "2027-09-01", "ends_on": "2028-02-28", "funding_usd": "18000"}),
    )
    .await;
    let incubator = app
        .create(
            "/api/v1/incubators",
            token,
            &json!({"name": "Shenzhen AI Venture Hub", "host_institution_id": china["id"],
                    "country_code": "CN", "city": "Shenzhen", "themes": ["agriculture"],
                    "capacity": 3, "services": ["legal"]}),
        )
        .await;
    app.create(
        "/api/v1/ventures",
        token,
        &json!({"incubator_id": incubator["id"], "name": "AgriSense", "theme": "agriculture",
                "country_code": "GH", "founder_trainee_ids": [kofi["id"]]}),
    )
    .await;
    let resource = app
        .create("/api/v1/resources", token, &course_body(ghana))
        .await;
    let resource = path_of("resources", &resource);
    app.moved(token, &resource, "published").await;
    let gone = trainee(app, token, ghana, "Yaa").await;
    let res = app.delete(&path_of("trainees", &gone), token).await;
    assert_eq!(res.status(), 204);

    // A cohort taken to the end: a completion issues a certificate.
    let programme = app.programme(token, "AIAG", ghana).await;
    let (_, cohort) = app
        .open_cohort(token, &programme, &china, "C1", json!({}))
        .await;
    let e = app.enroll(&cohort, token, &kofi["id"]).await;
    let enrollment = path_of("enrollments", &e);
    app.moved(token, &enrollment, "accepted").await;
    for to in ["closed", "running"] {
        app.moved(token, &cohort, to).await;
    }
    app.moved(token, &enrollment, "completed").await;
    let issued = eventually(10, || async {
        receiver
            .received("/all")
            .iter()
            .any(|r| r.json()["type"] == "certificate.issued")
    })
    .await;
    assert!(issued);
    let certificate = receiver.first_of("certificate.issued");
    assert_eq!(certificate["data"]["enrollment_id"], e["id"]);
    let code = certificate["data"]["code"].as_str().unwrap();
    let res = app
        .post(
            &format!("/api/v1/certificates/{code}/revoke"),
            token,
            &json!({"reason": "issued in error"}),
        )
        .await;
    assert_eq!(res.status(), 200);

    let expected = [
        "agreement.created",
        "agreement.updated",
        "trainee.created",
        "exchange.proposed",
        "venture.applied",
        "resource.published",
        "trainee.deleted",
        "cohort.draft",
        "cohort.open",
        "cohort.running",
        "enrollment.nominated",
        "enrollment.accepted",
        "enrollment.completed",
        "certificate.issued",
        "certificate.revoked",
    ];
    let types = || {
        receiver
            .received("/all")
            .iter()
            .map(|r| r.json()["type"].as_str().unwrap().to_string())
            .collect::<HashSet<_>>()
    };
    let all = eventually(10, || async {
        expected.iter().all(|t| types().contains(*t))
    })
    .await;
    assert!(
        all,
        "missing: {:?}",
        expected
            .iter()
            .filter(|t| !types().contains(**t))
            .collect::<Vec<_>>()
    );
    let deleted = receiver.first_of("trainee.deleted");
    assert_eq!(deleted["data"]["id"], gone["id"], "the record as it was");
}
