//! SQLite's write transactions ([`super::WriteTx`]) on one `rusqlite` connection, run without an await point
//! between `BEGIN IMMEDIATE` and `COMMIT`.
//!
//! Why not sqlx here: sqlx runs each SQLite connection on its own thread, so every statement is a hand-off to
//! that thread and back, and the request's task then waits in tokio's run queue behind other requests' CPU
//! work (HPKE, sealing) — all while it holds the database's one write lock. Measured, that left the writer
//! mostly waiting and the cores mostly idle. Here the statements run synchronously on the task's own thread:
//! each takes microseconds on a WAL file with `synchronous=NORMAL`, so a step's transaction holds the lock for
//! its statements only. The lock itself is queued in-process ([`super::gate::Gate`]) and, across
//! connections and processes, by retrying `BEGIN IMMEDIATE` asynchronously (busy timeout 0 on this connection:
//! SQLite's busy handler would sleep on a runtime thread). The SQL is the one the sqlx backends run
//! (`sql::step`), with `$n` parameters rewritten to SQLite's equivalent `?n`.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use rusqlite::{Connection, OpenFlags, Row, ToSql, params};
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::watch;

use super::gate::{Gate, GateGuard};
use super::read::WAL_SIZE_LIMIT;

use crate::error::{StoreError, StoreResult};
use crate::shared::Binding;
use crate::sql::{count_u32, counts_in_order, rate_windows, step};
use crate::traits::WriteTx;
use crate::types::{Code, CodeAttempt, CodeState, NewCode, NewDelivery, UnixMillis};
use realname_domain::session::{Consent, Methods, NewSession, SealedIdentity, Session, SessionStatus};
use realname_domain::vault::Sealed;

/// How long `BEGIN IMMEDIATE` is retried while another connection or process writes (as sqlx's busy timeout).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How many finished steps one batch holds at most before it commits even with more steps queued.
const MAX_BATCH: u32 = 64;

/// How long a finished step waits for the rest of its batch to commit it before committing it itself (only
/// reached when every step queued after it went away, e.g. a cancelled request).
const STRAGGLER: Duration = Duration::from_millis(20);

/// The connection write transactions run on, shared by the store's clones.
#[derive(Clone)]
pub(crate) struct TxConnection(Arc<Shared>);

/// Group commit: steps run one at a time as savepoints inside one open transaction (a batch), and the last
/// step of those queued meanwhile commits them all. Each COMMIT appends every page the batch touched to the
/// WAL once, where a COMMIT per step appended the shared pages (indexes, the tables' last pages) per step —
/// measured, WAL appends were a third of the server's CPU. A step's `commit` returns only once its batch is
/// committed, so no answer reports a write that could still be lost, and no reader misses it afterwards.
struct Shared {
    writer: Arc<Gate<Writer>>,
    /// Steps waiting for the connection: while any wait, a finished step leaves the COMMIT to them.
    waiting: AtomicUsize,
    /// The id of the last batch that ended (ids grow; one batch is open at a time).
    ended: watch::Sender<u64>,
    /// Recent batches whose COMMIT failed (rare; the oldest are forgotten past [`MAX_BATCH`] entries).
    failed: std::sync::Mutex<Vec<u64>>,
}

/// The connection and its open batch.
pub(super) struct Writer {
    conn: Connection,
    /// The open batch's id and how many finished steps it holds.
    open: Option<(u64, u32)>,
    next: u64,
}

impl Shared {
    /// Commits the open batch (rolls it back when COMMIT fails) and tells its steps.
    fn end_batch(&self, w: &mut Writer) -> StoreResult<()> {
        let Some((id, _)) = w.open.take() else { return Ok(()) };
        let done = w.conn.execute_batch("COMMIT");
        if done.is_err() {
            let _ = w.conn.execute_batch("ROLLBACK");
            if let Ok(mut failed) = self.failed.lock() {
                if failed.len() >= MAX_BATCH as usize {
                    failed.remove(0);
                }
                failed.push(id);
            }
        }
        self.ended.send_replace(id);
        Ok(done?)
    }

