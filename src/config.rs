//! Layered configuration: `config/default.toml`, then `config/$MERIDIAN_ENV.toml`,
//! then `MERIDIAN__SECTION__KEY` environment variables and `DATABASE_URL`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// Which kind of deployment this is; production tightens the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Development,
    Test,
    Production,
}

/// All settings of a Meridian process.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub environment: Environment,
    pub public_base_url: String,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub email: EmailSettings,
    pub worker: WorkerSettings,
    pub log: LogSettings,
    pub stats: StatsSettings,
    pub metrics: MetricsSettings,
    pub webhooks: WebhookSettings,
}

/// Who may read `/metrics`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSettings {
    /// When set, `/metrics` needs `Authorization: Bearer <token>`.
    pub token: SecretString,
    /// Production refuses to start without a token unless this says the
    /// metrics are meant to be public (behind a private network, say).
    pub public: bool,
}

impl MetricsSettings {
    /// The token `/metrics` asks for, if any.
    pub fn required_token(&self) -> Option<&str> {
        Some(self.token.expose_secret()).filter(|t| !t.is_empty())
    }
}

/// Dashboards.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatsSettings {
    /// Break-down counts below this (and above 0) are suppressed for
    /// viewers, so that a small cohort does not identify a person.
    pub min_cell: i64,
}

/// Webhook subscriptions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// Hosts a subscription may call over plain http, and at addresses
    /// inside the network (a receiver on the same machine, in tests).
    pub allow_http_hosts: Vec<String>,
    /// How long a receiver has to answer a delivery.
    pub timeout_ms: u64,
    /// Deliveries in flight per process, and per subscription.
    pub concurrency: usize,
    pub per_subscription: usize,
    /// Retries wait this long, then twice as long each time, up to six hours.
    pub backoff_base_ms: u64,
    /// A delivery is retried this long after its event, then `failed`.
    pub retry_for_secs: u64,
    /// A subscription that has failed this long without a success is
    /// turned off, and its creator emailed.
    pub disable_after_secs: u64,
    /// How long a worker holds what it claimed; longer than `timeout_ms`.
    pub lease_secs: u64,
    /// How often workers look for due retries between notifications.
    pub poll_interval_ms: u64,
}

/// A trusted proxy: one address (`10.0.0.7`) or a CIDR range (`10.0.0.0/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProxyRange(ipnet::IpNet);

impl ProxyRange {
    /// Whether `ip` is this proxy, or in its range.
    pub fn contains(&self, ip: &std::net::IpAddr) -> bool {
        self.0.contains(ip)
    }
}

impl std::str::FromStr for ProxyRange {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        s.parse::<ipnet::IpNet>()
            .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
            .map(ProxyRange)
            .map_err(|_| format!("{s:?} is neither an IP address nor a CIDR range"))
    }
}

impl<'de> Deserialize<'de> for ProxyRange {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub workers: usize,
    pub trusted_proxies: Vec<ProxyRange>,
    pub cors_allowed_origins: Vec<String>,
    pub json_limit_bytes: usize,
    pub csv_limit_bytes: usize,
    pub shutdown_timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// Empty means "start the private local PostgreSQL".
    pub url: SecretString,
    /// A streaming replica that dashboards and CSV exports read from;
    /// empty means they read the primary.
    pub replica_url: SecretString,
    pub pool_size: usize,
    pub migrate_on_start: bool,
    pub local_dir: PathBuf,
    pub local_port: u16,
}

impl DatabaseSettings {
    /// The configured URL, if any.
    pub fn configured_url(&self) -> Option<&str> {
        let url = self.url.expose_secret().trim();
        (!url.is_empty()).then_some(url)
    }

