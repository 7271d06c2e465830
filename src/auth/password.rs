//! Password hashing with argon2id at or above the OWASP floor
//! (m = 19456 KiB, t = 2, p = 1), always off the async executor.

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Algorithm, Argon2, Params, Version,
};
use secrecy::{ExposeSecret, SecretString};

use crate::error::{AppError, AppResult};

/// Shortest and longest accepted passwords (characters).
pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 128;

/// Hashes computed at once. Each takes 19 MiB and a core for ~10 ms:
/// without a bound, a burst of logins would take a blocking thread (and
/// its memory) each, gigabytes under load.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

async fn bounded<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
    let _permit = HASHING
        .acquire()
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AppError::Internal(e.into()))
}

fn hasher() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Checks length (never truncating) and guessability: common passwords,
/// keyboard walks and passwords built from the user's own email or name
/// are refused.
pub fn check_strength(password: &str, user_inputs: &[&str]) -> Result<(), String> {
    let len = password.chars().count();
    if len < MIN_LEN {
        return Err(format!("must be at least {MIN_LEN} characters"));
    }
    if len > MAX_LEN {
        return Err(format!("must be at most {MAX_LEN} characters"));
    }
    if zxcvbn::zxcvbn(password, user_inputs).score() < zxcvbn::Score::Three {
        return Err("is too common or too easy to guess".into());
    }
    Ok(())
}

/// True when a stored hash was made with weaker parameters than today's.
pub fn needs_rehash(stored: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return true;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return true;
    };
    let current = hasher();
    parsed.algorithm != argon2::ARGON2ID_IDENT
        || params.m_cost() < current.params().m_cost()
        || params.t_cost() < current.params().t_cost()
        || params.p_cost() < current.params().p_cost()
}

/// Hashes a password on the blocking pool.
pub async fn hash(password: SecretString) -> AppResult<String> {
    let hashed = bounded(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher()
            .hash_password(password.expose_secret().as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await?;
    hashed.map_err(|e| AppError::Internal(anyhow::anyhow!("hashing failed: {e}")))
}

/// A hash of a random password nobody has, so that an unknown email costs the
/// same time as a known one.
static DECOY_HASH: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    let password = SaltString::generate(&mut OsRng);
    hasher()
        .hash_password(password.as_str().as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
});

/// Verifies a password against a stored hash (or the decoy when there is
/// none) on the blocking pool.
pub async fn verify(password: SecretString, stored: Option<String>) -> AppResult<bool> {
    let has_hash = stored.is_some();
    let ok = bounded(move || {
        let stored = stored.unwrap_or_else(|| DECOY_HASH.clone());
        let Ok(parsed) = PasswordHash::new(&stored) else {
            return false;
        };
        hasher()
            .verify_password(password.expose_secret().as_bytes(), &parsed)
            .is_ok()
    })
    .await?;
    Ok(ok && has_hash)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_and_guessability_rules() {
        assert!(check_strength("short", &[]).is_err());
        assert!(check_strength("password1234", &[]).is_err());
        assert!(check_strength("qwertyuiopasdfgh", &[]).is_err());
        assert!(check_strength("amina.diallo@ucad.sn", &["amina.diallo@ucad.sn"]).is_err());
        assert!(check_strength(&"x".repeat(MAX_LEN + 1), &[]).is_err());
        assert!(check_strength("baobab rain over Thies", &[]).is_ok());
        let long: String = "Teranga-".repeat(8) + "k7Q";
        assert!(long.chars().count() > 64);
        assert!(check_strength(&long, &[]).is_ok());
    }

    #[test]
    fn weaker_hashes_are_flagged_for_rehash() {
        let weak = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8192, 1, 1, None).unwrap(),
        );
        let salt = SaltString::generate(&mut OsRng);
        let old = weak
            .hash_password(b"baobab rain over Thies", &salt)
            .unwrap()
            .to_string();
        assert!(needs_rehash(&old));
        let current = hasher()
            .hash_password(b"baobab rain over Thies", &salt)
            .unwrap()
            .to_string();
        assert!(!needs_rehash(&current));
    }
}
