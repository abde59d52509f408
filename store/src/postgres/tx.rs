//! PostgreSQL's write transactions ([`super::WriteTx`], [`super::TxStore`]): a request step's statements in one
//! transaction, on a connection of a small set of its own ([`StepConns`]), in as few round trips as the trait's
//! call-by-call shape allows. (SQLite's are in `sqlite/tx.rs`.)
//!
//! Every round trip counts twice here: PostgreSQL's backends share the machine's cores with the server, and a
//! step holds row locks from its first write until its commit — the sending limits' per-IP counter row is one
//! row for every request from that IP, so its lock is held by one step at a time, from the counter upsert
//! to the `COMMIT`, and that span bounds the throughput of everything behind one address. So:
//! - A connection is handed out already inside a transaction: a commit sends `COMMIT; BEGIN` as one simple
//!   query, and the next step on that connection pays no round trip for `BEGIN`. A bare `BEGIN` takes no
//!   snapshot, transaction id or lock (READ COMMITTED takes the snapshot at the first statement), so an idle
//!   connection holds nothing back; it shows as "idle in transaction", and the connections opt out of
//!   `idle_in_transaction_session_timeout`.
//! - The audit events of a step (`audit_pending`, each step's last write) go out with that `COMMIT`, in the
//!   same simple query, as literals quoted like libpq's `PQescapeLiteral` (they are ids and reason codes,
//!   never personal data). A rolled-back step writes none, as before.
//! - A code's insert and the invalidation of the session's older codes are one statement (a data-modifying
//!   CTE) instead of two.
//! - The connections are not in sqlx's pool, which pings every connection it takes back (a round trip per
//!   step). A step dropped without commit is rolled back (`ROLLBACK; BEGIN`) in a task before its connection
//!   is reused (sqlx first drains whatever a cancelled statement left on it); a connection that fails at that
//!   or at a commit is closed, which makes PostgreSQL roll its transaction back.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection as _, Executor as _};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::tx_sql::{SEND_REFUSED, audit_pending_literal, send_limits_literal, step_error};
use crate::error::{StoreError, StoreResult};

/// A connection idle at least this long is pinged before a step gets it (as the pool does for its own).
const IDLE_CHECK: Duration = Duration::from_secs(30);
/// How long `begin_write` waits for a free connection.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(30);
/// Every statement of the steps and reads is a lookup by key whose plan does not depend on the values: a
/// prepared statement's generic plan is used from its first execution instead of planning it again each time
/// (PostgreSQL's default re-plans the first five, and always where it finds a custom plan cheaper).
const GENERIC_PLANS: (&str, &str) = ("plan_cache_mode", "force_generic_plan");
/// Ends a step and starts the connection's next transaction, in one round trip.
const COMMIT_AND_BEGIN: &str = "COMMIT; BEGIN";
/// Rolls a dropped step back and starts the connection's next transaction.
const ROLLBACK_AND_BEGIN: &str = "ROLLBACK; BEGIN";

/// The insert of a code that also invalidates the session's older codes (only the newest is ever checked):
/// one statement instead of two. The update does not see the new row (every part of a statement sees the same
/// snapshot), and a concurrent insert it cannot see either is newer anyway, as with two statements.
pub(crate) const ISSUE_CODE: &str = concat!(
    "WITH c AS (INSERT INTO codes (session_id, code_hmac, channel, sent_at, expires_at, attempts, state) \
     VALUES ($1, $2, $3, $4, $5, 0, 'active') RETURNING ",
    crate::sql::code_cols!(),
    "), older AS (UPDATE codes SET state = 'invalidated' \
     WHERE session_id = $1 AND state = 'active' AND id < (SELECT id FROM c)) \
     SELECT * FROM c"
);

