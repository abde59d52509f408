//! The audit log on SQLite and PostgreSQL: appends chain, `audit verify` names the first bad entry after an edit,
//! a deletion, a reordering or a truncation, `audit export` writes the CSV of a date range that verifies offline.
//! `attacks`: what a database writer without the server's keys can do, each detected; `checkpoints`: the signed
//! checkpoints and their writer.

use std::sync::Arc;

use ed25519_dalek::SigningKey;
use realname_domain::audit::checkpoint::Checkpoint;
use realname_domain::audit::{ChainKey, Event, Problem};
use realname_domain::calendar::Date;
use realname_server::audit::checkpoint::{CheckpointFile, Checkpointer};
use realname_server::audit::cli::{self, AuditCliError, AuditKeys};
use realname_store::audit::AuditStore;

use db::{Backend, TestDb};

/// The chain key of these tests (the server derives its own from the key ring).
fn key() -> ChainKey {
    ChainKey::from_secret([7; 32])
}

/// The checkpoint signer of these tests, `(kid, key)`.
fn signer() -> (String, SigningKey) {
    ("rt-test".to_owned(), SigningKey::from_bytes(&[8; 32]))
}

/// [`signer`] as the checkpointer asks for it.
fn signing() -> realname_server::audit::checkpoint::Signer {
    Arc::new(|| Some(signer()))
}

/// The keys `audit verify` reads from the key ring.
fn keys() -> AuditKeys {
    let (kid, k) = signer();
    AuditKeys { chain: vec![key()], signers: vec![(kid, k.verifying_key())] }
}

/// Writes a signed checkpoint of the current head into `dir` (as the server's checkpointer does) and returns every
/// checkpoint of the file.
async fn checkpoint(db: &TestDb, dir: &std::path::Path, at: i64) -> Vec<Checkpoint> {
    let file = CheckpointFile::in_dir(dir);
    let mut cp = Checkpointer::new(file.clone(), key(), signing(), 60_000).unwrap();
    cp.tick(db.audit(), at, true).await.unwrap();
    file.read().unwrap()
}
/// 10:00 Beijing time on `day`, Unix ms.
fn ms(day: &str) -> i64 {
    (day.parse::<Date>().unwrap().beijing_midnight_unix() + 10 * 3600) * 1000
}

async fn fill(store: &dyn AuditStore, n: usize) {
    fill_range(store, 0..n).await
}

/// Appends entries `range` (entry `i` on 2026-03-(i + 1)).
async fn fill_range(store: &dyn AuditStore, range: std::ops::Range<usize>) {
    for i in range {
        let ev = Event::new(format!("reviewer:{}", i % 3), "review.case.viewed", format!("case:{i}"))
            .site("demo")
            .detail("fields", "name,number,face_image");
        let day = format!("2026-03-{:02}", 1 + i);
        store.audit_append(&key(), ms(&day), ev).await.unwrap();
    }
}

async fn verify(db: &TestDb) -> Result<u64, AuditCliError> {
    cli::verify(db.audit(), &keys(), &[]).await.map(|r| r.verified.entries)
}

/// `audit verify` against signed checkpoints.
async fn verify_with(db: &TestDb, checkpoints: &[Checkpoint]) -> Result<cli::Report, AuditCliError> {
    cli::verify(db.audit(), &keys(), checkpoints).await
}

/// Runs `audit …` with the test keys and the checkpoint file in `dir`.
async fn run(db: &TestDb, dir: &std::path::Path, args: &[&str]) -> Result<String, AuditCliError> {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let mut out = Vec::new();
    cli::run(&args, db.audit(), &keys(), &CheckpointFile::in_dir(dir), &mut out).await?;
    Ok(String::from_utf8(out).unwrap())
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
        let dir = tempfile::tempdir().unwrap();
        let out = run(&db, dir.path(), &["verify"]).await.unwrap();
        assert!(out.starts_with("audit log intact: 7 entries, head entry 7"), "{out}");
        assert!(out.contains("WARNING: no signed checkpoint"), "{out}");
        checkpoint(&db, dir.path(), ms("2026-03-09")).await;
        let out = run(&db, dir.path(), &["verify"]).await.unwrap();
        assert!(out.contains("every entry is keyed (MAC under chain key ak-"), "{out}");
        assert!(out.contains("matches 1 signed checkpoints") && out.contains("records entry 7"), "{out}");
        assert!(out.contains("protective triggers in place"), "{out}");
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
                tokio::spawn(async move {
                    s.audit_append(&key(), ms("2026-03-02") + i, Event::new("system", "t", "s")).await
                })
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
        let dir = tempfile::tempdir().unwrap();
        let err = run(&db, dir.path(), &["verify"]).await.unwrap_err().to_string();
        assert!(err.contains("entry 4 (position 4) was altered"), "{err}");
        assert!(err.contains("the log can be trusted up to entry 3 and not after it"), "{err}");
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
        let dir = tempfile::tempdir().unwrap();
        fill_range(db.audit(), 0..4).await; // 2026-03-01 … 2026-03-10, one a day, a checkpoint after the 4th
        checkpoint(&db, dir.path(), ms("2026-03-04") + 1).await;
        fill_range(db.audit(), 4..10).await;
        let path = dir.path().join("export.csv");
        let p = path.to_string_lossy().to_string();
        let out = run(&db, dir.path(), &["export", "--from", "2026-03-03", "--to", "2026-03-05", "--out", &p]).await;
        let out = out.unwrap();
        assert!(out.contains("exported 3 entries") && out.contains("and 1 signed checkpoints"), "{out}");
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4, "{text}");
        assert!(lines[0].starts_with("seq,at_ms,time_utc,actor,action"));
        assert!(lines[1].starts_with("3,") && lines[3].starts_with("5,"), "{text}");
        assert!(lines[1].contains("2026-03-03T02:00:00.000Z"), "{text}");

        let out = run(&db, dir.path(), &["verify", "--file", &p]).await.unwrap();
        assert!(out.contains("export intact: 3 entries from entry 3"), "{out}");
        assert!(out.contains("signed checkpoints match it up to entry 4"), "{out}");
        // An edited export no longer verifies.
        std::fs::write(&path, text.replace("case:2", "case:8")).unwrap();
        let err = run(&db, dir.path(), &["verify", "--file", &p]).await.unwrap_err().to_string();
        assert!(err.contains("entry 3 (position 1) was altered"), "{err}");
        // Reordered lines too.
        let swapped = format!("{}\n{}\n{}\n{}\n", lines[0], lines[2], lines[1], lines[3]);
        std::fs::write(&path, swapped).unwrap();
        let err = run(&db, dir.path(), &["verify", "--file", &p]).await;
        assert!(matches!(err, Err(AuditCliError::Broken(_))));
        // Cut after the checkpointed entry: the checkpoint exported with it tells.
        std::fs::write(&path, format!("{}\n{}\n", lines[0], lines[1])).unwrap();
        let err = run(&db, dir.path(), &["verify", "--file", &p]).await.unwrap_err().to_string();
        assert!(err.contains("entries 4..=4 are missing at the end: a signed checkpoint recorded entry 4"), "{err}");

        let bad = run(&db, dir.path(), &["export", "--from", "2026-03-05"]).await;
        assert!(matches!(bad, Err(AuditCliError::Usage(_))));
    })
    .await;
}

mod attacks;
mod checkpoints;
pub mod db;
