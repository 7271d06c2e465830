//! What every handler can reach, shared through `web::Data`. It lives apart
//! from the application builder, so that domains depend on the state they
//! use and never on the server that assembles them.

use std::{
    sync::{
        atomic::{AtomicI64, Ordering},
        Arc,
    },
    time::Duration,
};

use crate::{
    auth::token::TokenService,
    config::Settings,
    db::{PgPool, PooledConn},
    resources::stats::KnowledgeCache,
};

/// Configuration, the database pool and the token service of one server
/// thread.
pub struct AppState {
    pub settings: Settings,
    /// The primary's pool. A handler that has a [`crate::auth::Call`]
    /// takes its connections from the call (`conn`, `reader`, `lister`),
    /// never here: the call holds one for it, and a second taken while it
    /// is held could wait for ever on a full pool.
    pub pool: PgPool,
    pub tokens: TokenService,
    /// Version of the newest embedded migration, for `/readyz`.
    pub latest_migration: String,
    /// The last counts of `/stats/knowledge`, shared by the server's threads.
    pub knowledge: Arc<KnowledgeCache>,
    /// The read replica, when one is configured.
    pub replica: Option<Replica>,
}

/// A streaming replica that dashboards and exports read from, and whether
/// it answered lately.
#[derive(Clone)]
pub struct Replica {
    pub pool: PgPool,
    /// Until when (Unix seconds) reads go to the primary after the replica
    /// failed; shared by the server's threads.
    down_until: Arc<AtomicI64>,
}

/// How long reads stay on the primary after the replica failed.
const REPLICA_RETRY: i64 = 10;

impl Replica {
    pub fn new(pool: PgPool, down_until: Arc<AtomicI64>) -> Self {
        Replica { pool, down_until }
    }

    /// Whether reads go to the primary for now.
    pub fn is_down(&self) -> bool {
        chrono::Utc::now().timestamp() < self.down_until.load(Ordering::Relaxed)
    }

    /// A checked connection to the replica, or none (and the primary for a
    /// while) when it does not answer at once.
    async fn connection(&self) -> Option<PooledConn> {
        use diesel_async::RunQueryDsl;
        if self.is_down() {
            return None;
        }
        let checked = tokio::time::timeout(Duration::from_millis(500), async {
            let mut conn = self.pool.get().await.ok()?;
            diesel::sql_query("SELECT 1")
                .execute(&mut *conn)
                .await
                .ok()?;
            Some(conn)
        })
        .await;
        match checked {
            Ok(Some(conn)) => Some(conn),
            _ => {
                let until = chrono::Utc::now().timestamp() + REPLICA_RETRY;
                self.down_until.store(until, Ordering::Relaxed);
                tracing::warn!("the read replica does not answer; reading the primary");
                None
            }
        }
    }
}

impl AppState {
    /// A checked connection to the replica, when one is configured and
    /// answers: for reads that may lag a little (dashboards, exports). A
    /// replica that fails never fails a request; its readers take the
    /// primary ([`crate::auth::Call::reader`]).
    pub async fn replica(&self) -> Option<PooledConn> {
        match &self.replica {
            Some(replica) => replica.connection().await,
            None => None,
        }
    }

    /// Whether dashboards read the replica now.
    pub async fn reader_is_replica(&self) -> bool {
        self.replica().await.is_some()
    }
}
