//! Storage of the audit log: append (chained to the head atomically), read in order, read the head.
//! Implemented for SQLite and PostgreSQL pools; migrations `0101_audit_log.sql`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use sqlx::{PgPool, Row, SqlitePool};

use crate::audit::{self, Entry, Event, Head};

/// Why the audit log could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum AuditStoreError {
    /// The database failed.
    #[error("audit log database error: {0}")]
    Db(#[from] sqlx::Error),
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
    /// Appends `event` at `at` (Unix ms) as the entry after the current head, atomically; returns it.
    async fn audit_append(&self, at: i64, event: Event) -> Result<Entry, AuditStoreError>;
    /// The recorded head (number and hash of the last entry), `None` for an empty log.
    async fn audit_head(&self) -> Result<Option<Head>, AuditStoreError>;
    /// Up to `limit` entries with `seq > after`, ascending by `seq`.
    async fn audit_after(&self, after: i64, limit: i64) -> Result<Vec<Entry>, AuditStoreError>;
    /// Up to `limit` entries with `seq > after` and `from <= at < to` (Unix ms), ascending by `seq`.
    async fn audit_between(
        &self,
        from: i64,
        to: i64,
        after: i64,
        limit: i64,
    ) -> Result<Vec<Entry>, AuditStoreError>;
    /// The entries (at most 100, oldest first) about `subject` (e.g. `session:<id>`) with this `action`.
    async fn audit_about(&self, subject: &str, action: &str) -> Result<Vec<Entry>, AuditStoreError>;
}

const COLS: &str = "seq, at, actor, action, site, subject, detail, prev_hash, hash";

fn decode<R: Row>(row: &R) -> Result<Entry, AuditStoreError>
where
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'c> &'c str: sqlx::ColumnIndex<R>,
{
    let seq: i64 = row.try_get("seq")?;
    let bad = |why: &str| AuditStoreError::Unreadable {
        seq,
        why: why.to_owned(),
    };
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
        prev_hash: audit::unhex(&prev).ok_or_else(|| bad("prev_hash is not 64 hex digits"))?,
        hash: audit::unhex(&hash).ok_or_else(|| bad("hash is not 64 hex digits"))?,
    })
}

fn head_of(seq: i64, hash: &str) -> Result<Option<Head>, AuditStoreError> {
    if seq == 0 {
        return Ok(None);
    }
    let hash = audit::unhex(hash).ok_or_else(|| AuditStoreError::Unreadable {
        seq,
        why: "head hash".into(),
    })?;
    Ok(Some(Head { seq, hash }))
}

fn detail_json(e: &Entry) -> String {
    serde_json::to_string(&e.event.detail).unwrap_or_else(|_| "{}".into())
}

/// Implements [`AuditStore`] for one sqlx pool type from the SQL both backends share (`$n` placeholders work in
/// SQLite too). They differ only in how an append locks the head: `begin` is the transaction start (SQLite takes
/// the write lock with `BEGIN IMMEDIATE`), `lock` the suffix of the head read (PostgreSQL locks the head row, which
/// serialises appends from every server instance sharing the database).
macro_rules! impl_audit_store {
    ($pool:ty, begin = $($begin:ident($($arg:expr),*)).+, lock = $lock:expr) => {
        #[async_trait]
        impl AuditStore for $pool {
            async fn audit_append(&self, at: i64, event: Event) -> Result<Entry, AuditStoreError> {
                let mut tx = self.$($begin($($arg),*)).+.await?;
                let row = sqlx::query(concat!("SELECT seq, hash FROM audit_head WHERE id = 1", $lock))
                    .fetch_one(&mut *tx)
                    .await?;
                let head = head_of(row.try_get("seq")?, &row.try_get::<String, _>("hash")?)?;
                let e = audit::seal(head, at, event);
                sqlx::query(&format!(
                    "INSERT INTO audit_log ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                ))
                .bind(e.seq)
                .bind(e.at)
                .bind(&e.event.actor)
                .bind(&e.event.action)
                .bind(&e.event.site)
                .bind(&e.event.subject)
                .bind(detail_json(&e))
                .bind(audit::hex(&e.prev_hash))
                .bind(audit::hex(&e.hash))
                .execute(&mut *tx)
                .await?;
                sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
                    .bind(e.seq)
                    .bind(audit::hex(&e.hash))
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(e)
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

impl_audit_store!(SqlitePool, begin = begin_with("BEGIN IMMEDIATE"), lock = "");
impl_audit_store!(PgPool, begin = begin(), lock = " FOR UPDATE");

/// Implements [`AuditStore`] for a store type by delegating reads to its `pool` and appends to its `writer` (on
/// SQLite the one writing connection, where appends queue in-process instead of in SQLite's busy handler).
macro_rules! delegate_audit_store {
    ($store:ty) => {
        #[async_trait]
        impl AuditStore for $store {
            async fn audit_append(&self, at: i64, event: Event) -> Result<Entry, AuditStoreError> {
                self.writer.audit_append(at, event).await
            }
            async fn audit_head(&self) -> Result<Option<Head>, AuditStoreError> {
                self.pool().audit_head().await
            }
            async fn audit_after(
                &self,
                after: i64,
                limit: i64,
            ) -> Result<Vec<Entry>, AuditStoreError> {
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

delegate_audit_store!(super::sqlite::SqliteStore);
delegate_audit_store!(super::postgres::PgStore);
