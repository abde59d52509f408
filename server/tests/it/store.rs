//! Storage conformance suite: every test body runs against SQLite and against PostgreSQL.
//!
//! PostgreSQL comes from `DATABASE_URL` (set by `cargo xtask test`); each test gets its own schema, so tests
//! run in parallel. Without `DATABASE_URL` the PostgreSQL half fails when `REALNAME_REQUIRE_POSTGRES=1`
//! and otherwise only notes that it did not run. Other test modules can reuse `Backend` to run on both.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use realname_domain::session::*;
use realname_domain::vault::{PlainIdentity, Vault};
use realname_store::postgres::PgStore;
use realname_store::sqlite::SqliteStore;
use realname_store::*;

/// One backend under test: a store plus what it takes to open a second instance on the same database.
pub(crate) struct Backend {
    /// The store.
    pub store: Arc<dyn Store>,
    /// SQLite file, or PostgreSQL URL and schema.
    place: Place,
    _dir: Option<tempfile::TempDir>,
}

#[derive(Clone)]
enum Place {
    Sqlite(PathBuf),
    Postgres { url: String, schema: String },
}

impl Backend {
    /// A fresh SQLite database in a temporary directory.
    pub async fn sqlite() -> Backend {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("data").join("realname.db");
        let store = SqliteStore::open(&path).await.expect("open SQLite");
        Backend { store: Arc::new(store), place: Place::Sqlite(path), _dir: Some(dir) }
    }

    /// A fresh schema in the PostgreSQL of `DATABASE_URL`; `None` if it is not set and not required.
    pub async fn postgres(test: &str) -> Option<Backend> {
        let Ok(url) = std::env::var("DATABASE_URL") else {
            if std::env::var("REALNAME_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                panic!("REALNAME_REQUIRE_POSTGRES=1 but DATABASE_URL is not set: run `cargo xtask test`");
            }
            eprintln!("note: {test}: DATABASE_URL not set, PostgreSQL half not run (`cargo xtask test` runs it)");
            return None;
        };
        Some(Self::postgres_at(test, &url).await)
    }

    /// A fresh schema in the PostgreSQL at `url`.
    pub async fn postgres_at(test: &str, url: &str) -> Backend {
        let url = url.to_owned();
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let short: String = test.chars().take(32).collect();
        let schema = format!("t_{short}_{}_{}_{nanos}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
        let store = PgStore::connect_in_schema(&url, &schema).await.expect("connect PostgreSQL");
        Backend { store: Arc::new(store), place: Place::Postgres { url, schema }, _dir: None }
    }

    /// A second, independent store instance on the same database (like another server process).
    pub async fn another_instance(&self) -> Arc<dyn Store> {
        match &self.place {
            Place::Sqlite(path) => Arc::new(SqliteStore::open(path).await.expect("reopen SQLite")),
            Place::Postgres { url, schema } => {
                Arc::new(PgStore::connect_in_schema(url, schema).await.expect("reconnect PostgreSQL"))
            }
        }
    }

    /// Another backend on the same database (a second server instance's); `self` keeps the database's folder.
    pub async fn second(&self) -> Backend {
        Backend { store: self.another_instance().await, place: self.place.clone(), _dir: None }
    }

    /// Runs `sql` on the database from outside the store (as an operator or another program would): for
    /// counting rows, or for a trigger that makes a write fail to test what a step does when one does.
    /// `{schema}` in `sql` becomes the test's PostgreSQL schema (SQLite: `main`).
    pub async fn sql(&self, sql: &str) {
        match &self.place {
            Place::Sqlite(path) => {
                let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display())).await.expect("open");
                sqlx::raw_sql(&sql.replace("{schema}", "main")).execute(&pool).await.expect("run SQL");
                pool.close().await;
            }
            Place::Postgres { url, schema } => {
                let pool = sqlx::PgPool::connect(url).await.expect("connect");
                sqlx::raw_sql(&sql.replace("{schema}", schema)).execute(&pool).await.expect("run SQL");
                pool.close().await;
            }
        }
    }

    /// The number of rows in `table`.
    pub async fn count(&self, table: &str) -> i64 {
        match &self.place {
            Place::Sqlite(path) => {
                let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display())).await.expect("open");
                let n = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&pool).await;
                pool.close().await;
                n.expect("count")
            }
            Place::Postgres { url, schema } => {
                let pool = sqlx::PgPool::connect(url).await.expect("connect");
                let n = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {schema}.{table}")).fetch_one(&pool).await;
                pool.close().await;
                n.expect("count")
            }
        }
    }

    /// Every byte the database holds, as text: the SQLite files, or each PostgreSQL table's rows.
    pub async fn raw_contents(&self) -> String {
        match &self.place {
            Place::Sqlite(path) => {
                let dir = path.parent().expect("data dir");
                let mut all = String::new();
                for entry in std::fs::read_dir(dir).expect("list data dir") {
                    let bytes = std::fs::read(entry.expect("entry").path()).expect("read db file");
                    all.push_str(&String::from_utf8_lossy(&bytes));
                }
                all
            }
            Place::Postgres { url, schema } => {
                let pool = sqlx::PgPool::connect(url).await.expect("connect");
                let tables: Vec<String> = sqlx::query_scalar(
                    "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1",
                )
                .bind(schema)
                .fetch_all(&pool)
                .await
                .expect("list tables");
                assert!(tables.len() >= 7, "{tables:?}");
                let mut all = String::new();
                for t in tables {
                    // A row's text form prints bytea as hex; hex_decoded adds those bytes as text too.
                    let rows: Vec<String> = sqlx::query_scalar(&format!("SELECT t::text FROM {schema}.{t} t"))
                        .fetch_all(&pool)
                        .await
                        .expect("dump table");
                    for r in rows {
                        all.push_str(&r);
                        all.push_str(&hex_decoded(&r));
                    }
                }
                pool.close().await;
                all
            }
        }
    }
}

