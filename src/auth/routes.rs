//! `/auth/*`: login, refresh, logout and password reset. Accepting an
//! invitation lives with the invitations.

use crate::db::Prepare;
use actix_web::{post, web, HttpRequest, HttpResponse};
use chrono::{Duration, Utc};
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::{AsyncConnection, RunQueryDsl};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    password, secret,
    sessions::{self, Refreshed},
    throttle,
};
use crate::{
    api::{
        self,
        input::{Checker, Field, Unknown},
    },
    audit::{self, Actor},
    email::{self, Outgoing},
    error::{AppError, AppResult},
    schema::{password_resets, users as users_table},
    state::AppState,
    telemetry::RequestId,
    types::Email,
    users::{self, User, UserRow},
};

/// How long a password reset link works.
pub const RESET_VALID_FOR: Duration = Duration::hours(1);

/// Reset emails one account receives per hour at most, so that nobody can
/// flood a mailbox through the reset form.
pub const RESETS_PER_HOUR: i64 = 3;

/// Credentials.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginInput {
    #[serde(default)]
    email: Field<String>,
    #[serde(default)]
    #[schema(value_type = String, format = Password)]
    password: Field<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

/// A fresh token pair and the account it belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Single use: `POST /auth/refresh` exchanges it for a new pair.
    pub refresh_token: String,
    pub user: User,
}

fn actor(req: &HttpRequest, id: Option<Uuid>) -> Actor {
    Actor {
        id,
        request_id: RequestId::of(req),
    }
}

fn pair(
    state: &AppState,
    user: UserRow,
    (refresh_token, login_id): (String, Uuid),
) -> AppResult<HttpResponse> {
    let access_token = state.tokens.issue(
        user.id,
        user.role,
        user.institution_id,
        user.trainee_id,
        user.token_version,
        login_id,
    )?;
    api::ok(&TokenPair {
        access_token,
        token_type: "Bearer",
        expires_in: state.tokens.ttl_secs(),
        refresh_token,
        user: User::from(user),
    })
}

const WRONG: &str = "The email or password is wrong.";

crate::endpoint! {
/// Exchanges email and password for a token pair. Five failures for an
/// address within 15 minutes lock it (429) until the window ends.
public post "/auth/login", tag = "auth", body = LoginInput,
ok((status = 200, body = TokenPair)), fails[401: "Wrong email or password; which one is never told", 422, 429(headers(("Retry-After" = u64)))];
async fn login(state, req, body) {
    let body = body.into_inner();
    let mut c = Checker::new(&body.unknown);
    let email = c.required("email", body.email);
    let secret = c.required("password", body.password);
    let (email, secret) =
        c.finish(|| Some((email?.trim().to_lowercase(), SecretString::from(secret?))))?;
    // A hashing thread first: however many logins arrive at once, only as
    // many as there are threads reach the database. The attempt counts
    // before the password is checked; no connection is held while the hash
    // runs.
    let slot = password::slot().await?;
    let (attempt, user) = {
        let mut conn = state.pool.get().await?;
        let attempt = throttle::attempt(&mut conn, &email).await?;
        (attempt, users::find_by_email(&mut conn, &email).await?)
    };
    // Unknown and disabled accounts still pay for a hash, so that timing
    // does not tell which addresses exist.
    let stored = user
        .as_ref()
        .filter(|u| !u.disabled)
        .and_then(|u| u.password_hash.clone());
    let valid = slot.verify(secret.clone(), stored.clone()).await?;
    // A stronger hash of a right password, when the parameters grew.
    let rehashed = match stored.as_deref() {
        Some(s) if valid && password::needs_rehash(s) => Some(slot.hash(secret).await?),
        _ => None,
    };
    drop(slot);
    let mut conn = state.pool.get().await?;
    let user = match user {
        Some(u) if valid => u,
        other => {
            let id = other.map(|u| u.id);
            audit::record(
                &conn,
                actor(&req, None),
                "user",
                "login_failed",
                id.unwrap_or(Uuid::nil()),
                json!({ "known_account": id.is_some() }),
            )
            .await?;
            return Err(AppError::Unauthorized(WRONG));
        }
    };
    throttle::succeeded(&mut conn, attempt).await?;
    if let Some(rehashed) = rehashed {
        users::set_password_hash(&mut conn, user.id, &rehashed).await?;
    }
    let who = actor(&req, Some(user.id));
    let login = conn
        .transaction(async |conn| {
            users::touch_login(conn, user.id).await?;
            audit::record(conn, who.clone(), "user", "login", user.id, json!({})).await?;
            sessions::start(conn, user.id).await
        })
        .await?;
    let user = users::row(&mut conn, user.id).await?;
    pair(&state, user, login)
}
}

