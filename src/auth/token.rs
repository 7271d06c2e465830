//! Access tokens: HS256 JWTs with `typ`, `iss`, `aud`, `exp` always checked.

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::Role;
use crate::config::AuthSettings;

/// The `typ` claim of access tokens; other token kinds use other values, so
/// that one can never stand in for another.
pub const ACCESS_TYP: &str = "access";

/// What an access token says about its bearer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: Uuid,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub institution_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trainee_id: Option<Uuid>,
    /// The user's token version when the token was issued.
    pub tv: i32,
    /// The login the token belongs to (its refresh tokens' family): ending
    /// the login ends the token.
    pub sid: Uuid,
    pub typ: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

/// Issues and checks access tokens; verification accepts the current key
/// and the previous ones, so the signing key rotates without logging
/// everyone out.
#[derive(Clone)]
pub struct TokenService {
    kid: String,
    encoding: EncodingKey,
    /// The current key and the previous ones, by `kid`.
    decoding: Vec<(String, DecodingKey)>,
    validation: Validation,
    issuer: String,
    audience: String,
    ttl_secs: i64,
}

impl TokenService {
    /// Builds the service; an empty secret (development only, refused in
    /// production by the configuration check) gets a random one.
    pub fn new(settings: &AuthSettings) -> Self {
        let mut secret = settings.jwt_secret.expose_secret().as_bytes().to_vec();
        if secret.is_empty() {
            secret = vec![0u8; 32];
            rand::rng().fill_bytes(&mut secret);
        }
        let kid = settings.jwt_key_id.clone();
        let mut decoding = vec![(kid.clone(), DecodingKey::from_secret(&secret))];
        // The configuration check has refused malformed entries already.
        for (old_kid, old) in settings.previous_keys().unwrap_or_default() {
            decoding.push((
                old_kid.to_string(),
                DecodingKey::from_secret(old.as_bytes()),
            ));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.leeway = 5;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_issuer(&[&settings.jwt_issuer]);
        validation.set_audience(&[&settings.jwt_audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub", "iat"]);
        TokenService {
            kid,
            encoding: EncodingKey::from_secret(&secret),
            decoding,
            validation,
            issuer: settings.jwt_issuer.clone(),
            audience: settings.jwt_audience.clone(),
            ttl_secs: settings.access_token_ttl_secs as i64,
        }
    }

    /// Seconds an access token lives.
    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    /// Signs an access token for a user.
    pub fn issue(
        &self,
        user_id: Uuid,
        role: Role,
        institution_id: Option<Uuid>,
        trainee_id: Option<Uuid>,
        token_version: i32,
        login_id: Uuid,
    ) -> anyhow::Result<String> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user_id,
            role,
            institution_id,
            trainee_id,
            tv: token_version,
            sid: login_id,
            typ: ACCESS_TYP.into(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now,
            exp: now + self.ttl_secs,
        };
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(&header, &claims, &self.encoding)?)
    }

    /// Checks a token's signature, algorithm, `kid`, claims and kind.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        if header.alg != Algorithm::HS256 {
            return None;
        }
        let kid = header.kid?;
        let (_, key) = self.decoding.iter().find(|(k, _)| *k == kid)?;
        let data = jsonwebtoken::decode::<Claims>(token, key, &self.validation).ok()?;
        (data.claims.typ == ACCESS_TYP).then_some(data.claims)
    }
}
