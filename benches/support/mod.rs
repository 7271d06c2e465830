//! What the benchmarks share: a PostgreSQL to run on, fresh databases, and
//! a driver of concurrent requests.

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

/// What a run of requests measured. (Not every benchmark drives requests:
/// the others leave this and `drive` unused.)
#[allow(dead_code)]
pub struct Run {
    pub requests: usize,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: usize,
}

/// Sends one request per item, the items split over `concurrency` tasks,
/// and counts every answer other than `expected` as an error.
#[allow(dead_code)]
pub async fn drive<I, F, Fut>(concurrency: usize, items: Vec<I>, expected: u16, send: F) -> Run
where
    I: Send + 'static,
    F: Fn(I) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = reqwest::Result<reqwest::Response>> + Send,
{
    let started = std::time::Instant::now();
    let mut shares: Vec<Vec<I>> = (0..concurrency).map(|_| Vec::new()).collect();
    for (i, item) in items.into_iter().enumerate() {
        shares[i % concurrency].push(item);
    }
    let tasks: Vec<_> = shares
        .into_iter()
        .map(|share| {
            let send = send.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0;
                for item in share {
                    let t = std::time::Instant::now();
                    let res = send(item).await;
                    if !matches!(res, Ok(ref r) if r.status() == expected) {
                        errors += 1;
                    }
                    latencies.push(t.elapsed());
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let (l, e) = task.await.expect("a request task");
        latencies.extend(l);
        errors += e;
    }
    let secs = started.elapsed().as_secs_f64();
    latencies.sort();
    let percentile = |p: f64| {
        let i = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies[i].as_secs_f64() * 1000.0
    };
    Run {
        requests: latencies.len(),
        per_second: latencies.len() as f64 / secs,
        p50_ms: percentile(0.5),
        p99_ms: percentile(0.99),
        errors,
    }
}
