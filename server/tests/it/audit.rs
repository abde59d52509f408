//! The audit log on SQLite and PostgreSQL: appends chain, `audit verify` names the first bad entry after an edit,
//! a deletion, a reordering or a truncation, `audit export` writes the CSV of a date range that verifies offline.

use std::sync::Arc;

use realname_domain::audit::{Event, Problem};
use realname_domain::calendar::Date;
use realname_server::audit::cli::{self, AuditCliError};
use realname_store::audit::AuditStore;

use db::{Backend, TestDb};

/// 10:00 Beijing time on `day`, Unix ms.
fn ms(day: &str) -> i64 {
    (day.parse::<Date>().unwrap().beijing_midnight_unix() + 10 * 3600) * 1000
}

async fn fill(store: &dyn AuditStore, n: usize) {
    for i in 0..n {
        let ev = Event::new(format!("reviewer:{}", i % 3), "review.case.viewed", format!("case:{i}"))
            .site("demo")
            .detail("fields", "name,number,face_image");
        let day = format!("2026-03-{:02}", 1 + i);
        store.audit_append(ms(&day), ev).await.unwrap();
    }
}

async fn verify(db: &TestDb) -> Result<u64, AuditCliError> {
    cli::verify(db.audit()).await
}

fn broken(r: Result<u64, AuditCliError>) -> realname_domain::audit::Break {
    match r {
        Err(AuditCliError::Broken(b)) => b,
        other => panic!("expected a broken chain, got {other:?}"),
    }
}

async fn each_backend(f: impl AsyncFn(TestDb)) {
    for b in Backend::all() {
        let db = TestDb::new(b, "audit").await;
        eprintln!("backend {b:?}");
        f(db).await;
    }
}

