//! Trainees: scopes of partners and trainees, unique emails, bad input.

use meridian::auth::Role;
use serde_json::{json, Value};

use crate::helpers::{assert_problem, path_of, spawn_app, spawn_app_with_admin, Cast};

#[tokio::test]
async fn partners_manage_only_their_own_institutions_trainees() {
    let app = spawn_app().await;
    let Cast {
        own: mine,
        other: theirs,
        own_staff: partner,
        other_staff: other,
        viewer,
        ..
    } = app
        .cast(
            ("Universidade Eduardo Mondlane", "MZ"),
            ("Universiti Malaya", "MY"),
        )
        .await;
    let body = json!({"given_name": "Nelia", "family_name": "Macuacua", "email": "Nelia@UEM.ac.mz",
                      "nationality": "mz", "gender": "female", "field": "Remote sensing"});
    let t = app.create("/api/v1/trainees", &partner.token, &body).await;
    assert_eq!(t["institution_id"], mine["id"]);
    assert_eq!(t["email"], "nelia@uem.ac.mz");
    assert_eq!(t["nationality"], "MZ");
    let path = path_of("trainees", &t);

    let mut foreign = body.clone();
    foreign["email"] = json!("someone@um.edu.my");
    foreign["institution_id"] = theirs["id"].clone();
    assert_problem(
        app.post("/api/v1/trainees", &partner.token, &foreign).await,
        403,
        "forbidden",
    )
    .await;

    assert_problem(app.get(&path, &other.token).await, 404, "not-found").await;
    let res = app.patch(&path, &other.token, &json!({"field": "x"})).await;
    assert_problem(res, 404, "not-found").await;
    let listed: Value = app.get_json("/api/v1/trainees", &other.token).await;
    assert_eq!(listed["items"], json!([]));
    let res = app
        .patch(
            &path,
            &partner.token,
            &json!({"institution_id": theirs["id"]}),
        )
        .await;
    assert_problem(res, 403, "forbidden").await;
    assert_problem(
        app.get("/api/v1/trainees", &viewer.token).await,
        403,
        "forbidden",
    )
    .await;

    // The same email again: the holder is named to whoever may see it.
    let mut again = body.clone();
    again["email"] = json!("NELIA@uem.ac.mz");
    let p = assert_problem(
        app.post("/api/v1/trainees", &partner.token, &again).await,
        409,
        "duplicate",
    )
    .await;
    assert_eq!(p["existing_id"], t["id"]);
    let p = assert_problem(
        app.post("/api/v1/trainees", &other.token, &again).await,
        409,
        "duplicate",
    )
    .await;
    assert!(p.get("existing_id").is_none());
}

#[tokio::test]
async fn a_trainee_reads_itself_and_edits_only_its_contact_details() {
    let app = spawn_app().await;
    let me = app.user(Role::Trainee, None).await;
    let listed: Value = app.get_json("/api/v1/trainees", &me.token).await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    let path = path_of("trainees", &items[0]);
    app.patched(
        &path,
        &me.token,
        &json!({"email": "ama.new@example.org", "locale": "fr"}),
    )
    .await;
    let res = app
        .patch(&path, &me.token, &json!({"family_name": "Other"}))
        .await;
    assert_problem(res, 403, "forbidden").await;
    let someone = app.trainee_record(None).await;
    assert_problem(
        app.get(&format!("/api/v1/trainees/{someone}"), &me.token)
            .await,
        404,
        "not-found",
    )
    .await;
}

#[tokio::test]
async fn bad_trainee_input_lists_every_field() {
    let (app, admin) = spawn_app_with_admin().await;
    let res = app
        .post(
            "/api/v1/trainees",
            &admin.token,
            &json!({"given_name": "", "email": "not-mail", "nationality": "XX", "gender": "robot",
                    "birth_year": 1850, "locale": "de"}),
        )
        .await;
    app.assert_invalid_leaving(
        res,
        &[
            "birth_year",
            "email",
            "family_name",
            "gender",
            "given_name",
            "institution_id",
            "locale",
            "nationality",
        ],
        "trainees",
        0,
    )
    .await;
}
