//! Refresh tokens, invitations, password reset, throttling and `/me`,
//! end to end against PostgreSQL and the test SMTP server.

use chrono::{Duration, Utc};
use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::RunQueryDsl;
use meridian::{
    auth::Role,
    schema::{audit_events, refresh_tokens, users},
};
use reqwest::Method;
use serde_json::{json, Value};

use crate::{
    helpers::{
        assert_invalid, assert_problem, eventually, id, mail_settings, spawn_app, spawn_app_with,
        spawn_app_with_admin, test_settings, TestApp,
    },
    smtp::SmtpServer,
};

const PASSWORD: &str = "baobab rain over Thies";
const NEW_PASSWORD: &str = "harmattan dust on Kano roofs";

/// A user with a real password; returns (id, email).
async fn account(app: &TestApp, role: Role) -> (uuid::Uuid, String) {
    let hash = meridian::auth::password::hash(PASSWORD.to_string().into())
        .await
        .map_err(|e| e.to_string())
        .unwrap();
    let institution = if role == Role::Partner {
        let admin = app.admin().await;
        let inst = app
            .institution(&admin.token, "University of Cape Town", "ZA")
            .await;
        Some(id(&inst))
    } else {
        None
    };
    let user = app.user_with_password(role, institution, Some(hash)).await;
    (user.id, app.email_of(user.id).await)
}

/// A fresh app with one account of a role; the app and the account's email.
async fn app_with_account(role: Role) -> (TestApp, String) {
    let app = spawn_app().await;
    let (_, email) = account(&app, role).await;
    (app, email)
}

/// Invites an address to a role (of no institution).
async fn invite(app: &TestApp, token: &str, email: &str, role: &str) -> reqwest::Response {
    let body = json!({ "email": email, "role": role });
    app.post("/api/v1/invitations", token, &body).await
}

async fn login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.post_anonymous(
        "/api/v1/auth/login",
        &json!({"email": email, "password": password}),
    )
    .await
}

/// `times` logins of `email` with a wrong password, each refused.
async fn fail_logins(app: &TestApp, email: &str, times: usize) {
    for _ in 0..times {
        let res = login(app, email, "wrong password here").await;
        assert_problem(res, 401, "unauthorized").await;
    }
}

async fn tokens(app: &TestApp, email: &str) -> (String, String) {
    let res = login(app, email, PASSWORD).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    (
        body["access_token"].as_str().unwrap().to_string(),
        body["refresh_token"].as_str().unwrap().to_string(),
    )
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_anonymous("/api/v1/auth/refresh", &json!({"refresh_token": token}))
        .await
}

/// Asks for a password reset of an address; the answer is always 202.
async fn ask_reset(app: &TestApp, email: &str) -> reqwest::Response {
    app.post_anonymous("/api/v1/auth/password-reset", &json!({ "email": email }))
        .await
}

/// Sets a time column of the rows of `table` that match `filter` a second
/// into the past.
async fn backdate(app: &TestApp, table: &str, column: &str, filter: &str) {
    app.run_sql(&format!(
        "UPDATE {table} SET {column} = now() - interval '1 second' WHERE {filter}"
    ))
    .await;
}

/// Sets a time column of the refresh token `token` a second into the past.
async fn expire_refresh(app: &TestApp, token: &str, column: &str) {
    let digest: String = meridian::auth::secret::digest(token)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let filter = format!("token_hash = '\\x{digest}'");
    backdate(app, "refresh_tokens", column, &filter).await;
}

async fn accept_invitation(
    app: &TestApp,
    token: &str,
    full_name: &str,
    password: &str,
) -> reqwest::Response {
    app.post_anonymous(
        "/api/v1/auth/invitations/accept",
        &json!({"token": token, "full_name": full_name, "password": password}),
    )
    .await
}

async fn confirm_reset(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_anonymous(
        "/api/v1/auth/password-reset/confirm",
        &json!({"token": token, "new_password": NEW_PASSWORD}),
    )
    .await
}

