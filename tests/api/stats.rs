//! Dashboards: exact figures on a small known data set, no personal data.

use std::collections::BTreeMap;

use diesel_async::RunQueryDsl;
use meridian::auth::Role;
use serde_json::{json, Value};

use crate::helpers::{
    assert_problem, item_texts, items, path_of, spawn_app, spawn_app_with_institution,
    spawn_app_with_institutions, TestApp, GHANA, NAIROBI,
};

#[tokio::test]
async fn dashboards_count_exactly_and_never_show_a_person() {
    let (app, _, [host, kenya, nigeria]) =
        spawn_app_with_institutions([GHANA, NAIROBI, ("University of Lagos", "NG")]).await;
    let c = app.user(Role::Coordinator, None).await;
    let programme = app.programme(&c.token, "AI4AG", &host).await;
    let (cohort, cohort_path) = app
        .open_cohort(&c.token, &programme, &host, "C1", json!({"capacity": 3}))
        .await;
    let people = [
        (
            "Wanjiru",
            "wanjiru@uonbi.ac.ke",
            "KE",
            "female",
            &kenya,
            "accepted",
        ),
        (
            "Otieno",
            "otieno@uonbi.ac.ke",
            "KE",
            "male",
            &kenya,
            "accepted",
        ),
        (
            "Adaeze",
            "adaeze@unilag.edu.ng",
            "NG",
            "female",
            &nigeria,
            "accepted",
        ),
        (
            "Tobi",
            "tobi@unilag.edu.ng",
            "NG",
            "non_binary",
            &nigeria,
            "waitlisted",
        ),
    ];
    let mut first_trainee = None;
    for (name, email, nationality, gender, inst, outcome) in people {
        let body = json!({"given_name": name, "family_name": "Tester", "email": email, "nationality": nationality,
                         "gender": gender, "institution_id": inst["id"]});
        let t = app.create("/api/v1/trainees", &c.token, &body).await;
        first_trainee.get_or_insert(t["id"].clone());
        let e = app.enroll(&cohort_path, &c.token, &t["id"]).await;
        let path = path_of("enrollments", &e);
        app.moved(&c.token, &path, outcome).await;
    }
    let body = json!({"kind": "internship", "trainee_id": first_trainee.unwrap(), "sending_institution_id": kenya["id"],
                     "receiving_institution_id": host["id"], "starts_on": "2027-03-01", "ends_on": "2027-06-01"});
    app.create("/api/v1/exchanges", &c.token, &body).await;
    let body = json!({"name": "Accra AI Hub", "host_institution_id": host["id"], "country_code": "GH", "capacity": 4,
                     "services": ["legal"]});
    let incubator = app.create("/api/v1/incubators", &c.token, &body).await;
    for (name, jobs, funding, admit) in [
        ("CropLens", 5, "1000.50", true),
        ("GridSight", 0, "0", false),
    ] {
        let body = json!({"incubator_id": incubator["id"], "name": name, "theme": "agriculture", "country_code": "GH",
                         "jobs_created": jobs, "funding_raised_usd": funding});
        let v = app.create("/api/v1/ventures", &c.token, &body).await;
        if admit {
            app.move_to(&c.token, &path_of("ventures", &v), "admitted")
                .await;
        }
    }

    let viewer = app.user(Role::Viewer, None).await;
    // Staff see exact counts; viewers see small ones suppressed.
    let analyst = app.user(Role::Coordinator, None).await;
    let (app, token) = (&app, analyst.token.as_str());
    let get = |path: String| async move { app.get_ok(&path, token).await };
    let o = get("/api/v1/stats/overview".into()).await;
    assert_eq!(o["institutions"], 3);
    assert_eq!(o["trainees"], 4);
    assert_eq!(o["cohorts"]["by_status"], json!({"open": 1}));
    assert_eq!(
        o["enrollments"]["by_status"],
        json!({"accepted": 3, "waitlisted": 1})
    );
    assert_eq!(
        o["completion_rate"],
        json!({"rate": null, "numerator": 0, "denominator": 0})
    );
    assert_eq!(
        o["ventures"]["by_status"],
        json!({"admitted": 1, "applied": 1})
    );
    assert_eq!(
        (o["jobs_created"].as_i64(), o["funding_raised_usd"].as_str()),
        (Some(5), Some("1000.50"))
    );
    assert_eq!(o["exchanges"]["by_status"], json!({"proposed": 1}));

    let by_country = get("/api/v1/stats/enrollments?group_by=country".into()).await;
    assert_eq!(
        by_country["items"],
        json!([
            {"key": "KE", "label": null, "total": 2, "by_status": {"accepted": 2}},
            {"key": "NG", "label": null, "total": 2, "by_status": {"accepted": 1, "waitlisted": 1}},
        ])
    );
    let by_region = get("/api/v1/stats/enrollments?group_by=region".into()).await;
    assert_eq!(by_region["items"][0]["key"], "africa");
    assert_eq!(by_region["items"][0]["total"], 4);
    let by_gender = get("/api/v1/stats/enrollments?group_by=gender".into()).await;
    assert_eq!(items(&by_gender).len(), 3);
    let by_institution = get("/api/v1/stats/enrollments?group_by=institution".into()).await;
    let labels: Vec<&str> = item_texts(&by_institution, "label");
    assert_eq!(labels.len(), 2);
    assert!(labels.contains(&"University of Nairobi"));

    let cs = get(format!(
        "/api/v1/stats/cohorts/{}",
        cohort["id"].as_str().unwrap()
    ))
    .await;
    assert_eq!(
        cs["fill_rate"],
        json!({"rate": 1.0, "numerator": 3, "denominator": 3})
    );
    assert_eq!(cs["waitlist_length"], 1);
    assert_eq!(cs["by_country"], json!({"KE": 2, "NG": 1}));
    assert_eq!(cs["by_gender"], json!({"female": 2, "male": 1}));

    let flows = get("/api/v1/stats/exchanges/flows?year=2027".into()).await;
    assert_eq!(
        flows["items"],
        json!([{"from_country": "KE", "to_country": "GH", "total": 1, "by_status": {"proposed": 1}}])
    );
    let none = get("/api/v1/stats/exchanges/flows?year=2030".into()).await;
    assert_eq!(none["items"], json!([]));

    let inc = get("/api/v1/stats/incubators".into()).await;
    assert_eq!(
        inc["items"][0]["ventures"]["by_status"],
        json!({"admitted": 1, "applied": 1})
    );
    assert_eq!(inc["items"][0]["funding_raised_usd"], "1000.50");

    // CSV says what JSON says, row for row and cell for cell.
    let cohort_stats = format!("/api/v1/stats/cohorts/{}", cohort["id"].as_str().unwrap());
    for (path, json) in [
        ("/api/v1/stats/overview", &o),
        ("/api/v1/stats/enrollments?group_by=country", &by_country),
        (
            "/api/v1/stats/enrollments?group_by=institution",
            &by_institution,
        ),
        (cohort_stats.as_str(), &cs),
        ("/api/v1/stats/exchanges/flows?year=2027", &flows),
        ("/api/v1/stats/incubators", &inc),
    ] {
        let res = app
            .get_with_header(path, Some(&analyst.token), "accept", "text/csv")
            .await;
        assert_eq!(res.status(), 200, "{path}");
        let text = res.text().await.unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        let csv_rows: Vec<BTreeMap<String, String>> = reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                header
                    .iter()
                    .zip(r.iter())
                    .filter(|(_, v)| !v.is_empty())
                    .map(|(k, v)| (k.clone(), v.to_string()))
                    .collect()
            })
            .collect();
        let json_rows: Vec<BTreeMap<String, String>> = match json.get("items") {
            Some(Value::Array(items)) => items.iter().map(flat).collect(),
            _ => vec![flat(json)],
        };
        assert_eq!(csv_rows, json_rows, "{path}");
    }

    // A period that holds everything counts ventures and exchanges from
    // their own tables, and agrees with the tallies.
    let dated = get("/api/v1/stats/overview?from=2000-01-01&to=2100-01-01".into()).await;
    for figure in [
        "ventures",
        "jobs_created",
        "funding_raised_usd",
        "exchanges",
        "enrollments",
        "cohorts",
    ] {
        assert_eq!(dated[figure], o[figure], "{figure}");
    }
    app.run_sql( "UPDATE ventures SET jobs_created = jobs_created + 2, funding_raised_usd = funding_raised_usd + 0.25").await;
    app.run_sql("UPDATE exchanges SET status = 'cancelled'")
        .await;
    assert_eq!(tally_drift(app).await, 0);
    let changed = get("/api/v1/stats/overview".into()).await;
    assert_eq!(
        (
            changed["jobs_created"].as_i64(),
            changed["funding_raised_usd"].as_str()
        ),
        (Some(9), Some("1001.00"))
    );
    assert_eq!(changed["exchanges"]["by_status"], json!({"cancelled": 1}));

    // Aggregates only: no name or email of a person anywhere.
    let all = [
        o,
        by_country,
        by_region,
        by_gender,
        by_institution,
        cs,
        flows,
        inc,
    ]
    .iter()
    .map(|v| v.to_string())
    .collect::<String>();
    for secret in [
        "Wanjiru", "Otieno", "Adaeze", "Tobi", "@uonbi", "@unilag", "Tester",
    ] {
        assert!(!all.contains(secret), "{secret} leaked");
    }

    let partner = app.member(Role::Partner, &kenya).await;
    assert_problem(
        app.get("/api/v1/stats/overview", &partner.token).await,
        403,
        "forbidden",
    )
    .await;
    let res = app
        .get(
            "/api/v1/stats/enrollments?group_by=shoe_size",
            &viewer.token,
        )
        .await;
    assert_problem(res, 422, "validation").await;

    // A viewer never sees a count small enough to identify someone: below
    // stats.min_cell (5) it is null, and the row says so.
    let seen = app
        .get_json("/api/v1/stats/enrollments?group_by=country", &viewer.token)
        .await;
    assert_eq!(
        seen["items"],
        json!([
            {"key": "KE", "label": null, "total": null, "by_status": {"accepted": null}, "suppressed": true},
            {"key": "NG", "label": null, "total": null, "by_status": {"accepted": null, "waitlisted": null}, "suppressed": true},
        ])
    );
    let seen = app.get_json(&cohort_stats, &viewer.token).await;
    assert_eq!(seen["by_country"], json!({"KE": null, "NG": null}));
    assert_eq!(seen["by_gender"], json!({"female": null, "male": null}));
    assert_eq!(seen["suppressed"], true);
    assert_eq!(seen["fill_rate"]["numerator"], 3);
    let seen = app
        .get_json("/api/v1/stats/exchanges/flows?year=2027", &viewer.token)
        .await;
    assert_eq!(seen["items"][0]["total"], Value::Null);
    let text = app
        .get_with_header(
            "/api/v1/stats/enrollments?group_by=country",
            Some(&viewer.token),
            "accept",
            "text/csv",
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(text.lines().nth(1).unwrap().starts_with("KE,,,"), "{text}");
}