/// The connections that run write transactions, each idle one already inside a transaction (see the module
/// documentation); or, made with [`StepConns::readers`], plain connections for the reads every request makes
/// (no release ping either). At most `size` exist at once; the most recently used idle one is handed out first.
pub(crate) struct StepConns {
    options: PgConnectOptions,
    /// Whether an idle connection is kept inside a transaction (write steps) or not (readers).
    in_tx: bool,
    idle: Mutex<Vec<(PgConnection, Instant)>>,
    permits: Arc<Semaphore>,
}

impl std::fmt::Debug for StepConns {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StepConns").field("available", &self.permits.available_permits()).finish_non_exhaustive()
    }
}

impl StepConns {
    /// At most `size` connections made with `options`, opened when first needed.
    pub(crate) fn new(options: PgConnectOptions, size: usize) -> Arc<Self> {
        let options = options.options([("idle_in_transaction_session_timeout", "0"), GENERIC_PLANS]);
        Arc::new(Self {
            options,
            in_tx: true,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(size.max(1))),
        })
    }

    /// At most `size` plain connections (autocommit) for single reads, released with [`StepConn::release`].
    pub(crate) fn readers(options: PgConnectOptions, size: usize) -> Arc<Self> {
        let options = options.options([GENERIC_PLANS]);
        Arc::new(Self {
            options,
            in_tx: false,
            idle: Mutex::new(Vec::new()),
            permits: Arc::new(Semaphore::new(size.max(1))),
        })
    }

    /// A connection inside a fresh transaction, waiting up to [`ACQUIRE_TIMEOUT`] for one to be free.
    pub(crate) async fn acquire(self: &Arc<Self>) -> StoreResult<StepConn> {
        let permit = tokio::time::timeout(ACQUIRE_TIMEOUT, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| StoreError::Database(sqlx::Error::PoolTimedOut))?
            .map_err(|_| StoreError::Database(sqlx::Error::PoolClosed))?;
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let conn = match idle {
            Some((conn, since)) if since.elapsed() < IDLE_CHECK => conn,
            // Long idle: a firewall or a server restart may have cut it.
            Some((mut conn, _)) => match conn.ping().await {
                Ok(()) => conn,
                Err(_) => self.open().await?,
            },
            None => self.open().await?,
        };
        Ok(StepConn { conn: Some(conn), _permit: permit, home: self.clone() })
    }

    async fn open(&self) -> StoreResult<PgConnection> {
        let mut conn = PgConnection::connect_with(&self.options).await?;
        if self.in_tx {
            conn.execute(format!("{}; BEGIN", super::tx_sql::prepare_all()).as_str()).await?;
        }
        Ok(conn)
    }

    fn put_back(&self, conn: PgConnection) {
        if self.permits.is_closed() {
            return;
        }
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).push((conn, Instant::now()));
    }

    /// Closes every idle connection; connections in use are closed when their steps end.
    pub(crate) async fn close(&self) {
        self.permits.close();
        let idle = std::mem::take(&mut *self.idle.lock().unwrap_or_else(PoisonError::into_inner));
        for (conn, _) in idle {
            let _ = conn.close().await;
        }
    }
}

/// A connection of [`StepConns`] in use by one step; dropped without [`StepConn::finish`], it is closed.
pub(crate) struct StepConn {
    conn: Option<PgConnection>,
    _permit: OwnedSemaphorePermit,
    home: Arc<StepConns>,
}

impl StepConn {
    /// The connection, for the step's statements.
    pub(crate) fn conn(&mut self) -> StoreResult<&mut PgConnection> {
        self.conn.as_mut().ok_or(StoreError::Database(sqlx::Error::PoolClosed))
    }

    /// Hands a reader's connection back after a statement that finished (one dropped mid-statement, or after
    /// an error, is closed with the `StepConn` instead).
    pub(crate) fn release(mut self) {
        if let Some(conn) = self.conn.take() {
            self.home.put_back(conn);
        }
    }