    /// Waits until batch `id` ended, committing it if no step is left to do so; its outcome.
    async fn wait_for(self: Arc<Self>, id: u64) -> StoreResult<()> {
        let mut ended = self.ended.subscribe();
        while *ended.borrow_and_update() < id {
            if tokio::time::timeout(STRAGGLER, ended.changed()).await.is_err() {
                let mut w = self.writer.lock().await;
                if w.open.is_some_and(|(open, _)| open == id) {
                    self.end_batch(&mut w)?;
                }
            }
        }
        match self.failed.lock() {
            Ok(failed) if failed.contains(&id) => Err(StoreError::Corrupt(format!("batch {id} failed to commit"))),
            _ => Ok(()),
        }
    }
}

/// Counts a step as waiting for the connection until it has it (or is cancelled).
struct Queued<'a>(&'a AtomicUsize);

impl<'a> Queued<'a> {
    fn new(waiting: &'a AtomicUsize) -> Self {
        waiting.fetch_add(1, Ordering::SeqCst);
        Self(waiting)
    }
}

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl std::fmt::Debug for TxConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TxConnection")
    }
}

impl TxConnection {
    /// Opens the (already created and migrated) database file with the settings of the sqlx connections.
    pub(crate) fn open(path: &Path) -> StoreResult<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags)?;
        conn.busy_timeout(Duration::ZERO)?;
        // WAL is a property of the file, set when sqlx opened it.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "secure_delete", "ON")?;
        // Checkpoints run on their own thread (`spawn_checkpointer`), not inside a step's COMMIT under the lock.
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
        // A step is a savepoint inside the batch: SQLite keeps each touched page's old content in a statement
        // journal, which by default spills to a temp file past 64 KiB (a pwrite per page under the lock).
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        // Enough for every distinct statement of the steps (the rate-limit upsert has one per window count).
        conn.set_prepared_statement_cache_capacity(64);
        let writer = Arc::new(Gate::new(Writer { conn, open: None, next: 1 }));
        let shared =
            Shared { writer, waiting: AtomicUsize::new(0), ended: watch::Sender::new(0), failed: Default::default() };
        Ok(Self(Arc::new(shared)))
    }

    /// Takes the connection (queued in-process) and begins `IMMEDIATE`, retrying while another connection
    /// holds the write lock.
    pub(crate) async fn begin(&self) -> StoreResult<Box<dyn WriteTx>> {
        Ok(Box::new(self.begin_tx().await?))
    }

    /// As [`TxConnection::begin`], for callers in the store that run their own statements on it.
    pub(super) async fn begin_tx(&self) -> StoreResult<SqliteTx> {
        let shared = self.0.clone();
        let queued = Queued::new(&shared.waiting);
        let mut w = shared.writer.lock().await;
        drop(queued);
        if w.open.is_some() && w.conn.is_autocommit() {
            // SQLite rolled the whole batch back (it does on a full disk or an I/O error): end it as failed, so
            // its steps hear so and this step does not run outside any transaction.
            let _ = shared.end_batch(&mut w);
        }
        if w.open.is_none() {
            let started = Instant::now();
            let mut tries = 0u32;
            loop {
                match w.conn.execute_batch("BEGIN IMMEDIATE") {
                    Ok(()) => break,
                    Err(e) if is_busy(&e) && started.elapsed() < BUSY_TIMEOUT => {
                        tries += 1;
                        // The other writer is usually a short transaction: yield first, then back off gently.
                        if tries < 4 {
                            tokio::task::yield_now().await;
                        } else {
                            tokio::time::sleep(Duration::from_millis(u64::from(tries.min(20)) / 4)).await;
                        }
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            let id = w.next;
            w.next += 1;
            w.open = Some((id, 0));
        }
        if let Err(e) = w.conn.execute_batch("SAVEPOINT step") {
            // The batch's earlier steps are finished: commit them rather than leave them to a straggler.
            let _ = shared.end_batch(&mut w);
            return Err(e.into());
        }
        Ok(SqliteTx { w, shared, done: false })
    }
}

pub(super) fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e.sqlite_error_code(), Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked))
}

