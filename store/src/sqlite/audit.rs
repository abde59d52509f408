//! The audit chainer's pass on SQLite (`AuditStore::audit_chain_pending`), on the step transactions' rusqlite
//! connection: it takes its turn in the same in-process queue and runs from `BEGIN IMMEDIATE` to `COMMIT`
//! without an await point, so the write lock is never held while a task waits for a runtime thread (through
//! sqlx it was held across about fifteen hand-offs to the connection's thread every second). Same statements
//! and sealing as the sqlx backends (`store/audit.rs`).

use std::collections::BTreeMap;

use rusqlite::{Connection, ToSql, params};

use super::read::Readers;
use super::tx::{TxConnection, positional};
use crate::audit::{
    AuditStoreError, CHUNK, DELETE_PENDING_SQL_PREFIX, LOCK_HEAD, SELECT_PENDING, STORE_HEAD, head_of,
    insert_entries_sql,
};
use realname_domain::audit::{ChainKey, Event, Head};

/// Pending events chained per transaction: each pass holds the write lock and a runtime thread while it seals
/// and moves its rows, so it is kept to a few milliseconds and the step transactions queued meanwhile go
/// between two passes.
const PASS: i64 = 200;

/// Pending events sealed onto a head, ready to be written: what a pass computes before it takes the write lock.
struct Sealed {
    /// The head they were sealed onto (`(seq, hash)` as stored).
    onto: (i64, String),
    /// The pending rows they came from.
    ids: Vec<i64>,
    entries: Vec<realname_domain::audit::Entry>,
}

/// Reads the head and up to `limit` pending events on `conn` (inside a transaction, so both come from one
/// snapshot) and seals them onto it with `key`: the CPU work of a pass (JSON, an HMAC per entry).
fn seal_pending(conn: &Connection, key: &ChainKey, limit: i64) -> Result<Sealed, AuditStoreError> {
    let sqlite = |e: rusqlite::Error| AuditStoreError::Sqlite(e);
    let onto = current_head(conn)?;
    let mut head = head_of(onto.0, &onto.1)?;
    let mut ids = Vec::new();
    let mut entries = Vec::new();
    let mut stmt = conn.prepare_cached(&positional(SELECT_PENDING)).map_err(sqlite)?;
    let mut rows = stmt.query(params![limit]).map_err(sqlite)?;
    while let Some(r) = rows.next().map_err(sqlite)? {
        let id: i64 = r.get("id").map_err(sqlite)?;
        let detail: String = r.get("detail").map_err(sqlite)?;
        let detail: BTreeMap<String, String> =
            serde_json::from_str(&detail).map_err(|_| AuditStoreError::Unreadable {
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
        let e = realname_domain::audit::seal(key, head, r.get("at").map_err(sqlite)?, event);
        head = Some(Head { seq: e.seq, hash: e.hash });
        ids.push(id);
        entries.push(e);
    }
    Ok(Sealed { onto, ids, entries })
}

/// Inserts the sealed entries, deletes exactly the pending rows they came from and moves the head, on `conn`
/// inside the pass's transaction.
fn write_sealed(conn: &Connection, sealed: &Sealed) -> Result<(), AuditStoreError> {
    let sqlite = |e: rusqlite::Error| AuditStoreError::Sqlite(e);
    let Some(last) = sealed.entries.last() else { return Ok(()) };
    for chunk in sealed.entries.chunks(CHUNK) {
        let details: Vec<String> =
            chunk.iter().map(|e| serde_json::to_string(&e.event.detail).unwrap_or_else(|_| "{}".into())).collect();
        let hexes: Vec<(String, String)> = chunk
            .iter()
            .map(|e| {
                (realname_domain::encoding::hex_encode(&e.prev_hash), realname_domain::encoding::hex_encode(&e.hash))
            })
            .collect();
        let mut p: Vec<&dyn ToSql> = Vec::with_capacity(chunk.len() * 10);
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
                &e.key_id,
                hash,
            ]);
        }
        conn.prepare_cached(&positional(&insert_entries_sql(chunk.len())))
            .and_then(|mut s| s.execute(p.as_slice()))
            .map_err(sqlite)?;
    }
    // Exactly the rows read (as on PostgreSQL, where a lower id may commit later).
    for chunk in sealed.ids.chunks(CHUNK) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("?{i}")).collect();
        let sql = format!("{DELETE_PENDING_SQL_PREFIX}({})", marks.join(", "));
        let p: Vec<&dyn ToSql> = chunk.iter().map(|id| id as &dyn ToSql).collect();
        conn.prepare_cached(&sql).and_then(|mut s| s.execute(p.as_slice())).map_err(sqlite)?;
    }
    conn.prepare_cached(&positional(STORE_HEAD))
        .and_then(|mut s| s.execute(params![last.seq, realname_domain::encoding::hex_encode(&last.hash)]))
        .map_err(sqlite)?;
    Ok(())
}

