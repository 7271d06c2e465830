//! Agreements and exchanges: cross-border only, kinds, dates and yearly
//! quotas per direction under concurrent approvals, scopes and emails.

use meridian::auth::Role;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{
    helpers::{
        assert_invalid, assert_problem, id, item_texts, items, mail_settings, merged, path_of,
        spawn_app, spawn_app_with, TestApp, TestUser, GHANA, TSINGHUA,
    },
    smtp::SmtpServer,
};

struct Setup {
    coordinator: TestUser,
    ghana: Value,
    china: Value,
    ghana_too: Value,
    agreement: Value,
    trainee: Uuid,
}

async fn setup(app: &TestApp) -> Setup {
    let (_, [ghana, ghana_too, china]) = app
        .admin_with_institutions([GHANA, ("KNUST", "GH"), TSINGHUA])
        .await;
    let coordinator = app.user(Role::Coordinator, None).await;
    let body = json!({"institution_a_id": ghana["id"], "institution_b_id": china["id"], "title": "Ghana-Tsinghua AI fellowships",
                     "valid_from": "2027-01-01", "valid_to": "2028-12-31", "kinds": ["fellowship", "visiting_scholar"],
                     "annual_quota": 2});
    let agreement = app
        .create("/api/v1/exchange-agreements", &coordinator.token, &body)
        .await;
    let trainee = app.trainee_record(Some(id(&ghana))).await;
    Setup {
        coordinator,
        ghana,
        china,
        ghana_too,
        agreement,
        trainee,
    }
}

async fn propose(
    app: &TestApp,
    token: &str,
    s: &Setup,
    from: &Value,
    to: &Value,
    extra: Value,
) -> reqwest::Response {
    let body = json!({"kind": "fellowship", "trainee_id": s.trainee, "sending_institution_id": from["id"],
                          "receiving_institution_id": to["id"], "agreement_id": s.agreement["id"],
                          "starts_on": "2027-09-01", "ends_on": "2028-02-28", "funding_usd": "18000"});
    app.post("/api/v1/exchanges", token, &merged(body, extra))
        .await
}

async fn proposed(app: &TestApp, s: &Setup, from: &Value, to: &Value, extra: Value) -> String {
    let res = propose(app, &s.coordinator.token, s, from, to, extra).await;
    assert_eq!(res.status(), 201);
    let e: Value = res.json().await.unwrap();
    path_of("exchanges", &e)
}

/// An exchange the coordinator proposed from `from` to `to` for the dates
/// given; its path.
async fn proposed_for(
    app: &TestApp,
    s: &Setup,
    (from, to): (&Value, &Value),
    starts_on: &str,
    ends_on: &str,
) -> String {
    let dates = json!({"starts_on": starts_on, "ends_on": ends_on});
    proposed(app, s, from, to, dates).await
}

#[tokio::test]
async fn agreements_and_exchanges_must_cross_a_border() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let domestic = |valid_to: &str, kinds: Value, quota: i32| {
        json!({"institution_a_id": s.ghana["id"], "institution_b_id": s.ghana_too["id"], "title": "Domestic",
               "valid_from": "2027-01-01", "valid_to": valid_to, "kinds": kinds, "annual_quota": quota})
    };
    let agreements: [(Value, &[&str]); 2] = [
        (
            domestic("2026-12-31", json!([]), 0),
            &["annual_quota", "kinds", "valid_to"],
        ),
        (
            domestic("2027-12-31", json!(["internship"]), 3),
            &["institution_b_id"],
        ),
    ];
    for (body, fields) in agreements {
        let res = app
            .post("/api/v1/exchange-agreements", &s.coordinator.token, &body)
            .await;
        assert_invalid(res, fields).await;
    }
    let exchanges: [(&Value, Value, &[&str]); 2] = [
        (
            &s.ghana_too,
            json!({"agreement_id": null}),
            &["receiving_institution_id"],
        ),
        (
            &s.china,
            json!({"funding_usd": "-5", "ends_on": "2026-01-01"}),
            &["ends_on", "funding_usd"],
        ),
    ];
    for (to, extra, fields) in exchanges {
        let res = propose(&app, &s.coordinator.token, &s, &s.ghana, to, extra).await;
        assert_invalid(res, fields).await;
    }
    assert_eq!(app.count("exchanges").await, 0);
}

