//! Migrations embedded in the binary (no sqlx macros): one list per backend, applied at open.
//!
//! Versions 1–99 belong to the core storage; 101–199 (`store/migrations/*/01xx_*.sql`) to review,
//! complaints and audit. Add a file and a line to both lists; never edit an applied migration. Versions 2 and
//! 106 are SQLite's alone (its storage layout: WITHOUT ROWID tables, no AUTOINCREMENT); version 3 is
//! PostgreSQL's alone (the function that fails a commit whose checks fail, `postgres/tx.rs`).

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

/// An embedded migration: version, description, SQL.
type Embedded = (i64, &'static str, &'static str);

pub(crate) const SQLITE: &[Embedded] = &[
    (1, "init", include_str!("../migrations/sqlite/0001_init.sql")),
    (2, "fewer_pages", include_str!("../migrations/sqlite/0002_fewer_pages.sql")),
    (4, "key_prints", include_str!("../migrations/sqlite/0004_key_prints.sql")),
    (5, "session_checks", include_str!("../migrations/sqlite/0005_session_checks.sql")),
    (7, "handoffs", include_str!("../migrations/sqlite/0007_handoffs.sql")),
    (101, "audit_log", include_str!("../migrations/sqlite/0101_audit_log.sql")),
    (102, "review", include_str!("../migrations/sqlite/0102_review.sql")),
    (103, "complaints", include_str!("../migrations/sqlite/0103_complaints.sql")),
    (104, "audit_subject", include_str!("../migrations/sqlite/0104_audit_subject.sql")),
    (105, "audit_pending", include_str!("../migrations/sqlite/0105_audit_pending.sql")),
    (106, "audit_pending_rowid", include_str!("../migrations/sqlite/0106_audit_pending_rowid.sql")),
    (107, "documents_reason", include_str!("../migrations/sqlite/0107_documents_reason.sql")),
    (108, "audit_keyed", include_str!("../migrations/sqlite/0108_audit_keyed.sql")),
];

const POSTGRES: &[Embedded] = &[
    (1, "init", include_str!("../migrations/postgres/0001_init.sql")),
    (3, "step_checks", include_str!("../migrations/postgres/0003_step_checks.sql")),
    (4, "key_prints", include_str!("../migrations/postgres/0004_key_prints.sql")),
    (5, "session_checks", include_str!("../migrations/postgres/0005_session_checks.sql")),
    (7, "handoffs", include_str!("../migrations/postgres/0007_handoffs.sql")),
    (101, "audit_log", include_str!("../migrations/postgres/0101_audit_log.sql")),
    (102, "review", include_str!("../migrations/postgres/0102_review.sql")),
    (103, "complaints", include_str!("../migrations/postgres/0103_complaints.sql")),
    (104, "audit_subject", include_str!("../migrations/postgres/0104_audit_subject.sql")),
    (105, "audit_pending", include_str!("../migrations/postgres/0105_audit_pending.sql")),
    (107, "documents_reason", include_str!("../migrations/postgres/0107_documents_reason.sql")),
    (108, "audit_keyed", include_str!("../migrations/postgres/0108_audit_keyed.sql")),
];

#[derive(Debug)]
struct Source(&'static [Embedded]);

impl<'s> MigrationSource<'s> for Source {
    fn resolve(self) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 's>> {
        let list = self
            .0
            .iter()
            .map(|(v, d, sql)| Migration::new(*v, Cow::Borrowed(*d), MigrationType::Simple, Cow::Borrowed(*sql), false))
            .collect();
        Box::pin(async move { Ok(list) })
    }
}

/// The SQLite migrator.
pub(crate) async fn sqlite() -> Result<Migrator, sqlx::migrate::MigrateError> {
    Migrator::new(Source(SQLITE)).await
}

