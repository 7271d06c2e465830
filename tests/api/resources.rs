//! The knowledge-sharing catalogue: who shares and reads what, its
//! lifecycle, public reading, links to cohorts and ventures, and
//! `/stats/knowledge`.

use chrono::Utc;
use diesel_async::SimpleAsyncConnection;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::helpers::{
    assert_invalid, assert_problem, id, item_texts, items, path_of, spawn_app, spawn_app_with,
    test_settings, Cast, TestApp, GHANA, TSINGHUA,
};

fn course(owner: &Value) -> Value {
    json!({
        "title": "Crop disease detection", "kind": "course",
        "description": "Twelve weeks of computer vision for plant pathology.",
        "url": "https://open.example.org/crop-vision", "languages": ["en", "fr"],
        "themes": ["agriculture"], "licence": "CC-BY-4.0", "ip_terms": "attribution",
        "owner_institution_id": owner["id"], "visibility": "public",
    })
}

/// The catalogue's cast: a Chinese owner of resources and a Ghanaian
/// other institution.
async fn catalogue() -> (TestApp, Cast) {
    let app = spawn_app().await;
    let cast = app.cast(TSINGHUA, GHANA).await;
    (app, cast)
}

#[tokio::test]
async fn partners_share_their_own_institutions_resources_and_readers_see_what_is_published() {
    let (app, c) = catalogue().await;
    let mut body = course(&c.own);
    body.as_object_mut().unwrap().remove("owner_institution_id");
    let draft = app
        .create("/api/v1/resources", &c.own_staff.token, &body)
        .await;
    assert_eq!(draft["owner_institution_id"], c.own["id"]);
    assert_eq!(draft["status"], "draft");
    let path = path_of("resources", &draft);

    // A draft: its institution's staff and programme staff read it; nobody else.
    for (who, status) in [
        (&c.own_staff, 200),
        (&c.coordinator, 200),
        (&c.other_staff, 404),
        (&c.viewer, 404),
    ] {
        assert_eq!(app.get(&path, &who.token).await.status(), status);
    }
    let listed = app.get_json("/api/v1/resources", &c.viewer.token).await;
    assert_eq!(items(&listed).len(), 0);
    let anonymous = app.request(Method::GET, &format!("/api/v1/public{}", &path[7..]), None);
    assert_eq!(anonymous.send().await.unwrap().status(), 404);

    // Another institution's staff can neither change nor move it, even once
    // published: it is not theirs.
    let res = app
        .patch(&path, &c.other_staff.token, &json!({"title": "Mine now"}))
        .await;
    assert_problem(res, 404, "not-found").await;
    app.moved(&c.own_staff.token, &path, "published").await;
    let res = app
        .patch(&path, &c.other_staff.token, &json!({"title": "Mine now"}))
        .await;
    assert_problem(res, 404, "not-found").await;
    let res = app.move_to(&c.other_staff.token, &path, "withdrawn").await;
    assert_problem(res, 404, "not-found").await;
    assert_eq!(app.get(&path, &c.other_staff.token).await.status(), 200);
    assert_eq!(app.get(&path, &c.viewer.token).await.status(), 200);

    // The owner is fixed; a partner shares only for its own institution.
    let res = app
        .patch(
            &path,
            &c.own_staff.token,
            &json!({"owner_institution_id": c.other["id"]}),
        )
        .await;
    assert_invalid(res, &["owner_institution_id"]).await;
    let before = app.count("resources").await;
    let res = app
        .post("/api/v1/resources", &c.own_staff.token, &course(&c.other))
        .await;
    app.assert_invalid_leaving(res, &["owner_institution_id"], "resources", before)
        .await;
    // Viewers and trainees share nothing.
    let res = app
        .post("/api/v1/resources", &c.viewer.token, &course(&c.own))
        .await;
    assert_problem(res, 403, "forbidden").await;
}

#[tokio::test]
async fn the_lifecycle_is_draft_published_withdrawn_and_back() {
    let (app, c) = catalogue().await;
    let r = app
        .create("/api/v1/resources", &c.coordinator.token, &course(&c.own))
        .await;
    let path = path_of("resources", &r);
    let problem = app
        .move_refused(
            &c.coordinator.token,
            &path,
            "withdrawn",
            "illegal-transition",
        )
        .await;
    assert_eq!(problem["allowed"], json!(["published"]));
    app.moved(&c.coordinator.token, &path, "published").await;
    app.move_refused(&c.coordinator.token, &path, "draft", "illegal-transition")
        .await;
    app.moved(&c.coordinator.token, &path, "withdrawn").await;
    app.moved(&c.coordinator.token, &path, "published").await;
    let history = app
        .get_json(&format!("{path}/transitions"), &c.coordinator.token)
        .await;
    let moves: Vec<&str> = item_texts(&history, "to");
    assert_eq!(moves, ["draft", "published", "withdrawn", "published"]);
}

