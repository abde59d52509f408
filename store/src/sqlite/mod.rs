//! The embedded SQLite backend: one file (default under `./data/`), WAL journal, busy timeout.

mod audit;
mod files;
mod gate;
mod read;
mod tx;

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};

use crate::audit::{AuditStoreError, delegate_audit_store};
use crate::error::{StoreError, StoreResult};
use crate::housekeeping::impl_housekeeping;
use crate::shared::impl_store;
use crate::sql::{
    CODE_GRACE_MS, count_u32, counts_in_order, delivery_cols, expirable_statuses, rate_windows, session_cols, step,
    terminal_statuses, window,
};
use crate::statements::impl_statements;
use crate::traits::*;
use crate::types::*;
use read::Readers;
use realname_domain::audit::{Entry, Head};
use realname_domain::session::*;
use realname_domain::vault::Sealed;
use tx::TxConnection;

/// The SQLite store.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    /// Readers, and writers from storage areas that use `pool()` (WAL lets reads run beside the writer).
    pub(crate) pool: SqlitePool,
    /// The one writing connection of the core storage in this process: writers queue here instead of in
    /// SQLite's busy handler, which sleeps in steps of up to 100 ms. Other processes are still kept apart
    /// by the busy timeout.
    pub(crate) writer: SqlitePool,
    /// The connection the request steps' write transactions run on (see `sqlite/tx.rs`). A second writing
    /// connection beside `writer`: the two take turns through SQLite's write lock.
    pub(crate) tx: TxConnection,
    /// Synchronous readers for the reads of every request (see `sqlite/tx.rs`).
    pub(crate) readers: Readers,
    /// Keeps the WAL checkpointer thread running while any clone of the store lives.
    _alive: std::sync::Arc<()>,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens (creating if needed, with its directory) the database file at `path` and migrates it. The files are
    /// private to the server's user (`files.rs`).
    pub async fn open(path: &Path) -> StoreResult<Self> {
        files::make_private(path)?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            // New files only (an existing file keeps its page size): every B-tree a request step touches costs
            // a whole page in its commit's WAL append, and half-size pages halve those bytes.
            .page_size(2048)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            // Erased personal data (even sealed) is zeroed on disk, not left in freed cells and pages (review).
            .pragma("secure_delete", "ON");
        // No ping before each acquire: a local file cannot drop the connection, and the ping is a round trip
        // to the connection's worker thread on every statement (sqlx still checks each one on release).
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        crate::migrate::sqlite().await?.run(&writer).await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        let tx = TxConnection::open(path)?;
        let readers = Readers::open(path)?;
        let alive = std::sync::Arc::new(());
        read::spawn_checkpointer(path, std::sync::Arc::downgrade(&alive))?;
        Ok(Self { pool, writer, tx, readers, _alive: alive, path: path.to_path_buf() })
    }

    /// See [`super::Maintenance::flush_erased`]: a TRUNCATE checkpoint, on a blocking thread.
    async fn flush_files(&self) -> StoreResult<bool> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || read::truncate_wal(&path))
            .await
            .map_err(|e| StoreError::Config(format!("the WAL truncation did not finish: {e}")))?
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The connection pool, for storage areas implemented in their own files (review, complaints, audit).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The single writing connection; writes sent here queue in-process instead of busy-waiting.
    pub fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// Closes every connection (checkpointing the WAL).
    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }
}

impl_store!(
    SqliteStore,
    SqliteRow,
    sqlx::SqliteConnection,
    claim = concat!(
        "UPDATE webhook_deliveries SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= $3 \
         AND (lease_until IS NULL OR lease_until <= $3) ORDER BY next_attempt_at, id LIMIT $4) RETURNING ",
        delivery_cols!()
    )
);

impl SqliteStore {
    /// Reads on one of the synchronous readers (microseconds, no hand-off to a connection thread), or on
    /// sqlx's pool when all of them are in use.
    async fn read_session(&self, id: &str) -> StoreResult<Option<Session>> {
        if let Some(read) = self.readers.session(id) {
            return read;
        }
        session_on(&mut *self.pool.acquire().await?, id).await
    }
}

#[async_trait]
impl TxStore for SqliteStore {
    async fn begin_write(&self) -> StoreResult<Box<dyn WriteTx>> {
        self.tx.begin().await
    }
}

impl_housekeeping!(SqliteStore, backend = "sqlite");

impl SqliteStore {
    /// On the step transactions' connection (`sqlite/audit.rs`), not sqlx's writer; sealed on a reader.
    async fn chain_pending_events(
        &self,
        key: &realname_domain::audit::ChainKey,
        limit: i64,
    ) -> Result<u64, AuditStoreError> {
        self.tx.audit_chain_pending(&self.readers, key, limit).await
    }
}

delegate_audit_store!(SqliteStore);
