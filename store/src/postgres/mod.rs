//! The PostgreSQL backend (`DATABASE_URL`): several stateless server instances share one database.

mod tx;
mod tx_sql;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};

use crate::audit::{AuditStore, AuditStoreError, delegate_audit_store};
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
use realname_domain::audit::{Entry, Head};
use realname_domain::session::*;
use realname_domain::vault::Sealed;
use tx::{StepConns, impl_write_tx};

/// A pooled connection idle at least this long is pinged before use.
const IDLE_CHECK: Duration = Duration::from_secs(30);

/// How many connections run write transactions at most. Few: the database's cores are shared by its
/// backends, and steps that wait for a row lock (all sends from one IP count on one row) hold theirs; on a
/// 2-core machine 8 gave about a sixth less PostgreSQL CPU per flow and a third lower p99 than 16, and 4 no
/// better than 8 (docs/performance.md).
const STEP_CONNS: usize = 8;
/// How many connections serve session reads at most (the pool keeps 8 for everything else).
const READERS: usize = 8;

/// The PostgreSQL store.
#[derive(Clone, Debug)]
pub struct PgStore {
    pub(crate) pool: PgPool,
    /// The same pool (PostgreSQL's row locks order writers); named apart so the shared SQL can route.
    pub(crate) writer: PgPool,
    /// The connections of write transactions (`postgres/tx.rs`), apart from the pool.
    steps: std::sync::Arc<StepConns>,
    /// The connections of session reads (two per flow), apart from the pool: sqlx's pool pings every
    /// connection it takes back, a round trip per read.
    readers: std::sync::Arc<StepConns>,
}

/// `application_name` of the store's connections unless `DATABASE_URL` gives one.
pub const APPLICATION_NAME: &str = "realname-server";

impl PgStore {
    /// Connects to `url` (`postgres://…`) and migrates the database.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url).map_err(|e| StoreError::Config(format!("DATABASE_URL: {e}")))?;
        Self::connect_with(options).await
    }

    /// Connects to `url` with every table in `schema` (created if missing; `[a-z_][a-z0-9_]*`), e.g. to let
    /// tests or several deployments share one database.
    pub async fn connect_in_schema(url: &str, schema: &str) -> StoreResult<Self> {
        let valid = schema.len() <= 63
            && schema.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && schema.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(StoreError::Config(format!("invalid schema name {schema:?}")));
        }
        let options = PgConnectOptions::from_str(url).map_err(|e| StoreError::Config(format!("DATABASE_URL: {e}")))?;
        let admin = PgPoolOptions::new().max_connections(1).connect_with(options.clone()).await?;
        let created = sqlx::query(&format!("CREATE SCHEMA IF NOT EXISTS {schema}")).execute(&admin).await;
        if let Err(e) = created {
            // IF NOT EXISTS still races when instances start together; the loser finds the schema there.
            let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_namespace WHERE nspname = $1")
                .bind(schema)
                .fetch_optional(&admin)
                .await?;
            if exists.is_none() {
                return Err(e.into());
            }
        }
        admin.close().await;
        Self::connect_with(options.options([("search_path", schema)])).await
    }

    /// Connects with explicit options and migrates.
    pub async fn connect_with(options: PgConnectOptions) -> StoreResult<Self> {
        // Operators see which service holds a connection in `pg_stat_activity`; a URL's own name is kept.
        let options = match options.get_application_name() {
            Some(_) => options,
            None => options.application_name(APPLICATION_NAME),
        };
        let steps = StepConns::new(options.clone(), STEP_CONNS);
        let readers = StepConns::readers(options.clone(), READERS);
        let pool = PgPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            // sqlx pings every connection before handing it out: a network round trip per statement. Only a
            // connection idle long enough for a firewall or a server restart to have cut it is checked.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= IDLE_CHECK {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await?;
        crate::migrate::postgres().await?.run(&pool).await?;
        Ok(Self { writer: pool.clone(), pool, steps, readers })
    }

    /// The connection pool, for storage areas implemented in their own files (review, complaints, audit).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
        self.steps.close().await;
        self.readers.close().await;
    }
}

impl_store!(
    PgStore,
    PgRow,
    sqlx::PgConnection,
    // SKIP LOCKED lets concurrent workers take disjoint batches; the outer conditions are re-checked on
    // the locked row, so a delivery is never leased twice.
    claim = concat!(
        "UPDATE webhook_deliveries SET lease_owner = $1, lease_until = $2, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= $3 \
         AND (lease_until IS NULL OR lease_until <= $3) ORDER BY next_attempt_at, id LIMIT $4 \
         FOR UPDATE SKIP LOCKED) \
         AND state = 'pending' AND (lease_until IS NULL OR lease_until <= $3) RETURNING ",
        delivery_cols!()
    )
);

impl PgStore {
    /// See [`super::Maintenance::flush_erased`]: PostgreSQL's vacuum and WAL recycling do it.
    #[expect(clippy::unused_async, reason = "the SQLite store's counterpart waits for its checkpoint")]
    async fn flush_files(&self) -> StoreResult<bool> {
        Ok(true)
    }

    async fn read_session(&self, id: &str) -> StoreResult<Option<Session>> {
        let mut reader = self.readers.acquire().await?;
        let session = session_on(reader.conn()?, id).await?;
        reader.release();
        Ok(session)
    }
}

impl_write_tx!(PgStore);

impl_housekeeping!(PgStore, backend = "postgres");

impl PgStore {
    async fn chain_pending_events(
        &self,
        key: &realname_domain::audit::ChainKey,
        limit: i64,
    ) -> Result<u64, AuditStoreError> {
        self.writer.audit_chain_pending(key, limit).await
    }
}

delegate_audit_store!(PgStore);
