//! Storage of the audit log: append (chained to the head atomically), pending events of request steps and their
//! chaining, read in order, read the head, check the protective triggers. Implemented for SQLite and PostgreSQL
//! pools; migrations `0101_audit_log.sql`, `0105_audit_pending.sql`, `0108_audit_keyed.sql`. Every entry written is
//! sealed with the [`ChainKey`] the caller passes (it never is in the database).

use std::collections::BTreeMap;

use async_trait::async_trait;
use sqlx::{PgPool, Row, SqlitePool};

use realname_domain::audit::{ChainKey, Entry, Event, Head};

/// Why the audit log could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum AuditStoreError {
    /// The database failed.
    #[error("audit log database error: {0}")]
    Db(#[from] sqlx::Error),
    /// SQLite failed on the connection that chains pending events (`rusqlite`).
    #[error("audit log database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored value cannot be decoded (e.g. a hash that is not 64 hex digits): the table was edited by hand.
    #[error("audit log entry {seq} is unreadable: {why}")]
    Unreadable {
        /// The entry.
        seq: i64,
        /// What is wrong.
        why: String,
    },
}

/// The audit log's storage.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends `event` at `at` (Unix ms) as the entry after the current head, sealed with `key`, atomically;
    /// returns it.
    async fn audit_append(&self, key: &ChainKey, at: i64, event: Event) -> Result<Entry, AuditStoreError>;
    /// Chains up to `limit` pending events (written by request steps, oldest first), sealed with `key`, in one
    /// transaction that holds the head lock once; returns how many. Run by the server's chainer and before
    /// `audit verify`/`export`.
    async fn audit_chain_pending(&self, key: &ChainKey, limit: i64) -> Result<u64, AuditStoreError>;
    /// The protective triggers ([`crate::audit_guards::GUARDS`]) that are missing, disabled or not as the
    /// migrations made them; empty when all are in place.
    async fn audit_guards_missing(&self) -> Result<Vec<&'static str>, AuditStoreError>;
    /// How many events wait to be chained.
    async fn audit_pending_count(&self) -> Result<u64, AuditStoreError>;
    /// The recorded head (number and hash of the last entry), `None` for an empty log.
    async fn audit_head(&self) -> Result<Option<Head>, AuditStoreError>;
    /// Up to `limit` entries with `seq > after`, ascending by `seq`.
    async fn audit_after(&self, after: i64, limit: i64) -> Result<Vec<Entry>, AuditStoreError>;
    /// Up to `limit` entries with `seq > after` and `from <= at < to` (Unix ms), ascending by `seq`.
    async fn audit_between(&self, from: i64, to: i64, after: i64, limit: i64) -> Result<Vec<Entry>, AuditStoreError>;
    /// The entries (at most 100, oldest first) about `subject` (e.g. `session:<id>`) with this `action`.
    async fn audit_about(&self, subject: &str, action: &str) -> Result<Vec<Entry>, AuditStoreError>;
}

impl AuditStoreError {
    /// A storage-layer error met while chaining.
    pub(crate) fn from_store(e: crate::error::StoreError) -> Self {
        match e {
            crate::error::StoreError::Sqlite(e) => Self::Sqlite(e),
            crate::error::StoreError::Database(e) => Self::Db(e),
            other => Self::Db(sqlx::Error::Protocol(other.to_string())),
        }
    }
}

const COLS: &str = "seq, at, actor, action, site, subject, detail, prev_hash, key_id, hash";

/// Reads the head (the sqlx backends append their lock clause: PostgreSQL `FOR UPDATE`).
pub(crate) const LOCK_HEAD: &str = "SELECT seq, hash FROM audit_head WHERE id = 1";
/// The oldest pending events, up to `$1`.
pub(crate) const SELECT_PENDING: &str =
    "SELECT id, at, actor, action, site, subject, detail FROM audit_pending ORDER BY id LIMIT $1";
/// Records the head.
pub(crate) const STORE_HEAD: &str = "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1";
/// Deletes chained pending events; followed by the parenthesised id list.
pub(crate) const DELETE_PENDING_SQL_PREFIX: &str = "DELETE FROM audit_pending WHERE id IN ";

/// The insert of `rows` sealed entries (parameters per row in [`COLS`] order).
pub(crate) fn insert_entries_sql(rows: usize) -> String {
    format!("INSERT INTO audit_log ({COLS}) VALUES {}", placeholders(rows, 10))
}