#[tokio::test]
async fn bad_resources_answer_422_naming_each_field_and_write_nothing() {
    let (app, c) = catalogue().await;
    let mut body = course(&c.own);
    let b = body.as_object_mut().unwrap();
    b.insert("licence".into(), json!("free for everyone"));
    b.insert("url".into(), json!("http://open.example.org/crop-vision"));
    b.insert("themes".into(), json!(["astrology"]));
    b.insert("kind".into(), json!("podcast"));
    b.insert("languages".into(), json!(["not a language"]));
    b.insert("ip_terms".into(), json!("whatever"));
    b.insert("visibility".into(), json!("everyone"));
    b.insert("colour".into(), json!("blue"));
    let res = app.post("/api/v1/resources", &c.admin.token, &body).await;
    assert_invalid(
        res,
        &[
            "colour",
            "ip_terms",
            "kind",
            "languages",
            "licence",
            "themes",
            "url",
            "visibility",
        ],
    )
    .await;
    let res = app
        .post("/api/v1/resources", &c.admin.token, &json!({}))
        .await;
    assert_invalid(
        res,
        &[
            "ip_terms",
            "kind",
            "licence",
            "owner_institution_id",
            "title",
            "url",
        ],
    )
    .await;
    let mut body = course(&c.own);
    body["owner_institution_id"] = json!(Uuid::now_v7());
    let res = app.post("/api/v1/resources", &c.admin.token, &body).await;
    app.assert_invalid_leaving(res, &["owner_institution_id"], "resources", 0)
        .await;
    // An SPDX expression of several licences is fine.
    let mut body = course(&c.own);
    body["licence"] = json!("MIT OR Apache-2.0");
    app.create("/api/v1/resources", &c.admin.token, &body).await;
}

#[tokio::test]
async fn lists_filter_by_kind_theme_language_and_licence() {
    let (app, c) = catalogue().await;
    let t = &c.coordinator.token;
    app.create("/api/v1/resources", t, &course(&c.own)).await;
    let mut dataset = course(&c.other);
    dataset["title"] = json!("Swahili speech corpus");
    dataset["kind"] = json!("dataset");
    dataset["themes"] = json!(["education"]);
    dataset["languages"] = json!(["sw"]);
    dataset["licence"] = json!("CC-BY-SA-4.0");
    app.create("/api/v1/resources", t, &dataset).await;
    for (query, titles) in [
        ("kind=dataset", vec!["Swahili speech corpus"]),
        ("theme=agriculture", vec!["Crop disease detection"]),
        ("language=sw", vec!["Swahili speech corpus"]),
        ("licence=CC-BY-4.0", vec!["Crop disease detection"]),
        ("q=speech", vec!["Swahili speech corpus"]),
        (
            "sort=title",
            vec!["Crop disease detection", "Swahili speech corpus"],
        ),
    ] {
        let page = app.get_json(&format!("/api/v1/resources?{query}"), t).await;
        let got: Vec<&str> = item_texts(&page, "title");
        assert_eq!(got, titles, "{query}");
    }
    let res = app.get("/api/v1/resources?theme=astrology", t).await;
    assert_invalid(res, &["theme"]).await;
    let res = app.get("/api/v1/resources?format=xml", t).await;
    assert_problem(res, 422, "validation").await;
}

#[tokio::test]
async fn anyone_reads_published_public_resources_with_cacheable_answers() {
    let (app, c) = catalogue().await;
    let t = &c.coordinator.token;
    let public = app.create("/api/v1/resources", t, &course(&c.own)).await;
    let mut body = course(&c.own);
    body["visibility"] = json!("partners");
    body["title"] = json!("Partners only");
    let partners = app.create("/api/v1/resources", t, &body).await;
    app.create("/api/v1/resources", t, &course(&c.other)).await;
    for r in [&public, &partners] {
        app.moved(t, &path_of("resources", r), "published").await;
    }
    let res = app
        .get_anonymous("/api/v1/public/resources?visibility=partners")
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "public, max-age=300");
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    let page: Value = res.json().await.unwrap();
    let ids: Vec<&Value> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["id"])
        .collect();
    assert_eq!(ids, [&public["id"]], "only the published public one");
    let partners_only = "/api/v1/public/resources?visibility=partners";
    let again = app.revalidate(partners_only, None, &etag).await;
    assert_eq!(again.status(), 304);

    let one = path_of("public/resources", &public);
    let res = app.get_anonymous(&one).await;
    assert_eq!(res.status(), 200);
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    let res = app.revalidate(&one, None, &etag).await;
    assert_eq!(res.status(), 304);
    // A change changes the tag.
    app.patched(
        &path_of("resources", &public),
        t,
        &json!({"title": "Crop vision"}),
    )
    .await;
    let res = app.revalidate(&one, None, &etag).await;
    assert_eq!(res.status(), 200);
    let hidden = path_of("public/resources", &partners);
    let res = app.get_anonymous(&hidden).await;
    assert_problem(res, 404, "not-found").await;
}