#[tokio::test]
async fn the_benchmark_generator_fills_every_table_consistently() {
    let app = spawn_app().await;
    let done = meridian::bench_data::seed(&app.db_url, 0.01).await.unwrap();
    assert!(done.iter().any(|(t, n)| t == "enrollments" && *n == 10_000));
    assert!(
        meridian::bench_data::seed(&app.db_url, 0.01).await.is_err(),
        "only an empty database"
    );
    assert_eq!(app.count("cohorts").await, 20);
    assert_eq!(app.count("enrollments").await, 10_000);
    assert_eq!(app.count("trainees").await, 1_000);
    assert_eq!(app.count("ventures").await, 50);
    assert_eq!(app.count("exchanges").await, 200);
    assert_eq!(app.count("resources").await, 200);
    assert_eq!(app.count("cohort_resources").await, 400);
    assert_eq!(app.count("venture_resources").await, 100);
    assert_eq!(
        tally_drift(&app).await,
        0,
        "tallies are counted after the load"
    );
    // The data make sense to the API: dashboards read it.
    let viewer = app.user(Role::Viewer, None).await;
    let o: Value = app.get_json("/api/v1/stats/overview", &viewer.token).await;
    assert_eq!(o["enrollments"]["total"], 10_000);
    let flows: Value = app
        .get_json("/api/v1/stats/exchanges/flows", &viewer.token)
        .await;
    assert!(!flows["items"].as_array().unwrap().is_empty());
    let knowledge: Value = app.get_json("/api/v1/stats/knowledge", &viewer.token).await;
    assert!(!knowledge["items"].as_array().unwrap().is_empty());
}

