//! The audit log's protective triggers and the check that they are in place (`audit verify`).
//!
//! The triggers refuse changes and deletions of entries, appends that do not extend the chain, and a head that
//! moves back. They stop mistakes and casual edits; someone who can drop a trigger can also recreate it, and a
//! PostgreSQL superuser can bypass them (`session_replication_role`), so the proof is the chain key's MAC and the
//! signed checkpoints, and this check is a tripwire: a trigger dropped, disabled or replaced by one that differs
//! from the migration's is reported.

use sqlx::{PgPool, Row, SqlitePool};

use crate::audit::AuditStoreError;

/// Every protective trigger, by name (both backends use these names).
pub const GUARDS: &[&str] = &[
    "audit_log_no_update",
    "audit_log_no_delete",
    "audit_log_no_change",
    "audit_log_no_truncate",
    "audit_log_append_extends",
    "audit_head_forward",
    "audit_head_no_delete",
    "audit_head_no_truncate",
];

const SQLITE_SOURCES: &[&str] = &[
    include_str!("../migrations/sqlite/0101_audit_log.sql"),
    include_str!("../migrations/sqlite/0108_audit_keyed.sql"),
];
const PG_SOURCES: &[&str] = &[
    include_str!("../migrations/postgres/0101_audit_log.sql"),
    include_str!("../migrations/postgres/0108_audit_keyed.sql"),
];

fn normalize(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The `CREATE TRIGGER name … END` statement of a SQLite migration, as `sqlite_master.sql` keeps it.
fn sqlite_trigger_sql(name: &str) -> Option<String> {
    let head = format!("CREATE TRIGGER {name} ");
    SQLITE_SOURCES.iter().find_map(|src| {
        let start = src.find(&head)?;
        let len = src[start..].find("END;")?;
        Some(normalize(&src[start..start + len + 3]))
    })
}

/// The body (between the `$$`) of a PostgreSQL migration's function.
fn pg_function_body(name: &str) -> Option<String> {
    let head = format!("CREATE FUNCTION {name}()");
    PG_SOURCES.iter().find_map(|src| {
        let rest = &src[src.find(&head)?..];
        let open = rest.find("$$")? + 2;
        let len = rest[open..].find("$$")?;
        Some(normalize(&rest[open..open + len]))
    })
}

/// The missing or changed triggers of a SQLite database.
pub(crate) async fn sqlite(pool: &SqlitePool) -> Result<Vec<&'static str>, AuditStoreError> {
    let rows = sqlx::query("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetch_all(pool).await?;
    let found: Vec<(String, String)> = rows
        .iter()
        .map(|r| Ok((r.try_get::<String, _>("name")?, normalize(&r.try_get::<String, _>("sql")?))))
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(GUARDS
        .iter()
        .copied()
        .filter_map(|name| {
            let want = sqlite_trigger_sql(name)?;
            let ok = found.iter().any(|(n, sql)| n == name && *sql == want);
            (!ok).then_some(name)
        })
        .collect())
}

/// `(trigger, table, function, tgtype)` of the PostgreSQL guards; tgtype bits: 1 row, 2 before, 4 insert,
/// 8 delete, 16 update, 32 truncate.
const PG_GUARDS: &[(&str, &str, &str, i32)] = &[
    ("audit_log_no_change", "audit_log", "audit_log_append_only", 1 | 2 | 8 | 16),
    ("audit_log_no_truncate", "audit_log", "audit_log_append_only", 2 | 32),
    ("audit_log_append_extends", "audit_log", "audit_log_extends", 1 | 2 | 4),
    ("audit_head_forward", "audit_head", "audit_head_forward", 1 | 2 | 8 | 16),
    ("audit_head_no_truncate", "audit_head", "audit_log_append_only", 2 | 32),
];

/// The missing, disabled or changed triggers of a PostgreSQL database (in the connection's schema).
pub(crate) async fn postgres(pool: &PgPool) -> Result<Vec<&'static str>, AuditStoreError> {
    let rows = sqlx::query(
        "SELECT t.tgname::text AS name, t.tgenabled::text AS enabled, c.relname::text AS tbl, \
                p.proname::text AS func, p.prosrc AS src, t.tgtype::int4 AS kind \
         FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid \
         WHERE NOT t.tgisinternal AND c.oid IN ('audit_log'::regclass, 'audit_head'::regclass)",
    )
    .fetch_all(pool)
    .await?;
    let mut missing = Vec::new();
    for &(name, table, func, kind) in PG_GUARDS {
        let body = pg_function_body(func);
        let ok = rows.iter().any(|r| {
            let get = |c: &str| r.try_get::<String, _>(c).unwrap_or_default();
            get("name") == name
                && get("tbl") == table
                && get("func") == func
                && matches!(get("enabled").as_str(), "O" | "A")
                && r.try_get::<i32, _>("kind").ok() == Some(kind)
                && body.as_deref() == Some(normalize(&get("src")).as_str())
        });
        if !ok {
            missing.push(name);
        }
    }
    Ok(missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_guard_has_its_source() {
        for name in GUARDS {
            let sqlite = sqlite_trigger_sql(name).is_some();
            let pg = PG_GUARDS.iter().find(|g| g.0 == *name).is_some_and(|g| pg_function_body(g.2).is_some());
            assert!(sqlite || pg, "{name}");
        }
        assert!(sqlite_trigger_sql("audit_log_append_extends").unwrap().ends_with("END"));
        assert!(pg_function_body("audit_log_append_only").unwrap().contains("RAISE EXCEPTION"));
    }
}
