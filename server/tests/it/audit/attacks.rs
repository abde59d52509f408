//! What someone who can write the database but does not hold the server's keys can do to the audit log, each
//! detected by `audit verify` on SQLite and PostgreSQL: cut the tail and rewind the head, edit an entry and rehash
//! everything after it, renumber after a deletion, append forged entries, drop (or disable, or replace) the
//! triggers. The attacker restores the triggers after tampering, so the entries alone must give it away. The
//! untouched log verifies.

use realname_domain::audit::{Break, Entry, hash, seal};

use super::*;

/// A log of 8 keyed entries with a signed checkpoint of all of them, on each backend.
async fn each_checkpointed(f: impl AsyncFn(&TestDb, &[Checkpoint])) {
    each_backend(async |db| {
        let dir = tempfile::tempdir().unwrap();
        fill(db.audit(), 8).await;
        let cps = checkpoint(&db, dir.path(), ms("2026-03-09")).await;
        assert_eq!(cps.len(), 1);
        f(&db, &cps).await;
    })
    .await;
}

fn broken(r: Result<cli::Report, AuditCliError>) -> Break {
    match r {
        Err(AuditCliError::Broken(b)) => b,
        other => panic!("expected a broken chain, got {other:?}"),
    }
}

async fn entries(db: &TestDb) -> Vec<Entry> {
    db.audit().audit_after(0, 1_000).await.unwrap()
}

/// Recomputes the links of `entries[from..]` as a writer without the chain key can: SHA-256 of the legacy form,
/// each linked to its predecessor.
fn rehash(entries: &mut [Entry], from: usize) {
    for i in from..entries.len() {
        if i > 0 {
            entries[i].prev_hash = entries[i - 1].hash;
        }
        let e = &entries[i];
        entries[i].hash = hash(e.seq, e.at, &e.event, &e.prev_hash);
    }
}

#[tokio::test]
async fn an_untouched_log_verifies_against_its_checkpoint() {
    each_checkpointed(async |db, cps| {
        let r = verify_with(db, cps).await.unwrap();
        assert_eq!((r.verified.entries, r.verified.keyed_from, r.checkpoints), (8, Some(1), 1));
        assert_eq!(r.newest.map(|c| c.entries), Some(8));
    })
    .await;
}

#[tokio::test]
async fn cutting_the_tail_and_rewinding_the_head_is_detected() {
    each_checkpointed(async |db, cps| {
        let all = entries(db).await;
        db.drop_guards().await;
        db.exec("DELETE FROM audit_log WHERE seq >= 6").await.unwrap();
        db.set_head(all[4].head()).await;
        db.restore_guards().await;
        let b = broken(verify_with(db, cps).await);
        assert_eq!((b.seq, b.problem.clone(), b.trusted), (5, Problem::CheckpointTruncated { checkpoint_seq: 8 }, 5));
        assert!(b.to_string().contains("entries 6..=8 are missing at the end"), "{b}");
        assert!(b.to_string().contains("trusted up to entry 5"), "{b}");
        // Without the checkpoint the cut is invisible: that is the window between two checkpoints.
        assert_eq!(verify(db).await.unwrap(), 5);
    })
    .await;
}

#[tokio::test]
async fn an_edited_entry_with_everything_after_it_rehashed_is_detected() {
    each_checkpointed(async |db, cps| {
        let mut all = entries(db).await;
        all[3].event.subject = "case:999".into();
        rehash(&mut all, 3);
        db.drop_guards().await;
        db.rewrite(4, &all[3..]).await;
        db.restore_guards().await;
        let b = broken(verify_with(db, cps).await);
        assert_eq!((b.seq, b.problem, b.trusted), (4, Problem::Altered, 3));
        // The same entries declared legacy (no key id): refused after the keyed chain began.
        for e in &mut all[3..] {
            e.key_id = None;
        }
        db.drop_guards().await;
        db.rewrite(4, &all[3..]).await;
        db.restore_guards().await;
        let b = broken(verify_with(db, &[]).await);
        assert_eq!((b.seq, b.problem.clone(), b.trusted), (4, Problem::Unkeyed { keyed_from: 1 }, 3));
        assert!(b.to_string().contains("written without the key"), "{b}");
    })
    .await;
}