fn link_token(message: &crate::smtp::Received) -> String {
    let text = message.parsed().body_text(0).unwrap().to_string();
    let start = text.find("token=").expect("a link with a token") + 6;
    text[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_token_revokes_the_whole_login() {
    let (app, email) = app_with_account(Role::Coordinator).await;
    let (first_access, first) = tokens(&app, &email).await;
    let res = refresh(&app, &first).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let second = body["refresh_token"].as_str().unwrap().to_string();
    let second_access = body["access_token"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    assert_eq!(app.get("/api/v1/me", &second_access).await.status(), 200);
    // Presenting the rotated-out token again: 401, and the family dies with
    // every access token of the login, at once.
    assert_problem(refresh(&app, &first).await, 401, "unauthorized").await;
    assert_problem(refresh(&app, &second).await, 401, "unauthorized").await;
    for access in [&first_access, &second_access] {
        assert_problem(app.get("/api/v1/me", access).await, 401, "unauthorized").await;
    }
    assert_eq!(app.audited("user.token_reuse").await, 1);
    // Another login of the same user is unaffected.
    let (_, other) = tokens(&app, &email).await;
    assert_eq!(refresh(&app, &other).await.status(), 200);
}

#[tokio::test]
async fn a_refresh_sent_again_with_its_idempotency_key_is_reuse_not_a_replay() {
    let (app, email) = app_with_account(Role::Viewer).await;
    let (_, first) = tokens(&app, &email).await;
    let send = || {
        app.request(Method::POST, "/api/v1/auth/refresh", None)
            .header("idempotency-key", "refresh-once")
            .json(&json!({ "refresh_token": first }))
            .send()
    };
    let res = send().await.unwrap();
    assert_eq!(res.status(), 200);
    let second: Value = res.json().await.unwrap();
    let res = send().await.unwrap();
    assert!(res.headers().get("idempotent-replayed").is_none());
    assert_problem(res, 401, "unauthorized").await;
    let live = second["refresh_token"].as_str().unwrap();
    assert_problem(refresh(&app, live).await, 401, "unauthorized").await;
    assert_eq!(app.count("idempotency_keys").await, 0);
}

#[tokio::test]
async fn of_two_concurrent_refreshes_with_one_token_at_most_one_succeeds() {
    let (app, email) = app_with_account(Role::Viewer).await;
    let (_, token) = tokens(&app, &email).await;
    let (a, b) = tokio::join!(refresh(&app, &token), refresh(&app, &token));
    let ok = [a.status(), b.status()]
        .iter()
        .filter(|s| s.as_u16() == 200)
        .count();
    assert!(ok <= 1, "both refreshes succeeded");
}

#[tokio::test]
async fn refresh_tokens_die_after_24_hours_unused_and_7_days_after_login() {
    let (app, email) = app_with_account(Role::Viewer).await;
    let mut conn = app.conn().await;
    // Idle for a day, then logged in a week ago.
    for column in ["expires_at", "family_expires_at"] {
        let (_, token) = tokens(&app, &email).await;
        expire_refresh(&app, &token, column).await;
        assert_problem(refresh(&app, &token).await, 401, "unauthorized").await;
    }

    // A fresh token never outlives its login.
    let (_, fresh) = tokens(&app, &email).await;
    let (expires, family): (chrono::DateTime<Utc>, chrono::DateTime<Utc>) = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(meridian::auth::secret::digest(&fresh)))
        .select((
            refresh_tokens::expires_at,
            refresh_tokens::family_expires_at,
        ))
        .first(&mut conn)
        .await
        .unwrap();
    assert!(
        expires <= Utc::now() + Duration::hours(24) && family <= Utc::now() + Duration::days(7)
    );
    // Only hashes are stored.
    let stored: i64 = refresh_tokens::table
        .count()
        .get_result(&mut conn)
        .await
        .unwrap();
    assert_eq!(stored, 3);
}

#[tokio::test]
async fn logout_ends_the_login_and_its_access_tokens_at_once() {
    let (app, email) = app_with_account(Role::Viewer).await;
    let (access, token) = tokens(&app, &email).await;
    let (other_access, _) = tokens(&app, &email).await;
    assert_eq!(app.get("/api/v1/me", &access).await.status(), 200);
    let res = app
        .post_anonymous("/api/v1/auth/logout", &json!({"refresh_token": token}))
        .await;
    assert_eq!(res.status(), 204);
    assert_problem(refresh(&app, &token).await, 401, "unauthorized").await;
    // The login's access token ends with it; another login goes on.
    assert_problem(app.get("/api/v1/me", &access).await, 401, "unauthorized").await;
    assert_eq!(app.get("/api/v1/me", &other_access).await.status(), 200);
}

#[tokio::test]
async fn disabling_or_changing_a_role_stops_every_token_at_once() {
    let (app, admin) = spawn_app_with_admin().await;
    for change in [json!({"disabled": true}), json!({"role": "viewer"})] {
        let (id, email) = account(&app, Role::Coordinator).await;
        let (access, refresh_token) = tokens(&app, &email).await;
        let res = app
            .patch(&format!("/api/v1/users/{id}"), &admin.token, &change)
            .await;
        assert_eq!(res.status(), 200, "{change}");
        assert_problem(app.get("/api/v1/me", &access).await, 401, "unauthorized").await;
        assert_problem(refresh(&app, &refresh_token).await, 401, "unauthorized").await;
    }
    // A partner must keep an institution.
    let (id, _) = account(&app, Role::Viewer).await;
    // Only partners belong to an institution, only trainees to a record
    // (found by the contract fuzzer: an admin given both).
    let inst = app
        .institution(&admin.token, "Addis Ababa University", "ET")
        .await;
    let trainee = app.trainee_record(None).await;
    for (change, field) in [
        (json!({"role": "partner"}), "institution_id"),
        (json!({"institution_id": inst["id"]}), "institution_id"),
        (json!({"trainee_id": trainee}), "trainee_id"),
    ] {
        let res = app
            .patch(&format!("/api/v1/users/{id}"), &admin.token, &change)
            .await;
        assert_invalid(res, &[field]).await;
    }
}

/// Found by the contract fuzzer: an admin disabled itself, and with it the
/// only way into the secretariat.
#[tokio::test]
async fn an_admin_cannot_disable_itself_or_change_its_own_role() {
    let (app, admin) = spawn_app_with_admin().await;
    let own = format!("/api/v1/users/{}", admin.id);
    for (change, field) in [
        (json!({"disabled": true}), "disabled"),
        (json!({"role": "viewer"}), "role"),
    ] {
        assert_invalid(app.patch(&own, &admin.token, &change).await, &[field]).await;
    }
    assert_eq!(app.get("/api/v1/me", &admin.token).await.status(), 200);
    app.patched(&own, &admin.token, &json!({"full_name": "Amina Diallo"}))
        .await;
}

#[tokio::test]
async fn five_failed_logins_lock_the_address_for_the_window() {
    let (app, email) = app_with_account(Role::Viewer).await;
    for address in [email.as_str(), "ghost@example.org"] {
        fail_logins(&app, address, 5).await;
    }
    for address in [email.as_str(), "ghost@example.org"] {
        let res = login(&app, address, PASSWORD).await;
        let retry: u64 = res.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(retry > 800 && retry <= 900, "{retry}");
        assert_problem(res, 429, "too-many-requests").await;
    }
    // Other accounts are not affected.
    let (_, other) = account(&app, Role::Viewer).await;
    assert_eq!(login(&app, &other, PASSWORD).await.status(), 200);
    assert_eq!(app.audited("user.login_failed").await, 10);
}

#[tokio::test]
async fn of_forty_wrong_passwords_sent_at_once_at_most_five_get_a_verdict() {
    let (app, email) = app_with_account(Role::Viewer).await;
    let tries = (0..40).map(|_| login(&app, &email, "wrong password here"));
    let mut verdicts = 0;
    for res in futures_util::future::join_all(tries).await {
        match res.status().as_u16() {
            401 => verdicts += 1,
            429 => assert!(res.headers().contains_key("retry-after")),
            other => panic!("answered {other}"),
        }
    }
    assert_eq!(verdicts, 5);
    // Locked: the right password gets no verdict either.
    assert_eq!(login(&app, &email, PASSWORD).await.status(), 429);
    assert_eq!(app.audited("user.login_failed").await, 5);
}

#[tokio::test]
async fn a_right_password_takes_its_attempt_back_and_clears_the_failures() {
    let (app, email) = app_with_account(Role::Viewer).await;
    fail_logins(&app, &email, 4).await;
    assert_eq!(login(&app, &email, PASSWORD).await.status(), 200);
    assert_eq!(app.count("login_attempts").await, 0);
    fail_logins(&app, &email, 5).await;
    assert_eq!(login(&app, &email, PASSWORD).await.status(), 429);
}

#[tokio::test]
async fn auth_requests_are_limited_per_client_ip() {
    let mut settings = test_settings();
    settings.auth.ip_limit_per_minute = 3;
    let app = spawn_app_with(settings).await;
    let attempt = |app: &TestApp, xff: &'static str| {
        app.request(Method::POST, "/api/v1/auth/password-reset", None)
            .header("x-forwarded-for", xff)
            .json(&json!({"email": "someone@example.org"}))
            .send()
    };
    // The limit counts per calendar minute: start well inside one.
    let second = Utc::now().timestamp() % 60;
    if second > 50 {
        tokio::time::sleep(std::time::Duration::from_secs((61 - second) as u64)).await;
    }
    for _ in 0..3 {
        assert_eq!(attempt(&app, "41.0.0.1").await.unwrap().status(), 202);
    }
    // The peer is not a trusted proxy: a forged X-Forwarded-For changes nothing.
    let res = attempt(&app, "41.0.0.2").await.unwrap();
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(res, 429, "too-many-requests").await;
    // Other endpoints are not limited.
    assert_eq!(app.get_anonymous("/healthz").await.status(), 200);

    let mut settings = test_settings();
    settings.auth.ip_limit_per_minute = 3;
    settings.server.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    let behind_proxy = spawn_app_with(settings).await;
    for ip in ["41.0.0.1", "41.0.0.2", "41.0.0.3", "41.0.0.4"] {
        for _ in 0..3 {
            let res = attempt(&behind_proxy, ip).await.unwrap();
            assert_eq!(res.status(), 202, "{ip}");
        }
    }
}

#[tokio::test]
async fn an_invitation_is_emailed_accepted_once_and_gives_a_working_account() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_with(mail_settings(&smtp.url())).await;
    let admin = app.admin().await;
    let inst = app
        .institution(&admin.token, "Universite Cheikh Anta Diop", "SN")
        .await;
    let coordinator = app.user(Role::Coordinator, None).await;

    // A coordinator may invite partner staff, not other coordinators.
    let res = invite(&app, &coordinator.token, "c2@example.org", "coordinator").await;
    assert_problem(res, 403, "forbidden").await;
    let res = invite(&app, &coordinator.token, "fatou@ucad.sn", "partner").await;
    assert_invalid(res, &["institution_id"]).await;
    let invitation = app.create("/api/v1/invitations", &coordinator.token, &json!({"email": "Fatou@UCAD.sn", "role": "partner", "institution_id": inst["id"], "locale": "fr"})).await;
    assert!(invitation.get("token_hash").is_none());

    let mail = smtp.wait_for(1, 10).await;
    assert_eq!(mail.len(), 1);
    assert!(mail[0].to[0].contains("fatou@ucad.sn"));
    assert!(mail[0].parsed().subject().unwrap().contains("vous invite"));
    let token = link_token(&mail[0]);
    // Delivered, the token is no longer readable in the outbox.
    let forgotten = eventually(5, || async {
        app.count(&format!(
            "notifications WHERE status = 'sent' AND NOT payload ? 'token' \
             AND payload::text NOT LIKE '%{token}%'"
        ))
        .await
            == 1
    })
    .await;
    assert!(forgotten, "the token stays in the outbox");
    assert_eq!(app.count("notifications").await, 1);

    assert_invalid(
        accept_invitation(&app, &token, "Fatou Ndiaye", "password1234").await,
        &["password"],
    )
    .await;
    let res = accept_invitation(&app, &token, "Fatou Ndiaye", PASSWORD).await;
    assert_eq!(res.status(), 201);
    let user: Value = res.json().await.unwrap();
    assert_eq!(user["role"], "partner");
    assert_eq!(user["institution_id"], inst["id"]);
    assert_eq!(user["email"], "fatou@ucad.sn");
    assert_eq!(user["locale"], "fr");
    assert_problem(
        accept_invitation(&app, &token, "Fatou Ndiaye", PASSWORD).await,
        401,
        "unauthorized",
    )
    .await;
    assert_eq!(login(&app, "fatou@ucad.sn", PASSWORD).await.status(), 200);

    // An existing address cannot be invited again.
    let res = invite(&app, &admin.token, "FATOU@ucad.sn", "viewer").await;
    assert_problem(res, 409, "duplicate").await;
}

