//! Nomination to certificate: seats, quotas, waitlist, attendance, emails.

use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::RunQueryDsl;
use meridian::{auth::Role, schema::enrollments};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{
    helpers::{
        assert_invalid, assert_problem, error_fields, id, items, mail_settings, path_of, spawn_app,
        spawn_app_with, TestApp, TestUser,
    },
    smtp::SmtpServer,
};

/// A programme with an open cohort, two partner institutions with staff.
struct World {
    coordinator: TestUser,
    cohort: Value,
    cohort_path: String,
    inst_a: Value,
    partner_a: TestUser,
    partner_b: TestUser,
}

/// A fresh app and its world.
async fn spawned_world(cohort_extra: Value) -> (TestApp, World) {
    let app = spawn_app().await;
    let w = world(&app, cohort_extra).await;
    (app, w)
}

async fn world(app: &TestApp, cohort_extra: Value) -> World {
    let (_, [host, inst_a, inst_b]) = app
        .admin_with_institutions([
            ("Kwame Nkrumah University", "GH"),
            ("University of Rwanda", "RW"),
            ("Universidad de la Habana", "CU"),
        ])
        .await;
    let coordinator = app.user(Role::Coordinator, None).await;
    let programme = app.programme(&coordinator.token, "AI4AG", &host).await;
    let cohort = app
        .cohort(
            &coordinator.token,
            &TestApp::cohort_body(&programme, &host, "C1", cohort_extra),
        )
        .await;
    let cohort_path = path_of("cohorts", &cohort);
    app.moved(&coordinator.token, &cohort_path, "open").await;
    let partner_a = app.member(Role::Partner, &inst_a).await;
    let partner_b = app.member(Role::Partner, &inst_b).await;
    World {
        coordinator,
        cohort,
        cohort_path,
        inst_a,
        partner_a,
        partner_b,
    }
}

async fn trainee(app: &TestApp, partner: &TestUser, email: &str) -> Value {
    let res = app
        .post(
            "/api/v1/trainees",
            &partner.token,
            &json!({"given_name": "Aline", "family_name": "Uwase", "email": email,
                    "nationality": "RW", "gender": "female", "birth_year": 1998, "locale": "fr"}),
        )
        .await;
    assert_eq!(res.status(), 201, "creating trainee {email}");
    res.json().await.unwrap()
}

async fn nominate(
    app: &TestApp,
    w: &World,
    partner: &TestUser,
    trainee: &Value,
) -> reqwest::Response {
    app.post(
        &format!("{}/enrollments", w.cohort_path),
        &partner.token,
        &json!({"trainee_id": trainee["id"], "motivation": "Builds crop-disease models"}),
    )
    .await
}

async fn nominated(app: &TestApp, w: &World, partner: &TestUser, email: &str) -> String {
    let t = trainee(app, partner, email).await;
    let res = nominate(app, w, partner, &t).await;
    assert_eq!(res.status(), 201);
    let e: Value = res.json().await.unwrap();
    path_of("enrollments", &e)
}