fn decode<R: Row>(row: &R) -> Result<Entry, AuditStoreError>
where
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'c> &'c str: sqlx::ColumnIndex<R>,
{
    let seq: i64 = row.try_get("seq")?;
    let bad = |why: &str| AuditStoreError::Unreadable { seq, why: why.to_owned() };
    let detail: String = row.try_get("detail")?;
    let detail: BTreeMap<String, String> =
        serde_json::from_str(&detail).map_err(|_| bad("detail is not a JSON object of strings"))?;
    let prev: String = row.try_get("prev_hash")?;
    let hash: String = row.try_get("hash")?;
    Ok(Entry {
        seq,
        at: row.try_get("at")?,
        event: Event {
            actor: row.try_get("actor")?,
            action: row.try_get("action")?,
            site: row.try_get("site")?,
            subject: row.try_get("subject")?,
            detail,
        },
        prev_hash: realname_domain::encoding::hex_decode_32(&prev)
            .ok_or_else(|| bad("prev_hash is not 64 hex digits"))?,
        key_id: row.try_get("key_id")?,
        hash: realname_domain::encoding::hex_decode_32(&hash).ok_or_else(|| bad("hash is not 64 hex digits"))?,
    })
}

pub(crate) fn head_of(seq: i64, hash: &str) -> Result<Option<Head>, AuditStoreError> {
    if seq == 0 {
        return Ok(None);
    }
    let hash = realname_domain::encoding::hex_decode_32(hash)
        .ok_or_else(|| AuditStoreError::Unreadable { seq, why: "head hash".into() })?;
    Ok(Some(Head { seq, hash }))
}

fn detail_json(e: &Entry) -> String {
    serde_json::to_string(&e.event.detail).unwrap_or_else(|_| "{}".into())
}

/// Statements on one connection (inside a transaction the caller holds), implemented per backend by
/// `impl_audit_conn!`: the step transactions write pending events with [`AuditConn::insert_pending`], and every
/// append and chaining pass runs [`AuditConn::lock_head`] → [`AuditConn::chain_pending`] → its own entries →
/// [`AuditConn::store_head`] in one transaction.
#[async_trait]
pub(crate) trait AuditConn: Send {
    /// Inserts `events` at `at` as pending (unchained) rows, in one statement.
    async fn insert_pending(&mut self, at: i64, events: &[Event]) -> Result<(), sqlx::Error>;
    /// Reads the head, locking it until the transaction ends (PostgreSQL `FOR UPDATE`; SQLite holds the write
    /// lock since `BEGIN IMMEDIATE`).
    async fn lock_head(&mut self) -> Result<Option<Head>, AuditStoreError>;
    /// Chains up to `limit` pending rows, oldest `id` first, after `head`, sealed with `key`; removes them from the
    /// pending table. Returns the new head and how many were chained.
    async fn chain_pending(
        &mut self,
        key: &ChainKey,
        head: Option<Head>,
        limit: i64,
    ) -> Result<(Option<Head>, u64), AuditStoreError>;
    /// Inserts sealed entries into the log.
    async fn insert_entries(&mut self, entries: &[Entry]) -> Result<(), sqlx::Error>;
    /// Records the head.
    async fn store_head(&mut self, head: Head) -> Result<(), sqlx::Error>;
}

/// Rows per multi-row statement (10 parameters each: far below both backends' limits).
pub(crate) const CHUNK: usize = 100;

/// The pending rows a chaining pass takes in one transaction.
pub const CHAIN_BATCH: i64 = 1_000;

