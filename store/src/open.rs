//! Picks the backend for a database URL.

use std::sync::Arc;

use crate::all::Store;
use crate::error::{StoreError, StoreResult};
use crate::postgres::PgStore;
use crate::sqlite::SqliteStore;

/// Opens the store named by `url`: `postgres://…` / `postgresql://…` for PostgreSQL, otherwise a SQLite
/// file (`sqlite://path`, `sqlite:path` or a plain path), created with its directory if missing.
/// Migrations are applied before it returns.
pub async fn open(url: &str) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgStore::connect(url).await?))
    } else {
        let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
        if path.is_empty() || path.starts_with(":memory:") {
            return Err(StoreError::Config(
                "SQLite needs a file (an in-memory database is not shared between connections)".into(),
            ));
        }
        Ok(Arc::new(SqliteStore::open(std::path::Path::new(path)).await?))
    }
}