#[tokio::test]
async fn partners_nominate_their_own_trainees_into_open_cohorts_once() {
    let (app, w) = spawned_world(json!({})).await;
    let t = trainee(&app, &w.partner_a, "aline@ur.ac.rw").await;
    let res = nominate(&app, &w, &w.partner_b, &t).await;
    assert_problem(res, 404, "not-found").await;
    let res = nominate(&app, &w, &w.partner_a, &t).await;
    assert_eq!(res.status(), 201);
    assert!(res.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/api/v1/enrollments/"));
    let e: Value = res.json().await.unwrap();
    assert_eq!(e["status"], "nominated");
    assert_eq!(e["institution_id"], w.inst_a["id"]);
    assert_problem(nominate(&app, &w, &w.partner_a, &t).await, 409, "duplicate").await;

    // Partner B sees none of A's enrollments; A sees its own.
    let page: Value = app
        .get_json(
            &format!("{}/enrollments", w.cohort_path),
            &w.partner_b.token,
        )
        .await;
    assert_eq!(page["items"], json!([]));
    let path = path_of("enrollments", &e);
    assert_problem(app.get(&path, &w.partner_b.token).await, 404, "not-found").await;
    assert_eq!(app.get(&path, &w.partner_a.token).await.status(), 200);
    let history: Value = app
        .get_json(&format!("{path}/transitions"), &w.partner_a.token)
        .await;
    assert_eq!(history["items"][0]["from"], "new");
    assert_eq!(history["items"][0]["to"], "nominated");
}

#[tokio::test]
async fn nominations_outside_an_open_window_are_refused() {
    let app = spawn_app().await;
    let now = chrono::Utc::now();
    let w = world(
        &app,
        json!({"nominations_close_at": now + chrono::Duration::days(1)}),
    )
    .await;
    let t = trainee(&app, &w.partner_a, "aline@ur.ac.rw").await;
    // Closed cohort.
    app.move_to(&w.coordinator.token, &w.cohort_path, "closed")
        .await;
    let res = nominate(&app, &w, &w.partner_a, &t).await;
    assert_problem(res, 409, "nominations-closed").await;
    app.move_to(&w.coordinator.token, &w.cohort_path, "open")
        .await;
    // Open, but the window has passed.
    app.patch(
        &w.cohort_path,
        &w.coordinator.token,
        &json!({"nominations_open_at": now - chrono::Duration::days(3), "nominations_close_at": now - chrono::Duration::days(1)}),
    )
    .await;
    let res = nominate(&app, &w, &w.partner_a, &t).await;
    assert_problem(res, 409, "nominations-closed").await;
    assert_eq!(app.count("enrollments").await, 0);
}

#[tokio::test]
async fn every_illegal_enrollment_move_is_409_with_the_allowed_moves() {
    let (app, w) = spawned_world(json!({})).await;
    let token = &w.coordinator.token;
    let path = nominated(&app, &w, &w.partner_a, "a@ur.ac.rw").await;
    let expect = |from: &'static str, allowed: Value| (from, allowed);
    let table = [expect(
        "nominated",
        json!(["accepted", "waitlisted", "rejected", "withdrawn"]),
    )];
    for (_, allowed) in table {
        for to in ["completed", "not_completed", "nominated"] {
            let p = app
                .move_refused(token, &path, to, "illegal-transition")
                .await;
            assert_eq!(p["allowed"], allowed);
        }
    }
    app.moved(token, &path, "rejected").await;
    for to in ["accepted", "waitlisted", "withdrawn", "completed"] {
        let p = app
            .move_refused(token, &path, to, "illegal-transition")
            .await;
        assert_eq!(p["allowed"], json!([]));
    }
    let w2 = nominated(&app, &w, &w.partner_a, "b@ur.ac.rw").await;
    app.moved(token, &w2, "waitlisted").await;
    let p = app
        .move_refused(token, &w2, "completed", "illegal-transition")
        .await;
    assert_eq!(p["allowed"], json!(["accepted", "rejected", "withdrawn"]));
    app.moved(token, &w2, "accepted").await;
    let p = app
        .move_refused(token, &w2, "waitlisted", "illegal-transition")
        .await;
    assert_eq!(
        p["allowed"],
        json!(["withdrawn", "completed", "not_completed"])
    );
    // Outcomes wait for the cohort to run.
    app.move_refused(token, &w2, "not_completed", "cohort-not-running")
        .await;
}

#[tokio::test]
async fn a_hundred_concurrent_accepts_never_overfill_a_cohort() {
    let (app, w) = spawned_world(json!({"capacity": 3})).await;
    let mut conn = app.conn().await;
    let mut ids = Vec::new();
    for _ in 0..100 {
        let t = app.trainee_record(Some(id(&w.inst_a))).await;
        let e = Uuid::now_v7();
        diesel::insert_into(enrollments::table)
            .values((
                enrollments::id.eq(e),
                enrollments::cohort_id.eq(id(&w.cohort)),
                enrollments::trainee_id.eq(t),
                enrollments::institution_id.eq(id(&w.inst_a)),
                enrollments::nominated_by.eq(w.partner_a.id),
            ))
            .execute(&mut conn)
            .await
            .unwrap();
        ids.push(e);
    }
    let tasks = ids.iter().map(|e| {
        let path = format!("/api/v1/enrollments/{e}");
        let app = &app;
        let token = w.coordinator.token.clone();
        async move {
            app.move_to(&token, &path, "accepted")
                .await
                .status()
                .as_u16()
        }
    });
    let statuses = futures_util::future::join_all(tasks).await;
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 3);
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 97);
    let accepted: i64 = enrollments::table
        .filter(enrollments::status.eq("accepted"))
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(accepted, 3);
    let cohort: Value = app.get_json(&w.cohort_path, &w.coordinator.token).await;
    assert_eq!(cohort["seats_taken"], 3);
}