    /// Runs `sql` (a simple query ending with `BEGIN`) and hands the connection back; closes it on failure.
    pub(crate) async fn finish(self, sql: &str) -> StoreResult<()> {
        if self.finish_unless_refused(sql).await? {
            Ok(())
        } else {
            // Only a statement of `send_limits_literal` refuses, and `sql` had none.
            Err(StoreError::Conflict)
        }
    }

    /// As [`StepConn::finish`], but a [`SEND_REFUSED`] failure (which skipped the rest of `sql`) rolls the
    /// transaction back, hands the connection back and answers false. Any other error PostgreSQL reports
    /// (a failed check, a constraint) also rolls back and keeps the connection; one of the connection closes it.
    pub(crate) async fn finish_unless_refused(mut self, sql: &str) -> StoreResult<bool> {
        let Some(mut conn) = self.conn.take() else {
            return Err(StoreError::Database(sqlx::Error::PoolClosed));
        };
        // A `&str` without arguments goes out as one simple query, which may hold several statements.
        let done = match conn.execute(sql).await {
            Ok(_) => Ok(Ok(true)),
            // The transaction failed and is known to be aborted: roll it back and keep the connection.
            Err(sqlx::Error::Database(db)) => {
                let refused = db.code().as_deref() == Some(SEND_REFUSED);
                let answer = if refused { Ok(false) } else { Err(step_error(sqlx::Error::Database(db))) };
                conn.execute(ROLLBACK_AND_BEGIN).await.map(|_| answer)
            }
            Err(e) => Err(e),
        };
        match done {
            Ok(answer) => {
                self.home.put_back(conn);
                answer
            }
            // The transaction's state is unknown: closing the connection makes PostgreSQL roll it back.
            Err(e) => {
                let _ = conn.close().await;
                Err(e.into())
            }
        }
    }

    /// Rolls the step back in a task and hands the connection back (for a step dropped without commit).
    fn roll_back_later(self) {
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                let _ = self.finish(ROLLBACK_AND_BEGIN).await;
            });
        }
        // Without a runtime the connection is dropped with `self`: closed, rolled back by PostgreSQL.
    }
}

/// A step's transaction on PostgreSQL: its connection and the statements that go out with the commit (or
/// before the step's next statement that needs an answer).
pub(crate) struct PgStepTx {
    conn: Option<StepConn>,
    deferred: Vec<String>,
}

impl PgStepTx {
    pub(crate) fn new(conn: StepConn) -> Self {
        Self { conn: Some(conn), deferred: Vec::new() }
    }

    /// The connection, for one statement of the step, once the deferred statements before it ran (their
    /// failure is the statement's: the step is over).
    pub(crate) async fn conn(&mut self) -> StoreResult<&mut PgConnection> {
        let conn = self.conn.as_mut().ok_or(StoreError::Database(sqlx::Error::PoolClosed))?.conn()?;
        if !self.deferred.is_empty() {
            let sql = std::mem::take(&mut self.deferred).join("; ");
            conn.execute(sql.as_str()).await.map_err(step_error)?;
        }
        Ok(conn)
    }

    /// Runs the deferred statements and then `sql` (a simple query with literal values) in one round trip, and
    /// answers `sql`'s rows: deferred statements return none (their checks fail instead).
    pub(crate) async fn fetch_last(&mut self, sql: &str) -> StoreResult<Vec<sqlx::postgres::PgRow>> {
        let conn = self.conn.as_mut().ok_or(StoreError::Database(sqlx::Error::PoolClosed))?.conn()?;
        let mut all = std::mem::take(&mut self.deferred);
        all.push(sql.to_owned());
        let all = all.join("; ");
        // A `&str` without arguments goes out as one simple query.
        conn.fetch_all(all.as_str()).await.map_err(step_error)
    }

    /// Sends `sql` (see `postgres/tx_sql.rs`) with the commit or before the next statement, whichever is first.
    pub(crate) fn defer(&mut self, sql: String) {
        self.deferred.push(sql);
    }