impl TxConnection {
    /// Chains up to `limit` pending events, oldest `id` first, in transactions of at most [`PASS`] events each;
    /// returns how many. Each pass seals its events on one of `readers` first and takes the write lock only to
    /// write them, unless no reader is free or the head moved meanwhile (another process chained), when it
    /// seals them under the lock.
    pub(crate) async fn audit_chain_pending(
        &self,
        readers: &Readers,
        key: &ChainKey,
        limit: i64,
    ) -> Result<u64, AuditStoreError> {
        let mut total = 0;
        while total < limit.max(0) {
            let want = PASS.min(limit - total);
            let n = self.chain_pass(readers, key, want).await?;
            total += i64::try_from(n).unwrap_or(want);
            if i64::try_from(n).unwrap_or(0) < want {
                break;
            }
        }
        Ok(u64::try_from(total).unwrap_or(0))
    }

    /// One transaction of [`TxConnection::audit_chain_pending`].
    async fn chain_pass(&self, readers: &Readers, key: &ChainKey, limit: i64) -> Result<u64, AuditStoreError> {
        let ahead = readers.with(|conn| -> Result<Sealed, AuditStoreError> {
            conn.execute_batch("BEGIN").map_err(AuditStoreError::Sqlite)?;
            let sealed = seal_pending(conn, key, limit);
            let _ = conn.execute_batch("COMMIT");
            sealed
        });
        let ahead = match ahead {
            Some(Ok(s)) if s.entries.is_empty() => return Ok(0),
            Some(Ok(s)) => Some(s),
            // No free reader, or a busy one: seal under the lock.
            _ => None,
        };
        self.write_pass(ahead, key, limit).await
    }

    /// The locked half of a pass: writes `ahead` if the head is still the one it was sealed onto, else seals
    /// up to `limit` pending events afresh.
    async fn write_pass(&self, ahead: Option<Sealed>, key: &ChainKey, limit: i64) -> Result<u64, AuditStoreError> {
        let tx = self.begin_tx().await.map_err(AuditStoreError::from_store)?;
        let conn = tx.connection();
        let sealed = match ahead {
            Some(s) if current_head(conn)? == s.onto => s,
            _ => seal_pending(conn, key, limit)?,
        };
        if sealed.entries.is_empty() {
            // Nothing pending: dropping the transaction rolls it back.
            return Ok(0);
        }
        write_sealed(conn, &sealed)?;
        tx.commit_now().map_err(AuditStoreError::from_store)?;
        Ok(sealed.entries.len() as u64)
    }
}

/// The stored head as `(seq, hash)`.
fn current_head(conn: &Connection) -> Result<(i64, String), AuditStoreError> {
    conn.prepare_cached(LOCK_HEAD)
        .and_then(|mut s| s.query_row([], |r| Ok((r.get(0)?, r.get(1)?))))
        .map_err(AuditStoreError::Sqlite)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::TxStore as _;
    use crate::audit::AuditStore as _;
    use crate::sqlite::SqliteStore;

    /// Verifies the whole stored chain against its head; returns the number of entries.
    async fn verify(store: &SqliteStore) -> u64 {
        let keys = [key()];
        let mut v = realname_domain::audit::Verifier::new(&keys);
        for e in store.audit_after(0, 10_000).await.unwrap() {
            v.push(&e).unwrap();
        }
        v.finish(store.audit_head().await.unwrap()).unwrap().entries
    }

    fn key() -> ChainKey {
        ChainKey::from_secret([4; 32])
    }

    async fn pending(store: &SqliteStore, n: i64) {
        let mut tx = store.begin_write().await.unwrap();
        let events: Vec<Event> = (0..n).map(|i| Event::new("system", "test.event", format!("s:{i}"))).collect();
        tx.audit_pending(1_000 + n, &events).await.unwrap();
        tx.commit().await.unwrap();
    }

    /// Events sealed on a reader onto a head that moved before the pass took the write lock (another process
    /// chained meanwhile) are sealed again onto the new head, not written with stale sequence numbers.
    #[tokio::test]
    async fn a_pass_sealed_ahead_onto_an_old_head_seals_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
        pending(&store, 3).await;
        let stale = store.readers.with(|c| seal_pending(c, &key(), 10)).unwrap().unwrap();
        assert_eq!(stale.entries.len(), 3);
        // The head moves: the same three events are chained by another pass.
        assert_eq!(store.tx.write_pass(None, &key(), 10).await.unwrap(), 3);
        pending(&store, 2).await;
        assert_eq!(store.tx.write_pass(Some(stale), &key(), 10).await.unwrap(), 2);
        assert_eq!(store.audit_pending_count().await.unwrap(), 0);
        assert_eq!(verify(&store).await, 5);
        let after = store.audit_after(0, 10).await.unwrap();
        let subjects: Vec<&str> = after.iter().map(|e| e.event.subject.as_str()).collect();
        assert_eq!(subjects, ["s:0", "s:1", "s:2", "s:0", "s:1"]);
    }

    /// The usual pass: sealed on a reader, written under the lock, the chain verifies.
    #[tokio::test]
    async fn passes_seal_on_a_reader_and_the_chain_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
        pending(&store, 450).await;
        assert_eq!(store.tx.audit_chain_pending(&store.readers, &key(), 1_000).await.unwrap(), 450);
        pending(&store, 1).await;
        assert_eq!(store.tx.audit_chain_pending(&store.readers, &key(), 1_000).await.unwrap(), 1);
        assert_eq!(verify(&store).await, 451);
    }
}