#[tokio::test]
async fn appends_chain_and_verify() {
    each_backend(async |db| {
        assert_eq!(verify(&db).await.unwrap(), 0);
        fill(db.audit(), 7).await;
        assert_eq!(verify(&db).await.unwrap(), 7);
        let mut out = Vec::new();
        cli::run(&["verify".into()], db.audit(), &mut out).await.unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.starts_with("audit log intact: 7 entries, head entry 7"), "{out}");
        // The application itself can neither change nor remove an entry.
        assert!(db.exec("UPDATE audit_log SET actor = 'x' WHERE seq = 2").await.is_err());
        assert!(db.exec("DELETE FROM audit_log WHERE seq = 2").await.is_err());
        assert_eq!(verify(&db).await.unwrap(), 7);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_keep_one_chain() {
    each_backend(async |db| {
        let store: Arc<dyn AuditStore> = db.audit_arc();
        let tasks: Vec<_> = (0..24)
            .map(|i| {
                let s = store.clone();
                tokio::spawn(async move { s.audit_append(ms("2026-03-02") + i, Event::new("system", "t", "s")).await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        assert_eq!(verify(&db).await.unwrap(), 24);
    })
    .await;
}

#[tokio::test]
async fn an_edited_entry_is_named() {
    each_backend(async |db| {
        fill(db.audit(), 6).await;
        db.drop_guards().await;
        db.exec("UPDATE audit_log SET subject = 'case:999' WHERE seq = 4").await.unwrap();
        let b = broken(verify(&db).await);
        assert_eq!((b.seq, b.problem), (4, Problem::Altered));
        let mut out = Vec::new();
        let err = cli::run(&["verify".into()], db.audit(), &mut out).await.unwrap_err().to_string();
        assert!(err.contains("entry 4 (position 4) was altered"), "{err}");
    })
    .await;
}

#[tokio::test]
async fn a_deleted_entry_is_named() {
    each_backend(async |db| {
        fill(db.audit(), 6).await;
        db.drop_guards().await;
        db.exec("DELETE FROM audit_log WHERE seq = 3").await.unwrap();
        let b = broken(verify(&db).await);
        assert_eq!((b.seq, b.problem), (4, Problem::Missing { expected: 3 }));
    })
    .await;
}

#[tokio::test]
async fn reordered_entries_are_named() {
    each_backend(async |db| {
        fill(db.audit(), 6).await;
        db.drop_guards().await;
        // Swap the numbers of entries 2 and 5 (through a free number, as the column is a primary key).
        db.exec("UPDATE audit_log SET seq = 100 WHERE seq = 2").await.unwrap();
        db.exec("UPDATE audit_log SET seq = 2 WHERE seq = 5").await.unwrap();
        db.exec("UPDATE audit_log SET seq = 5 WHERE seq = 100").await.unwrap();
        let b = broken(verify(&db).await);
        assert_eq!((b.seq, b.problem), (2, Problem::Altered));
    })
    .await;
}

#[tokio::test]
async fn removing_the_newest_entries_is_detected() {
    each_backend(async |db| {
        fill(db.audit(), 6).await;
        db.drop_guards().await;
        db.exec("DELETE FROM audit_log WHERE seq >= 5").await.unwrap();
        let b = broken(verify(&db).await);
        assert_eq!((b.seq, b.problem), (4, Problem::Truncated { head_seq: 6 }));
        // Rewinding the head as well leaves a head that does not match the last entry's hash.
        db.exec("UPDATE audit_head SET seq = 4").await.unwrap();
        let b = broken(verify(&db).await);
        assert_eq!((b.seq, b.problem), (4, Problem::BrokenLink));
    })
    .await;
}

#[tokio::test]
async fn export_writes_a_date_range_that_verifies_offline() {
    each_backend(async |db| {
        fill(db.audit(), 10).await; // 2026-03-01 … 2026-03-10, one a day
        let path = std::env::temp_dir().join(format!("realname-audit-{}-{:?}.csv", std::process::id(), db.backend));
        let p = path.to_string_lossy().to_string();
        let args: Vec<String> = ["export", "--from", "2026-03-03", "--to", "2026-03-05", "--out", &p]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let mut out = Vec::new();
        cli::run(&args, db.audit(), &mut out).await.unwrap();
        assert!(String::from_utf8(out).unwrap().contains("exported 3 entries"));
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(lines[0].starts_with("seq,at_ms,time_utc,actor,action"));
        assert!(lines[1].starts_with("3,") && lines[3].starts_with("5,"), "{text}");
        assert!(lines[1].contains("2026-03-03T02:00:00.000Z"), "{text}");

        let mut out = Vec::new();
        cli::run(&["verify".into(), "--file".into(), p.clone()], db.audit(), &mut out).await.unwrap();
        assert!(String::from_utf8(out).unwrap().contains("export intact: 3 entries from entry 3"));
        // An edited export no longer verifies.
        std::fs::write(&path, text.replace("case:2", "case:8")).unwrap();
        let err = cli::run(&["verify".into(), "--file".into(), p.clone()], db.audit(), &mut Vec::new()).await;
        assert!(err.unwrap_err().to_string().contains("entry 3 (position 1) was altered"));
        // Reordered lines too.
        let swapped = format!("{}\n{}\n{}\n{}\n", lines[0], lines[2], lines[1], lines[3]);
        std::fs::write(&path, swapped).unwrap();
        let err = cli::run(&["verify".into(), "--file".into(), p.clone()], db.audit(), &mut Vec::new()).await;
        assert!(matches!(err, Err(AuditCliError::Broken(_))));
        std::fs::remove_file(&path).unwrap();

        let bad = cli::run(&["export".into(), "--from".into(), "2026-03-05".into()], db.audit(), &mut Vec::new()).await;
        assert!(matches!(bad, Err(AuditCliError::Usage(_))));
    })
    .await;
}

/// Fresh databases for the review stream's tests: a SQLite file, and a PostgreSQL schema when `DATABASE_URL` is
/// set (required when `REALNAME_REQUIRE_POSTGRES=1`, as in `cargo xtask test`).
pub mod db {
    use std::str::FromStr;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    use realname_store::audit::AuditStore;
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
    use sqlx::{Executor, PgPool, SqlitePool};

    /// A database backend.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Backend {
        /// A SQLite file.
        Sqlite,
        /// A schema in `DATABASE_URL`.
        Postgres,
    }

    impl Backend {
        /// SQLite, and PostgreSQL when available (or required).
        pub fn all() -> Vec<Backend> {
            let required = std::env::var("REALNAME_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
            match std::env::var("DATABASE_URL") {
                Ok(_) => vec![Backend::Sqlite, Backend::Postgres],
                Err(_) if required => {
                    panic!("REALNAME_REQUIRE_POSTGRES=1 but DATABASE_URL is not set")
                }
                Err(_) => vec![Backend::Sqlite],
            }
        }
    }

    enum Pool {
        Sqlite(SqlitePool),
        Pg(PgPool),
    }

    /// A migrated, empty database.
    pub struct TestDb {
        /// Which backend.
        pub backend: Backend,
        pool: Pool,
        /// The SQLite file (for searching the bytes on disk).
        #[allow(dead_code)]
        pub file: Option<std::path::PathBuf>,
    }

    static N: AtomicU32 = AtomicU32::new(0);

    fn unique(tag: &str) -> String {
        let nanos =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        format!("t_{tag}_{}_{}_{nanos}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
    }

    const SQLITE_MIGRATIONS: &[&str] = &[
        include_str!("../../../store/migrations/sqlite/0101_audit_log.sql"),
        include_str!("../../../store/migrations/sqlite/0105_audit_pending.sql"),
    ];
    const PG_MIGRATIONS: &[&str] = &[
        include_str!("../../../store/migrations/postgres/0101_audit_log.sql"),
        include_str!("../../../store/migrations/postgres/0105_audit_pending.sql"),
    ];

    impl TestDb {
        /// A fresh database on `backend`.
        pub async fn new(backend: Backend, tag: &str) -> TestDb {
            let name = unique(tag);
            match backend {
                Backend::Sqlite => {
                    let file = std::env::temp_dir().join(format!("{name}.db"));
                    let opts = SqliteConnectOptions::new()
                        .filename(&file)
                        .create_if_missing(true)
                        .journal_mode(SqliteJournalMode::Wal)
                        .busy_timeout(std::time::Duration::from_secs(10));
                    let pool = SqlitePoolOptions::new().max_connections(4).connect_with(opts).await.unwrap();
                    for m in SQLITE_MIGRATIONS {
                        pool.execute(sqlx::raw_sql(m)).await.unwrap();
                    }
                    TestDb { backend, pool: Pool::Sqlite(pool), file: Some(file) }
                }
                Backend::Postgres => {
                    let url = std::env::var("DATABASE_URL").unwrap();
                    let admin = PgPool::connect(&url).await.unwrap();
                    admin.execute(format!("CREATE SCHEMA {name}").as_str()).await.unwrap();
                    admin.close().await;
                    let opts = PgConnectOptions::from_str(&url).unwrap().options([("search_path", name.as_str())]);
                    let pool = PgPoolOptions::new().max_connections(8).connect_with(opts).await.unwrap();
                    for m in PG_MIGRATIONS {
                        pool.execute(sqlx::raw_sql(m)).await.unwrap();
                    }
                    TestDb { backend, pool: Pool::Pg(pool), file: None }
                }
            }
        }

        /// The audit store.
        pub fn audit(&self) -> &dyn AuditStore {
            match &self.pool {
                Pool::Sqlite(p) => p,
                Pool::Pg(p) => p,
            }
        }

        /// The audit store, shareable across tasks.
        pub fn audit_arc(&self) -> Arc<dyn AuditStore> {
            match &self.pool {
                Pool::Sqlite(p) => Arc::new(p.clone()),
                Pool::Pg(p) => Arc::new(p.clone()),
            }
        }

        /// Runs one statement, as someone with direct database access would.
        pub async fn exec(&self, sql: &str) -> Result<(), sqlx::Error> {
            match &self.pool {
                Pool::Sqlite(p) => p.execute(sql).await.map(|_| ()),
                Pool::Pg(p) => p.execute(sql).await.map(|_| ()),
            }
        }

        /// Drops the append-only triggers, as an attacker with database access would before tampering.
        pub async fn drop_guards(&self) {
            let sql = match self.backend {
                Backend::Sqlite => "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;",
                Backend::Postgres => {
                    "DROP TRIGGER audit_log_no_change ON audit_log; DROP TRIGGER audit_log_no_truncate ON audit_log;"
                }
            };
            match &self.pool {
                Pool::Sqlite(p) => p.execute(sqlx::raw_sql(sql)).await.map(|_| ()).unwrap(),
                Pool::Pg(p) => p.execute(sqlx::raw_sql(sql)).await.map(|_| ()).unwrap(),
            }
        }
    }
}
