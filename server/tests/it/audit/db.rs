//! Fresh databases for the review stream's tests: a SQLite file, and a PostgreSQL schema when `DATABASE_URL` is
//! set (required when `REALNAME_REQUIRE_POSTGRES=1`, as in `cargo xtask test`).

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
    include_str!("../../../../store/migrations/sqlite/0101_audit_log.sql"),
    include_str!("../../../../store/migrations/sqlite/0105_audit_pending.sql"),
    include_str!("../../../../store/migrations/sqlite/0108_audit_keyed.sql"),
];
const PG_MIGRATIONS: &[&str] = &[
    include_str!("../../../../store/migrations/postgres/0101_audit_log.sql"),
    include_str!("../../../../store/migrations/postgres/0105_audit_pending.sql"),
    include_str!("../../../../store/migrations/postgres/0108_audit_keyed.sql"),
];

/// The protective triggers as the migrations create them: `(name, CREATE statement)` per backend.
fn guard_statements(backend: Backend) -> Vec<(String, String)> {
    match backend {
        Backend::Sqlite => SQLITE_MIGRATIONS
            .iter()
            .flat_map(|m| m.match_indices("CREATE TRIGGER ").map(move |(i, _)| &m[i..]))
            .map(|rest| {
                let stmt = &rest[..rest.find("END;").unwrap() + 4];
                (stmt.split_whitespace().nth(2).unwrap().to_owned(), stmt.to_owned())
            })
            .collect(),
        Backend::Postgres => PG_GUARDS
            .iter()
            .map(|(name, table, rest)| {
                (
                    name.to_string(),
                    format!("CREATE TRIGGER {name} {}", rest.replace(" ON T ", &format!(" ON {table} "))),
                )
            })
            .collect(),
    }
}

/// PostgreSQL's protective triggers: name, table, the rest of the statement (`ON T` is the table).
const PG_GUARDS: &[(&str, &str, &str)] = &[
    (
        "audit_log_no_change",
        "audit_log",
        "BEFORE UPDATE OR DELETE ON T FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    ),
    (
        "audit_log_no_truncate",
        "audit_log",
        "BEFORE TRUNCATE ON T FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
    ),
    ("audit_log_append_extends", "audit_log", "BEFORE INSERT ON T FOR EACH ROW EXECUTE FUNCTION audit_log_extends()"),
    (
        "audit_head_forward",
        "audit_head",
        "BEFORE UPDATE OR DELETE ON T FOR EACH ROW EXECUTE FUNCTION audit_head_forward()",
    ),
    (
        "audit_head_no_truncate",
        "audit_head",
        "BEFORE TRUNCATE ON T FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
    ),
];

impl TestDb {
    /// A fresh database on `backend`.
    pub async fn new(backend: Backend, tag: &str) -> TestDb {
        let db = Self::before_keyed(backend, tag).await;
        db.migrate_keyed().await;
        db
    }

    /// A fresh database as versions before the keyed chain made it (migration 107 not applied).
    pub async fn before_keyed(backend: Backend, tag: &str) -> TestDb {
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
                for m in &SQLITE_MIGRATIONS[..2] {
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
                for m in &PG_MIGRATIONS[..2] {
                    pool.execute(sqlx::raw_sql(m)).await.unwrap();
                }
                TestDb { backend, pool: Pool::Pg(pool), file: None }
            }
        }
    }

    /// Applies migration 107 (the keyed chain).
    pub async fn migrate_keyed(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.execute(sqlx::raw_sql(SQLITE_MIGRATIONS[2])).await.map(|_| ()).unwrap(),
            Pool::Pg(p) => p.execute(sqlx::raw_sql(PG_MIGRATIONS[2])).await.map(|_| ()).unwrap(),
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

    /// Runs several statements.
    pub async fn batch(&self, sql: &str) {
        match &self.pool {
            Pool::Sqlite(p) => {
                // A pooled connection may hold the schema from before another connection's DROP: a read of the
                // schema table makes it reload, so a CREATE of the dropped trigger does not find the old one.
                let mut c = p.acquire().await.unwrap();
                c.execute("SELECT count(*) FROM sqlite_master").await.unwrap();
                c.execute(sqlx::raw_sql(sql)).await.map(|_| ()).unwrap()
            }
            Pool::Pg(p) => p.execute(sqlx::raw_sql(sql)).await.map(|_| ()).unwrap(),
        }
    }

    /// The names of the protective triggers on this backend.
    pub fn guard_names(&self) -> Vec<String> {
        guard_statements(self.backend).into_iter().map(|(n, _)| n).collect()
    }

    /// Drops one protective trigger.
    pub async fn drop_guard(&self, name: &str) {
        let sql = match self.backend {
            Backend::Sqlite => format!("DROP TRIGGER {name}"),
            Backend::Postgres => {
                let table = PG_GUARDS.iter().find(|g| g.0 == name).unwrap().1;
                format!("DROP TRIGGER {name} ON {table}")
            }
        };
        self.batch(&sql).await;
    }

    /// Drops the protective triggers, as an attacker with database access would before tampering.
    pub async fn drop_guards(&self) {
        for name in self.guard_names() {
            self.drop_guard(&name).await;
        }
    }

    /// Creates the protective triggers again exactly as the migrations did, as an attacker would after tampering.
    pub async fn restore_guards(&self) {
        for name in self.guard_names() {
            self.restore_guard(&name).await;
        }
    }

    /// Creates one protective trigger again as the migrations did.
    pub async fn restore_guard(&self, name: &str) {
        let (_, stmt) = guard_statements(self.backend).into_iter().find(|(n, _)| n == name).unwrap();
        self.batch(&stmt).await;
    }

    /// Writes `entries` over the stored ones with the same numbers and removes every later entry, and sets the head
    /// to the last of them: what a writer with full database access (guards dropped) can do.
    pub async fn rewrite(&self, from: i64, entries: &[realname_domain::audit::Entry]) {
        use realname_domain::encoding::hex_encode;
        self.exec(&format!("DELETE FROM audit_log WHERE seq >= {from}")).await.unwrap();
        for e in entries {
            let sql = format!(
                "INSERT INTO audit_log (seq, at, actor, action, site, subject, detail, prev_hash, key_id, hash) \
                 VALUES ({}, {}, '{}', '{}', {}, '{}', '{}', '{}', {}, '{}')",
                e.seq,
                e.at,
                e.event.actor,
                e.event.action,
                e.event.site.as_ref().map_or("NULL".to_owned(), |s| format!("'{s}'")),
                e.event.subject,
                serde_json::to_string(&e.event.detail).unwrap(),
                hex_encode(&e.prev_hash),
                e.key_id.as_ref().map_or("NULL".to_owned(), |k| format!("'{k}'")),
                hex_encode(&e.hash),
            );
            self.exec(&sql).await.unwrap();
        }
        if let Some(last) = entries.last() {
            self.set_head(last.head()).await;
        }
    }

    /// Sets the head row.
    pub async fn set_head(&self, h: realname_domain::audit::Head) {
        let hash = realname_domain::encoding::hex_encode(&h.hash);
        self.exec(&format!("UPDATE audit_head SET seq = {}, hash = '{hash}' WHERE id = 1", h.seq)).await.unwrap();
    }
}
