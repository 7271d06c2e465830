//! Authentication of requests and the role checks of the foundation.

use chrono::Utc;
use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::RunQueryDsl;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use meridian::{auth::Role, schema::users};
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{
    assert_problem, spawn_app, spawn_app_with_admin, spawn_app_with_institution, TestApp,
};

const PASSWORD: &str = "a long enough passphrase";

async fn user_with_password(app: &TestApp, role: Role) -> (crate::helpers::TestUser, String) {
    let hash = meridian::auth::password::hash(PASSWORD.to_string().into())
        .await
        .map_err(|e| e.to_string())
        .unwrap();
    let user = app.user_with_password(role, None, Some(hash)).await;
    let email = app.email_of(user.id).await;
    (user, email)
}

#[tokio::test]
async fn login_issues_a_working_access_token() {
    let app = spawn_app().await;
    let (user, email) = user_with_password(&app, Role::Coordinator).await;
    let res = app
        .post_anonymous(
            "/api/v1/auth/login",
            &json!({"email": email.to_uppercase(), "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 900);
    assert_eq!(body["user"]["id"], user.id.to_string());
    assert!(body["user"].get("password_hash").is_none());
    let token = body["access_token"].as_str().unwrap();
    let me: Value = app.get_json("/api/v1/me", token).await;
    assert_eq!(me["role"], "coordinator");
    assert!(me["last_login_at"].is_string());
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    let (_, email) = user_with_password(&app, Role::Viewer).await;
    let mut bodies = Vec::new();
    for (email, password) in [
        (email.as_str(), "not the passphrase at all"),
        ("nobody@example.org", PASSWORD),
    ] {
        let res = app
            .post_anonymous(
                "/api/v1/auth/login",
                &json!({"email": email, "password": password}),
            )
            .await;
        bodies.push(assert_problem(res, 401, "unauthorized").await);
    }
    assert_eq!(bodies[0], bodies[1]);
}

fn sign(claims: &Value, secret: &[u8], alg: Algorithm, kid: Option<&str>) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(String::from);
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret)).unwrap()
}

#[tokio::test]
async fn forged_expired_and_foreign_tokens_are_401() {
    let (app, admin) = spawn_app_with_admin().await;
    let secret = b"meridian-test-secret-of-at-least-32-bytes";
    let kid = "k1";
    let k1 = Some(kid);
    let now = Utc::now().timestamp();
    let good = json!({
        "sub": admin.id, "role": "admin", "tv": 0, "sid": uuid::Uuid::now_v7(), "typ": "access",
        "iss": "meridian", "aud": "meridian-api", "iat": now, "exp": now + 600,
    });
    // The control: a token made this way works.
    let valid = sign(&good, secret, Algorithm::HS256, k1);
    assert_eq!(app.get("/api/v1/me", &valid).await.status(), 200);

    let with = |key: &str, value: Value| {
        let mut c = good.clone();
        c[key] = value;
        c
    };
    // A token of no login.
    let mut without_login = good.clone();
    without_login.as_object_mut().unwrap().remove("sid");
    let mut bad = vec![
        sign(&without_login, secret, Algorithm::HS256, k1),
        sign(
            &good,
            b"another-secret-another-secret-another",
            Algorithm::HS256,
            k1,
        ),
        sign(
            &with("exp", json!(now - 3600)),
            secret,
            Algorithm::HS256,
            k1,
        ),
        sign(&with("exp", json!("never")), secret, Algorithm::HS256, k1),
        sign(&with("nbf", json!("soon")), secret, Algorithm::HS256, k1),
        sign(
            &with("aud", json!("another-api")),
            secret,
            Algorithm::HS256,
            k1,
        ),
        sign(
            &with("iss", json!("someone-else")),
            secret,
            Algorithm::HS256,
            k1,
        ),
        sign(
            &with("typ", json!("password_reset")),
            secret,
            Algorithm::HS256,
            k1,
        ),
        sign(&good, secret, Algorithm::HS512, k1),
        sign(&good, secret, Algorithm::HS256, Some("k9")),
        "not.a.token".to_string(),
        // An opaque reset or invitation token is no access token.
        meridian::auth::secret::generate().0,
    ];
    // A tampered signature.
    let mut tampered = valid.clone();
    tampered.pop();
    tampered.push(if valid.ends_with('A') { 'B' } else { 'A' });
    bad.push(tampered);
    // "alg": "none" in any letter case, unsigned.
    for alg in ["none", "None", "NONE"] {
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = b64.encode(json!({"alg": alg, "typ": "JWT", "kid": kid}).to_string());
        let payload = b64.encode(good.to_string());
        bad.push(format!("{header}.{payload}."));
    }
    for token in bad {
        let res = app.get("/api/v1/me", &token).await;
        assert_problem(res, 401, "unauthorized").await;
    }
}

