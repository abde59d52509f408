//! The checkpointer: a signed checkpoint on its interval when the log grew, one at shutdown, the numbering
//! continued across restarts, a private append-only file, no signature over entries that do not verify, and the
//! current token signing key after a rotation; the external sink gets the same checkpoints.

use std::sync::{Arc, Mutex};

use realname_domain::clock::Clock as _;
use realname_server::audit::checkpoint::CheckpointFileError;

use super::*;
use crate::harness::{Backend as ServerBackend, Harness};

#[tokio::test]
async fn checkpoints_are_written_on_their_interval_when_the_log_grew() {
    each_backend(async |db| {
        let dir = tempfile::tempdir().unwrap();
        let file = CheckpointFile::in_dir(&dir.path().join("cp"));
        let t0 = ms("2026-03-05");
        let mut cp = Checkpointer::new(file.clone(), key(), signing(), 60_000).unwrap();
        fill(db.audit(), 2).await;
        let first = cp.tick(db.audit(), t0, false).await.unwrap().unwrap();
        assert_eq!((first.n, first.entries, first.at), (1, 2, t0));
        fill_range(db.audit(), 2..3).await;
        assert_eq!(cp.tick(db.audit(), t0 + 59_999, false).await.unwrap(), None, "within the interval");
        assert_eq!(cp.tick(db.audit(), t0 + 60_000, false).await.unwrap().map(|c| (c.n, c.entries)), Some((2, 3)));
        assert_eq!(cp.tick(db.audit(), t0 + 600_000, false).await.unwrap(), None, "the log did not grow");
        fill_range(db.audit(), 3..4).await;
        let forced = cp.tick(db.audit(), t0 + 600_001, true).await.unwrap().unwrap();
        assert_eq!((forced.n, forced.entries), (3, 4), "at shutdown, whatever the interval");
        // A restart continues the numbering from the file.
        fill_range(db.audit(), 4..5).await;
        let mut again = Checkpointer::new(file.clone(), key(), signing(), 60_000).unwrap();
        assert_eq!(again.last().map(|c| c.n), Some(3));
        assert_eq!(again.tick(db.audit(), t0 + 700_000, false).await.unwrap().map(|c| c.n), Some(4));

        let all = file.read().unwrap();
        assert_eq!(all.iter().map(|c| c.n).collect::<Vec<_>>(), [1, 2, 3, 4]);
        let (good, unknown) = cli::check_checkpoints(&all, &keys().signers).unwrap();
        assert_eq!((good.len(), unknown), (4, 0));
        assert_eq!(verify_with(&db, &all).await.unwrap().checkpoints, 4);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!((mode(file.path()), mode(&dir.path().join("cp"))), (0o600, 0o700));
        }
        // An edited checkpoint line fails verification as a whole.
        let text = std::fs::read_to_string(file.path()).unwrap();
        std::fs::write(file.path(), text.replacen("\"entries\":2", "\"entries\":1", 1)).unwrap();
        let err = verify_with(&db, &file.read().unwrap()).await.unwrap_err().to_string();
        assert!(err.contains("checkpoint 1 has a bad signature"), "{err}");
    })
    .await;
}

#[tokio::test]
async fn no_checkpoint_is_signed_over_entries_that_do_not_verify() {
    each_backend(async |db| {
        let dir = tempfile::tempdir().unwrap();
        let file = CheckpointFile::in_dir(dir.path());
        let mut cp = Checkpointer::new(file.clone(), key(), signing(), 1).unwrap();
        fill(db.audit(), 3).await;
        cp.tick(db.audit(), ms("2026-03-04"), false).await.unwrap().unwrap();
        // A forged entry after the checkpoint: not signed over.
        let head = db.audit().audit_head().await.unwrap();
        let forged = realname_domain::audit::seal(
            &ChainKey::from_secret([2; 32]),
            head,
            ms("2026-03-05"),
            Event::new("system", "x", "y"),
        );
        db.audit().audit_append(&key(), ms("2026-03-05"), Event::new("system", "real", "z")).await.unwrap();
        db.drop_guards().await;
        db.exec(&format!("UPDATE audit_log SET key_id = '{}' WHERE seq = 4", forged.key_id.unwrap())).await.unwrap();
        db.restore_guards().await;
        match cp.tick(db.audit(), ms("2026-03-06"), false).await {
            Err(CheckpointFileError::Tampered(b)) => assert_eq!(b.seq, 4, "{b}"),
            other => panic!("{other:?}"),
        }
        // Nor when the checkpointed entry itself was edited.
        db.drop_guards().await;
        db.exec("UPDATE audit_log SET key_id = NULL, subject = 'case:9' WHERE seq = 3").await.unwrap();
        db.restore_guards().await;
        assert!(matches!(cp.tick(db.audit(), ms("2026-03-07"), true).await, Err(CheckpointFileError::Tampered(_))));
        assert_eq!(file.read().unwrap().len(), 1);
    })
    .await;
}

/// The server's chainer checkpoints once, the token signing key is rotated while the server runs, and it
/// checkpoints again at shutdown; returns the server (its folder kept) and the two checkpoints.
async fn checkpoints_across_a_rotation(b: ServerBackend) -> (Harness, tempfile::TempDir, Vec<Checkpoint>) {
    let dir = tempfile::tempdir().unwrap();
    let cp_dir = dir.path().to_owned();
    let h = Harness::with(b, move |cfg| cfg.audit.checkpoint_dir = cp_dir).await;
    let mut chainer = realname_server::cli::serve::chainer_of(&h.state).unwrap();
    h.create_session().await;
    chainer.round(false).await;
    assert_eq!(CheckpointFile::in_dir(dir.path()).read().unwrap().len(), 1);
    let mut ring = (*h.state.keys()).clone();
    ring.rotate_token(realname_domain::clock::SeededRandom::new(9).as_ref(), h.clock.now_ms()).unwrap();
    h.state.keys.replace(ring);
    h.create_session().await;
    h.clock.advance_secs(1);
    chainer.run(async {}).await;
    let all = CheckpointFile::in_dir(dir.path()).read().unwrap();
    assert_eq!(all.len(), 2, "{all:?}");
    (h, dir, all)
}