#[tokio::test]
async fn the_institution_quota_holds_and_the_waitlist_is_promoted_in_order() {
    let (app, w) = spawned_world(json!({"capacity": 2, "max_per_institution": 1})).await;
    let token = &w.coordinator.token;
    let a1 = nominated(&app, &w, &w.partner_a, "a1@ur.ac.rw").await;
    let a2 = nominated(&app, &w, &w.partner_a, "a2@ur.ac.rw").await;
    let b1 = nominated(&app, &w, &w.partner_b, "b1@uh.cu").await;
    let b2 = nominated(&app, &w, &w.partner_b, "b2@uh.cu").await;
    app.moved(token, &a1, "accepted").await;
    app.move_refused(token, &a2, "accepted", "institution-quota-reached")
        .await;
    app.moved(token, &a2, "waitlisted").await;
    app.moved(token, &b1, "accepted").await;
    app.moved(token, &b2, "waitlisted").await;
    let cohort: Value = app.get_json(&w.cohort_path, token).await;
    assert_eq!(
        (
            cohort["seats_taken"].as_i64(),
            cohort["waitlist_length"].as_i64()
        ),
        (Some(2), Some(2))
    );

    // B1 withdraws: A2 waited longer but A is at its quota, so B2 goes up.
    app.moved(&w.partner_b.token, &b1, "withdrawn").await;
    let status = |p: String| {
        let app = &app;
        let token = token.clone();
        async move {
            let v: Value = app.get_json(&p, &token).await;
            v["status"].as_str().unwrap().to_string()
        }
    };
    assert_eq!(status(b2.clone()).await, "accepted");
    assert_eq!(status(a2.clone()).await, "waitlisted");
    let history: Value = app.get_json(&format!("{b2}/transitions"), token).await;
    assert_eq!(
        history["items"].as_array().unwrap().last().unwrap()["note"],
        "promoted from the waitlist"
    );
    // A1 withdraws: A2 is promoted.
    app.moved(token, &a1, "withdrawn").await;
    assert_eq!(status(a2).await, "accepted");
}

#[tokio::test]
async fn without_auto_promote_a_freed_seat_stays_free() {
    let (app, w) = spawned_world(json!({"capacity": 1, "auto_promote": false})).await;
    let token = &w.coordinator.token;
    let a = nominated(&app, &w, &w.partner_a, "a@ur.ac.rw").await;
    let b = nominated(&app, &w, &w.partner_b, "b@uh.cu").await;
    app.move_to(token, &a, "accepted").await;
    app.move_refused(token, &b, "accepted", "cohort-full").await;
    app.move_to(token, &b, "waitlisted").await;
    app.move_to(token, &a, "withdrawn").await;
    let v: Value = app.get_json(&b, token).await;
    assert_eq!(v["status"], "waitlisted");
}

#[tokio::test]
async fn only_coordinators_decide_while_partners_and_trainees_may_withdraw_their_own() {
    let (app, w) = spawned_world(json!({})).await;
    let a = nominated(&app, &w, &w.partner_a, "a@ur.ac.rw").await;
    assert_problem(
        app.move_to(&w.partner_a.token, &a, "accepted").await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        app.move_to(&w.partner_b.token, &a, "withdrawn").await,
        404,
        "not-found",
    )
    .await;
    let viewer = app.user(Role::Viewer, None).await;
    assert_problem(
        app.move_to(&viewer.token, &a, "withdrawn").await,
        403,
        "forbidden",
    )
    .await;
    app.moved(&w.partner_a.token, &a, "withdrawn").await;

    // A trainee with an account withdraws its own enrollment, not others'.
    let b = nominated(&app, &w, &w.partner_a, "b@ur.ac.rw").await;
    let enrollment: Value = app.get_json(&b, &w.coordinator.token).await;
    let trainee_id: Uuid = enrollment["trainee_id"].as_str().unwrap().parse().unwrap();
    let me = app.user_for_trainee(trainee_id).await;
    let c = nominated(&app, &w, &w.partner_a, "c@ur.ac.rw").await;
    assert_problem(
        app.move_to(&me.token, &c, "withdrawn").await,
        404,
        "not-found",
    )
    .await;
    let mine: Value = app
        .get_json(&format!("{}/enrollments", w.cohort_path), &me.token)
        .await;
    assert_eq!(items(&mine).len(), 1);
    app.moved(&me.token, &b, "withdrawn").await;
}