#[tokio::test]
async fn renumbering_after_a_deletion_is_detected() {
    each_checkpointed(async |db, cps| {
        let mut all = entries(db).await;
        all.remove(3);
        for e in &mut all[3..] {
            e.seq -= 1;
        }
        rehash(&mut all, 3);
        db.drop_guards().await;
        db.rewrite(4, &all[3..]).await;
        db.restore_guards().await;
        let b = broken(verify_with(db, cps).await);
        assert_eq!((b.seq, b.problem, b.trusted), (4, Problem::Altered, 3));
        // Even without any checkpoint.
        assert_eq!(broken(verify_with(db, &[]).await).seq, 4);
    })
    .await;
}

#[tokio::test]
async fn appended_forged_entries_are_detected() {
    each_checkpointed(async |db, cps| {
        let head = db.audit().audit_head().await.unwrap().unwrap();
        // Malformed appends are refused by the database itself.
        let other = seal(&ChainKey::from_secret([1; 32]), Some(head), ms("2026-03-10"), Event::new("system", "x", "y"));
        let mut gap = other.clone();
        gap.seq = 11;
        let mut unlinked = other.clone();
        unlinked.prev_hash = [3; 32];
        let mut unkeyed = other.clone();
        unkeyed.key_id = None;
        for bad in [gap, unlinked, unkeyed] {
            assert!(db.exec(&insert_sql(&bad)).await.is_err(), "{bad:?}");
        }
        assert!(db.exec("UPDATE audit_head SET seq = 3 WHERE id = 1").await.is_err(), "the head never moves back");
        // A well-formed one under a made-up key: the store takes it, verify does not.
        db.exec(&insert_sql(&other)).await.unwrap();
        db.set_head(other.head()).await;
        let b = broken(verify_with(db, cps).await);
        assert_eq!((b.seq, b.trusted), (9, 8));
        assert!(matches!(b.problem, Problem::UnknownKey { .. }), "{b}");
        // Under the server's key id, with the only link the writer can compute; and the server appends after it.
        db.drop_guards().await;
        db.exec("DELETE FROM audit_log WHERE seq = 9").await.unwrap();
        db.set_head(head).await;
        db.restore_guards().await;
        let mut forged = other.clone();
        forged.key_id = Some(key().id().to_owned());
        forged.hash = hash(forged.seq, forged.at, &forged.event, &forged.prev_hash);
        db.exec(&insert_sql(&forged)).await.unwrap();
        db.set_head(forged.head()).await;
        db.audit().audit_append(&key(), ms("2026-03-11"), Event::new("system", "later", "z")).await.unwrap();
        let b = broken(verify_with(db, cps).await);
        assert_eq!((b.seq, b.problem, b.trusted), (9, Problem::Altered, 8));
    })
    .await;
}

#[tokio::test]
async fn dropped_disabled_or_replaced_triggers_are_detected() {
    each_checkpointed(async |db, cps| {
        for name in db.guard_names() {
            db.drop_guard(&name).await;
            match verify_with(db, cps).await {
                Err(AuditCliError::Unguarded(missing)) => assert_eq!(missing, [name.as_str()]),
                other => panic!("{name}: {other:?}"),
            }
            db.restore_guard(&name).await;
        }
        verify_with(db, cps).await.unwrap();
        let err = match db.backend {
            Backend::Sqlite => {
                // Same name, never fires.
                db.batch(
                    "DROP TRIGGER audit_log_no_update; CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON \
                          audit_log WHEN 0 BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;",
                )
                .await;
                verify_with(db, cps).await.unwrap_err()
            }
            Backend::Postgres => {
                db.batch("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_extends").await;
                let disabled = verify_with(db, cps).await.unwrap_err().to_string();
                assert!(disabled.contains("audit_log_append_extends"), "{disabled}");
                db.batch("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_extends").await;
                // The function every change guard calls, made harmless.
                db.batch(
                    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS \
                          $$ BEGIN RETURN NEW; END; $$",
                )
                .await;
                verify_with(db, cps).await.unwrap_err()
            }
        };
        let text = err.to_string();
        assert!(matches!(err, AuditCliError::Unguarded(_)), "{text}");
        assert!(text.contains("audit_log_no_") && text.contains("missing, disabled or changed"), "{text}");
    })
    .await;
}