    /// Keeps `events` for the commit; the quoting errors (a NUL byte) surface here.
    pub(crate) fn defer_audit(&mut self, at: i64, events: &[realname_domain::audit::Event]) -> StoreResult<()> {
        let sql = audit_pending_literal(at, events)?;
        if !sql.is_empty() {
            self.deferred.push(sql);
        }
        Ok(())
    }

    /// Sends the deferred statements and commits, in one round trip.
    pub(crate) async fn commit(mut self) -> StoreResult<()> {
        let (conn, sql) = self.commit_sql(String::new())?;
        conn.finish(&sql).await
    }

    /// Sends the deferred statements, counts `counters` (see [`send_limits_literal`]) and commits, in one round
    /// trip; false, rolled back, when a count went over its limit.
    pub(crate) async fn commit_within_limits(
        self,
        counters: &[(&str, i64, u64)],
        session: Option<(&str, u32)>,
        now: i64,
    ) -> StoreResult<bool> {
        let check = send_limits_literal(counters, session, now)?;
        self.commit_after(check).await
    }

    /// The counters go last: a shared counter's row is locked from its update to the `COMMIT` right after.
    async fn commit_after(mut self, last: String) -> StoreResult<bool> {
        let (conn, sql) = self.commit_sql(last)?;
        conn.finish_unless_refused(&sql).await
    }

    /// Takes the connection and the commit's simple query: the deferred statements, `last` (if any), `COMMIT`.
    fn commit_sql(&mut self, last: String) -> StoreResult<(StepConn, String)> {
        let conn = self.conn.take().ok_or(StoreError::Database(sqlx::Error::PoolClosed))?;
        let mut parts = std::mem::take(&mut self.deferred);
        if !last.is_empty() {
            parts.push(last);
        }
        parts.push(COMMIT_AND_BEGIN.to_owned());
        Ok((conn, parts.join("; ")))
    }
}

impl Drop for PgStepTx {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            conn.roll_back_later();
        }
    }
}