/// A JSON record as CSV cells: nested members as `a.b`, nulls left out.
fn flat(value: &Value) -> BTreeMap<String, String> {
    /// Adds the cells of `value`, found at the members `path` leads to.
    fn walk<'a>(path: &mut Vec<&'a str>, value: &'a Value, out: &mut BTreeMap<String, String>) {
        let cell = match value {
            Value::Object(map) => {
                for (member, inner) in map {
                    path.push(member);
                    walk(path, inner, out);
                    path.pop();
                }
                return;
            }
            Value::Null => return,
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        out.insert(path.join("."), cell);
    }
    let mut out = BTreeMap::new();
    walk(&mut Vec::new(), value, &mut out);
    out
}

/// Rows where the maintained tallies (folded or not) and a fresh recount
/// of the records disagree.
async fn tally_drift(app: &TestApp) -> i64 {
    #[derive(diesel::QueryableByName)]
    struct Drift {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = app.conn().await;
    let d: Drift = diesel::sql_query(
        "WITH kept AS (SELECT scope_id, dim, key, status, sum(n)::bigint AS n \
                       FROM (SELECT * FROM tallies UNION ALL SELECT * FROM tally_deltas) t \
                       GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0) \
         SELECT count(*) AS n FROM ((SELECT * FROM kept EXCEPT SELECT * FROM tallies_recounted) \
                                    UNION ALL (SELECT * FROM tallies_recounted EXCEPT SELECT * FROM kept)) x",
    )
    .get_result(&mut conn)
    .await
    .unwrap();
    d.n
}

#[tokio::test]
async fn tallies_follow_every_change_and_survive_folding() {
    let (app, _, host) = spawn_app_with_institution("Zhejiang University", "CN").await;
    let c = app.user(Role::Coordinator, None).await;
    let programme = app.programme(&c.token, "AI4HEALTH", &host).await;
    let (cohort, cohort_path) = app
        .open_cohort(&c.token, &programme, &host, "H1", json!({"capacity": 2}))
        .await;
    let mut trainees = Vec::new();
    for _ in 0..6 {
        trainees.push(app.trainee_record(None).await);
    }
    // Nominations and decisions race each other for two seats.
    let nominate_path = format!("{cohort_path}/enrollments");
    let nominate = trainees.iter().map(|t| {
        let body = json!({"trainee_id": t});
        let (app, path, token) = (&app, &nominate_path, &c.token);
        async move { app.post(path, token, &body).await }
    });
    let mut enrollments = Vec::new();
    for res in futures_util::future::join_all(nominate).await {
        assert_eq!(res.status(), 201);
        let e: Value = res.json().await.unwrap();
        enrollments.push(path_of("enrollments", &e));
    }
    let accept = enrollments
        .iter()
        .map(|e| app.move_to(&c.token, e, "accepted"));
    futures_util::future::join_all(accept).await;
    app.move_to(&c.token, &enrollments[5], "withdrawn").await;
    assert_eq!(tally_drift(&app).await, 0, "after nominations and moves");

    // A trainee changes nationality and gender; another is deleted unenrolled.
    app.run_sql(&format!(
        "UPDATE trainees SET nationality = 'PE', gender = 'undisclosed' WHERE id = '{}'",
        trainees[0]
    ))
    .await;
    let loner = app.trainee_record(None).await;
    app.run_sql(&format!("DELETE FROM trainees WHERE id = '{loner}'"))
        .await;
    // Attendance is marked, changed, and goes with its session.
    let cohort_id = cohort["id"].as_str().unwrap();
    app.run_sql(
        &format!(
            "INSERT INTO sessions (id, cohort_id, title, starts_at, ends_at) VALUES \
             ('{s1}', '{cohort_id}', 'One', now(), now() + interval '1 hour'), \
             ('{s2}', '{cohort_id}', 'Two', now(), now() + interval '1 hour'); \
             INSERT INTO attendance (session_id, enrollment_id, status) \
             SELECT s.id, e.id, 'present' FROM sessions s, enrollments e WHERE s.cohort_id = '{cohort_id}' AND e.cohort_id = s.cohort_id; \
             UPDATE attendance SET status = 'absent' WHERE session_id = '{s1}'; \
             DELETE FROM sessions WHERE id = '{s2}'",
            s1 = uuid::Uuid::new_v4(),
            s2 = uuid::Uuid::new_v4(),
        ),
    )
    .await;
    // Certificates are issued, and one is revoked.
    app.run_sql(
        &format!(
            "INSERT INTO certificates (id, enrollment_id, code) \
             SELECT gen_random_uuid(), id, md5(id::text) FROM enrollments WHERE cohort_id = '{cohort_id}'; \
             UPDATE certificates SET revoked_at = now() WHERE id = (SELECT min(id::text)::uuid FROM certificates)"
        ),
    )
    .await;
    assert_eq!(tally_drift(&app).await, 0, "after every kind of change");
    let viewer = app.user(Role::Viewer, None).await;
    let before: Value = app.get_json("/api/v1/stats/overview", &viewer.token).await;
    assert_eq!(before["certificates"], 5);
    assert_eq!(before["trainees"], 6);
    // The cohort's seats and waitlist, read from tallies, are the records' counts.
    let seats = |status: &'static str| {
        let app = &app;
        async move {
            app.count(&format!(
                "enrollments WHERE cohort_id = '{cohort_id}' AND status IN ({status})"
            ))
            .await
        }
    };
    let expected = (
        seats("'accepted', 'completed', 'not_completed'").await,
        seats("'waitlisted'").await,
    );
    let seats_of = |cohort: Value| {
        (
            cohort["seats_taken"].as_i64().unwrap(),
            cohort["waitlist_length"].as_i64().unwrap(),
        )
    };
    let record: Value = app.get_json(&cohort_path, &c.token).await;
    assert_eq!(seats_of(record), expected);

    let mut conn = app.conn().await;
    assert!(meridian::stats::fold_tallies(&mut conn).await.unwrap() > 0);
    assert_eq!(app.count("tally_deltas").await, 0);
    assert_eq!(tally_drift(&app).await, 0, "after folding");
    let record: Value = app.get_json(&cohort_path, &c.token).await;
    assert_eq!(seats_of(record), expected, "folded");
    let after: Value = app.get_json("/api/v1/stats/overview", &viewer.token).await;
    assert_eq!(before, after);
    let cs: Value = app
        .get_json(&format!("/api/v1/stats/cohorts/{cohort_id}"), &viewer.token)
        .await;
    assert_eq!(
        cs["attendance_rate"],
        json!({"rate": 0.0, "numerator": 0, "denominator": 6})
    );
    // A rebuild from scratch agrees with what the triggers kept.
    app.run_sql("SELECT meridian_rebuild_tallies()").await;
    let rebuilt: Value = app.get_json("/api/v1/stats/overview", &viewer.token).await;
    assert_eq!(before, rebuilt);
}