/// `$n` placeholders (PostgreSQL's, which sqlx's SQLite driver also maps by number) as SQLite's `?n`: SQLite
/// numbers `$name` parameters by first appearance, so `$3 … $1` would bind in the wrong order.
pub(super) fn positional(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

/// A step's write transaction (a savepoint in the open batch) holding the connection; rolled back when
/// dropped uncommitted.
pub(super) struct SqliteTx {
    w: GateGuard<Writer>,
    shared: Arc<Shared>,
    done: bool,
}

impl Drop for SqliteTx {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        // Undo this step only; a failed rollback leaves an error for the batch's COMMIT to report.
        let _ = self.w.conn.execute_batch("ROLLBACK TO step; RELEASE step");
        if self.shared.waiting.load(Ordering::SeqCst) == 0 {
            // Nothing to report to: the finished steps of the batch learn the outcome through `wait_for`.
            let _ = self.shared.end_batch(&mut self.w);
        }
    }
}

impl SqliteTx {
    /// The connection, inside the transaction.
    pub(super) fn connection(&self) -> &Connection {
        &self.w.conn
    }

    /// Ends the step's savepoint; the id of its batch and whether the batch should commit now.
    fn release(&mut self) -> StoreResult<(u64, bool)> {
        self.w.conn.execute_batch("RELEASE step")?;
        self.done = true;
        let (id, steps) = self.w.open.as_mut().ok_or_else(|| StoreError::Corrupt("no open batch".into()))?;
        *steps += 1;
        Ok((*id, *steps >= MAX_BATCH || self.shared.waiting.load(Ordering::SeqCst) == 0))
    }

    /// Commits the step and, with it, the batch's other finished steps, now.
    pub(super) fn commit_now(mut self) -> StoreResult<()> {
        self.release()?;
        let shared = self.shared.clone();
        shared.end_batch(&mut self.w)
    }

    fn row<T>(
        &self,
        sql: &str,
        params: &[&dyn ToSql],
        map: impl FnOnce(&Row<'_>) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        let mut stmt = self.w.conn.prepare_cached(&positional(sql))?;
        let mut rows = stmt.query(params)?;
        match rows.next()? {
            Some(r) => map(r).map(Some),
            None => Ok(None),
        }
    }

    fn execute(&self, sql: &str, params: &[&dyn ToSql]) -> StoreResult<usize> {
        Ok(self.w.conn.prepare_cached(&positional(sql))?.execute(params)?)
    }

    fn latest_code(&self, session_id: &str) -> StoreResult<Option<Code>> {
        self.row(step::LATEST_CODE, params![session_id], code_from_row)
    }
}

/// A row whose columns are `cols` (a `*_cols!()` list) in that order, read by name without rusqlite's lookup,
/// which compares the name with every column's, case-insensitively, through SQLite's C API on each `get` (~2 %
/// of the flow benchmark's CPU for the 22 columns of a session).
struct Listed<'r, 's> {
    row: &'r Row<'s>,
    cols: &'static str,
}

impl Listed<'_, '_> {
    fn get<T: rusqlite::types::FromSql>(&self, name: &str) -> rusqlite::Result<T> {
        // A name not in the list is an out-of-range index: an error, as an unknown name would be.
        let i = self.cols.split(',').position(|c| c.trim() == name).unwrap_or(usize::MAX);
        self.row.get(i)
    }
}

pub(super) fn session_from_row(r: &Row<'_>) -> StoreResult<Session> {
    let r = Listed { row: r, cols: crate::sql::session_cols!() };
    crate::sql::session_from_row!(r, get)
}

fn code_from_row(r: &Row<'_>) -> StoreResult<Code> {
    let r = Listed { row: r, cols: crate::sql::code_cols!() };
    crate::sql::code_from_row!(r, get)
}

/// Maps a foreign-key violation (the session does not exist) to `NotFound`.
fn missing_parent(e: StoreError) -> StoreError {
    match &e {
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _))
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_FOREIGNKEY =>
        {
            StoreError::NotFound
        }
        _ => e,
    }
}