#[tokio::test]
async fn legacy_entries_verify_before_the_keyed_chain_and_are_pinned_by_checkpoints() {
    each_backend(async |db| {
        let dir = tempfile::tempdir().unwrap();
        // Three entries from before the keyed chain.
        let mut legacy: Vec<Entry> = Vec::new();
        for i in 0..3 {
            let head = legacy.last().map(Entry::head);
            let ev = Event::new("system", "old.event", format!("case:{i}"));
            legacy.push(realname_domain::audit::seal_legacy(head, ms("2026-03-01") + i, ev));
        }
        db.rewrite(1, &legacy).await;
        let cps = checkpoint(&db, dir.path(), ms("2026-03-02")).await;
        assert_eq!(verify_with(&db, &cps).await.unwrap().verified.keyed_from, None);
        // Rewritten consistently, as a writer can for legacy entries: only the checkpoint tells.
        let mut rewritten = legacy.clone();
        rewritten[1].event.subject = "case:999".into();
        rehash(&mut rewritten, 1);
        db.drop_guards().await;
        db.rewrite(2, &rewritten[1..]).await;
        db.restore_guards().await;
        assert_eq!(verify(&db).await.unwrap(), 3);
        let b = broken(verify_with(&db, &cps).await);
        assert_eq!((b.seq, b.problem, b.trusted), (3, Problem::CheckpointMismatch { checkpoint_seq: 3 }, 0));
        // Put back, the keyed chain starts after them and verifies from there.
        db.drop_guards().await;
        db.rewrite(2, &legacy[1..]).await;
        db.restore_guards().await;
        fill_range(db.audit(), 3..5).await;
        let r = verify_with(&db, &cps).await.unwrap();
        assert_eq!((r.verified.entries, r.verified.keyed_from), (5, Some(4)));
        // The database refuses an unkeyed entry after a keyed one.
        let tail = db.audit().audit_head().await.unwrap();
        let late = realname_domain::audit::seal_legacy(tail, ms("2026-03-06"), Event::new("system", "x", "y"));
        assert!(db.exec(&insert_sql(&late)).await.is_err());
    })
    .await;
}

/// A log written before the keyed chain (by the statement those versions ran) keeps verifying after migration 107,
/// the keyed chain starts after it, and `audit verify` says where.
#[tokio::test]
async fn a_log_from_before_the_keyed_chain_upgrades_and_verifies() {
    for b in Backend::all() {
        let db = TestDb::before_keyed(b, "upgrade").await;
        let mut legacy: Vec<Entry> = Vec::new();
        for i in 0..3 {
            let head = legacy.last().map(Entry::head);
            let e = realname_domain::audit::seal_legacy(head, ms("2026-03-01") + i, Event::new("system", "old", "s"));
            // The insert of versions before 107 (no key_id column yet).
            let hex = realname_domain::encoding::hex_encode;
            let sql = format!(
                "INSERT INTO audit_log (seq, at, actor, action, site, subject, detail, prev_hash, hash) VALUES \
                 ({}, {}, 'system', 'old', NULL, 's', '{{}}', '{}', '{}')",
                e.seq,
                e.at,
                hex(&e.prev_hash),
                hex(&e.hash)
            );
            db.exec(&sql).await.unwrap();
            db.set_head(e.head()).await;
            legacy.push(e);
        }
        db.migrate_keyed().await;
        fill_range(db.audit(), 3..5).await;
        let dir = tempfile::tempdir().unwrap();
        checkpoint(&db, dir.path(), ms("2026-03-06")).await;
        let out = run(&db, dir.path(), &["verify"]).await.unwrap();
        assert!(out.starts_with("audit log intact: 5 entries"), "{b:?}: {out}");
        assert!(out.contains("entries from 4 on are keyed") && out.contains("entries 1..=3 are legacy"), "{out}");
        // A rewrite of the legacy entries no longer fits the first keyed entry's MAC-covered link.
        let mut rewritten = legacy.clone();
        rewritten[0].event.subject = "case:999".into();
        rehash(&mut rewritten, 0);
        let keyed = entries(&db).await.split_off(3);
        db.drop_guards().await;
        db.rewrite(1, &rewritten).await;
        db.rewrite(4, &keyed).await;
        db.restore_guards().await;
        let b = broken(verify_with(&db, &[]).await);
        assert_eq!((b.seq, b.problem), (4, Problem::BrokenLink));
    }
}

/// The INSERT a writer with database access would run for `e`.
fn insert_sql(e: &Entry) -> String {
    use realname_domain::encoding::hex_encode;
    format!(
        "INSERT INTO audit_log (seq, at, actor, action, site, subject, detail, prev_hash, key_id, hash) VALUES \
         ({}, {}, '{}', '{}', NULL, '{}', '{{}}', '{}', {}, '{}')",
        e.seq,
        e.at,
        e.event.actor,
        e.event.action,
        e.event.subject,
        hex_encode(&e.prev_hash),
        e.key_id.as_ref().map_or("NULL".to_owned(), |k| format!("'{k}'")),
        hex_encode(&e.hash)
    )
}