/// The PostgreSQL migrator.
pub(crate) async fn postgres() -> Result<Migrator, sqlx::migrate::MigrateError> {
    Migrator::new(Source(POSTGRES)).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use sqlx::Row as _;
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

    use super::*;

    /// A database made before versions 2 and 106, with rows in every table they rebuild, keeps its rows (and
    /// code ids) through them, and ends with the new layout.
    #[tokio::test]
    async fn sqlite_layout_migrations_keep_existing_rows() {
        let dir = tempfile::tempdir().unwrap();
        let opts =
            SqliteConnectOptions::new().filename(dir.path().join("old.db")).create_if_missing(true).foreign_keys(true);
        let pool = SqlitePool::connect_with(opts).await.unwrap();
        let old: Vec<Embedded> = SQLITE.iter().copied().filter(|(v, _, _)| ![2, 106].contains(v)).collect();
        Migrator::new(Source(old.leak())).await.unwrap().run(&pool).await.unwrap();
        for sql in [
            "INSERT INTO sessions (id, site_id, client_secret_hash, client_secret_expires_at, status, created_at, updated_at, expires_at) \
             VALUES ('ses_a', 'site', x'01', 1, 'code_sent', 1, 1, 9)",
            "INSERT INTO codes (id, session_id, code_hmac, channel, sent_at, expires_at) VALUES (7, 'ses_a', x'02', 'sms', 1, 5)",
            "INSERT INTO seen_envelopes (session_id, envelope_id, expires_at) VALUES ('ses_a', x'03', 5)",
            "INSERT INTO rate_windows (bucket_key, window_start, expires_at, hits) VALUES ('k', 0, 60, 3)",
            "INSERT INTO audit_pending (id, at, actor, action, site, subject, detail) VALUES (4, 1, 'person', 'a', 'site', 's', '{}')",
        ] {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        sqlite().await.unwrap().run(&pool).await.unwrap();
        let count = |sql: &'static str| {
            let pool = pool.clone();
            async move { sqlx::query(sql).fetch_one(&pool).await.unwrap().get::<i64, _>(0) }
        };
        assert_eq!(count("SELECT id FROM codes WHERE session_id = 'ses_a'").await, 7);
        assert_eq!(count("SELECT COUNT(*) FROM seen_envelopes WHERE envelope_id = x'03'").await, 1);
        assert_eq!(count("SELECT hits FROM rate_windows WHERE bucket_key = 'k'").await, 3);
        assert_eq!(count("SELECT id FROM audit_pending").await, 4);
        let layout: Vec<String> = sqlx::query("SELECT sql FROM sqlite_schema WHERE type = 'table' AND sql IS NOT NULL")
            .fetch_all(&pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        let of = |t: &str| {
            layout
                .iter()
                .find(|s| {
                    s.starts_with(&format!("CREATE TABLE \"{t}\"")) || s.starts_with(&format!("CREATE TABLE {t} "))
                })
                .cloned()
                .unwrap_or_default()
        };
        assert!(of("seen_envelopes").contains("WITHOUT ROWID"), "{layout:?}");
        assert!(!of("codes").contains("AUTOINCREMENT") && !of("codes").is_empty());
        assert!(!of("audit_pending").contains("AUTOINCREMENT") && !of("audit_pending").is_empty());
        // New rows still get the next id.
        sqlx::query("INSERT INTO codes (session_id, code_hmac, channel, sent_at, expires_at) VALUES ('ses_a', x'04', 'sms', 2, 6)")
            .execute(&pool)
            .await
            .unwrap();
        assert_eq!(count("SELECT MAX(id) FROM codes").await, 8);
    }

    /// Reasons of review cases stored before version 107, and after it: the documents method's old name
    /// `document` becomes `documents` as a whole item only.
    const REASONS: [(&str, &str, &str); 5] = [
        ("c1", "document", "documents"),
        ("c2", "document,minor,max_accounts", "documents,minor,max_accounts"),
        ("c3", "minor", "minor"),
        ("c4", "unknown_region,document", "unknown_region,documents"),
        ("c5", "documents", "documents"),
    ];

    /// Runs `list` without version 107 on `pool`, stores [`REASONS`], then runs all of `list`.
    async fn before_and_after_107<DB>(pool: &sqlx::Pool<DB>, list: &'static [Embedded])
    where
        DB: sqlx::Database,
        <DB as sqlx::Database>::Connection: sqlx::migrate::Migrate,
        for<'c> &'c mut <DB as sqlx::Database>::Connection: sqlx::Executor<'c, Database = DB>,
        for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    {
        let old: Vec<Embedded> = list.iter().copied().filter(|(v, _, _)| *v != 107).collect();
        Migrator::new(Source(old.leak())).await.unwrap().run(pool).await.unwrap();
        for (id, before, _) in REASONS {
            let sql = format!(
                "INSERT INTO review_cases (id, site_id, session_id, reasons, status, submitted_at, due_at, \
                 due_provisional) VALUES ('{id}', 's', 'ses_{id}', '{before}', 'pending', 1, 2, 0)"
            );
            sqlx::raw_sql(&sql).execute(pool).await.unwrap();
        }
        Migrator::new(Source(list)).await.unwrap().run(pool).await.unwrap();
    }

    #[tokio::test]
    async fn sqlite_stored_cases_name_the_documents_reason_after_107() {
        let dir = tempfile::tempdir().unwrap();
        let opts = SqliteConnectOptions::new().filename(dir.path().join("old.db")).create_if_missing(true);
        let pool = SqlitePool::connect_with(opts).await.unwrap();
        before_and_after_107(&pool, SQLITE).await;
        for (id, _, after) in REASONS {
            let got: String = sqlx::query_scalar("SELECT reasons FROM review_cases WHERE id = ?")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap();
            assert_eq!(got, after, "{id}");
        }
    }

    #[tokio::test]
    async fn postgres_stored_cases_name_the_documents_reason_after_107() {
        let Ok(url) = std::env::var("DATABASE_URL") else {
            assert!(std::env::var_os("REALNAME_REQUIRE_POSTGRES").is_none(), "DATABASE_URL is not set");
            return;
        };
        let schema = format!("migrate107_{}", std::process::id());
        let admin = sqlx::PgPool::connect(&url).await.unwrap();
        sqlx::raw_sql(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"))
            .execute(&admin)
            .await
            .unwrap();
        let opts = <sqlx::postgres::PgConnectOptions as std::str::FromStr>::from_str(&url).unwrap();
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect_with(opts.options([("search_path", schema.as_str())]))
            .await
            .unwrap();
        before_and_after_107(&pool, POSTGRES).await;
        for (id, _, after) in REASONS {
            let got: String = sqlx::query_scalar("SELECT reasons FROM review_cases WHERE id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap();
            assert_eq!(got, after, "{id}");
        }
        pool.close().await;
        sqlx::raw_sql(&format!("DROP SCHEMA {schema} CASCADE")).execute(&admin).await.unwrap();
    }
}
