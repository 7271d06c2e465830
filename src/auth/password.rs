//! Password hashing with argon2id at or above the OWASP floor
//! (m = 19456 KiB, t = 2, p = 1), always off the async executor.

use std::sync::{LazyLock, Mutex};

use argon2::{
    password_hash::{rand_core::OsRng, Output, ParamsString, PasswordHash, SaltString},
    Algorithm, Argon2, Block, Params, Version,
};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

use crate::error::{AppError, AppResult};

/// Shortest and longest accepted passwords (characters).
pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 128;

/// A hash to compute on a hashing thread, with that thread's memory.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// The hashing threads: one per core but one (which is left to every other
/// request), at a lower scheduling priority, so that a burst of logins never
/// starves readers of CPU. Each keeps the working memory of its last hash
/// for the next: hashing allocates nothing once warm, and the process holds
/// one 19 MiB buffer per thread at most (left to the allocator, blocks freed
/// on many threads were kept by its arenas: gigabytes after a burst). The
/// semaphore has one permit per thread: a hash waits for a free thread,
/// never in a queue.
struct Hashers {
    free: Semaphore,
    jobs: std::sync::mpsc::Sender<Job>,
}

static HASHERS: LazyLock<Hashers> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let threads = cores.saturating_sub(1).clamp(1, 4);
    let (jobs, queue) = std::sync::mpsc::channel::<Job>();
    let queue = std::sync::Arc::new(Mutex::new(queue));
    for n in 0..threads {
        let queue = queue.clone();
        std::thread::Builder::new()
            .name(format!("hashing-{n}"))
            .spawn(move || {
                lower_priority();
                let mut memory = Vec::new();
                let ours = hasher().params().block_count();
                loop {
                    let job = match queue.lock() {
                        Ok(q) => q.recv(),
                        Err(_) => return,
                    };
                    let Ok(job) = job else { return };
                    job(&mut memory);
                    // A stored hash with more memory than ours is rare: give
                    // it back.
                    if memory.len() > ours {
                        memory.truncate(ours);
                        memory.shrink_to_fit();
                    }
                }
            })
            .expect("a hashing thread starts");
    }
    Hashers {
        free: Semaphore::new(threads),
        jobs,
    }
});

/// Lowers the calling thread's scheduling priority (nice 10): under load
/// it yields the CPU to request handling and the database.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: `nice` only changes the calling thread's scheduling priority
    // and reads or writes no memory of ours.
    unsafe {
        libc::nice(10);
    }
}

/// How long a request waits for a hashing thread before it is answered 503.
const WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// A hashing thread taken for one request. A request takes it before any
/// database work of its password check, so that however many logins
/// arrive at once, only as many as there are threads reach the database
/// pool and the rest wait without holding anything (or get 503).
pub struct Slot {
    /// Held until the slot is dropped.
    _taken: tokio::sync::SemaphorePermit<'static>,
}

/// Takes a hashing thread; 503 when none frees within [`WAIT`].
pub async fn slot() -> AppResult<Slot> {
    let permit = tokio::time::timeout(WAIT, HASHERS.free.acquire())
        .await
        .map_err(|_| AppError::Unavailable("every password hashing thread is busy".into()))?
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(Slot { _taken: permit })
}

impl Slot {
    /// Runs `work` on the slot's thread with its memory.
    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> AppResult<T> {
        let (done, result) = tokio::sync::oneshot::channel();
        HASHERS
            .jobs
            .send(Box::new(move |memory: &mut Vec<Block>| {
                let _ = done.send(work(memory));
            }))
            .map_err(|_| AppError::Internal(anyhow::anyhow!("the hashing threads stopped")))?;
        result
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("a hashing thread stopped")))
    }

    /// A PHC string of `password` with the current parameters.
    pub async fn hash(&self, password: SecretString) -> AppResult<String> {
        self.run(move |memory| hash_with(password.expose_secret().as_bytes(), memory))
            .await?
            .map_err(|e| AppError::Internal(anyhow::anyhow!("hashing failed: {e}")))
    }

    /// Whether `password` matches `stored`. Without a stored hash a decoy is
    /// checked, so that an unknown account costs the same time as a known one.
    pub async fn verify(&self, password: SecretString, stored: Option<String>) -> AppResult<bool> {
        let has_hash = stored.is_some();
        let ok = self
            .run(move |memory| {
                let stored = stored.as_deref().unwrap_or(DECOY_HASH.as_str());
                matches(password.expose_secret().as_bytes(), stored, memory)
            })
            .await?;
        Ok(ok && has_hash)
    }
}