#[tokio::test]
async fn approval_checks_kind_dates_and_the_yearly_quota_per_direction() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let token = &s.coordinator.token;
    let internship = proposed(&app, &s, &s.ghana, &s.china, json!({"kind": "internship"})).await;
    app.move_refused(token, &internship, "approved", "kind-not-covered")
        .await;
    let late = proposed_for(&app, &s, (&s.ghana, &s.china), "2028-11-01", "2029-03-01").await;
    app.move_refused(token, &late, "approved", "outside-agreement")
        .await;

    let mut paths = Vec::new();
    for _ in 0..6 {
        paths.push(proposed(&app, &s, &s.ghana, &s.china, json!({})).await);
    }
    let approvals = paths.iter().map(|p| {
        let app = &app;
        let token = token.clone();
        async move { app.move_to(&token, p, "approved").await.status().as_u16() }
    });
    let statuses = futures_util::future::join_all(approvals).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        2,
        "{statuses:?}"
    );
    let refused = app.move_to(token, &paths[0], "approved").await;
    assert!(matches!(refused.status().as_u16(), 409));
    // The other direction and the next year have quota of their own.
    let back = proposed(&app, &s, &s.china, &s.ghana, json!({})).await;
    app.moved(token, &back, "approved").await;
    let next_year = proposed_for(&app, &s, (&s.ghana, &s.china), "2028-01-10", "2028-06-01").await;
    app.moved(token, &next_year, "approved").await;

    let usage: Value = app
        .get_json(
            &format!(
                "/api/v1/exchange-agreements/{}/usage",
                s.agreement["id"].as_str().unwrap()
            ),
            token,
        )
        .await;
    let row = |year: i64, from: &Value| {
        usage["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["year"] == year && u["from_institution_id"] == from["id"])
            .cloned()
            .unwrap()
    };
    assert_eq!(
        (
            row(2027, &s.ghana)["used"].as_i64(),
            row(2027, &s.ghana)["left"].as_i64()
        ),
        (Some(2), Some(0))
    );
    assert_eq!(row(2027, &s.china)["used"], 1);
    assert_eq!(row(2028, &s.ghana)["used"], 1);

    let p = app
        .move_refused(token, &back, "completed", "illegal-transition")
        .await;
    assert_eq!(p["allowed"], json!(["in_progress", "cancelled"]));
    // Terminating the agreement stops further approvals.
    let path = path_of("exchange-agreements", &s.agreement);
    assert_eq!(
        app.patch(&path, token, &json!({"status": "terminated"}))
            .await
            .status(),
        200
    );
    let again = proposed_for(&app, &s, (&s.china, &s.ghana), "2028-03-01", "2028-04-01").await;
    app.move_refused(token, &again, "approved", "agreement-terminated")
        .await;
    // The agreement's history shows its creation and its termination.
    let history: Value = app.get_json(&format!("{path}/history"), token).await;
    let actions: Vec<&str> = item_texts(&history, "action");
    assert_eq!(
        actions,
        ["exchange_agreement.create", "exchange_agreement.update"]
    );
    assert_eq!(history["items"][1]["changes"]["status"]["to"], "terminated");
    // Exchanges refer to it: it cannot go. A never-approved exchange can.
    assert_problem(app.delete(&path, token).await, 409, "has-dependants").await;
    assert_problem(app.delete(&back, token).await, 409, "has-dependants").await;
    assert_eq!(app.delete(&again, token).await.status(), 204);
}

#[tokio::test]
async fn partners_propose_only_for_their_institution_and_see_only_its_exchanges() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_with(mail_settings(&smtp.url())).await;
    let s = setup(&app).await;
    let ghana_staff = app.member(Role::Partner, &s.ghana).await;
    let china_staff = app.member(Role::Partner, &s.china).await;
    let outsider = app.member(Role::Partner, &s.ghana_too).await;
    let res = propose(&app, &outsider.token, &s, &s.ghana, &s.china, json!({})).await;
    assert_problem(res, 403, "forbidden").await;
    let res = propose(&app, &ghana_staff.token, &s, &s.ghana, &s.china, json!({})).await;
    assert_eq!(res.status(), 201);
    let e: Value = res.json().await.unwrap();
    let path = path_of("exchanges", &e);
    assert_eq!(e["funding_usd"], "18000.00");
    assert_eq!(app.get(&path, &china_staff.token).await.status(), 200);
    assert_problem(app.get(&path, &outsider.token).await, 404, "not-found").await;
    assert_problem(
        app.move_to(&ghana_staff.token, &path, "approved").await,
        403,
        "forbidden",
    )
    .await;
    app.moved(&s.coordinator.token, &path, "approved").await;
    // The trainee and the partner staff of both institutions are told.
    let mail = smtp.wait_for(3, 10).await;
    assert_eq!(mail.len(), 3);
    assert!(mail.iter().all(|m| m
        .parsed()
        .subject()
        .unwrap()
        .starts_with("Exchange approved")));
    // The other side cannot propose for a trainee that is not its own.
    let res = propose(&app, &china_staff.token, &s, &s.china, &s.ghana, json!({})).await;
    assert_problem(res, 422, "validation").await;
    // A rejection reaches the same three people.
    let rejected_path = proposed(&app, &s, &s.china, &s.ghana, json!({})).await;
    app.moved(&s.coordinator.token, &rejected_path, "rejected")
        .await;
    let mail = smtp.wait_for(6, 10).await;
    let refusals = mail
        .iter()
        .filter(|m| {
            m.parsed()
                .subject()
                .unwrap_or_default()
                .starts_with("Exchange not approved")
        })
        .count();
    assert_eq!(refusals, 3);
    let me = app.user_for_trainee(s.trainee).await;
    let mine: Value = app.get_json("/api/v1/exchanges", &me.token).await;
    assert_eq!(items(&mine).len(), 2);
    let journey: Value = app
        .get_json(
            &format!("/api/v1/trainees/{}/journey", s.trainee),
            &me.token,
        )
        .await;
    assert_eq!(journey["steps"][0]["kind"], "exchange");
    assert_eq!(journey["steps"][0]["status"], "approved");
}