#[tokio::test]
async fn a_token_in_the_query_string_is_not_accepted() {
    let (app, admin) = spawn_app_with_admin().await;
    let res = app
        .send(
            Method::GET,
            &format!("/api/v1/me?access_token={}", admin.token),
            None,
        )
        .await;
    assert_problem(res, 401, "unauthorized").await;
}

#[tokio::test]
async fn a_disabled_deleted_or_revoked_user_token_is_401() {
    let app = spawn_app().await;
    let a = app.admin().await;
    let b = app.admin().await;
    let c = app.admin().await;
    assert_eq!(app.get("/api/v1/me", &a.token).await.status(), 200);
    let mut conn = app.conn().await;
    diesel::delete(users::table.find(c.id))
        .execute(&mut conn)
        .await
        .unwrap();
    diesel::update(users::table.find(a.id))
        .set(users::disabled.eq(true))
        .execute(&mut conn)
        .await
        .unwrap();
    diesel::update(users::table.find(b.id))
        .set(users::token_version.eq(1))
        .execute(&mut conn)
        .await
        .unwrap();
    for token in [&a.token, &b.token, &c.token] {
        assert_problem(app.get("/api/v1/me", token).await, 401, "unauthorized").await;
    }
}

/// The role matrix of the institutions and audit endpoints.
#[tokio::test]
async fn each_role_gets_exactly_its_rights_on_institutions_and_audit() {
    let (app, admin, inst) = spawn_app_with_institution("Cheikh Anta Diop University", "SN").await;
    let id = inst["id"].as_str().unwrap();
    let partner = app.user(Role::Partner, Some(id.parse().unwrap())).await;
    let callers = [
        (Role::Admin, admin.clone()),
        (Role::Coordinator, app.user(Role::Coordinator, None).await),
        (Role::Partner, partner),
        (Role::Trainee, app.user(Role::Trainee, None).await),
        (Role::Viewer, app.user(Role::Viewer, None).await),
    ];
    for (role, user) in &callers {
        let readers = matches!(
            role,
            Role::Admin | Role::Coordinator | Role::Partner | Role::Viewer
        );
        let list = app.get("/api/v1/institutions", &user.token).await.status();
        let one = app
            .get(&format!("/api/v1/institutions/{id}"), &user.token)
            .await
            .status();
        assert_eq!(list == 200, readers, "{role:?} list");
        assert_eq!(one == 200, readers, "{role:?} read");
        if !readers {
            assert_eq!(list, 403);
            assert_eq!(one, 403);
        }
        let audit = app.get("/api/v1/audit-events", &user.token).await.status();
        assert_eq!(
            audit,
            if *role == Role::Admin { 200 } else { 403 },
            "{role:?} audit"
        );
        if *role == Role::Admin {
            continue;
        }
        let path = format!("/api/v1/institutions/{id}");
        let body = json!({"name": "X University", "kind": "university", "country_code": "SN"});
        let create = app.post("/api/v1/institutions", &user.token, &body).await;
        let update = app
            .patch(&path, &user.token, &json!({"city": "Dakar"}))
            .await;
        let delete = app.delete(&path, &user.token).await;
        for res in [create, update, delete] {
            assert_problem(res, 403, "forbidden").await;
        }
    }
    let named_x = "/api/v1/institutions?q=X%20University&count=true";
    let refused: Value = app.get_json(named_x, &admin.token).await;
    assert_eq!(refused["total"], 0);
    let unchanged: Value = app
        .get_json(&format!("/api/v1/institutions/{id}"), &admin.token)
        .await;
    assert_eq!(unchanged["version"], 1);
}

#[tokio::test]
async fn without_a_token_the_api_is_401_but_probes_are_open() {
    let app = spawn_app().await;
    for path in ["/api/v1/institutions", "/api/v1/me", "/api/v1/audit-events"] {
        let res = app.get_anonymous(path).await;
        assert_problem(res, 401, "unauthorized").await;
    }
    for path in ["/healthz", "/readyz", "/api/v1/openapi.json", "/docs/"] {
        assert_eq!(app.get_anonymous(path).await.status(), 200, "{path}");
    }
}

#[tokio::test]
async fn create_admin_checks_its_input_and_the_account_can_log_in() {
    let app = spawn_app().await;
    for (email, name, password) in [
        ("ops@example.org", "Ops", "too short"),
        ("not-an-email", "Ops", PASSWORD),
        ("ops@example.org", " ", PASSWORD),
    ] {
        assert!(
            meridian::cli::create_admin(&app.db_url, email, name, password)
                .await
                .is_err()
        );
    }
    assert_eq!(app.count("users").await, 0);
    meridian::cli::create_admin(&app.db_url, "Ops@Example.org", "Operations Desk", PASSWORD)
        .await
        .unwrap();
    let res = app
        .post_anonymous(
            "/api/v1/auth/login",
            &json!({"email": "ops@example.org", "password": PASSWORD}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["role"], "admin");
    assert_eq!(body["user"]["email"], "ops@example.org");
}