#[tokio::test]
async fn an_expired_invitation_is_refused() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_with(mail_settings(&smtp.url())).await;
    let admin = app.admin().await;
    app.create(
        "/api/v1/invitations",
        &admin.token,
        &json!({"email": "late@example.org", "role": "viewer"}),
    )
    .await;
    let token = link_token(&smtp.wait_for(1, 10).await[0]);
    backdate(&app, "invitations", "expires_at", "TRUE").await;
    let res = accept_invitation(&app, &token, "Late Comer", PASSWORD).await;
    assert_problem(res, 401, "unauthorized").await;
    assert_eq!(app.count("users").await, 1);
}

#[tokio::test]
async fn a_password_reset_is_emailed_only_to_known_accounts_and_ends_sessions() {
    let smtp = SmtpServer::start().await;
    let app = spawn_app_with(mail_settings(&smtp.url())).await;
    let (_, email) = account(&app, Role::Coordinator).await;
    let (access, refresh_token) = tokens(&app, &email).await;
    assert_eq!(ask_reset(&app, "nobody@example.org").await.status(), 202);
    assert_eq!(ask_reset(&app, &email.to_uppercase()).await.status(), 202);
    let mail = smtp.wait_for(1, 10).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        smtp.messages().len(),
        1,
        "nothing goes to unknown addresses"
    );
    assert!(mail[0].to[0].contains(&email));
    let token = link_token(&mail[0]);

    assert_eq!(confirm_reset(&app, &token).await.status(), 204);
    assert_problem(confirm_reset(&app, &token).await, 401, "unauthorized").await;
    assert_problem(app.get("/api/v1/me", &access).await, 401, "unauthorized").await;
    assert_problem(refresh(&app, &refresh_token).await, 401, "unauthorized").await;
    assert_problem(login(&app, &email, PASSWORD).await, 401, "unauthorized").await;
    assert_eq!(login(&app, &email, NEW_PASSWORD).await.status(), 200);

    // Reset links expire after an hour.
    assert_eq!(ask_reset(&app, &email).await.status(), 202);
    let token = link_token(&smtp.wait_for(2, 10).await[1]);
    backdate(&app, "password_resets", "expires_at", "TRUE").await;
    assert_problem(confirm_reset(&app, &token).await, 401, "unauthorized").await;
}