/// [`super::WriteTx`] for [`PgStepTx`] and [`super::TxStore`] for the PostgreSQL store, from the statement
/// functions `impl_statements!` generated in `postgres.rs`.
macro_rules! impl_write_tx {
    ($store:ty) => {
        /// A write transaction on PostgreSQL.
        struct StepTx(crate::postgres::tx::PgStepTx);

        #[async_trait]
        impl WriteTx for StepTx {
            async fn remember_envelope(
                &mut self,
                session_id: &str,
                envelope_id: &[u8],
                expires_at: UnixMillis,
            ) -> StoreResult<bool> {
                remember_envelope_on(self.0.conn().await?, session_id, envelope_id, expires_at).await
            }

            async fn create_session(&mut self, new: &NewSession) -> StoreResult<Session> {
                create_session_on(self.0.conn().await?, new).await
            }

            async fn update_session(&mut self, s: &Session) -> StoreResult<Session> {
                update_session_on(self.0.conn().await?, s).await
            }

            async fn codes_sent(&mut self, session_id: &str) -> StoreResult<u32> {
                codes_sent_on(self.0.conn().await?, session_id).await
            }

            async fn rate_hits(&mut self, hits: &[(&str, i64)], now: UnixMillis) -> StoreResult<Vec<u64>> {
                rate_hits_on(self.0.conn().await?, hits, now).await
            }

            async fn issue_code(&mut self, new: &NewCode) -> StoreResult<Code> {
                let row = sqlx::query(crate::postgres::tx::ISSUE_CODE)
                    .bind(&new.session_id)
                    .bind(&new.code_hmac)
                    .bind(&new.channel)
                    .bind(new.sent_at)
                    .bind(new.expires_at)
                    .fetch_one(self.0.conn().await?)
                    .await
                    .map_err(missing_parent)?;
                code_from_row(&row)
            }

            async fn take_code_attempt(
                &mut self,
                session_id: &str,
                max_attempts: u32,
                now: UnixMillis,
            ) -> StoreResult<CodeAttempt> {
                // The first try goes out with the statements deferred before it (the step's replay guard).
                let sql = crate::postgres::tx_sql::take_attempt(session_id, max_attempts, now)?;
                if let Some(row) = self.0.fetch_last(&sql).await?.first() {
                    return Ok(CodeAttempt::Check(code_from_row(row)?));
                }
                take_code_attempt_on(self.0.conn().await?, session_id, max_attempts, now).await
            }

            async fn consume_code(&mut self, code_id: i64, now: UnixMillis) -> StoreResult<bool> {
                consume_code_on(self.0.conn().await?, code_id, now).await
            }

            async fn enqueue_delivery(&mut self, new: &NewDelivery) -> StoreResult<i64> {
                enqueue_delivery_on(self.0.conn().await?, new).await
            }

            async fn rate_refunds(&mut self, hits: &[(&str, i64)], now: UnixMillis) -> StoreResult<()> {
                let conn = self.0.conn().await?;
                for (key, start, _) in crate::sql::rate_windows(hits, now)? {
                    sqlx::query(crate::sql::step::RATE_REFUND).bind(key).bind(start).execute(&mut *conn).await?;
                }
                Ok(())
            }

            async fn bind_identity(
                &mut self,
                site_id: &str,
                blind_index: &[u8],
                account: &str,
                limit: u32,
                now: UnixMillis,
            ) -> StoreResult<bool> {
                bind_identity_on(self.0.conn().await?, site_id, blind_index, account, limit, now).await
            }

            async fn create_case(
                &mut self,
                c: &crate::review::NewCase,
                images: &[crate::review::CaseImage],
            ) -> StoreResult<()> {
                let conn = self.0.conn().await?;
                crate::review::create_case_on!(conn, c, images);
                Ok(())
            }

            async fn audit_pending(
                &mut self,
                at: UnixMillis,
                events: &[realname_domain::audit::Event],
            ) -> StoreResult<()> {
                self.0.defer_audit(at, events)
            }

            async fn commit(self: Box<Self>) -> StoreResult<()> {
                self.0.commit().await
            }

            async fn remember_envelope_at_commit(
                &mut self,
                session_id: &str,
                envelope_id: &[u8],
                expires_at: UnixMillis,
            ) -> StoreResult<()> {
                self.0.defer(crate::postgres::tx_sql::remember_envelope(session_id, envelope_id, expires_at)?);
                Ok(())
            }

            async fn create_session_at_commit(&mut self, new: &NewSession) -> StoreResult<Session> {
                self.0.defer(crate::postgres::tx_sql::create_session(new)?);
                Ok(crate::postgres::tx_sql::created(new))
            }

            async fn update_session_at_commit(&mut self, s: &Session) -> StoreResult<Session> {
                self.0.defer(crate::postgres::tx_sql::update_session(s)?);
                Ok(Session { version: s.version + 1, ..s.clone() })
            }

            async fn issue_code_at_commit(&mut self, new: &NewCode) -> StoreResult<()> {
                self.0.defer(crate::postgres::tx_sql::issue_code(new)?);
                Ok(())
            }

            async fn consume_code_at_commit(&mut self, code_id: i64, now: UnixMillis) -> StoreResult<()> {
                self.0.defer(crate::postgres::tx_sql::consume_code(code_id, now));
                Ok(())
            }

            async fn commit_within_limits(
                self: Box<Self>,
                counters: &[(&str, i64, u64)],
                session: Option<(&str, u32)>,
                now: UnixMillis,
            ) -> StoreResult<bool> {
                self.0.commit_within_limits(counters, session, now).await
            }
        }

        #[async_trait]
        impl TxStore for $store {
            async fn begin_write(&self) -> StoreResult<Box<dyn WriteTx>> {
                Ok(Box::new(StepTx(crate::postgres::tx::PgStepTx::new(self.steps.acquire().await?))))
            }
        }
    };
}

pub(crate) use impl_write_tx;
