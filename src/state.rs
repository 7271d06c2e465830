//! What every handler can reach, shared through `web::Data`. It lives apart
//! from the application builder, so that domains depend on the state they
//! use and never on the server that assembles them.

use std::sync::Arc;

use crate::{
    auth::token::TokenService, config::Settings, db::PgPool, resources::stats::KnowledgeCache,
};

/// Configuration, the database pool and the token service of one server
/// thread.
pub struct AppState {
    pub settings: Settings,
    pub pool: PgPool,
    pub tokens: TokenService,
    /// Version of the newest embedded migration, for `/readyz`.
    pub latest_migration: String,
    /// The last counts of `/stats/knowledge`, shared by the server's threads.
    pub knowledge: Arc<KnowledgeCache>,
}
