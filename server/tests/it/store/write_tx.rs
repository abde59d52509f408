//! Write transactions (`TxStore::begin_write`): all or nothing, and exact under concurrency from several
//! instances, also while single-call writes hit the same rows (on SQLite those run on another connection
//! than the transactions, so the two take turns through the database's write lock).

use super::*;

pub(super) async fn write_tx_commits_all_or_nothing(b: &Backend) {
    let s = &b.store;
    let mut tx = s.begin_write().await.unwrap();
    tx.create_session(&new_session("tx1")).await.unwrap();
    tx.issue_code(&new_code("tx1", 1, T0)).await.unwrap();
    assert!(tx.remember_envelope("tx1", b"env-1", T0 + MIN).await.unwrap());
    assert_eq!(tx.rate_hits(&[("tx-key", MIN)], T0).await.unwrap(), vec![1]);
    drop(tx);
    // Dropped uncommitted: nothing of it is left, and the next transaction starts cleanly.
    assert!(s.session("tx1").await.unwrap().is_none());
    assert_eq!(s.rate_count("tx-key", MIN, T0).await.unwrap(), 0);
    let mut tx = s.begin_write().await.unwrap();
    let created = tx.create_session(&new_session("tx1")).await.unwrap();
    tx.issue_code(&new_code("tx1", 1, T0)).await.unwrap();
    assert!(tx.remember_envelope("tx1", b"env-1", T0 + MIN).await.unwrap());
    assert!(!tx.remember_envelope("tx1", b"env-1", T0 + MIN).await.unwrap(), "a replay in the same transaction");
    let mut next = created.clone();
    next.status = SessionStatus::CodeSent;
    let updated = tx.update_session(&next).await.unwrap();
    assert_eq!(updated.version, created.version + 1);
    // A stale version and a missing session are told apart inside the transaction too.
    assert!(matches!(tx.update_session(&next).await, Err(StoreError::Conflict)));
    let mut ghost = next.clone();
    ghost.id = "tx-ghost".into();
    assert!(matches!(tx.update_session(&ghost).await, Err(StoreError::NotFound)));
    tx.commit().await.unwrap();
    // A failed statement ends its transaction on PostgreSQL: each of these gets its own, dropped after.
    let mut tx = s.begin_write().await.unwrap();
    assert!(matches!(tx.issue_code(&new_code("tx-ghost", 2, T0)).await, Err(StoreError::NotFound)));
    drop(tx);
    let mut tx = s.begin_write().await.unwrap();
    assert!(matches!(tx.create_session(&new_session("tx1")).await, Err(StoreError::Conflict)));
    drop(tx);
    let stored = s.session("tx1").await.unwrap().unwrap();
    assert_eq!((stored.status, stored.version), (SessionStatus::CodeSent, updated.version));
    assert_eq!(s.codes_sent("tx1").await.unwrap(), 1);
    assert!(!s.remember_envelope("tx1", b"env-1", T0 + MIN).await.unwrap());
}

pub(super) async fn concurrent_write_transactions_are_exact(b: &Backend) {
    let s = &b.store;
    created(s, "txc").await;
    s.issue_code(&new_code("txc", 3, T0)).await.unwrap();
    let other = b.another_instance().await;
    let tasks: Vec<_> = (0..40u8)
        .map(|i| {
            let s = if i % 2 == 0 { s.clone() } else { other.clone() };
            tokio::spawn(async move {
                if i % 4 == 3 {
                    // A single-call write on the same counter between the transactions.
                    let n = s.rate_hit("txc-burst", 3_600_000, T0).await.unwrap();
                    return (None, n);
                }
                let mut tx = s.begin_write().await.unwrap();
                assert!(tx.remember_envelope("txc", &[i], T0 + MIN).await.unwrap());
                let attempt = tx.take_code_attempt("txc", 5, T0 + 1).await.unwrap();
                let n = tx.rate_hits(&[("txc-burst", 3_600_000)], T0).await.unwrap()[0];
                tokio::task::yield_now().await;
                tx.commit().await.unwrap();
                (Some(attempt), n)
            })
        })
        .collect();
    let (mut checks, mut counts) = (0, BTreeSet::new());
    for t in tasks {
        let (attempt, n) = t.await.unwrap();
        match attempt {
            Some(CodeAttempt::Check(_)) => checks += 1,
            Some(CodeAttempt::TooManyAttempts) | None => {}
            Some(other) => panic!("unexpected {other:?}"),
        }
        counts.insert(n);
    }
    assert_eq!(checks, 5, "never more checks than the limit");
    assert_eq!(counts, (1..=40).collect::<BTreeSet<u64>>(), "every hit counted once");
    for i in 0..40u8 {
        let fresh = s.remember_envelope("txc", &[i], T0 + MIN).await.unwrap();
        assert_eq!(fresh, i % 4 == 3, "envelope {i} remembered exactly when its transaction committed");
    }
}

/// SQLite commits steps in batches (`store/sqlite_tx.rs`): a step's commit must still mean "readable from
/// another connection now", and a step dropped in the middle of a batch must take only its own writes along.
pub(super) async fn committed_steps_are_visible_at_once_and_dropped_ones_vanish(b: &Backend) {
    let s = &b.store;
    let tasks: Vec<_> = (0..24u8)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move {
                let id = format!("txv{i}");
                let mut tx = s.begin_write().await.unwrap();
                tx.create_session(&new_session(&id)).await.unwrap();
                // Holding the transaction across a yield lets the others queue up behind it: batches form.
                tokio::task::yield_now().await;
                if i % 3 == 0 {
                    drop(tx);
                    return (id, false);
                }
                tx.commit().await.unwrap();
                assert!(s.session(&id).await.unwrap().is_some(), "{id} not readable once its commit returned");
                (id, true)
            })
        })
        .collect();
    for t in tasks {
        let (id, kept) = t.await.unwrap();
        assert_eq!(s.session(&id).await.unwrap().is_some(), kept, "{id}");
    }
}

/// A step that finished while another was queued leaves the batch's COMMIT to that one; when the queued
/// request goes away instead (a cancelled request), the finished step must still be committed. One task polls
/// both by hand, so the queued one is surely dropped while queued.
pub(super) async fn a_commit_survives_the_cancellation_of_the_step_queued_behind_it(b: &Backend) {
    let s = &b.store;
    let mut tx = s.begin_write().await.unwrap();
    tx.create_session(&new_session("txq")).await.unwrap();
    let mut queued: Step<'_> = Box::pin({
        let s = s.clone();
        async move {
            let _tx = s.begin_write().await;
        }
    });
    poll_once(&mut queued).await;
    let (tx_done, done) = tokio::sync::oneshot::channel();
    let mut commit: Step<'_> = Box::pin(async move {
        let _ = tx_done.send(tx.commit().await);
    });
    // PostgreSQL may finish the commit at once (it has no batches); SQLite leaves it to the queued step.
    let finished = poll_once(&mut commit).await;
    drop(queued);
    if !finished {
        tokio::time::timeout(std::time::Duration::from_secs(10), commit).await.expect("the commit finished");
    }
    done.await.unwrap().unwrap();
    assert!(s.session("txq").await.unwrap().is_some());
}

type Step<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + 'a>>;

/// Polls `f` once (to the point where it waits); whether it already finished (then it must not be polled again).
async fn poll_once(f: &mut Step<'_>) -> bool {
    std::future::poll_fn(|cx| std::task::Poll::Ready(f.as_mut().poll(cx).is_ready())).await
}