#[tokio::test]
async fn filters_narrow_to_a_programme_and_the_cohorts_starting_in_a_period() {
    let (app, _, host) = spawn_app_with_institution("Tsinghua University", "CN").await;
    let c = app.user(Role::Coordinator, None).await;
    let p1 = app.programme(&c.token, "AI4AG", &host).await;
    let p2 = app.programme(&c.token, "AI4EN", &host).await;
    let mut cohorts = Vec::new();
    for (programme, code, starts_on, nominees) in [
        (&p1, "A", "2027-03-10", 3),
        (&p1, "B", "2027-05-02", 2),
        (&p2, "C", "2027-03-20", 1),
    ] {
        let dates = json!({"starts_on": starts_on, "ends_on": "2027-08-01", "capacity": 5});
        let (cohort, path) = app
            .open_cohort(&c.token, programme, &host, code, dates)
            .await;
        for _ in 0..nominees {
            let t = app.trainee_record(None).await;
            app.enroll(&path, &c.token, &t).await;
        }
        cohorts.push(cohort);
    }
    let viewer = app.user(Role::Viewer, None).await;
    // Staff see exact counts; viewers see small ones suppressed.
    let analyst = app.user(Role::Coordinator, None).await;
    let (app, token) = (&app, analyst.token.as_str());
    let get = |path: String| async move { app.get_ok(&path, token).await };
    let p1_id = p1["id"].as_str().unwrap();
    let o = get(format!("/api/v1/stats/overview?program_id={p1_id}")).await;
    assert_eq!(o["enrollments"]["total"], 5);
    assert_eq!(o["cohorts"]["total"], 2);
    assert_eq!(o["programs"], 1);
    let o = get("/api/v1/stats/overview?from=2027-03-01&to=2027-04-01".into()).await;
    assert_eq!(
        o["enrollments"]["total"], 4,
        "cohorts A and C start in March"
    );
    assert_eq!(o["cohorts"]["total"], 2);

    let by_month = get("/api/v1/stats/enrollments?group_by=month".into()).await;
    assert_eq!(
        by_month["items"],
        json!([
            {"key": "2027-03", "label": null, "total": 4, "by_status": {"nominated": 4}},
            {"key": "2027-05", "label": null, "total": 2, "by_status": {"nominated": 2}},
        ])
    );
    let by_programme = get("/api/v1/stats/enrollments?group_by=program&to=2027-04-01".into()).await;
    let mut expected = vec![
        json!({"key": p1_id, "label": p1["title"], "total": 3, "by_status": {"nominated": 3}}),
        json!({"key": p2["id"], "label": p2["title"], "total": 1, "by_status": {"nominated": 1}}),
    ];
    expected.sort_by_key(|i| i["key"].as_str().unwrap().to_string());
    assert_eq!(by_programme["items"], Value::Array(expected));
    let by_cohort = get(format!(
        "/api/v1/stats/enrollments?group_by=cohort&program_id={p1_id}"
    ))
    .await;
    let totals: Vec<(&str, i64)> = by_cohort["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["label"].as_str().unwrap(), i["total"].as_i64().unwrap()))
        .collect();
    let mut expected = vec![("Cohort A", 3), ("Cohort B", 2)];
    expected.sort_by_key(|(label, _)| {
        cohorts.iter().find(|c| c["title"] == *label).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    });
    assert_eq!(totals, expected);
    let by_institution = get(format!(
        "/api/v1/stats/enrollments?group_by=institution&program_id={}",
        p2["id"].as_str().unwrap()
    ))
    .await;
    assert_eq!(by_institution["items"][0]["total"], 1);
    assert_eq!(items(&by_institution).len(), 1);
    let res = app
        .get("/api/v1/stats/overview?from=March", &viewer.token)
        .await;
    assert_problem(res, 422, "validation").await;
}

#[tokio::test]
async fn the_worker_folds_the_tally_deltas_by_itself() {
    let mut settings = crate::helpers::test_settings();
    settings.worker.enabled = true;
    settings.worker.poll_interval_ms = 200;
    let app = crate::helpers::spawn_app_with(settings).await;
    let admin = app.admin().await;
    app.institution(&admin.token, "Universidad Nacional de Colombia", "CO")
        .await;
    // The institution's deltas may be folded at once; either way none is
    // left for long, and the tallies then match a recount.
    let folded =
        crate::helpers::eventually(10, || async { app.count("tally_deltas").await == 0 }).await;
    assert!(folded, "the deltas were not folded");
    assert_eq!(tally_drift(&app).await, 0);
}