/// The raw argon2 output of `password` and `salt`, in `memory`.
fn derive(
    argon: &Argon2,
    password: &[u8],
    salt: &[u8],
    len: usize,
    memory: &mut Vec<Block>,
) -> Result<Vec<u8>, argon2::Error> {
    let blocks = argon.params().block_count();
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    let mut out = vec![0; len];
    argon.hash_password_into_with_memory(password, salt, &mut out, &mut memory[..blocks])?;
    Ok(out)
}

/// A new PHC string for `password` with the current parameters.
fn hash_with(password: &[u8], memory: &mut Vec<Block>) -> anyhow::Result<String> {
    let argon = hasher();
    let salt = SaltString::generate(&mut OsRng);
    let mut raw = [0; 64];
    let out = derive(
        &argon,
        password,
        salt.decode_b64(&mut raw)?,
        Params::DEFAULT_OUTPUT_LEN,
        memory,
    )?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon.params())?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out)?),
    };
    Ok(phc.to_string())
}

/// Whether `password` gives the stored PHC string, under its own parameters.
fn matches(password: &[u8], stored: &str, memory: &mut Vec<Block>) -> bool {
    let Ok(phc) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (phc.salt, phc.hash) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (Algorithm::try_from(phc.algorithm), Params::try_from(&phc))
    else {
        return false;
    };
    let version = phc
        .version
        .map_or(Ok(Version::V0x13), Version::try_from)
        .unwrap_or(Version::V0x13);
    let mut raw = [0; 64];
    let Ok(salt) = salt.decode_b64(&mut raw) else {
        return false;
    };
    let argon = Argon2::new(algorithm, version, params);
    derive(&argon, password, salt, expected.len(), memory)
        .ok()
        .and_then(|out| Output::new(&out).ok())
        // `Output` compares in constant time.
        .is_some_and(|out| out == expected)
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

/// A PHC string of `password`, on a hashing thread taken for it.
pub async fn hash(password: SecretString) -> AppResult<String> {
    slot().await?.hash(password).await
}

/// A hash of a random password nobody has, so that an unknown email costs the
/// same time as a known one.
static DECOY_HASH: LazyLock<String> = LazyLock::new(|| {
    let password = SaltString::generate(&mut OsRng);
    hash_with(password.as_str().as_bytes(), &mut Vec::new()).unwrap_or_default()
});

#[cfg(test)]
mod tests {
    use argon2::password_hash::PasswordHasher;

    use super::*;

    #[test]
    fn reused_memory_hashes_agree_with_the_standard_encoding() {
        let mut memory = Vec::new();
        let ours = hash_with(b"baobab rain over Thies", &mut memory).unwrap();
        assert!(matches(b"baobab rain over Thies", &ours, &mut memory));
        assert!(!matches(
            "baobab rain over Thiès".as_bytes(),
            &ours,
            &mut memory
        ));
        // Hashes made by the crate's own encoder, weaker ones too, still verify.
        let salt = SaltString::generate(&mut OsRng);
        for params in [
            Params::new(8192, 1, 1, None).unwrap(),
            hasher().params().clone(),
        ] {
            let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
                .hash_password(b"baobab rain over Thies", &salt)
                .unwrap()
                .to_string();
            assert!(matches(b"baobab rain over Thies", &theirs, &mut memory));
            assert!(!matches(b"baobab rain", &theirs, &mut memory));
        }
        assert!(!needs_rehash(&ours));
        assert!(!matches(b"x", "not a hash", &mut memory));
    }

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
        let salt = SaltString::generate(&mut OsRng);
        // Less of everything; and less memory for more passes, which the
        // floor (m = 19456 KiB) does not allow either.
        for (m, t) in [(8192, 1), (7168, 5)] {
            let weak = Argon2::new(
                Algorithm::Argon2id,
                Version::V0x13,
                Params::new(m, t, 1, None).unwrap(),
            );
            let old = weak
                .hash_password(b"baobab rain over Thies", &salt)
                .unwrap()
                .to_string();
            assert!(needs_rehash(&old), "m = {m}, t = {t}");
        }
        let current = hasher()
            .hash_password(b"baobab rain over Thies", &salt)
            .unwrap()
            .to_string();
        assert!(!needs_rehash(&current));
    }
}
