//! The connection pool and the embedded migrations.
//!
//! Requests use diesel-async over tokio-postgres through a deadpool pool, so
//! no handler ever blocks an executor thread on the database.

use anyhow::Context;
use diesel::{
    pg::Pg,
    query_builder::{AstPass, Query, QueryFragment, QueryId},
    sql_query,
    sql_types::Text,
    QueryResult, QueryableByName, RunQueryDsl as _,
};
use diesel_async::{
    async_connection_wrapper::AsyncConnectionWrapper,
    pooled_connection::{
        deadpool::Pool, AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
    },
    AsyncPgConnection,
};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use futures_util::FutureExt;

use crate::pg_tls::{SslMode, Target};

/// The pool every request draws from.
pub type PgPool = Pool<AsyncPgConnection>;
/// A connection taken from the pool.
pub type PooledConn = diesel_async::pooled_connection::deadpool::Object<AsyncPgConnection>;

/// The schema, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Any fixed number: instances starting at once migrate one after another.
const MIGRATION_LOCK: i64 = 0x6d65_7269_6469_616e;

/// Builds the pool; connections are opened lazily. A connection handed out
/// again is not probed with a query first (that was a round trip per
/// checkout, two per request): one that broke fails its next query, is
/// marked broken, and is dropped on return.
pub fn pool(url: &str, size: usize) -> anyhow::Result<PgPool> {
    // The URL is read and the TLS set up (its CA file loaded) once, here:
    // a bad one stops the start, and a new connection only connects.
    let link = Link::new(url)?;
    let mut config = ManagerConfig::default();
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(move |_| link.clone().open().boxed());
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
    Pool::builder(manager)
        .max_size(size)
        .wait_timeout(Some(std::time::Duration::from_secs(5)))
        .create_timeout(Some(std::time::Duration::from_secs(5)))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .context("building the database pool")
}

/// Where to connect, and the TLS to connect with (none for `disable`).
#[derive(Clone)]
struct Link {
    target: Target,
    tls: Option<tokio_postgres_rustls::MakeRustlsConnect>,
}

impl Link {
    fn new(url: &str) -> anyhow::Result<Link> {
        let target = Target::parse(url)?;
        let tls = match target.mode {
            SslMode::Disable => None,
            _ => Some(target.connector()?),
        };
        Ok(Link { target, tls })
    }

    async fn open(self) -> diesel::ConnectionResult<AsyncPgConnection> {
        use diesel_async::AsyncConnection;
        let Some(tls) = self.tls else {
            return AsyncPgConnection::establish(&self.target.url).await;
        };
        let (client, connection) = tokio_postgres::connect(&self.target.url, tls)
            .await
            .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))?;
        AsyncPgConnection::try_from_client_and_connection(client, connection).await
    }
}

/// Opens a connection to `url`, over TLS as its `sslmode` asks
/// ([`crate::pg_tls`]): the pool, the worker, migrations and the CLI all
/// connect this way.
pub async fn connect(url: &str) -> diesel::ConnectionResult<AsyncPgConnection> {
    let link =
        Link::new(url).map_err(|e| diesel::ConnectionError::BadConnection(format!("{e:#}")))?;
    link.open().await
}

/// A connection of its own (outside the pools) that LISTENs on `channel`,
/// for a worker to be woken by NOTIFY; `None` when it cannot be had now.
pub async fn listen(url: &str, channel: &str) -> Option<AsyncPgConnection> {
    let mut conn = connect(url).await.ok()?;
    diesel_async::RunQueryDsl::execute(diesel::sql_query(format!("LISTEN {channel}")), &mut conn)
        .await
        .ok()?;
    Some(conn)
}

/// What ended a worker's wait on its [`Listener`].
pub enum Woken<T> {
    /// A notification, the poll interval or the stop signal: look for work.
    Look,
    /// Work of the worker's own finished.
    Done(T),
}

/// A connection LISTENing on a worker's channel, made again when it drops
/// (the worker polls meanwhile).
pub struct Listener {
    url: String,
    channel: &'static str,
    conn: Option<AsyncPgConnection>,
}

impl Listener {
    pub async fn new(url: &str, channel: &'static str) -> Self {
        Listener {
            url: url.to_string(),
            channel,
            conn: listen(url, channel).await,
        }
    }

    /// Waits for a notification, `poll`, `stop` or `own`, whichever comes
    /// first. Notifications that came together wake once.
    pub async fn wait<T>(
        &mut self,
        poll: std::time::Duration,
        stop: &mut tokio::sync::watch::Receiver<bool>,
        own: impl std::future::Future<Output = T>,
    ) -> Woken<T> {
        use futures_util::StreamExt;
        let (woken, alive) = match self.conn.as_mut() {
            Some(conn) => {
                let mut stream = std::pin::pin!(conn.notifications_stream());
                let woken = tokio::select! {
                    done = own => Some(Woken::Done(done)),
                    n = stream.next() => matches!(n, Some(Ok(_))).then_some(Woken::Look),
                    _ = tokio::time::sleep(poll) => Some(Woken::Look),
                    _ = stop.changed() => Some(Woken::Look),
                };
                while let Some(Some(Ok(_))) = stream.next().now_or_never() {}
                let alive = woken.is_some();
                (woken.unwrap_or(Woken::Look), alive)
            }
            None => {
                let woken = tokio::select! {
                    done = own => Woken::Done(done),
                    _ = tokio::time::sleep(poll) => Woken::Look,
                    _ = stop.changed() => Woken::Look,
                };
                (woken, false)
            }
        };
        if !alive {
            self.conn = listen(&self.url, self.channel).await;
        }
        woken
    }
}

/// Applies pending migrations under an advisory lock; returns how many ran.
pub async fn migrate(url: &str) -> anyhow::Result<usize> {
    let conn = connect(url)
        .await
        .context("connecting to the database to migrate")?;
    tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
        let mut conn = AsyncConnectionWrapper::<AsyncPgConnection>::from(conn);
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

/// A query whose prepared statement is kept by the connection and reused,
/// keyed by its SQL text. Diesel prepares again (one more round trip, and
/// PostgreSQL parses and plans again) on every call of a query holding raw
/// SQL (`sql()`, `sql_query`), of every `UPDATE`, and of an `INSERT` with an
/// optional column, because one Rust type may write several texts. Ours vary
/// only with the sort, the filters and the columns present, never with a
/// value (values are always bound), so each connection keeps a handful of
/// them. Not for multi-row inserts, whose text grows with the row count.
#[derive(Debug, Clone, Copy)]
pub struct Prepared<Q>(pub Q);

impl<Q: Query> Query for Prepared<Q> {
    type SqlType = Q::SqlType;
}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Prepared<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q> QueryId for Prepared<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

/// `query.prepared()`: the query, its prepared statement kept (`Prepared`).
pub trait Prepare: Sized {
    fn prepared(self) -> Prepared<Self> {
        Prepared(self)
    }
}

impl<Q> Prepare for Q {}