#[tokio::test]
async fn me_changes_name_and_locale_and_a_password_only_with_the_current_one() {
    let (app, email) = app_with_account(Role::Partner).await;
    let (access, _) = tokens(&app, &email).await;
    let me = app
        .patched(
            "/api/v1/me",
            &access,
            &json!({"full_name": "Thandiwe Mokoena", "locale": "pt"}),
        )
        .await;
    assert_eq!(
        (me["full_name"].as_str(), me["locale"].as_str()),
        (Some("Thandiwe Mokoena"), Some("pt"))
    );

    // A partner cannot change its own role or institution.
    let refused: [(Value, &[&str]); 4] = [
        (
            json!({"role": "admin", "institution_id": null}),
            &["institution_id", "role"],
        ),
        (
            json!({ "new_password": NEW_PASSWORD }),
            &["current_password"],
        ),
        (
            json!({"current_password": "not it at all", "new_password": NEW_PASSWORD}),
            &["current_password"],
        ),
        (
            json!({"current_password": PASSWORD, "new_password": "qwertyuiop123"}),
            &["new_password"],
        ),
    ];
    for (change, fields) in refused {
        assert_invalid(app.patch("/api/v1/me", &access, &change).await, fields).await;
    }
    app.patched(
        "/api/v1/me",
        &access,
        &json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
    )
    .await;
    assert_eq!(login(&app, &email, NEW_PASSWORD).await.status(), 200);
    // No password or token is ever written to the audit log.
    let changes: Vec<Value> = audit_events::table
        .select(audit_events::changes)
        .load(&mut app.conn().await)
        .await
        .unwrap();
    let all = serde_json::to_string(&changes).unwrap();
    assert!(!all.contains(PASSWORD) && !all.contains(NEW_PASSWORD) && !all.contains("argon2"));
}

