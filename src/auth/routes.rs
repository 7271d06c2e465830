//! `POST /auth/login`.

use actix_web::{post, web, HttpResponse};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::password;
use crate::{
    api::{
        self,
        input::{Checker, Field, Unknown},
    },
    error::{AppError, AppResult, Problem},
    startup::AppState,
    users::{self, User},
};

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

/// A fresh access token and the account it belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginOutput {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    pub user: User,
}

/// Exchanges email and password for an access token.
#[utoipa::path(
    tag = "auth",
    request_body = LoginInput,
    responses(
        (status = 200, body = LoginOutput),
        (status = 401, body = Problem, description = "Wrong email or password; which one is never told"),
        (status = 422, body = Problem),
    )
)]
#[post("/auth/login")]
async fn login(state: web::Data<AppState>, body: web::Json<LoginInput>) -> AppResult<HttpResponse> {
    let body = body.into_inner();
    let mut c = Checker::new(&body.unknown);
    let email = c.required("email", body.email);
    let secret = c.required("password", body.password);
    let (email, secret) = c.finish(|| Some((email?, SecretString::from(secret?))))?;
    let mut conn = state.pool.get().await?;
    let user = users::find_by_email(&mut conn, &email).await?;
    // Unknown and disabled accounts still pay for a hash, so that timing
    // does not tell which addresses exist.
    let stored = user
        .as_ref()
        .filter(|u| !u.disabled)
        .and_then(|u| u.password_hash.clone());
    let valid = password::verify(secret, stored).await?;
    let user = match user {
        Some(u) if valid => u,
        _ => return Err(AppError::Unauthorized("The email or password is wrong.")),
    };
    users::touch_login(&mut conn, user.id).await?;
    let access_token = state.tokens.issue(
        user.id,
        user.role,
        user.institution_id,
        user.trainee_id,
        user.token_version,
    )?;
    api::ok(&LoginOutput {
        access_token,
        token_type: "Bearer",
        expires_in: state.tokens.ttl_secs(),
        user: User::from(user),
    })
}

/// Routes of this module.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(login);
}