    /// The replica's URL, if one is configured.
    pub fn configured_replica(&self) -> Option<&str> {
        let url = self.replica_url.expose_secret().trim();
        (!url.is_empty()).then_some(url)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub jwt_secret: SecretString,
    /// The `kid` of `jwt_secret`: a name the operator gives the key, never
    /// derived from it, so that a token says nothing about the secret.
    pub jwt_key_id: String,
    /// Keys that signed tokens still in use, each `<kid>:<secret>`;
    /// verified, never signed with.
    pub jwt_previous_secrets: Vec<SecretString>,
    pub jwt_issuer: String,
    pub jwt_audience: String,
    pub access_token_ttl_secs: u64,
    pub ip_limit_per_minute: u32,
}

impl AuthSettings {
    /// The previous keys by `kid`. An entry without a `kid`, or one that
    /// reuses the current key's `kid`, is a configuration error.
    pub fn previous_keys(&self) -> anyhow::Result<Vec<(&str, &str)>> {
        self.jwt_previous_secrets
            .iter()
            .map(|entry| match entry.expose_secret().split_once(':') {
                Some((kid, secret)) if !kid.is_empty() && !secret.is_empty() && kid != self.jwt_key_id => {
                    Ok((kid, secret))
                }
                _ => anyhow::bail!(
                    "configuration error: each auth.jwt_previous_secrets entry is <kid>:<secret>, with a kid other than auth.jwt_key_id"
                ),
            })
            .collect()
    }
}

/// How emails leave the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EmailTransport {
    Smtp,
    File,
    Log,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    pub transport: EmailTransport,
    /// May carry credentials, so it never prints.
    pub smtp_url: SecretString,
    pub from: String,
    pub file_dir: PathBuf,
    pub smtp_timeout_secs: u64,
    /// Days a sent email stays in the outbox before the jobs loop removes it.
    pub retention_days: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerSettings {
    pub enabled: bool,
    /// Longest wait between two looks at the outbox.
    pub poll_interval_ms: u64,
    /// How long a claimed email is held before another worker may take it.
    pub lease_secs: u64,
    /// Attempts before an email is marked failed.
    pub max_attempts: i32,
    /// Wait after the first failed attempt; doubles with each further one.
    pub backoff_base_ms: u64,
    pub batch_size: i64,
    /// Emails sent at once by one worker.
    pub concurrency: usize,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    pub filter: String,
}

/// Secrets that can come from files, as container and orchestrator secrets
/// are mounted: the variable naming the file, the variable it stands for,
/// and the key it sets.
const SECRET_FILES: [(&str, &str, &str); 5] = [
    ("DATABASE_URL_FILE", "DATABASE_URL", "database.url"),
    (
        "MERIDIAN__DATABASE__REPLICA_URL_FILE",
        "MERIDIAN__DATABASE__REPLICA_URL",
        "database.replica_url",
    ),
    (
        "MERIDIAN__AUTH__JWT_SECRET_FILE",
        "MERIDIAN__AUTH__JWT_SECRET",
        "auth.jwt_secret",
    ),
    (
        "MERIDIAN__EMAIL__SMTP_URL_FILE",
        "MERIDIAN__EMAIL__SMTP_URL",
        "email.smtp_url",
    ),
    (
        "MERIDIAN__METRICS__TOKEN_FILE",
        "MERIDIAN__METRICS__TOKEN",
        "metrics.token",
    ),
];

/// The secrets read from the files `*_FILE` variables name (a trailing
/// newline dropped), each with its key. A file that cannot be read, or a
/// secret given both ways, is one line naming the variable and what to do.
fn secrets_from_files(
    vars: &HashMap<String, String>,
) -> anyhow::Result<Vec<(&'static str, String)>> {
    let mut secrets = Vec::new();
    for (file_var, plain_var, key) in SECRET_FILES {
        let Some(path) = vars.get(file_var) else {
            continue;
        };
        if vars.contains_key(plain_var) {
            anyhow::bail!("configuration error: both {plain_var} and {file_var} are set; keep one");
        }
        let value = std::fs::read_to_string(path).map_err(|e| {
            anyhow::anyhow!(
                "configuration error: {file_var}: cannot read {path} ({e}); mount the secret there or unset {file_var}"
            )
        })?;
        secrets.push((key, value.trim_end_matches(['\n', '\r']).to_string()));
    }
    Ok(secrets)
}

/// Shortest JWT secret accepted in production.
pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// Shortest metrics token accepted in production.
const MIN_METRICS_TOKEN_BYTES: usize = 16;

/// Fewest distinct characters a production secret may have.
const MIN_SECRET_VARIETY: usize = 12;

/// Words that mark a secret as written by hand for an example.
const PLACEHOLDER_WORDS: [&str; 7] = [
    "change",
    "secret",
    "password",
    "example",
    "placeholder",
    "meridian",
    "dummy",
];

/// Meridian's own files that carry sample, test or benchmark secrets: a
/// secret found in any of them is public.
const REPOSITORY_TEXTS: [&str; 10] = [
    include_str!("../README.md"),
    include_str!("../docker-compose.yml"),
    include_str!("../config/default.toml"),
    include_str!("../config/production.toml"),
    include_str!("../config/test.toml"),
    include_str!("../bench/run.sh"),
    include_str!("../benches/login.rs"),
    include_str!("../benches/enrollment.rs"),
    include_str!("../tests/api/helpers.rs"),
    include_str!("../tests/api/identity.rs"),
];

/// Why a production secret is refused, if it is: too short, a placeholder,
/// too little variety, or one printed in Meridian's own files.
fn weakness(secret: &str, min_len: usize) -> Option<String> {
    let lower = secret.to_ascii_lowercase();
    let distinct = secret
        .bytes()
        .collect::<std::collections::HashSet<_>>()
        .len();
    if secret.len() < min_len {
        Some(format!("must be at least {min_len} bytes"))
    } else if PLACEHOLDER_WORDS.iter().any(|w| lower.contains(w)) {
        Some("reads like a placeholder".into())
    } else if distinct < MIN_SECRET_VARIETY {
        Some(format!(
            "has fewer than {MIN_SECRET_VARIETY} distinct characters"
        ))
    } else if REPOSITORY_TEXTS.iter().any(|text| text.contains(secret)) {
        Some("is written in Meridian's own files".into())
    } else {
        None
    }
}

impl Settings {
    /// Loads settings from `dir` (normally `config/`) for the environment
    /// named by `MERIDIAN_ENV` (default `development`), with overrides from
    /// the process environment, then checks them.
    pub fn load_from(dir: &Path) -> anyhow::Result<Self> {
        let env = std::env::var("MERIDIAN_ENV").unwrap_or_else(|_| "development".into());
        Self::layered(dir, &env, true)
    }