#[tokio::test]
async fn a_login_rehashes_a_password_stored_with_weaker_parameters() {
    use argon2::{
        password_hash::{rand_core::OsRng, PasswordHasher, SaltString},
        Algorithm, Argon2, Params, Version,
    };
    let app = spawn_app().await;
    let weak = Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(4096, 1, 1, None).unwrap(),
    )
    .hash_password(PASSWORD.as_bytes(), &SaltString::generate(&mut OsRng))
    .unwrap()
    .to_string();
    let user = app
        .user_with_password(Role::Viewer, None, Some(weak.clone()))
        .await;
    let email = app.email_of(user.id).await;
    assert_eq!(login(&app, &email, PASSWORD).await.status(), 200);
    let stored: Option<String> = users::table
        .find(user.id)
        .select(users::password_hash)
        .first(&mut app.conn().await)
        .await
        .unwrap();
    let stored = stored.unwrap();
    assert_ne!(stored, weak);
    assert!(stored.contains("m=19456,t=2,p=1"), "{stored}");
}

#[tokio::test]
async fn tokens_signed_with_a_previous_key_still_work_after_rotation() {
    let mut old = test_settings();
    old.auth.jwt_secret = "the-key-of-last-quarter-32-bytes-long!".to_string().into();
    old.auth.jwt_key_id = "2026-q3".into();
    let signer = meridian::auth::token::TokenService::new(&old.auth);
    let mut rotated = test_settings();
    rotated.auth.jwt_previous_secrets = vec!["2026-q3:the-key-of-last-quarter-32-bytes-long!"
        .to_string()
        .into()];
    let app = spawn_app_with(rotated).await;
    let user = app.admin().await;
    let token = signer
        .issue(user.id, Role::Admin, None, None, 0, uuid::Uuid::now_v7())
        .unwrap();
    assert_eq!(app.get("/api/v1/me", &token).await.status(), 200);
    let stranger = spawn_app().await;
    let user = stranger.admin().await;
    let token = signer
        .issue(user.id, Role::Admin, None, None, 0, uuid::Uuid::now_v7())
        .unwrap();
    assert_problem(
        stranger.get("/api/v1/me", &token).await,
        401,
        "unauthorized",
    )
    .await;
}