#[tokio::test]
async fn bulk_moves_answer_a_result_per_enrollment() {
    let (app, w) = spawned_world(json!({"capacity": 1})).await;
    let a = nominated(&app, &w, &w.partner_a, "a@ur.ac.rw").await;
    let b = nominated(&app, &w, &w.partner_b, "b@uh.cu").await;
    let id_of = |p: &str| p.rsplit('/').next().unwrap().to_string();
    let stranger = Uuid::now_v7().to_string();
    let res = app
        .post(
            &format!("{}/enrollments/transitions", w.cohort_path),
            &w.coordinator.token,
            &json!({"ids": [id_of(&a), id_of(&b), stranger], "to": "accepted", "note": "first round"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let items = body["items"].as_array().unwrap();
    assert_eq!(items[0]["status"], 200);
    assert_eq!(items[0]["enrollment"]["status"], "accepted");
    assert_eq!(items[1]["status"], 409);
    assert_eq!(
        items[1]["problem"]["type"],
        "http://127.0.0.1:8080/problems/cohort-full"
    );
    assert_eq!(items[2]["status"], 404);
    let res = app
        .post(
            &format!("{}/enrollments/transitions", w.cohort_path),
            &w.partner_a.token,
            &json!({"ids": [id_of(&a)], "to": "withdrawn"}),
        )
        .await;
    assert_problem(res, 403, "forbidden").await;
    let res = app
        .post(
            &format!("{}/enrollments/transitions", w.cohort_path),
            &w.coordinator.token,
            &json!({"ids": [], "to": "sideways"}),
        )
        .await;
    assert_invalid(res, &["ids"]).await;
}

#[tokio::test]
async fn completing_needs_attendance_and_issues_a_verifiable_certificate() {
    let (app, w) = spawned_world(json!({"capacity": 5, "min_attendance_pct": 80})).await;
    let token = &w.coordinator.token;
    let a = nominated(&app, &w, &w.partner_a, "a@ur.ac.rw").await;
    let b = nominated(&app, &w, &w.partner_b, "b@uh.cu").await;
    let still_nominated = nominated(&app, &w, &w.partner_b, "c@uh.cu").await;
    app.move_to(token, &a, "accepted").await;
    app.move_to(token, &b, "accepted").await;
    app.move_refused(token, &a, "completed", "cohort-not-running")
        .await;
    for to in ["closed", "running"] {
        app.moved(token, &w.cohort_path, to).await;
    }
    // Four sessions that have ended, one still to come.
    let mut sessions = Vec::new();
    let now = chrono::Utc::now();
    for d in [-5i64, -4, -3, -2, 2] {
        let s = app.create(&format!("{}/sessions", w.cohort_path), token, &json!({"title": format!("Day {d}"), "starts_at": now + chrono::Duration::days(d), "ends_at": now + chrono::Duration::days(d) + chrono::Duration::hours(3)})).await;
        sessions.push(path_of("sessions", &s));
    }
    let ea = a.rsplit('/').next().unwrap().to_string();
    let eb = b.rsplit('/').next().unwrap().to_string();
    let mark = |session: String, marks: Value| {
        let app = &app;
        let token = token.clone();
        async move {
            app.put(&format!("{session}/attendance"), &token, &marks)
                .await
        }
    };
    // Bad marks: an enrollment without a seat, a status that does not exist.
    let pending = still_nominated.rsplit('/').next().unwrap().to_string();
    let res = mark(sessions[0].clone(), json!([{"enrollment_id": pending, "status": "present"}, {"enrollment_id": ea, "status": "asleep"}])).await;
    assert_eq!(
        error_fields(&assert_problem(res, 422, "validation").await),
        ["[0].enrollment_id", "[1].status"]
    );
    for (i, s) in sessions.iter().take(4).enumerate() {
        let a_status = if i == 3 { "absent" } else { "present" };
        let res = mark(s.clone(), json!([{"enrollment_id": ea, "status": a_status}, {"enrollment_id": eb, "status": "present"}])).await;
        assert_eq!(res.status(), 200);
    }
    // 3 of 4 is 75 %: too low.
    let p = app
        .move_refused(token, &a, "completed", "attendance-too-low")
        .await;
    assert_eq!(p["present"], 3);
    // Excused for the missed day: 3 of 3.
    mark(
        sessions[3].clone(),
        json!([{"enrollment_id": ea, "status": "excused"}]),
    )
    .await;
    let res = app.move_to(token, &a, "completed").await;
    assert_eq!(res.status(), 200);
    app.moved(token, &b, "not_completed").await;

    let code: String = meridian::schema::certificates::table
        .select(meridian::schema::certificates::code)
        .first(&mut app.conn().await)
        .await
        .unwrap();
    assert!(code.len() >= 22);
    // The completion email carries the verification link of the certificate.
    let (payload, locale): (Value, String) = meridian::schema::notifications::table
        .filter(meridian::schema::notifications::template.eq("enrollment_completed"))
        .select((
            meridian::schema::notifications::payload,
            meridian::schema::notifications::locale,
        ))
        .first(&mut app.conn().await)
        .await
        .unwrap();
    let rendered = meridian::email::templates::Templates::new()
        .render(
            "enrollment_completed",
            &locale,
            &payload,
            "https://meridian.test",
        )
        .unwrap();
    assert!(rendered
        .text
        .contains(&format!("https://meridian.test/certificates/{code}")));
    let verify = app
        .get_anonymous(&format!("/api/v1/certificates/{code}"))
        .await;
    assert_eq!(verify.status(), 200);
    let v: Value = verify.json().await.unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["holder_name"], "Aline Uwase");
    assert_eq!(v["cohort_title"], "Cohort C1");
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 8, "{keys:?}");
    let unknown = app.get_anonymous("/api/v1/certificates/guess").await;
    assert_problem(unknown, 404, "not-found").await;

    let revoke = |t: String, body: Value| {
        let app = &app;
        let code = code.clone();
        async move {
            app.post(&format!("/api/v1/certificates/{code}/revoke"), &t, &body)
                .await
        }
    };
    assert_problem(
        revoke(w.partner_a.token.clone(), json!({"reason": "x"})).await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(
        error_fields(
            &assert_problem(revoke(token.clone(), json!({})).await, 422, "validation").await
        ),
        ["reason"]
    );
    let res = revoke(token.clone(), json!({"reason": "Plagiarised capstone"})).await;
    assert_eq!(res.status(), 200);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["valid"], false);
    assert!(v["revoked_at"].is_string());
    assert_problem(
        revoke(token.clone(), json!({"reason": "again"})).await,
        409,
        "already-revoked",
    )
    .await;
}

#[tokio::test]
async fn each_enrollment_move_emails_the_trainee_in_its_language() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_with(mail_settings(&smtp.url())).await;
    let w = world(&app, json!({"capacity": 1})).await;
    let token = &w.coordinator.token;
    let a = nominated(&app, &w, &w.partner_a, "a@ur.ac.rw").await;
    let b = nominated(&app, &w, &w.partner_b, "b@uh.cu").await;
    let c = nominated(&app, &w, &w.partner_b, "c@uh.cu").await;
    app.move_to(token, &a, "accepted").await;
    app.move_to(token, &b, "waitlisted").await;
    app.move_to(token, &c, "rejected").await;
    app.move_to(token, &a, "withdrawn").await;
    // 3 nominations, accepted, waitlisted, rejected, promoted.
    let got = smtp.wait_for(7, 15).await;
    assert_eq!(got.len(), 7);
    let subjects: Vec<String> = got
        .iter()
        .map(|m| m.parsed().subject().unwrap().to_string())
        .collect();
    let to_b: Vec<&String> = got
        .iter()
        .zip(&subjects)
        .filter(|(m, _)| m.to[0].contains("b@uh.cu"))
        .map(|(_, s)| s)
        .collect();
    assert_eq!(to_b.len(), 3, "{to_b:?}");
    assert!(
        to_b.iter().any(|s| s.contains("liste d'attente")),
        "{to_b:?}"
    );
    assert!(
        to_b.iter().any(|s| s.contains("Une place s'est libérée")),
        "{to_b:?}"
    );
    assert!(subjects.iter().any(|s| s.starts_with("Votre candidature")));
}