/// A refresh or logout request.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RefreshInput {
    #[serde(default)]
    refresh_token: Field<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

fn refresh_token_of(body: RefreshInput) -> AppResult<String> {
    let mut c = Checker::new(&body.unknown);
    let token = c.required("refresh_token", body.refresh_token);
    c.finish(|| token)
}

crate::endpoint! {
/// Exchanges a refresh token for a new pair; the old one dies. Presenting a
/// dead one again revokes every token of that login.
public post "/auth/refresh", tag = "auth", body = RefreshInput,
ok((status = 200, body = TokenPair)), fails[401, 422, 429];
async fn refresh(state, req, body) {
    let token = refresh_token_of(body.into_inner())?;
    let mut conn = state.pool.get().await?;
    match sessions::refresh(&mut conn, &token).await? {
        Refreshed::Rotated {
            user_id,
            family_id,
            token,
        } => {
            let user = users::row(&mut conn, user_id).await?;
            pair(&state, user, (token, family_id))
        }
        Refreshed::Reused { user_id, family_id } => {
            audit::record(
                &conn,
                actor(&req, None),
                "user",
                "token_reuse",
                user_id,
                json!({ "family_id": family_id }),
            )
            .await?;
            Err(AppError::Unauthorized(
                "The refresh token was already used; the login is revoked.",
            ))
        }
        Refreshed::Invalid => Err(AppError::Unauthorized(
            "The refresh token is invalid or expired.",
        )),
    }
}
}

crate::endpoint! {
/// Ends the login a refresh token belongs to.
public post "/auth/logout", tag = "auth", body = RefreshInput,
ok((status = 204, description = "Logged out")), fails[422, 429];
async fn logout(state, req, body) {
    let token = refresh_token_of(body.into_inner())?;
    let mut conn = state.pool.get().await?;
    if let Some(user_id) = sessions::logout(&mut conn, &token).await? {
        audit::record(
            &conn,
            actor(&req, Some(user_id)),
            "user",
            "logout",
            user_id,
            json!({}),
        )
        .await?;
    }
    Ok(HttpResponse::NoContent().finish())
}
}

/// Asks for a password reset link.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ResetInput {
    #[serde(default)]
    email: Field<Email>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

crate::endpoint! {
/// Emails a reset link valid for one hour to a known, enabled account, at
/// most three an hour. The answer is the same whether or not the address
/// exists or the limit is met.
public post "/auth/password-reset", tag = "auth", body = ResetInput,
ok((status = 202, description = "Accepted")), fails[422, 429];
async fn request_reset(state, req, body) {
    let body = body.into_inner();
    let mut c = Checker::new(&body.unknown);
    let email = c.required("email", body.email);
    let email = c.finish(|| email)?;
    // The answer goes before any lookup, so that its timing is the same
    // whether or not the address has an account; the work follows.
    let pool = state.pool.clone();
    let who = actor(&req, None);
    actix_web::rt::spawn(async move {
        if let Err(e) = issue_reset(&pool, email, who).await {
            tracing::warn!(error = %e, "a password reset was not issued");
        }
    });
    Ok(HttpResponse::Accepted().finish())
}
}

