//! The audit chainer's pass on SQLite (`AuditStore::audit_chain_pending`), on the step transactions' rusqlite
//! connection: it takes its turn in the same in-process queue and runs from `BEGIN IMMEDIATE` to `COMMIT`
//! without an await point, so the write lock is never held while a task waits for a runtime thread (through
//! sqlx it was held across about fifteen hand-offs to the connection's thread every second). Same statements
//! and sealing as the sqlx backends (`store/audit.rs`).

use std::collections::BTreeMap;

use rusqlite::{ToSql, params};

use super::audit::{
    AuditStoreError, CHUNK, DELETE_PENDING_SQL_PREFIX, LOCK_HEAD, SELECT_PENDING, STORE_HEAD, head_of,
    insert_entries_sql,
};
use super::sqlite_tx::{TxConnection, positional};
use crate::audit::{self, Event, Head};

/// Pending events chained per transaction: each pass holds the write lock and a runtime thread while it seals
/// and moves its rows, so it is kept to a few milliseconds and the step transactions queued meanwhile go
/// between two passes.
const PASS: i64 = 200;

impl TxConnection {
    /// Chains up to `limit` pending events, oldest `id` first, in transactions of at most [`PASS`] events each;
    /// returns how many.
    pub(crate) async fn audit_chain_pending(&self, limit: i64) -> Result<u64, AuditStoreError> {
        let mut total = 0;
        while total < limit.max(0) {
            let want = PASS.min(limit - total);
            let n = self.chain_pass(want).await?;
            total += i64::try_from(n).unwrap_or(want);
            if i64::try_from(n).unwrap_or(0) < want {
                break;
            }
        }
        Ok(u64::try_from(total).unwrap_or(0))
    }

    /// One transaction of [`TxConnection::audit_chain_pending`].
    async fn chain_pass(&self, limit: i64) -> Result<u64, AuditStoreError> {
        let tx = self.begin_tx().await.map_err(AuditStoreError::from_store)?;
        let conn = tx.connection();
        let sqlite = |e: rusqlite::Error| AuditStoreError::Sqlite(e);
        let (seq, hash): (i64, String) = conn
            .prepare_cached(LOCK_HEAD)
            .and_then(|mut s| s.query_row([], |r| Ok((r.get(0)?, r.get(1)?))))
            .map_err(sqlite)?;
        let mut head = head_of(seq, &hash)?;
        let mut ids = Vec::new();
        let mut entries = Vec::new();
        {
            let mut stmt = conn.prepare_cached(&positional(SELECT_PENDING)).map_err(sqlite)?;
            let mut rows = stmt.query(params![limit]).map_err(sqlite)?;
            while let Some(r) = rows.next().map_err(sqlite)? {
                let id: i64 = r.get("id").map_err(sqlite)?;
                let detail: String = r.get("detail").map_err(sqlite)?;
                let detail: BTreeMap<String, String> = serde_json::from_str(&detail).map_err(|_| AuditStoreError::Unreadable {
                    seq: 0,
                    why: format!("pending event {id}: detail is not a JSON object of strings"),
                })?;
                let event = Event {
                    actor: r.get("actor").map_err(sqlite)?,
                    action: r.get("action").map_err(sqlite)?,
                    site: r.get("site").map_err(sqlite)?,
                    subject: r.get("subject").map_err(sqlite)?,
                    detail,
                };
                let e = audit::seal(head, r.get("at").map_err(sqlite)?, event);
                head = Some(Head { seq: e.seq, hash: e.hash });
                ids.push(id);
                entries.push(e);
            }
        }
        let Some(head) = head.filter(|_| !entries.is_empty()) else {
            // Nothing pending: dropping the transaction rolls it back.
            return Ok(0);
        };
        for chunk in entries.chunks(CHUNK) {
            let details: Vec<String> = chunk.iter().map(|e| serde_json::to_string(&e.event.detail).unwrap_or_else(|_| "{}".into())).collect();
            let hexes: Vec<(String, String)> = chunk.iter().map(|e| (audit::hex(&e.prev_hash), audit::hex(&e.hash))).collect();
            let mut p: Vec<&dyn ToSql> = Vec::with_capacity(chunk.len() * 9);
            for ((e, detail), (prev, hash)) in chunk.iter().zip(&details).zip(&hexes) {
                p.extend([
                    &e.seq as &dyn ToSql,
                    &e.at,
                    &e.event.actor,
                    &e.event.action,
                    &e.event.site,
                    &e.event.subject,
                    detail,
                    prev,
                    hash,
                ]);
            }
            conn.prepare_cached(&positional(&insert_entries_sql(chunk.len())))
                .and_then(|mut s| s.execute(p.as_slice()))
                .map_err(sqlite)?;
        }
        // Exactly the rows read (as on PostgreSQL, where a lower id may commit later).
        for chunk in ids.chunks(CHUNK) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("?{i}")).collect();
            let sql = format!("{DELETE_PENDING_SQL_PREFIX}({})", marks.join(", "));
            let p: Vec<&dyn ToSql> = chunk.iter().map(|id| id as &dyn ToSql).collect();
            conn.prepare_cached(&sql).and_then(|mut s| s.execute(p.as_slice())).map_err(sqlite)?;
        }
        conn.prepare_cached(&positional(STORE_HEAD))
            .and_then(|mut s| s.execute(params![head.seq, audit::hex(&head.hash)]))
            .map_err(sqlite)?;
        tx.commit_now().map_err(AuditStoreError::from_store)?;
        Ok(entries.len() as u64)
    }
}