#[tokio::test]
async fn the_week_ahead_reminder_goes_once_to_each_accepted_trainee_from_any_number_of_instances() {
    let smtp = SmtpServer::start().await;
    let db = crate::helpers::fresh_database().await;
    let app = crate::helpers::spawn_app_on(crate::helpers::test_settings(), db.clone()).await;
    let now = chrono::Utc::now();
    let w = world(
        &app,
        json!({"starts_on": (now + chrono::Duration::days(5)).date_naive(),
               "ends_on": (now + chrono::Duration::days(20)).date_naive()}),
    )
    .await;
    let token = &w.coordinator.token;
    let a = nominated(&app, &w, &w.partner_a, "a@ur.ac.rw").await;
    let b = nominated(&app, &w, &w.partner_b, "b@uh.cu").await;
    app.move_to(token, &a, "accepted").await;
    app.move_to(token, &b, "rejected").await;
    // Two instances with workers start on the same database.
    let _one = crate::helpers::spawn_app_on(mail_settings(&smtp.url()), db.clone()).await;
    let _two = crate::helpers::spawn_app_on(mail_settings(&smtp.url()), db).await;
    // Two nominations, the acceptance, the rejection and one reminder.
    let wait = smtp.wait_for(5, 15).await;
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let reminders: Vec<_> = smtp
        .messages()
        .into_iter()
        .filter(|m| {
            m.parsed()
                .subject()
                .unwrap_or_default()
                .contains("commence le")
        })
        .collect();
    assert_eq!(reminders.len(), 1, "{} messages in all", wait.len());
    assert!(reminders[0].to[0].contains("a@ur.ac.rw"));
}