fn placeholders(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| {
            let cells: Vec<String> = (1..=cols).map(|c| format!("${}", r * cols + c)).collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The insert of `rows` pending events (parameters per row: at, actor, action, site, subject, detail JSON).
pub(crate) fn insert_pending_sql(rows: usize) -> String {
    format!("INSERT INTO audit_pending (at, actor, action, site, subject, detail) VALUES {}", placeholders(rows, 6))
}

macro_rules! impl_audit_conn {
    ($conn:ty, lock = $lock:expr) => {
        #[async_trait]
        impl AuditConn for $conn {
            async fn insert_pending(&mut self, at: i64, events: &[Event]) -> Result<(), sqlx::Error> {
                for chunk in events.chunks(CHUNK) {
                    let sql = insert_pending_sql(chunk.len());
                    let mut q = sqlx::query(&sql);
                    for e in chunk {
                        q = q
                            .bind(at)
                            .bind(&e.actor)
                            .bind(&e.action)
                            .bind(&e.site)
                            .bind(&e.subject)
                            .bind(serde_json::to_string(&e.detail).unwrap_or_else(|_| "{}".into()));
                    }
                    q.execute(&mut *self).await?;
                }
                Ok(())
            }

            async fn lock_head(&mut self) -> Result<Option<Head>, AuditStoreError> {
                let row = sqlx::query(concat!("SELECT seq, hash FROM audit_head WHERE id = 1", $lock))
                    .fetch_one(&mut *self)
                    .await?;
                head_of(row.try_get("seq")?, &row.try_get::<String, _>("hash")?)
            }

            async fn chain_pending(
                &mut self,
                key: &ChainKey,
                mut head: Option<Head>,
                limit: i64,
            ) -> Result<(Option<Head>, u64), AuditStoreError> {
                let rows = sqlx::query(SELECT_PENDING).bind(limit).fetch_all(&mut *self).await?;
                let mut ids = Vec::with_capacity(rows.len());
                let mut entries = Vec::with_capacity(rows.len());
                for r in &rows {
                    let id: i64 = r.try_get("id")?;
                    let detail: String = r.try_get("detail")?;
                    let detail = serde_json::from_str(&detail).map_err(|_| AuditStoreError::Unreadable {
                        seq: 0,
                        why: format!("pending event {id}: detail is not a JSON object of strings"),
                    })?;
                    let event = Event {
                        actor: r.try_get("actor")?,
                        action: r.try_get("action")?,
                        site: r.try_get("site")?,
                        subject: r.try_get("subject")?,
                        detail,
                    };
                    let e = realname_domain::audit::seal(key, head, r.try_get("at")?, event);
                    head = Some(Head { seq: e.seq, hash: e.hash });
                    ids.push(id);
                    entries.push(e);
                }
                self.insert_entries(&entries).await?;
                // Exactly the rows read: on PostgreSQL a lower id may commit later, and is chained next time.
                for chunk in ids.chunks(CHUNK) {
                    let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
                    let sql = format!("{DELETE_PENDING_SQL_PREFIX}({})", marks.join(", "));
                    let mut q = sqlx::query(&sql);
                    for id in chunk {
                        q = q.bind(*id);
                    }
                    q.execute(&mut *self).await?;
                }
                Ok((head, entries.len() as u64))
            }

            async fn insert_entries(&mut self, entries: &[Entry]) -> Result<(), sqlx::Error> {
                for chunk in entries.chunks(CHUNK) {
                    let sql = insert_entries_sql(chunk.len());
                    let mut q = sqlx::query(&sql);
                    for e in chunk {
                        q = q
                            .bind(e.seq)
                            .bind(e.at)
                            .bind(&e.event.actor)
                            .bind(&e.event.action)
                            .bind(&e.event.site)
                            .bind(&e.event.subject)
                            .bind(detail_json(e))
                            .bind(realname_domain::encoding::hex_encode(&e.prev_hash))
                            .bind(&e.key_id)
                            .bind(realname_domain::encoding::hex_encode(&e.hash));
                    }
                    q.execute(&mut *self).await?;
                }
                Ok(())
            }

            async fn store_head(&mut self, head: Head) -> Result<(), sqlx::Error> {
                sqlx::query(STORE_HEAD)
                    .bind(head.seq)
                    .bind(realname_domain::encoding::hex_encode(&head.hash))
                    .execute(&mut *self)
                    .await?;
                Ok(())
            }
        }
    };
}

impl_audit_conn!(sqlx::SqliteConnection, lock = "");
impl_audit_conn!(sqlx::PgConnection, lock = " FOR UPDATE");

/// Implements [`AuditStore`] for one sqlx pool type. The backends differ only in how a transaction that appends
/// takes the head: `begin` is the transaction start (SQLite takes the write lock with `BEGIN IMMEDIATE`), and
/// [`AuditConn::lock_head`] locks the head row on PostgreSQL, which serialises appends from every server
/// instance sharing the database.
macro_rules! impl_audit_store {
    ($pool:ty, begin = $($begin:ident($($arg:expr),*)).+, guards = $guards:path) => {
        #[async_trait]
        impl AuditStore for $pool {
            async fn audit_append(&self, key: &ChainKey, at: i64, event: Event) -> Result<Entry, AuditStoreError> {
                let mut tx = self.$($begin($($arg),*)).+.await?;
                let mut head = tx.lock_head().await?;
                // Pending events committed before this append come first (see the module docs of `audit`).
                loop {
                    let (h, n) = tx.chain_pending(key, head, CHAIN_BATCH).await?;
                    head = h;
                    if n < CHAIN_BATCH as u64 {
                        break;
                    }
                }
                let e = realname_domain::audit::seal(key, head, at, event);
                tx.insert_entries(std::slice::from_ref(&e)).await?;
                tx.store_head(Head { seq: e.seq, hash: e.hash }).await?;
                tx.commit().await?;
                Ok(e)
            }

            async fn audit_chain_pending(&self, key: &ChainKey, limit: i64) -> Result<u64, AuditStoreError> {
                let mut tx = self.$($begin($($arg),*)).+.await?;
                let head = tx.lock_head().await?;
                let (new_head, n) = tx.chain_pending(key, head, limit).await?;
                match new_head {
                    Some(h) if n > 0 => {
                        tx.store_head(h).await?;
                        tx.commit().await?;
                    }
                    _ => tx.rollback().await?,
                }
                Ok(n)
            }

            async fn audit_guards_missing(&self) -> Result<Vec<&'static str>, AuditStoreError> {
                $guards(self).await
            }

            async fn audit_pending_count(&self) -> Result<u64, AuditStoreError> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_pending").fetch_one(self).await?;
                Ok(u64::try_from(n).unwrap_or(0))
            }

            async fn audit_head(&self) -> Result<Option<Head>, AuditStoreError> {
                let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
                    .fetch_one(self)
                    .await?;
                head_of(row.try_get("seq")?, &row.try_get::<String, _>("hash")?)
            }

            async fn audit_after(&self, after: i64, limit: i64) -> Result<Vec<Entry>, AuditStoreError> {
                let rows = sqlx::query(&format!(
                    "SELECT {COLS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"
                ))
                .bind(after)
                .bind(limit)
                .fetch_all(self)
                .await?;
                rows.iter().map(decode).collect()
            }

            async fn audit_between(
                &self,
                from: i64,
                to: i64,
                after: i64,
                limit: i64,
            ) -> Result<Vec<Entry>, AuditStoreError> {
                let rows = sqlx::query(&format!(
                    "SELECT {COLS} FROM audit_log WHERE seq > $1 AND at >= $2 AND at < $3 ORDER BY seq LIMIT $4"
                ))
                .bind(after)
                .bind(from)
                .bind(to)
                .bind(limit)
                .fetch_all(self)
                .await?;
                rows.iter().map(decode).collect()
            }

            async fn audit_about(&self, subject: &str, action: &str) -> Result<Vec<Entry>, AuditStoreError> {
                let rows = sqlx::query(&format!(
                    "SELECT {COLS} FROM audit_log WHERE subject = $1 AND action = $2 ORDER BY seq LIMIT 100"
                ))
                .bind(subject)
                .bind(action)
                .fetch_all(self)
                .await?;
                rows.iter().map(decode).collect()
            }
        }
    };
}