#[tokio::test]
async fn exchanges_are_corrected_while_open_and_rechecked_against_their_agreement() {
    let app = spawn_app().await;
    let s = setup(&app).await;
    let ghana_staff = app.member(Role::Partner, &s.ghana).await;
    let res = propose(&app, &ghana_staff.token, &s, &s.ghana, &s.china, json!({})).await;
    assert_eq!(res.status(), 201);
    let e: Value = res.json().await.unwrap();
    let path = path_of("exchanges", &e);
    // Partner staff correct their own proposal.
    let e = app
        .patched(
            &path,
            &ghana_staff.token,
            &json!({"ends_on": "2028-01-31", "funding_usd": "15000"}),
        )
        .await;
    assert_eq!(
        (e["ends_on"].as_str(), e["funding_usd"].as_str()),
        (Some("2028-01-31"), Some("15000.00"))
    );
    // The people and places of an exchange never change, and its dates
    // stay in order once merged with the stored ones.
    let res = app
        .patch(&path, &ghana_staff.token, &json!({"trainee_id": s.trainee}))
        .await;
    assert_invalid(res, &["trainee_id"]).await;
    let res = app
        .patch(&path, &ghana_staff.token, &json!({"ends_on": "2027-01-01"}))
        .await;
    assert_invalid(res, &["ends_on"]).await;
    // Once approved, only coordinators change it, and its agreement's rules
    // are checked again.
    app.moved(&s.coordinator.token, &path, "approved").await;
    let res = app
        .patch(&path, &ghana_staff.token, &json!({"funding_usd": "1"}))
        .await;
    assert_problem(res, 403, "forbidden").await;
    let res = app
        .patch(
            &path,
            &s.coordinator.token,
            &json!({"ends_on": "2029-06-30"}),
        )
        .await;
    assert_problem(res, 409, "outside-agreement").await;
    let res = app
        .patch(&path, &s.coordinator.token, &json!({"kind": "internship"}))
        .await;
    assert_problem(res, 409, "kind-not-covered").await;
    let stored: Value = app.get_json(&path, &s.coordinator.token).await;
    assert_eq!(
        (stored["ends_on"].as_str(), stored["kind"].as_str()),
        (Some("2028-01-31"), Some("fellowship"))
    );
    // Its own seat in the quota is not counted against it.
    app.patched(
        &path,
        &s.coordinator.token,
        &json!({"starts_on": "2027-10-01"}),
    )
    .await;
    // A quota already spent in another year refuses a move into it.
    let second = proposed(&app, &s, &s.ghana, &s.china, json!({})).await;
    app.moved(&s.coordinator.token, &second, "approved").await;
    let later = proposed_for(&app, &s, (&s.ghana, &s.china), "2028-03-01", "2028-06-30").await;
    app.moved(&s.coordinator.token, &later, "approved").await;
    let res = app
        .patch(
            &later,
            &s.coordinator.token,
            &json!({"starts_on": "2027-11-01"}),
        )
        .await;
    assert_problem(res, 409, "quota-exceeded").await;
    // A final exchange is never changed.
    let rejected = proposed(&app, &s, &s.ghana, &s.china, json!({})).await;
    app.moved(&s.coordinator.token, &rejected, "rejected").await;
    let res = app
        .patch(
            &rejected,
            &s.coordinator.token,
            &json!({"funding_usd": "1"}),
        )
        .await;
    let p = assert_problem(res, 409, "illegal-transition").await;
    assert_eq!(p["allowed"], json!([]));
}