/// The server's chainer chains the pending events and checkpoints on shutdown, with the token signing key: after a
/// rotation, the new one.
async fn the_chainer_checkpoints_at_shutdown(b: ServerBackend) {
    let (h, _dir, all) = checkpoints_across_a_rotation(b).await;
    let head = h.state.store.audit_head().await.unwrap().unwrap();
    assert_eq!((all[1].entries, all[1].head, all[1].at), (head.seq, head.hash, h.clock.now_ms()));
    assert_eq!(all[1].kid, h.state.keys().token_signer().unwrap().0);
    assert_ne!(all[1].kid, all[0].kid, "signed with the rotated key");
    let keys = AuditKeys::of_ring(&h.state.keys());
    let r = cli::verify(h.state.store.as_ref(), &keys, &all).await.unwrap();
    assert_eq!((r.checkpoints, r.verified.entries), (2, head.seq as u64));
}

/// A checkpoint outlives the token key that signed it: once a later rotation prunes that key from the key file (its
/// tokens expired long ago), its checkpoints still verify with the public half the file keeps, and one forged under
/// its key id still fails. (Before, the pruned key's checkpoints were set aside as unknown and protected nothing.)
async fn checkpoints_of_a_pruned_token_key_still_verify(b: ServerBackend) {
    let (h, _dir, all) = checkpoints_across_a_rotation(b).await;
    let old = all[0].kid.clone();
    assert_ne!(all[1].kid, old, "one checkpoint per key");
    // A day later the old key is pruned (as the next rotation does) and the key file read again.
    let mut ring = (*h.state.keys()).clone();
    ring.prune_token(h.clock.now_ms() + 86_400_000, 3_600_000);
    assert!(ring.token_keys().all(|(kid, _)| kid != old), "pruned: no longer signing nor in the JWKS");
    let reloaded = realname_domain::keys::KeyRing::from_json(ring.to_json().as_bytes()).unwrap();
    let keys = AuditKeys::of_ring(&reloaded);
    let r = cli::verify(h.state.store.as_ref(), &keys, &all).await.unwrap();
    assert_eq!((r.checkpoints, r.unknown), (2, 0), "the pruned key's checkpoint is still checked");
    // A checkpoint forged under the pruned key's id, signed by another key: the log cannot be trusted.
    let head = h.state.store.audit_head().await.unwrap();
    let forged = Checkpoint::sign(3, head, h.clock.now_ms(), &old, &SigningKey::from_bytes(&[7; 32]));
    let err = cli::verify(h.state.store.as_ref(), &keys, &[all, vec![forged]].concat()).await.unwrap_err();
    assert!(err.to_string().contains("checkpoint 3 has a bad signature"), "{err}");
}

on_both_backends!(the_chainer_checkpoints_at_shutdown, checkpoints_of_a_pruned_token_key_still_verify);

/// A log collector on loopback that refuses the first `refuse` requests (500), then takes them (204).
async fn collector(refuse: u32) -> (String, Arc<Mutex<Vec<String>>>) {
    use axum::routing::post;
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let left = Arc::new(Mutex::new(refuse));
    let state = seen.clone();
    let app = axum::Router::new().route(
        "/checkpoints",
        post(move |body: String| {
            let (seen, left) = (state.clone(), left.clone());
            async move {
                seen.lock().unwrap().push(body);
                let mut left = left.lock().unwrap();
                if *left > 0 {
                    *left -= 1;
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    axum::http::StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/checkpoints"), seen)
}

#[tokio::test]
async fn checkpoints_also_go_to_the_external_sink_and_a_refused_one_is_sent_again() {
    each_backend(async |db| {
        let (url, seen) = collector(1).await;
        let dir = tempfile::tempdir().unwrap();
        let http = realname_server::delivery::http::HttpClient::new(std::time::Duration::from_secs(5));
        let sink = realname_server::audit::checkpoint::Sink::new(http, url);
        let file = CheckpointFile::in_dir(dir.path());
        let mut cp = Checkpointer::new(file.clone(), key(), signing(), 60_000).unwrap().with_sink(sink);
        fill(db.audit(), 2).await;
        cp.tick(db.audit(), ms("2026-03-03"), false).await.unwrap().unwrap();
        assert_eq!(cp.sink().unwrap().backlog(), 1, "refused: kept for the next time");
        fill_range(db.audit(), 2..3).await;
        cp.tick(db.audit(), ms("2026-03-04"), false).await.unwrap().unwrap();
        assert_eq!(cp.sink().unwrap().backlog(), 0);
        let seen = seen.lock().unwrap().clone();
        let sent: Vec<Checkpoint> = seen.iter().map(|l| Checkpoint::parse_line(l, 1).unwrap()).collect();
        assert_eq!(sent.iter().map(|c| c.n).collect::<Vec<_>>(), [1, 1, 2], "in order, the refused one again");
        assert_eq!(sent[1..], file.read().unwrap()[..], "the same checkpoints as the file");
        cli::check_checkpoints(&sent, &keys().signers).unwrap();
    })
    .await;
}