#[tokio::test]
async fn public_reading_is_limited_per_client_ip_apart_from_logins() {
    let mut settings = test_settings();
    settings.auth.ip_limit_per_minute = 3;
    let app = spawn_app_with(settings).await;
    let second = Utc::now().timestamp() % 60;
    if second > 50 {
        tokio::time::sleep(std::time::Duration::from_secs((61 - second) as u64)).await;
    }
    let read = || {
        app.request(Method::GET, "/api/v1/public/resources", None)
            .send()
    };
    for _ in 0..3 {
        assert_eq!(read().await.unwrap().status(), 200);
    }
    let res = read().await.unwrap();
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(res, 429, "too-many-requests").await;
    let login = app
        .post_anonymous(
            "/api/v1/auth/password-reset",
            &json!({"email": "someone@example.org"}),
        )
        .await;
    assert_eq!(login.status(), 202, "logins count on their own");
}

#[tokio::test]
async fn coordinators_link_published_resources_and_withdrawal_tells_them() {
    let (app, c) = catalogue().await;
    let t = &c.coordinator.token;
    let programme = app.programme(t, "KNOW", &c.own).await;
    let mut extra = json!({"capacity": 5});
    extra["coordinator_id"] = json!(c.coordinator.id);
    let (_, cohort_path) = app.open_cohort(t, &programme, &c.own, "K1", extra).await;
    let r = app.create("/api/v1/resources", t, &course(&c.own)).await;
    let link = format!("{cohort_path}/resources/{}", r["id"].as_str().unwrap());
    let put = |token: &str| app.request(Method::PUT, &link, Some(token)).send();

    let res = put(t).await.unwrap();
    assert_problem(res, 409, "resource-not-published").await;
    app.moved(t, &path_of("resources", &r), "published").await;
    let res = put(&c.own_staff.token).await.unwrap();
    assert_problem(res, 403, "forbidden").await;
    for _ in 0..2 {
        assert_eq!(put(t).await.unwrap().status(), 204);
    }
    assert_eq!(app.count("cohort_resources").await, 1);
    let missing = format!("{cohort_path}/resources/{}", Uuid::now_v7());
    let res = app.send(Method::PUT, &missing, Some(t)).await;
    assert_problem(res, 404, "not-found").await;
    let used = app
        .get_json(&format!("{cohort_path}/resources"), &c.viewer.token)
        .await;
    assert_eq!(used["items"][0]["id"], r["id"]);

    // A linked resource stays; withdrawing it tells the cohort's coordinator.
    let res = app
        .send(Method::DELETE, &path_of("resources", &r), Some(t))
        .await;
    assert_problem(res, 409, "has-dependants").await;
    app.moved(&c.own_staff.token, &path_of("resources", &r), "withdrawn")
        .await;
    let queued = app
        .count("notifications WHERE template = 'resource_withdrawn'")
        .await;
    assert_eq!(queued, 1);
    let used = app
        .get_json(&format!("{cohort_path}/resources"), &c.viewer.token)
        .await;
    assert_eq!(items(&used).len(), 0, "viewers read published ones only");

    let res = app.send(Method::DELETE, &link, Some(t)).await;
    assert_eq!(res.status(), 204);
    assert_eq!(app.count("cohort_resources").await, 0);
}

