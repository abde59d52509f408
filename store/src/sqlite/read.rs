//! SQLite's synchronous readers ([`Readers`]) and the WAL checkpointer thread, beside the step transactions'
//! connection (`sqlite/tx.rs`).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, params};

use super::tx::{is_busy, positional, session_from_row};
use crate::sql::step;
use realname_domain::session::Session;

use crate::error::{StoreError, StoreResult};

/// How many synchronous readers a store keeps: reads run on the runtime's threads (two on this machine), and
/// a read finding every reader taken goes to sqlx's pool instead of waiting.
const READERS: usize = 4;

/// How often the checkpointer copies the WAL back into the database file.
const CHECKPOINT_PERIOD: Duration = Duration::from_millis(100);

/// Every how many checkpoints one is a RESTART, which holds writers off while it waits for readers (every
/// 100 ms cost the benchmark a tenth of its rate and 15 ms of p99; every second let the WAL reach 300 MB).
const RESTART_EVERY: u32 = 5;

/// The size the WAL file is cut back to once a RESTART let it start over.
pub(super) const WAL_SIZE_LIMIT: i64 = 64 << 20;

/// Opens a connection to the (already created and migrated) database file for reading or checkpointing.
fn open_plain(path: &Path) -> StoreResult<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::ZERO)?;
    Ok(conn)
}

/// Connections for the reads of every request, run synchronously like the write transactions: in WAL mode a
/// read never waits for the writer, and a point lookup takes microseconds.
#[derive(Clone)]
pub(crate) struct Readers(Arc<[std::sync::Mutex<Connection>]>);

impl std::fmt::Debug for Readers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Readers")
    }
}

impl Readers {
    /// Opens [`READERS`] read-only (`query_only`) connections.
    pub(crate) fn open(path: &Path) -> StoreResult<Self> {
        let mut conns = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let conn = open_plain(path)?;
            conn.pragma_update(None, "query_only", "ON")?;
            conns.push(std::sync::Mutex::new(conn));
        }
        Ok(Self(conns.into()))
    }

    /// Runs `read` on a free reader; `None` when all of them are in use.
    pub(crate) fn with<R>(&self, read: impl FnOnce(&Connection) -> R) -> Option<R> {
        let conn = self.0.iter().find_map(|m| m.try_lock().ok())?;
        Some(read(&conn))
    }

    /// Loads a session on a free reader; `None` when every reader is in use (or the file is busy, as during
    /// another process's recovery), for the caller to read through sqlx instead.
    pub(crate) fn session(&self, id: &str) -> Option<StoreResult<Option<Session>>> {
        let read = self.with(|conn| -> StoreResult<Option<Session>> {
            let mut stmt = conn.prepare_cached(&positional(step::SELECT_SESSION))?;
            let mut rows = stmt.query(params![id])?;
            rows.next()?.map(session_from_row).transpose()
        })?;
        match read {
            Err(StoreError::Sqlite(e)) if is_busy(&e) => None,
            read => Some(read),
        }
    }
}

/// Copies the whole WAL into the database file and truncates it to nothing (see
/// [`super::Maintenance::flush_erased`]); false when readers or the checkpointer thread kept it busy for the
/// ~3 s this tries. New writers wait while a TRUNCATE checkpoint is pending, so each try waits for readers as
/// briefly as the checkpointer thread's RESTART does; it runs only after erasures and purges that removed something.
pub(crate) fn truncate_wal(path: &Path) -> StoreResult<bool> {
    let conn = open_plain(path)?;
    conn.busy_timeout(Duration::from_millis(20))?;
    for _ in 0..100 {
        // (busy, frames in the log, frames checkpointed): a TRUNCATE that finished leaves an empty log.
        let (busy, log): (i64, i64) =
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| Ok((r.get(0)?, r.get(1)?)))?;
        if busy == 0 && log == 0 {
            return Ok(true);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(false)
}

/// Starts the thread that checkpoints the WAL every [`CHECKPOINT_PERIOD`] until `alive` is gone, so that no
/// step's COMMIT copies pages and syncs the file on a runtime thread (the transaction connection does not
/// checkpoint itself). A PASSIVE pass copies what it can beside the writers; the RESTART after it copies the
/// rest and lets the next writer start the WAL file over (without it, under steady writes the WAL never
/// restarts and grows by the megabyte per second). RESTART holds the write lock for that short remainder;
/// its waits sleep in SQLite's busy handler on this thread, not on the runtime's. Between RESTARTs the WAL
/// grows with the write rate (about 200 MB/s at the benchmark's 1,100 flows/s); `journal_size_limit` cuts the
/// file back after each.
pub(crate) fn spawn_checkpointer(path: &Path, alive: std::sync::Weak<()>) -> StoreResult<()> {
    let conn = open_plain(path)?;
    conn.busy_timeout(Duration::from_millis(20))?;
    conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            let mut tick = 0u32;
            while alive.strong_count() > 0 {
                std::thread::sleep(CHECKPOINT_PERIOD);
                // A busy or failed pass is retried on the next tick; the WAL only grows meanwhile.
                let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                tick = tick.wrapping_add(1);
                if tick.is_multiple_of(RESTART_EVERY) {
                    let _ = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()));
                }
            }
        })
        .map_err(|e| StoreError::Config(format!("cannot start the SQLite checkpointer: {e}")))?;
    Ok(())
}