#[async_trait]
impl WriteTx for SqliteTx {
    async fn remember_envelope(
        &mut self,
        session_id: &str,
        envelope_id: &[u8],
        expires_at: UnixMillis,
    ) -> StoreResult<bool> {
        Ok(self.execute(step::REMEMBER_ENVELOPE, params![session_id, envelope_id, expires_at])? == 1)
    }

    async fn create_session(&mut self, new: &NewSession) -> StoreResult<Session> {
        let p = params![
            new.id,
            new.site_id,
            new.reference,
            new.client_secret_hash,
            new.client_secret_expires_at,
            new.methods.to_stored(),
            new.created_at,
            new.expires_at
        ];
        self.row(step::INSERT_SESSION, p, session_from_row)?
            .ok_or_else(|| StoreError::Corrupt("insert returned no session".into()))
    }

    async fn update_session(&mut self, s: &Session) -> StoreResult<Session> {
        let identity = s.identity.as_ref();
        let p = params![
            s.id,
            s.version,
            s.status.as_str(),
            s.methods.to_stored(),
            s.document_kind,
            s.consent.as_ref().map(|c| c.version.as_str()),
            s.consent.as_ref().map(|c| c.at),
            identity.map(|i| i.name.as_bytes()),
            identity.map(|i| i.id_number.as_bytes()),
            identity.and_then(|i| i.phone.as_ref()).map(|p| p.as_bytes()),
            identity.and_then(|i| i.email.as_ref()).map(|e| e.as_bytes()),
            s.blind_index,
            s.failure,
            s.updated_at,
            s.verified_at,
            s.client_secret_used,
            s.expires_at,
            realname_domain::checks::CheckRecord::to_stored(&s.checks)
        ];
        if let Some(done) = self.row(step::UPDATE_SESSION, p, session_from_row)? {
            return Ok(done);
        }
        let exists = self.row(step::SESSION_EXISTS, params![s.id], |_| Ok(()))?;
        Err(if exists.is_some() { StoreError::Conflict } else { StoreError::NotFound })
    }

    async fn codes_sent(&mut self, session_id: &str) -> StoreResult<u32> {
        let n = self.row(step::COUNT_CODES, params![session_id], |r| Ok(r.get::<_, i64>(0)?))?;
        Ok(count_u32(n.unwrap_or(0)))
    }