/// Decodes every `\x…` hex literal in a row's text form (how PostgreSQL prints bytea) as lossy UTF-8.
fn hex_decoded(row: &str) -> String {
    let mut out = String::new();
    for part in row.split("\\\\x").skip(1) {
        let hex: String = part.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
        let bytes: Vec<u8> =
            (0..hex.len() / 2).filter_map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()).collect();
        out.push_str(&String::from_utf8_lossy(&bytes));
    }
    out
}

mod at_commit;
mod codes;
mod data;
mod keys;
mod queue;
mod sessions;
mod write_tx;

use at_commit::*;
use codes::*;
use data::*;
use keys::*;
use queue::*;
use sessions::*;
use write_tx::*;

/// Runs each named body (taking `&Backend`) once on SQLite and once on PostgreSQL.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name(&super::Backend::sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    if let Some(b) = super::Backend::postgres(stringify!($name)).await {
                        super::$name(&b).await;
                    }
                }
            )*
        }
    };
}

on_both_backends!(
    sessions_roundtrip_and_version_checks,
    finished_sessions_never_change,
    client_secret_is_single_use_and_expires,
    concurrent_updates_let_exactly_one_win,
    codes_count_attempts_and_are_single_use,
    resend_invalidates_the_previous_code,
    expired_and_missing_codes,
    concurrent_code_attempts_never_exceed_the_limit,
    rate_windows_count_and_reset,
    concurrent_rate_hits_from_two_instances_are_exact,
    batched_rate_hits_count_each_window,
    replayed_envelopes_are_refused,
    webhook_queue_lifecycle,
    webhook_leases_expire_and_move_to_another_worker,
    two_instances_claim_each_delivery_once,
    identity_bindings_respect_the_limit,
    concurrent_bindings_respect_the_limit,
    purge_expires_and_deletes,
    no_plaintext_personal_data_at_rest,
    identity_can_be_erased,
    write_tx_commits_all_or_nothing,
    concurrent_write_transactions_are_exact,
    committed_steps_are_visible_at_once_and_dropped_ones_vanish,
    a_commit_survives_the_cancellation_of_the_step_queued_behind_it,
    a_steps_audit_events_are_stored_exactly_and_only_on_commit,
    a_step_cancelled_mid_statement_leaves_nothing,
    a_code_issued_in_a_step_invalidates_the_older_ones,
    idle_step_connections_hold_no_locks,
    rate_hits_in_a_step_count_new_and_existing_windows,
    many_concurrent_and_cancelled_session_reads,
    counting_last_commits_within_limits_and_rolls_back_over_them,
    concurrent_steps_counting_last_stop_exactly_at_the_limit,
    writes_checked_at_commit_store_what_they_answer,
    failed_checks_at_commit_keep_nothing_of_the_step,
    a_replay_checked_at_commit_fails_its_step,
    key_prints_are_recorded_once_and_never_changed,
);

const T0: i64 = 1_790_000_000_000;
const MIN: i64 = 60_000;

fn new_session(id: &str) -> NewSession {
    NewSession {
        id: id.into(),
        site_id: "site-a".into(),
        reference: Some("account-17".into()),
        client_secret_hash: vec![7; 32],
        client_secret_expires_at: T0 + 10 * MIN,
        methods: Methods::SiteDefault,
        created_at: T0,
        expires_at: T0 + 30 * MIN,
    }
}

fn new_code(session: &str, hmac: u8, at: i64) -> NewCode {
    NewCode {
        session_id: session.into(),
        code_hmac: vec![hmac; 32],
        channel: "sms".into(),
        sent_at: at,
        expires_at: at + 5 * MIN,
    }
}

async fn created(s: &Arc<dyn Store>, id: &str) -> Session {
    s.create_session(&new_session(id)).await.expect("create session")
}