/// One Chinese course used by a Kenyan cohort with two accepted trainees
/// and a Ghanaian venture; one Ghanaian dataset used nowhere.
#[tokio::test]
async fn knowledge_stats_count_flows_and_reach() {
    let (app, c) = catalogue().await;
    let t = &c.coordinator.token;
    let programme = app.programme(t, "FLOW", &c.own).await;
    let (_, cohort_path) = app
        .open_cohort(t, &programme, &c.own, "F1", json!({"capacity": 5}))
        .await;
    let mut trainees = Vec::new();
    for _ in 0..2 {
        let trainee = app.trainee_record(Some(id(&c.other))).await;
        trainees.push(trainee);
        let e = app.enroll(&cohort_path, t, &trainee).await;
        let path = path_of("enrollments", &e);
        if e["status"] != "accepted" {
            app.moved(t, &path, "accepted").await;
        }
    }
    let incubator = app
        .create(
            "/api/v1/incubators",
            t,
            &json!({"name": "Accra AI Hub", "host_institution_id": c.other["id"], "country_code": "GH",
                    "capacity": 5}),
        )
        .await;
    let venture = app
        .create(
            "/api/v1/ventures",
            t,
            &json!({"incubator_id": incubator["id"], "name": "AgriSense", "theme": "agriculture",
                    "country_code": "GH"}),
        )
        .await;
    let r = app.create("/api/v1/resources", t, &course(&c.own)).await;
    let mut dataset = course(&c.other);
    dataset["kind"] = json!("dataset");
    let unused = app.create("/api/v1/resources", t, &dataset).await;
    for x in [&r, &unused] {
        app.moved(t, &path_of("resources", x), "published").await;
    }
    let rid = r["id"].as_str().unwrap();
    for link in [
        format!("{cohort_path}/resources/{rid}"),
        format!(
            "/api/v1/ventures/{}/resources/{rid}",
            venture["id"].as_str().unwrap()
        ),
    ] {
        let res = app.send(Method::PUT, &link, Some(t)).await;
        assert_eq!(res.status(), 204);
    }

    // The course is among the materials of the cohort the trainee took.
    let journey = app
        .get_json(&format!("/api/v1/trainees/{}/journey", trainees[0]), t)
        .await;
    assert_eq!(
        journey["materials"].as_array().unwrap().len(),
        1,
        "{journey}"
    );
    assert_eq!(journey["materials"][0]["resource_id"], r["id"]);
    assert_eq!(journey["materials"][0]["licence"], "CC-BY-4.0");

    let flows = app.get_json("/api/v1/stats/knowledge", t).await;
    assert_eq!(
        flows["items"],
        json!([
            {"owner_country": "CN", "owner_region": "asia", "user_country": "GH",
             "user_region": "africa", "resources": 1, "cohorts": 0, "ventures": 1,
             "trainees_reached": 0},
            {"owner_country": "CN", "owner_region": "asia", "user_country": "KE",
             "user_region": "africa", "resources": 1, "cohorts": 1, "ventures": 0,
             "trainees_reached": 2},
        ])
    );
    let kinds = app
        .get_json("/api/v1/stats/knowledge?group_by=kind", t)
        .await;
    assert_eq!(
        kinds["items"],
        json!([
            {"kind": "course", "licence": "CC-BY-4.0", "resources": 1, "links": 2, "trainees_reached": 2},
            {"kind": "dataset", "licence": "CC-BY-4.0", "resources": 1, "links": 0, "trainees_reached": 0},
        ])
    );
    // Two trainees are too few to show a viewer.
    let seen = app
        .get_json("/api/v1/stats/knowledge", &c.viewer.token)
        .await;
    assert_eq!(seen["items"][1]["trainees_reached"], Value::Null);
    assert_eq!(seen["items"][1]["suppressed"], true);
    assert_eq!(seen["items"][0]["trainees_reached"], 0);
    // The counts follow the data: without the venture's link, no GH row.
    let venture_link = format!(
        "/api/v1/ventures/{}/resources/{rid}",
        venture["id"].as_str().unwrap()
    );
    let res = app.send(Method::DELETE, &venture_link, Some(t)).await;
    assert_eq!(res.status(), 204);
    let flows = app.get_json("/api/v1/stats/knowledge", t).await;
    assert_eq!(items(&flows).len(), 1);
    assert_eq!(flows["items"][0]["user_country"], "KE");

    // While one request counts again (held here by a lock on the links),
    // another answers the last counts at once; the count then lands.
    let res = app.send(Method::PUT, &venture_link, Some(t)).await;
    assert_eq!(res.status(), 204);
    let mut lock = app.conn().await;
    lock.batch_execute("BEGIN; LOCK TABLE cohort_resources IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let recount = app.get_json("/api/v1/stats/knowledge", t);
    let meanwhile = async {
        let waiting =
            "pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'";
        let blocked = async {
            while app.count(waiting).await == 0 {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(10), blocked)
            .await
            .expect("the recount waits on the lock of the links");
        let last = app.get_json("/api/v1/stats/knowledge", t);
        let last = tokio::time::timeout(std::time::Duration::from_secs(10), last)
            .await
            .expect("the last counts, without waiting for the count");
        lock.batch_execute("ROLLBACK").await.unwrap();
        last
    };
    let (fresh, last) = tokio::join!(recount, meanwhile);
    assert_eq!(items(&last).len(), 1, "{last}");
    assert_eq!(items(&fresh).len(), 2, "{fresh}");
    let res = app.get("/api/v1/stats/knowledge?group_by=licence", t).await;
    assert_invalid(res, &["group_by"]).await;
    let res = app.get("/api/v1/stats/knowledge", &c.own_staff.token).await;
    assert_problem(res, 403, "forbidden").await;
    let csv = app.csv("/api/v1/stats/knowledge", t).await;
    assert!(
        csv.starts_with("owner_country,owner_region,user_country"),
        "{csv}"
    );
}