    async fn rate_hits(&mut self, hits: &[(&str, i64)], now: UnixMillis) -> StoreResult<Vec<u64>> {
        let windows = rate_windows(hits, now)?;
        if windows.is_empty() {
            return Ok(Vec::new());
        }
        let params: Vec<&dyn ToSql> = windows.iter().flat_map(|(k, s, e)| [k as &dyn ToSql, s, e]).collect();
        let mut stmt = self.w.conn.prepare_cached(&positional(&step::rate_hits(windows.len())))?;
        let mut rows = stmt.query(params.as_slice())?;
        let mut counts = Vec::with_capacity(windows.len());
        while let Some(r) = rows.next()? {
            counts.push((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0)));
        }
        counts_in_order(&windows, &counts)
    }

    async fn issue_code(&mut self, new: &NewCode) -> StoreResult<Code> {
        let p = params![new.session_id, new.code_hmac, new.channel, new.sent_at, new.expires_at];
        let code = self
            .row(step::INSERT_CODE, p, code_from_row)
            .map_err(missing_parent)?
            .ok_or_else(|| StoreError::Corrupt("insert returned no code".into()))?;
        // Only the newest code is ever checked (see take_code_attempt); this makes the rest visible.
        self.execute(step::INVALIDATE_OLDER_CODES, params![new.session_id, code.id])?;
        Ok(code)
    }

    async fn take_code_attempt(
        &mut self,
        session_id: &str,
        max_attempts: u32,
        now: UnixMillis,
    ) -> StoreResult<CodeAttempt> {
        // One round is enough here: the write lock is held, so no resend can slip in between.
        if let Some(code) =
            self.row(step::TAKE_ATTEMPT, params![session_id, i64::from(max_attempts), now], code_from_row)?
        {
            return Ok(CodeAttempt::Check(code));
        }
        Ok(match self.latest_code(session_id)? {
            None => CodeAttempt::NoCode,
            Some(c) if c.state != CodeState::Active => CodeAttempt::Used,
            Some(c) if c.attempts >= max_attempts => CodeAttempt::TooManyAttempts,
            Some(c) if c.expires_at <= now => CodeAttempt::Expired,
            // Unreachable under the write lock (the conditional update would have matched); kept as the sqlx
            // backends answer a lost race.
            Some(_) => return Err(StoreError::Conflict),
        })
    }

    async fn consume_code(&mut self, code_id: i64, now: UnixMillis) -> StoreResult<bool> {
        Ok(self.execute(step::CONSUME_CODE, params![code_id, now])? == 1)
    }

    async fn enqueue_delivery(&mut self, new: &NewDelivery) -> StoreResult<i64> {
        let p = params![new.site_id, new.event_id, new.event_type, new.url, new.body, new.created_at];
        if let Some(id) = self.row(step::ENQUEUE_DELIVERY, p, |r| Ok(r.get::<_, i64>(0)?))? {
            return Ok(id);
        }
        self.row(step::DELIVERY_BY_EVENT, params![new.event_id], |r| Ok(r.get::<_, i64>(0)?))?
            .ok_or(StoreError::NotFound)
    }

    async fn rate_refunds(&mut self, hits: &[(&str, i64)], now: UnixMillis) -> StoreResult<()> {
        for (key, start, _) in rate_windows(hits, now)? {
            self.execute(step::RATE_REFUND, params![key, start])?;
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
        let mut rule = Binding::start(limit);
        loop {
            let answer = match rule {
                Binding::Insert => {
                    self.execute(step::INSERT_BINDING, params![site_id, blind_index, account, now])? == 1
                }
                Binding::Count => {
                    let p = params![site_id, blind_index, i64::from(limit)];
                    Binding::within(self.row(step::COUNT_BINDING, p, |r| Ok(r.get::<_, i64>(0)?))?, limit)
                }
                Binding::Delete => self.execute(step::DELETE_BINDING, params![site_id, blind_index, account])? == 1,
                Binding::Done(bound) => return Ok(bound),
            };
            rule = rule.next(answer);
        }
    }

    async fn create_case(
        &mut self,
        c: &crate::review::NewCase,
        images: &[crate::review::CaseImage],
    ) -> StoreResult<()> {
        let (reasons, provisional) = (c.reasons.join(","), i64::from(c.due_provisional));
        let p = params![c.id, c.site_id, c.session_id, reasons, c.submitted_at, c.due_at, provisional];
        self.execute(step::INSERT_CASE, p)?;
        for img in images {
            self.execute(step::INSERT_CASE_IMAGE, params![c.id, img.kind, img.content_type, img.sealed.as_bytes()])?;
        }
        Ok(())
    }

    async fn audit_pending(&mut self, at: UnixMillis, events: &[realname_domain::audit::Event]) -> StoreResult<()> {
        for chunk in events.chunks(crate::audit::CHUNK) {
            let details: Vec<String> =
                chunk.iter().map(|e| serde_json::to_string(&e.detail).unwrap_or_else(|_| "{}".into())).collect();
            let mut params: Vec<&dyn ToSql> = Vec::with_capacity(chunk.len() * 6);
            for (e, detail) in chunk.iter().zip(&details) {
                params.extend([&at as &dyn ToSql, &e.actor, &e.action, &e.site, &e.subject, detail]);
            }
            self.execute(&crate::audit::insert_pending_sql(chunk.len()), &params)?;
        }
        Ok(())
    }

    async fn commit(self: Box<Self>) -> StoreResult<()> {
        let mut tx = *self;
        let (id, now) = tx.release()?;
        let shared = tx.shared.clone();
        if now {
            return shared.end_batch(&mut tx.w);
        }
        // A step queued behind this one commits the batch (or this one does, see `wait_for`).
        drop(tx);
        shared.wait_for(id).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::TxStore as _;
    use crate::sqlite::SqliteStore;

    /// A batch that SQLite rolled back on its own (simulated here with a ROLLBACK on the connection) while a
    /// step was queued: the queued step starts a new batch instead of running in autocommit, and commits.
    #[tokio::test]
    async fn a_batch_lost_to_an_automatic_rollback_is_ended_before_the_next_step() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
        let lost = store.tx.begin_tx().await.unwrap();
        lost.connection().execute_batch("ROLLBACK").unwrap();
        let mut next = Box::pin(store.begin_write());
        // Queue `next` behind `lost`, then let `lost` fail (its RELEASE finds no savepoint) while `next` waits.
        assert!(futures_poll_once(next.as_mut()).await.is_none());
        assert!(crate::WriteTx::commit(Box::new(lost)).await.is_err());
        let mut tx = next.await.unwrap();
        tx.create_session(&realname_domain::session::NewSession {
            id: "s1".into(),
            site_id: "site".into(),
            reference: None,
            client_secret_hash: vec![1; 32],
            client_secret_expires_at: 1,
            methods: realname_domain::session::Methods::SiteDefault,
            created_at: 1,
            expires_at: 2,
        })
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert!(crate::SessionStore::session(&store, "s1").await.unwrap().is_some());
    }

    /// A step's statement journal (the old content of each page it touches, kept for `ROLLBACK TO`) stays in
    /// memory: spilled, it went to a temp file outside the data directory with a pwrite per page under the
    /// write lock.
    #[tokio::test]
    async fn step_journals_stay_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
        let tx = store.tx.begin_tx().await.unwrap();
        let pragma =
            |name: &str| -> i64 { tx.connection().query_row(&format!("PRAGMA {name}"), [], |r| r.get(0)).unwrap() };
        assert_eq!(pragma("temp_store"), 2, "2 is MEMORY");
        // A new file gets half-size pages: a page per B-tree touched is what each commit appends.
        assert_eq!(pragma("page_size"), 2048);
    }

    /// Polls `f` once: its output when it finished.
    async fn futures_poll_once<F: std::future::Future + Unpin>(mut f: F) -> Option<F::Output> {
        std::future::poll_fn(|cx| {
            std::task::Poll::Ready(match std::pin::Pin::new(&mut f).poll(cx) {
                std::task::Poll::Ready(v) => Some(v),
                std::task::Poll::Pending => None,
            })
        })
        .await
    }

    #[test]
    fn listed_columns_are_the_statements_columns() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        // The schema as migrated (a column added later must be listed too).
        for (_, _, sql) in crate::migrate::SQLITE {
            conn.execute_batch(sql).unwrap();
        }
        for (sql, cols) in [
            (crate::sql::step::SELECT_SESSION, crate::sql::session_cols!()),
            (crate::sql::step::LATEST_CODE, crate::sql::code_cols!()),
        ] {
            let stmt = conn.prepare(&super::positional(sql)).unwrap();
            let listed: Vec<&str> = cols.split(',').map(str::trim).collect();
            assert_eq!(stmt.column_names(), listed, "{sql}");
        }
    }

    #[test]
    fn dollar_parameters_become_numbered_question_marks() {
        assert_eq!(super::positional("SET a = $3 WHERE id = $1 AND v = $12"), "SET a = ?3 WHERE id = ?1 AND v = ?12");
        assert_eq!(super::positional("SELECT '$' || x"), "SELECT '$' || x");
    }
}
