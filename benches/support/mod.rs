//! What the benchmarks share: a PostgreSQL to run on and fresh databases.

use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use meridian::{db, local_pg::LocalPostgres};

/// A fresh, migrated database named `name`, on `MERIDIAN_BENCH_DATABASE_URL`
/// (a URL of a server's `postgres` database) or on a private cluster.
pub async fn fresh_database(name: &str) -> anyhow::Result<String> {
    let admin_url = match std::env::var("MERIDIAN_BENCH_DATABASE_URL") {
        Ok(url) => url,
        Err(_) => {
            let pg = tokio::task::spawn_blocking(|| -> anyhow::Result<LocalPostgres> {
                let dir = std::env::temp_dir().join("meridian-bench-postgres");
                let pg = LocalPostgres::new(&dir, 54349)?.throwaway();
                pg.ensure_running()?;
                Ok(pg)
            })
            .await??;
            pg.url("postgres")
        }
    };
    let base = admin_url
        .rsplit_once('/')
        .map(|(b, _)| b)
        .unwrap_or(&admin_url);
    let mut admin = AsyncPgConnection::establish(&admin_url).await?;
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&mut admin)
        .await?;
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await?;
    let url = format!("{base}/{name}");
    db::migrate(&url).await?;
    Ok(url)
}

/// The settings of the `test` environment, the base of every benchmark.
pub fn settings() -> anyhow::Result<meridian::config::Settings> {
    meridian::config::Settings::layered(
        &std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("config"),
        "test",
        false,
    )
}
