//! Migrations embedded in the binary (no sqlx macros): one list per backend, applied at open.
//!
//! Versions 1–99 belong to the core storage; 101–199 (`server/migrations/*/01xx_*.sql`) to review,
//! complaints and audit. Add a file and a line to both lists; never edit an applied migration.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

/// An embedded migration: version, description, SQL.
type Embedded = (i64, &'static str, &'static str);

const SQLITE: &[Embedded] = &[
    (
        1,
        "init",
        include_str!("../../migrations/sqlite/0001_init.sql"),
    ),
    (
        101,
        "audit_log",
        include_str!("../../migrations/sqlite/0101_audit_log.sql"),
    ),
    (
        102,
        "review",
        include_str!("../../migrations/sqlite/0102_review.sql"),
    ),
    (
        103,
        "complaints",
        include_str!("../../migrations/sqlite/0103_complaints.sql"),
    ),
    (
        104,
        "audit_subject",
        include_str!("../../migrations/sqlite/0104_audit_subject.sql"),
    ),
    (
        105,
        "audit_pending",
        include_str!("../../migrations/sqlite/0105_audit_pending.sql"),
    ),
];

const POSTGRES: &[Embedded] = &[
    (
        1,
        "init",
        include_str!("../../migrations/postgres/0001_init.sql"),
    ),
    (
        101,
        "audit_log",
        include_str!("../../migrations/postgres/0101_audit_log.sql"),
    ),
    (
        102,
        "review",
        include_str!("../../migrations/postgres/0102_review.sql"),
    ),
    (
        103,
        "complaints",
        include_str!("../../migrations/postgres/0103_complaints.sql"),
    ),
    (
        104,
        "audit_subject",
        include_str!("../../migrations/postgres/0104_audit_subject.sql"),
    ),
    (
        105,
        "audit_pending",
        include_str!("../../migrations/postgres/0105_audit_pending.sql"),
    ),
];

#[derive(Debug)]
struct Source(&'static [Embedded]);

impl<'s> MigrationSource<'s> for Source {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, BoxDynError>> + Send + 's>> {
        let list = self
            .0
            .iter()
            .map(|(v, d, sql)| {
                Migration::new(
                    *v,
                    Cow::Borrowed(*d),
                    MigrationType::Simple,
                    Cow::Borrowed(*sql),
                    false,
                )
            })
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
