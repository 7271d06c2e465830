//! The connection pool and the embedded migrations.
//!
//! Requests use diesel-async over tokio-postgres through a deadpool pool, so
//! no handler ever blocks an executor thread on the database.

use anyhow::Context;
use diesel::{sql_query, sql_types::Text, QueryableByName, RunQueryDsl as _};
use diesel_async::{
    async_connection_wrapper::AsyncConnectionWrapper,
    pooled_connection::{deadpool::Pool, AsyncDieselConnectionManager},
    AsyncPgConnection,
};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

/// The pool every request draws from.
pub type PgPool = Pool<AsyncPgConnection>;
/// A connection taken from the pool.
pub type PooledConn = diesel_async::pooled_connection::deadpool::Object<AsyncPgConnection>;

/// The schema, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Any fixed number: instances starting at once migrate one after another.
const MIGRATION_LOCK: i64 = 0x6d65_7269_6469_616e;

/// Builds the pool; connections are opened lazily.
pub fn pool(url: &str, size: usize) -> anyhow::Result<PgPool> {
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new(url);
    Pool::builder(manager)
        .max_size(size)
        .wait_timeout(Some(std::time::Duration::from_secs(5)))
        .create_timeout(Some(std::time::Duration::from_secs(5)))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .context("building the database pool")
}

/// Applies pending migrations under an advisory lock; returns how many ran.
pub async fn migrate(url: &str) -> anyhow::Result<usize> {
    let url = url.to_string();
    tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
        use diesel::Connection;
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::establish(&url)
            .context("connecting to the database to migrate")?;
        sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK})")).execute(&mut conn)?;
        let ran = conn
            .run_pending_migrations(MIGRATIONS)
            .map(|v| v.len())
            .map_err(|e| anyhow::anyhow!("migration failed: {e}"));
        sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})")).execute(&mut conn)?;
        ran
    })
    .await?
}

/// The version of the newest embedded migration.
pub fn latest_migration() -> String {
    use diesel::migration::MigrationSource;
    MigrationSource::<diesel::pg::Pg>::migrations(&MIGRATIONS)
        .ok()
        .and_then(|m| m.iter().map(|m| m.name().version().to_string()).max())
        .unwrap_or_default()
}

#[derive(QueryableByName)]
struct Applied {
    #[diesel(sql_type = Text)]
    version: String,
}

/// True when the database answers and has every embedded migration.
pub async fn is_ready(pool: &PgPool, latest: &str) -> bool {
    let Ok(mut conn) = pool.get().await else {
        return false;
    };
    let applied: Result<Vec<Applied>, _> = diesel_async::RunQueryDsl::load(
        sql_query("SELECT version FROM __diesel_schema_migrations WHERE version = $1")
            .bind::<Text, _>(latest),
        &mut conn,
    )
    .await;
    matches!(applied, Ok(rows) if rows.iter().any(|r| r.version == latest))
}
