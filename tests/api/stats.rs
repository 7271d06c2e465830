//! Dashboards: exact figures on a small known data set, no personal data.

use meridian::auth::Role;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, spawn_app, TestApp};

#[tokio::test]
async fn dashboards_count_exactly_and_never_show_a_person() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let host = app
        .institution(&admin.token, "University of Ghana", "GH")
        .await;
    let kenya = app
        .institution(&admin.token, "University of Nairobi", "KE")
        .await;
    let nigeria = app
        .institution(&admin.token, "University of Lagos", "NG")
        .await;
    let c = app.user(Role::Coordinator, None).await;
    let programme = app.programme(&c.token, "AI4AG", &host).await;
    let cohort = app
        .cohort(
            &c.token,
            &TestApp::cohort_body(&programme, &host, "C1", json!({"capacity": 3})),
        )
        .await;
    let cohort_path = format!("/api/v1/cohorts/{}", cohort["id"].as_str().unwrap());
    app.move_to(&c.token, &cohort_path, "open").await;
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
        let res = app
            .post(
                "/api/v1/trainees",
                &c.token,
                &json!({"given_name": name, "family_name": "Tester", "email": email, "nationality": nationality,
                        "gender": gender, "institution_id": inst["id"]}),
            )
            .await;
        let t: Value = res.json().await.unwrap();
        first_trainee.get_or_insert(t["id"].clone());
        let res = app
            .post(
                &format!("{cohort_path}/enrollments"),
                &c.token,
                &json!({"trainee_id": t["id"]}),
            )
            .await;
        let e: Value = res.json().await.unwrap();
        let path = format!("/api/v1/enrollments/{}", e["id"].as_str().unwrap());
        assert_eq!(app.move_to(&c.token, &path, outcome).await.status(), 200);
    }
    let res = app
        .post(
            "/api/v1/exchanges",
            &c.token,
            &json!({"kind": "internship", "trainee_id": first_trainee.unwrap(), "sending_institution_id": kenya["id"],
                    "receiving_institution_id": host["id"], "starts_on": "2027-03-01", "ends_on": "2027-06-01"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let res = app
        .post(
            "/api/v1/incubators",
            &c.token,
            &json!({"name": "Accra AI Hub", "host_institution_id": host["id"], "country_code": "GH", "capacity": 4,
                    "services": ["legal"]}),
        )
        .await;
    let incubator: Value = res.json().await.unwrap();
    for (name, jobs, funding, admit) in [
        ("CropLens", 5, "1000.50", true),
        ("GridSight", 0, "0", false),
    ] {
        let res = app
            .post(
                "/api/v1/ventures",
                &c.token,
                &json!({"incubator_id": incubator["id"], "name": name, "theme": "agriculture", "country_code": "GH",
                        "jobs_created": jobs, "funding_raised_usd": funding}),
            )
            .await;
        let v: Value = res.json().await.unwrap();
        if admit {
            app.move_to(
                &c.token,
                &format!("/api/v1/ventures/{}", v["id"].as_str().unwrap()),
                "admitted",
            )
            .await;
        }
    }

    let viewer = app.user(Role::Viewer, None).await;
    let get = |path: String| {
        let app = &app;
        let token = viewer.token.clone();
        async move {
            let res = app.get(&path, &token).await;
            assert_eq!(res.status(), 200, "{path}");
            res.json::<Value>().await.unwrap()
        }
    };
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
    assert_eq!(by_gender["items"].as_array().unwrap().len(), 3);
    let by_institution = get("/api/v1/stats/enrollments?group_by=institution".into()).await;
    let labels: Vec<&str> = by_institution["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
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

    let partner = app
        .user(
            Role::Partner,
            Some(kenya["id"].as_str().unwrap().parse().unwrap()),
        )
        .await;
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
    // The data make sense to the API: dashboards read it.
    let viewer = app.user(Role::Viewer, None).await;
    let o: Value = app
        .get("/api/v1/stats/overview", &viewer.token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(o["enrollments"]["total"], 10_000);
    let flows: Value = app
        .get("/api/v1/stats/exchanges/flows", &viewer.token)
        .await
        .json()
        .await
        .unwrap();
    assert!(!flows["items"].as_array().unwrap().is_empty());
}