    /// Settings of one environment; `process_env` says whether
    /// `MERIDIAN__*` and `DATABASE_URL` override the files (tests say no).
    pub fn layered(dir: &Path, env: &str, process_env: bool) -> anyhow::Result<Self> {
        let vars = process_env.then(|| std::env::vars().collect());
        Self::layered_with(dir, env, vars)
    }

    /// Settings of one environment, overridden by `vars` when given (the
    /// process environment, or a test's): `MERIDIAN__SECTION__KEY`,
    /// `DATABASE_URL`, and the secrets read from the files the `*_FILE`
    /// variables name.
    pub fn layered_with(
        dir: &Path,
        env: &str,
        vars: Option<HashMap<String, String>>,
    ) -> anyhow::Result<Self> {
        let mut builder = config::Config::builder()
            .add_source(config::File::from(dir.join("default.toml")))
            .add_source(config::File::from(dir.join(format!("{env}.toml"))).required(false));
        if let Some(vars) = vars {
            let secrets = secrets_from_files(&vars)?;
            let plain: HashMap<String, String> = vars
                .iter()
                .filter(|(k, _)| !SECRET_FILES.iter().any(|(file, _, _)| file == k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            builder = builder.add_source(
                config::Environment::with_prefix("MERIDIAN")
                    .prefix_separator("__")
                    .separator("__")
                    .list_separator(",")
                    .with_list_parse_key("server.trusted_proxies")
                    .with_list_parse_key("server.cors_allowed_origins")
                    .with_list_parse_key("auth.jwt_previous_secrets")
                    .with_list_parse_key("webhooks.allow_http_hosts")
                    .try_parsing(true)
                    .source(Some(plain)),
            );
            if let Some(url) = vars.get("DATABASE_URL") {
                builder = builder.set_override("database.url", url.clone())?;
            }
            for (key, value) in secrets {
                builder = builder.set_override(key, value)?;
            }
        }
        let settings: Settings = builder
            .build()
            .and_then(|c| c.try_deserialize())
            .map_err(|e| anyhow::anyhow!("configuration error: {e}"))?;
        settings.check()?;
        Ok(settings)
    }

    /// Loads from the `config/` folder of the working directory, or the one
    /// named by `MERIDIAN_CONFIG_DIR`.
    pub fn load() -> anyhow::Result<Self> {
        let dir = std::env::var_os("MERIDIAN_CONFIG_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("config"));
        Self::load_from(&dir)
    }

    /// Production's signing keys, previous ones included, and metrics
    /// token must each be long, varied and nowhere in Meridian's files.
    fn check_production_secrets(&self) -> anyhow::Result<()> {
        let mut secrets = vec![(
            "auth.jwt_secret",
            self.auth.jwt_secret.expose_secret(),
            MIN_JWT_SECRET_BYTES,
        )];
        for (_, old) in self.auth.previous_keys()? {
            secrets.push(("auth.jwt_previous_secrets", old, MIN_JWT_SECRET_BYTES));
        }
        if let Some(token) = self.metrics.required_token() {
            secrets.push(("metrics.token", token, MIN_METRICS_TOKEN_BYTES));
        }
        for (key, secret, min_len) in secrets {
            if let Some(why) = weakness(secret, min_len) {
                anyhow::bail!("configuration error: {key} {why} in production");
            }
        }
        Ok(())
    }

    /// Rules that span keys or depend on the environment.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.environment == Environment::Production {
            self.check_production_secrets()?;
        }
        if self.environment == Environment::Production && self.database.configured_url().is_none() {
            anyhow::bail!(
                "configuration error: database.url is required in production (set DATABASE_URL)"
            );
        }
        if self.environment == Environment::Production
            && self.metrics.required_token().is_none()
            && !self.metrics.public
        {
            anyhow::bail!(
                "configuration error: metrics.token is required in production (set MERIDIAN__METRICS__TOKEN, or metrics.public = true to serve /metrics to anyone)"
            );
        }
        if self.auth.jwt_key_id.is_empty() || self.auth.jwt_key_id.contains(':') {
            anyhow::bail!(
                "configuration error: auth.jwt_key_id must be a non-empty name without ':'"
            );
        }
        self.auth.previous_keys()?;
        if !(60..=900).contains(&self.auth.access_token_ttl_secs) {
            anyhow::bail!(
                "configuration error: auth.access_token_ttl_secs must be within 60..=900"
            );
        }
        if self.worker.lease_secs <= self.email.smtp_timeout_secs {
            anyhow::bail!(
                "configuration error: worker.lease_secs must exceed email.smtp_timeout_secs"
            );
        }
        let hooks = &self.webhooks;
        if hooks.lease_secs * 1000 <= hooks.timeout_ms {
            anyhow::bail!(
                "configuration error: webhooks.lease_secs must exceed webhooks.timeout_ms"
            );
        }
        if hooks.concurrency == 0 || hooks.per_subscription == 0 {
            anyhow::bail!(
                "configuration error: webhooks.concurrency and per_subscription must be at least 1"
            );
        }
        if self.database.pool_size == 0 {
            anyhow::bail!("configuration error: database.pool_size must be at least 1");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config")
    }

    #[test]
    fn every_shipped_environment_loads() {
        for env in ["development", "test"] {
            Settings::layered(&dir(), env, false).unwrap();
        }
    }

    #[test]
    fn production_refuses_a_missing_or_short_jwt_secret() {
        let mut s = Settings::layered(&dir(), "development", false).unwrap();
        s.environment = Environment::Production;
        s.database.url = SecretString::from("postgres://db/meridian");
        for secret in ["", "too-short-secret"] {
            s.auth.jwt_secret = SecretString::from(secret);
            let err = s.check().unwrap_err().to_string();
            assert!(err.contains("auth.jwt_secret"), "{err}");
        }
        s.auth.jwt_secret = random_secret();
        s.metrics.token = random_secret();
        s.check().unwrap();
    }

    /// A secret as an operator makes one (`openssl rand -base64 32`).
    fn random_secret() -> SecretString {
        SecretString::from(crate::auth::secret::generate().0)
    }

    #[test]
    fn production_refuses_placeholder_plain_and_published_secrets() {
        let mut s = Settings::layered(&dir(), "development", false).unwrap();
        s.environment = Environment::Production;
        s.database.url = SecretString::from("postgres://db/meridian");
        s.metrics.token = random_secret();
        let published = [
            "meridian-test-secret-of-at-least-32-bytes",
            "the-key-of-last-quarter-32-bytes-long!",
            "a-benchmark-secret-of-32-bytes-or-more",
        ];
        let placeholders = ["please-CHANGE-me-before-going-live-0123456789"];
        let plain = [
            "x".repeat(40),
            "abcabcabcabcabcabcabcabcabcabcabcabc".into(),
        ];
        for bad in published
            .iter()
            .chain(&placeholders)
            .map(|b| b.to_string())
            .chain(plain)
        {
            s.auth.jwt_secret = SecretString::from(bad.clone());
            let err = s.check().unwrap_err().to_string();
            assert!(
                err.contains("auth.jwt_secret") && !err.contains(&bad),
                "{err}"
            );
            // The same secret kept as a previous key, or as the metrics
            // token, is refused too.
            s.auth.jwt_secret = random_secret();
            s.auth.jwt_previous_secrets = vec![SecretString::from(format!("old:{bad}"))];
            let err = s.check().unwrap_err().to_string();
            assert!(err.contains("auth.jwt_previous_secrets"), "{err}");
            s.auth.jwt_previous_secrets.clear();
            s.metrics.token = SecretString::from(bad.clone());
            let err = s.check().unwrap_err().to_string();
            assert!(err.contains("metrics.token"), "{err}");
            s.metrics.token = random_secret();
        }
        s.check().unwrap();
    }

    #[test]
    fn previous_keys_need_their_own_kid() {
        let mut s = Settings::layered(&dir(), "development", false).unwrap();
        s.auth.jwt_key_id = "2026-q4".into();
        for bad in [
            "no-kid-given",
            ":secret",
            "2026-q3:",
            "2026-q4:same-kid-as-now",
        ] {
            s.auth.jwt_previous_secrets = vec![SecretString::from(bad)];
            let err = s.check().unwrap_err().to_string();
            assert!(
                err.contains("auth.jwt_previous_secrets") && !err.contains(bad),
                "{err}"
            );
        }
        s.auth.jwt_previous_secrets = vec![SecretString::from("2026-q3:old:secret")];
        s.check().unwrap();
        assert_eq!(
            s.auth.previous_keys().unwrap(),
            vec![("2026-q3", "old:secret")]
        );
        for bad in ["", "a:b"] {
            s.auth.jwt_key_id = bad.into();
            assert!(s
                .check()
                .unwrap_err()
                .to_string()
                .contains("auth.jwt_key_id"));
        }
    }

    #[test]
    fn production_refuses_public_metrics_unless_said_so() {
        let mut s = Settings::layered(&dir(), "development", false).unwrap();
        s.environment = Environment::Production;
        s.database.url = SecretString::from("postgres://db/meridian");
        s.auth.jwt_secret = random_secret();
        let err = s.check().unwrap_err().to_string();
        assert!(err.contains("metrics.token"), "{err}");
        s.metrics.public = true;
        s.check().unwrap();
        s.metrics.public = false;
        s.metrics.token = random_secret();
        s.check().unwrap();
    }

    #[test]
    fn a_malformed_value_names_its_key() {
        let tmp = std::env::temp_dir().join(format!("meridian-config-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        std::fs::copy(dir().join("default.toml"), tmp.join("default.toml")).unwrap();
        std::fs::write(tmp.join("broken.toml"), "[server]\nport = \"eighty\"\n").unwrap();
        let err = Settings::layered(&tmp, "broken", false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("server.port"), "{err}");
        std::fs::write(
            tmp.join("partial.toml"),
            "[auth]\njwt_secret = 5\nextra_key = 1\n",
        )
        .unwrap();
        let err = Settings::layered(&tmp, "partial", false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("extra_key"), "{err}");
    }

    #[test]
    fn trusted_proxies_take_addresses_and_ranges_from_the_environment() {
        let vars = |value: &str| {
            Some(HashMap::from([(
                "MERIDIAN__SERVER__TRUSTED_PROXIES".to_string(),
                value.to_string(),
            )]))
        };
        let s =
            Settings::layered_with(&dir(), "development", vars("10.0.0.0/8,127.0.0.1")).unwrap();
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        let proxies = &s.server.trusted_proxies;
        assert!(proxies[0].contains(&ip("10.200.3.4")) && !proxies[0].contains(&ip("11.0.0.1")));
        assert!(proxies[1].contains(&ip("127.0.0.1")) && !proxies[1].contains(&ip("127.0.0.2")));
        let err = Settings::layered_with(&dir(), "development", vars("10.0.0.0/8,edge-proxy"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("edge-proxy"), "{err}");
    }

    #[test]
    fn secrets_come_from_files_when_asked() {
        let tmp = std::env::temp_dir().join(format!("meridian-secrets-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        let secret = tmp.join("jwt");
        std::fs::write(&secret, "a-signing-key-mounted-as-a-file-of-meridian\n").unwrap();
        let url = tmp.join("db");
        std::fs::write(&url, "postgres://meridian:from-file@db/meridian").unwrap();
        let vars = HashMap::from([
            (
                "MERIDIAN__AUTH__JWT_SECRET_FILE".to_string(),
                secret.display().to_string(),
            ),
            ("DATABASE_URL_FILE".to_string(), url.display().to_string()),
            ("MERIDIAN__SERVER__PORT".to_string(), "9090".to_string()),
        ]);
        let s = Settings::layered_with(&dir(), "development", Some(vars.clone())).unwrap();
        assert_eq!(
            s.auth.jwt_secret.expose_secret(),
            "a-signing-key-mounted-as-a-file-of-meridian"
        );
        assert_eq!(
            s.database.url.expose_secret(),
            "postgres://meridian:from-file@db/meridian"
        );
        assert_eq!(s.server.port, 9090);
        // An unreadable file names its variable.
        let mut missing = vars.clone();
        missing.insert(
            "MERIDIAN__EMAIL__SMTP_URL_FILE".into(),
            tmp.join("nowhere").display().to_string(),
        );
        let err = Settings::layered_with(&dir(), "development", Some(missing))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("MERIDIAN__EMAIL__SMTP_URL_FILE") && !err.contains('\n'),
            "{err}"
        );
        // A secret given both ways is refused.
        let mut both = vars;
        both.insert("DATABASE_URL".into(), "postgres://db/other".into());
        let err = Settings::layered_with(&dir(), "development", Some(both))
            .unwrap_err()
            .to_string();
        assert!(err.contains("DATABASE_URL_FILE"), "{err}");
    }

    #[test]
    fn secrets_never_print() {
        let mut s = Settings::layered(&dir(), "development", false).unwrap();
        s.auth.jwt_secret = SecretString::from("very-secret-signing-key-of-meridian");
        s.database.url = SecretString::from("postgres://meridian:hunter2@db/meridian");
        let printed = format!("{s:?}");
        assert!(
            !printed.contains("very-secret") && !printed.contains("hunter2"),
            "{printed}"
        );
    }
}