#[tokio::test]
async fn the_list_of_all_enrollments_keeps_to_the_callers_scope() {
    let (app, w) = spawned_world(json!({"capacity": 5})).await;
    let a1 = nominated(&app, &w, &w.partner_a, "aline@ur.ac.rw").await;
    nominated(&app, &w, &w.partner_a, "eric@ur.ac.rw").await;
    nominated(&app, &w, &w.partner_b, "yusimi@uh.cu").await;
    let ids = |page: Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| path_of("enrollments", e))
            .collect()
    };
    let all: Value = app
        .get_json("/api/v1/enrollments", &w.coordinator.token)
        .await;
    assert_eq!(ids(all).len(), 3);
    let theirs: Value = app
        .get_json("/api/v1/enrollments", &w.partner_a.token)
        .await;
    assert_eq!(items(&theirs).len(), 2);
    assert!(theirs["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["institution_id"] == w.inst_a["id"]));
    let trainee_id = app
        .get(&a1, &w.coordinator.token)
        .await
        .json::<Value>()
        .await
        .unwrap()["trainee_id"]
        .clone();
    let one: Value = app
        .get_json(
            &format!(
                "/api/v1/enrollments?trainee_id={}&cohort_id={}",
                trainee_id.as_str().unwrap(),
                w.cohort["id"].as_str().unwrap()
            ),
            &w.coordinator.token,
        )
        .await;
    assert_eq!(ids(one), vec![a1.clone()]);
    // A trainee sees their own enrollment only.
    let trainee = app
        .user_for_trainee(trainee_id.as_str().unwrap().parse().unwrap())
        .await;
    let own: Value = app.get_json("/api/v1/enrollments", &trainee.token).await;
    assert_eq!(ids(own), vec![a1]);
    let res = app
        .get(
            "/api/v1/enrollments?trainee_id=someone",
            &w.coordinator.token,
        )
        .await;
    assert_problem(res, 422, "validation").await;
}