#[tokio::test]
async fn a_wrong_current_password_counts_toward_the_lock_and_is_audited() {
    let app = spawn_app().await;
    let (id, email) = account(&app, Role::Viewer).await;
    let (token, _) = tokens(&app, &email).await;
    let change = |current: &'static str| {
        let app = &app;
        let token = token.clone();
        async move {
            app.patch(
                "/api/v1/me",
                &token,
                &json!({"current_password": current, "new_password": "a brand new passphrase for meridian"}),
            )
            .await
        }
    };
    for _ in 0..5 {
        assert_invalid(
            change("not my password at all").await,
            &["current_password"],
        )
        .await;
    }
    // The account is now locked, for the right password too, and for logins.
    let res = change(PASSWORD).await;
    assert!(res.headers().contains_key("retry-after"));
    assert_problem(res, 429, "too-many-requests").await;
    assert_problem(
        login(&app, &email, PASSWORD).await,
        429,
        "too-many-requests",
    )
    .await;
    let audited = app
        .count(&format!(
            "audit_events WHERE action = 'user.password_check_failed' AND entity_id = '{id}'"
        ))
        .await;
    assert_eq!(audited, 5);
}

#[tokio::test]
async fn an_account_gets_at_most_three_reset_emails_an_hour_even_under_concurrency() {
    let app = spawn_app().await;
    let (id, email) = account(&app, Role::Viewer).await;
    let asks = (0..8).map(|_| ask_reset(&app, &email));
    for res in futures_util::future::join_all(asks).await {
        // The answer never tells that the limit was met.
        assert_eq!(res.status(), 202);
    }
    // The work follows the answer.
    let resets = format!("password_resets WHERE user_id = '{id}'");
    assert!(eventually(5, || async { app.count(&resets).await == 3 }).await);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(app.count(&resets).await, 3);
    assert_eq!(
        app.count("notifications WHERE template = 'password_reset'")
            .await,
        3
    );
    // An hour later the account may ask again.
    app.run_sql("UPDATE password_resets SET created_at = created_at - interval '61 minutes'")
        .await;
    assert_eq!(ask_reset(&app, &email).await.status(), 202);
    let fourth = eventually(5, || async {
        app.count("notifications WHERE template = 'password_reset'")
            .await
            == 4
    })
    .await;
    assert!(fourth);
}