/// Issues a reset link to `email`'s account, if it has a usable one and has
/// not had [`RESETS_PER_HOUR`] in the last hour.
async fn issue_reset(pool: &crate::db::PgPool, email: Email, who: Actor) -> AppResult<()> {
    let mut conn = pool.get().await?;
    let Some(user) = users::find_by_email(&mut conn, email.as_str())
        .await?
        .filter(|u| !u.disabled)
    else {
        return Ok(());
    };
    let (token, token_hash) = secret::generate();
    let id = Uuid::now_v7();
    conn.transaction(async |conn| {
        // The user's row is the lock: concurrent requests count in turn.
        users_table::table
            .find(user.id)
            .select(users_table::id)
            .for_update()
            .get_result::<Uuid>(conn)
            .await?;
        let recent: i64 = password_resets::table
            .filter(password_resets::user_id.eq(user.id))
            .filter(password_resets::created_at.gt(Utc::now() - Duration::hours(1)))
            .count()
            .get_result(conn)
            .await?;
        if recent >= RESETS_PER_HOUR {
            return Ok(());
        }
        diesel::insert_into(password_resets::table)
            .values((
                password_resets::id.eq(id),
                password_resets::user_id.eq(user.id),
                password_resets::token_hash.eq(token_hash),
                password_resets::expires_at.eq(Utc::now() + RESET_VALID_FOR),
            ))
            .prepared()
            .execute(conn)
            .await?;
        email::queue(
            conn,
            &Outgoing {
                template: "password_reset",
                recipient: email.clone(),
                locale: user.locale.clone(),
                payload: json!({ "full_name": user.full_name, "token": token }),
                dedupe_key: format!("password_reset:{id}"),
            },
        )
        .await?;
        audit::record(
            conn,
            who,
            "user",
            "password_reset_request",
            user.id,
            json!({}),
        )
        .await
    })
    .await
}

/// Sets a new password with a reset token.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ResetConfirmInput {
    #[serde(default)]
    token: Field<String>,
    #[serde(default)]
    #[schema(value_type = String, format = Password)]
    new_password: Field<String>,
    #[serde(flatten)]
    #[schema(ignore)]
    unknown: Unknown,
}

crate::endpoint! {
/// Sets the new password and ends every session of the user.
public post "/auth/password-reset/confirm", tag = "auth", body = ResetConfirmInput,
ok((status = 204, description = "Password set")), fails[401: "Unknown, used or expired token", 422, 429];
async fn confirm_reset(state, req, body) {
    let body = body.into_inner();
    let mut c = Checker::new(&body.unknown);
    let token = c.required("token", body.token);
    let new = c.required("new_password", body.new_password);
    let hash = secret::digest(token.as_deref().unwrap_or_default());
    let mut conn = state.pool.get().await?;
    let pending: Option<Uuid> = password_resets::table
        .filter(password_resets::token_hash.eq(&hash))
        .filter(password_resets::used_at.is_null())
        .filter(password_resets::expires_at.gt(Utc::now()))
        .select(password_resets::user_id)
        .first(&mut conn)
        .await
        .optional()?;
    let user = match pending {
        Some(id) => Some(users::row(&mut conn, id).await?),
        None => None,
    };
    if let (Some(p), Some(u)) = (&new, &user) {
        if let Err(msg) = password::check_strength(p, &[&u.email, &u.full_name]) {
            c.error("new_password", msg);
        }
    }
    let new = c.finish(|| new)?;
    let invalid = || AppError::Unauthorized("The reset link is unknown, used or expired.");
    let user = user.ok_or_else(invalid)?;
    // No connection is held while the hash runs.
    drop(conn);
    let new_hash = password::hash(SecretString::from(new)).await?;
    let mut conn = state.pool.get().await?;
    let who = actor(&req, Some(user.id));
    conn.transaction(async |conn| {
        let used = diesel::update(password_resets::table)
            .filter(password_resets::token_hash.eq(&hash))
            .filter(password_resets::used_at.is_null())
            .filter(password_resets::expires_at.gt(Utc::now()))
            .set(password_resets::used_at.eq(Utc::now()))
            .prepared()
            .execute(conn)
            .await?;
        if used == 0 {
            return Err(invalid());
        }
        users::set_password_hash(conn, user.id, &new_hash).await?;
        sessions::end_all(conn, user.id).await?;
        throttle::clear(conn, &user.email).await?;
        audit::record(
            conn,
            who.clone(),
            "user",
            "password_reset",
            user.id,
            json!({}),
        )
        .await
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
}

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(login)
        .service(refresh)
        .service(logout)
        .service(request_reset)
        .service(confirm_reset);
}