impl_audit_store!(SqlitePool, begin = begin_with("BEGIN IMMEDIATE"), guards = crate::audit_guards::sqlite);
impl_audit_store!(PgPool, begin = begin(), guards = crate::audit_guards::postgres);

/// Implements [`AuditStore`] for a store type by delegating reads to its `pool` and appends to its `writer` (on
/// SQLite the one writing connection, where appends queue in-process instead of in SQLite's busy handler).
macro_rules! delegate_audit_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::audit::AuditStore for $store {
            async fn audit_append(
                &self,
                key: &realname_domain::audit::ChainKey,
                at: i64,
                event: realname_domain::audit::Event,
            ) -> Result<realname_domain::audit::Entry, $crate::audit::AuditStoreError> {
                self.writer.audit_append(key, at, event).await
            }
            async fn audit_chain_pending(
                &self,
                key: &realname_domain::audit::ChainKey,
                limit: i64,
            ) -> Result<u64, AuditStoreError> {
                self.chain_pending_events(key, limit).await
            }
            async fn audit_guards_missing(&self) -> Result<Vec<&'static str>, AuditStoreError> {
                self.pool().audit_guards_missing().await
            }
            async fn audit_pending_count(&self) -> Result<u64, AuditStoreError> {
                self.pool().audit_pending_count().await
            }
            async fn audit_head(&self) -> Result<Option<Head>, AuditStoreError> {
                self.pool().audit_head().await
            }
            async fn audit_after(&self, after: i64, limit: i64) -> Result<Vec<Entry>, AuditStoreError> {
                self.pool().audit_after(after, limit).await
            }
            async fn audit_between(
                &self,
                from: i64,
                to: i64,
                after: i64,
                limit: i64,
            ) -> Result<Vec<Entry>, AuditStoreError> {
                self.pool().audit_between(from, to, after, limit).await
            }
            async fn audit_about(&self, subject: &str, action: &str) -> Result<Vec<Entry>, AuditStoreError> {
                self.pool().audit_about(subject, action).await
            }
        }
    };
}

pub(crate) use delegate_audit_store;