/// Several PostgreSQL instances starting together on a fresh schema: every one migrates or waits, none fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_instances_starting_together_share_one_migration() {
    let Some(first) = Backend::postgres("startup").await else {
        return;
    };
    let Place::Postgres { url, schema } = &first.place else { unreachable!() };
    let fresh = format!("{schema}_fresh");
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let (url, fresh) = (url.clone(), fresh.clone());
            tokio::spawn(async move { PgStore::connect_in_schema(&url, &fresh).await.map(|s| s.backend()) })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), "postgres");
    }
    let s = PgStore::connect_in_schema(url, &fresh).await.unwrap();
    s.create_session(&new_session("after-startup")).await.unwrap();
    let applied: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version").fetch_all(s.pool()).await.unwrap();
    assert_eq!(applied.first(), Some(&1), "{applied:?}");
    assert_eq!(applied.len(), applied.iter().collect::<BTreeSet<_>>().len());
    // Operators find the server's connections by name in pg_stat_activity.
    let name: String = sqlx::query_scalar("SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()")
        .fetch_one(s.pool())
        .await
        .unwrap();
    assert_eq!(name, realname_store::postgres::APPLICATION_NAME);
}

/// A `DATABASE_URL` asking for TLS gets it on every connection of the store, and `sslmode=verify-full` refuses a
/// server whose certificate does not chain to the given root (`cargo xtask test` sets `DATABASE_URL_TLS` to its
/// throw-away cluster with a throw-away CA).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_over_tls_verifies_the_server() {
    let Ok(url) = std::env::var("DATABASE_URL_TLS") else {
        assert_ne!(
            std::env::var("REALNAME_REQUIRE_POSTGRES").as_deref(),
            Ok("1"),
            "REALNAME_REQUIRE_POSTGRES=1 but DATABASE_URL_TLS is not set: run `cargo xtask test`"
        );
        eprintln!("note: DATABASE_URL_TLS not set, the TLS test did not run (`cargo xtask test` runs it)");
        return;
    };
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let schema = format!("t_tls_{}_{nanos}", std::process::id());
    // A name of its own tells this store's connections from the other tests' on the same cluster.
    let name = format!("realname-tls-{}-{nanos}", std::process::id());
    let store = PgStore::connect_in_schema(&format!("{url}&application_name={name}"), &schema).await.unwrap();
    // A step transaction and a session read, on the connections of their own, then the pool.
    let mut tx = store.begin_write().await.unwrap();
    tx.create_session_at_commit(&new_session("tls-1")).await.unwrap();
    tx.commit().await.unwrap();
    assert!(store.session("tls-1").await.unwrap().is_some());
    let encrypted: Vec<bool> = sqlx::query_scalar(
        "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
         WHERE a.datname = current_database() AND a.application_name = $1",
    )
    .bind(&name)
    .fetch_all(store.pool())
    .await
    .unwrap();
    // The pool's connection, a step connection (idle in its transaction) and a reader at least.
    assert!(encrypted.len() >= 3, "the store's connections: {encrypted:?}");
    assert!(encrypted.iter().all(|e| *e), "every connection of the store is encrypted: {encrypted:?}");
    // The step connections and readers share the pool's options; a second store checks the handshake itself.
    let without_root = url.split("&sslrootcert=").next().unwrap_or_default().to_owned();
    assert!(without_root.contains("sslmode=verify-full"), "{without_root}");
    assert!(PgStore::connect(&without_root).await.is_err(), "a certificate from an unknown CA is refused");
}

/// After an erasure the SQLite write-ahead log is copied into the database file and truncated, on a store busy
/// with its own checkpointer thread; PostgreSQL has nothing to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flushing_erased_data_empties_the_sqlite_wal() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("f.db");
    let s = realname_store::open(&file.display().to_string()).await.unwrap();
    s.create_session(&new_session("flush-1")).await.unwrap();
    let wal = || std::fs::metadata(format!("{}-wal", file.display())).map_or(0, |m| m.len());
    assert!(wal() > 0, "the session's insert went to the WAL");
    assert!(s.erase_identity("flush-1", 2).await.is_ok());
    assert!(s.flush_erased().await.unwrap());
    assert_eq!(wal(), 0, "the WAL was truncated");
    if let Some(pg) = Backend::postgres("flush").await {
        assert!(pg.store.flush_erased().await.unwrap());
    }
}

/// `store::open` picks the backend from the URL and refuses an in-memory SQLite database.
#[tokio::test]
async fn open_picks_the_backend_from_the_url() {
    let dir = tempfile::tempdir().unwrap();
    for url in [
        format!("sqlite://{}", dir.path().join("a/x.db").display()),
        format!("sqlite:{}", dir.path().join("y.db").display()),
        dir.path().join("z.db").display().to_string(),
    ] {
        let s = realname_store::open(&url).await.unwrap();
        assert_eq!(s.backend(), "sqlite", "{url}");
        s.ping().await.unwrap();
    }
    for url in ["sqlite::memory:", "sqlite://", ""] {
        assert!(matches!(realname_store::open(url).await.err(), Some(StoreError::Config(_))), "{url}");
    }
}
