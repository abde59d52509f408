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

/// SQLite commits steps in batches (`store/src/sqlite/tx.rs`): a step's commit must still mean "readable from
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

/// A step's audit events are stored exactly as given, whatever characters they hold (PostgreSQL sends them
/// with the commit as quoted literals), and only when the step commits.
pub(super) async fn a_steps_audit_events_are_stored_exactly_and_only_on_commit(b: &Backend) {
    use realname_domain::audit::Event;
    let s = &b.store;
    let awkward = [
        "it's",
        r"back\slash \\ \x41 \n",
        "'); DROP TABLE sessions; --",
        "$$ dollar $tag$",
        "张三 ✓ e\u{301}",
        "line\nbreak\ttab",
        "",
    ];
    let events: Vec<Event> = awkward
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let e = Event::new(format!("actor {a}"), format!("action.{i}"), format!("session:{a}"))
                .detail("k", *a)
                .detail(*a, "v");
            if i % 2 == 0 { e.site(*a) } else { e }
        })
        .collect();
    let mut tx = s.begin_write().await.unwrap();
    tx.create_session(&new_session("txa-dropped")).await.unwrap();
    tx.audit_pending(T0, &[Event::new("person", "dropped", "session:txa-dropped")]).await.unwrap();
    drop(tx);
    let mut tx = s.begin_write().await.unwrap();
    tx.create_session(&new_session("txa")).await.unwrap();
    tx.audit_pending(T0, &events[..3]).await.unwrap();
    tx.audit_pending(T0 + 1, &events[3..]).await.unwrap();
    tx.commit().await.unwrap();
    assert!(s.session("txa").await.unwrap().is_some());
    assert_eq!(s.audit_pending_count().await.unwrap(), events.len() as u64, "the dropped step's event is not stored");
    s.audit_chain_pending(&realname_domain::audit::ChainKey::from_secret([1; 32]), 100).await.unwrap();
    let stored = s.audit_after(0, 100).await.unwrap();
    let got: Vec<(i64, &Event)> = stored.iter().map(|e| (e.at, &e.event)).collect();
    let want: Vec<(i64, &Event)> =
        events.iter().enumerate().map(|(i, e)| (if i < 3 { T0 } else { T0 + 1 }, e)).collect();
    assert_eq!(got, want);
}

/// A step whose statement is cancelled while it runs (its request went away) and that is then dropped
/// leaves nothing behind, and the steps after it (on the same connection, once it is rolled back) commit only
/// their own writes.
pub(super) async fn a_step_cancelled_mid_statement_leaves_nothing(b: &Backend) {
    let s = &b.store;
    for round in 0..4 {
        let id = format!("txcan{round}");
        let mut tx = s.begin_write().await.unwrap();
        {
            let mut step: Step<'_> = Box::pin(async {
                let _ = tx.create_session(&new_session(&id)).await;
            });
            poll_once(&mut step).await;
        }
        drop(tx);
        for i in 0..4 {
            let mut tx = s.begin_write().await.unwrap();
            tx.create_session(&new_session(&format!("{id}-after{i}"))).await.unwrap();
            tx.commit().await.unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        assert!(s.session(&id).await.unwrap().is_none(), "{id} was committed by a later step");
        for i in 0..4 {
            assert!(s.session(&format!("{id}-after{i}")).await.unwrap().is_some());
        }
    }
}

/// Codes issued in one step: the newer invalidates the older (PostgreSQL does both in one statement).
pub(super) async fn a_code_issued_in_a_step_invalidates_the_older_ones(b: &Backend) {
    let s = &b.store;
    created(s, "txcode").await;
    let first = s.issue_code(&new_code("txcode", 1, T0)).await.unwrap();
    let mut tx = s.begin_write().await.unwrap();
    let second = tx.issue_code(&new_code("txcode", 2, T0 + 1)).await.unwrap();
    let third = tx.issue_code(&new_code("txcode", 3, T0 + 2)).await.unwrap();
    assert_eq!((third.state, third.attempts, third.code_hmac.clone()), (CodeState::Active, 0, vec![3; 32]));
    tx.commit().await.unwrap();
    assert!(first.id < second.id && second.id < third.id);
    assert_eq!(s.codes_sent("txcode").await.unwrap(), 3);
    assert!(!s.consume_code(first.id, T0 + 3).await.unwrap(), "the first code is invalidated");
    assert!(!s.consume_code(second.id, T0 + 3).await.unwrap(), "the second code is invalidated");
    assert!(s.consume_code(third.id, T0 + 3).await.unwrap(), "the newest code stays active");
}

/// PostgreSQL keeps idle step connections inside a fresh transaction (`COMMIT; BEGIN`): such a connection must
/// hold no lock, so migrations and maintenance never wait for it.
pub(super) async fn idle_step_connections_hold_no_locks(b: &Backend) {
    let s = &b.store;
    let Place::Postgres { url, schema } = &b.place else { return };
    let mut tx = s.begin_write().await.unwrap();
    tx.create_session(&new_session("txlock-dropped")).await.unwrap();
    drop(tx);
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    // Three steps open at once: three connections, each left idle by a commit.
    let mut open = Vec::new();
    for i in 0..3 {
        let mut tx = s.begin_write().await.unwrap();
        let id = format!("txlock{i}");
        tx.create_session(&new_session(&id)).await.unwrap();
        assert!(tx.remember_envelope(&id, b"e", T0 + MIN).await.unwrap());
        tx.rate_hits(&[(id.as_str(), MIN)], T0).await.unwrap();
        tx.audit_pending(T0, &[realname_domain::audit::Event::new("person", "t", format!("session:{id}"))])
            .await
            .unwrap();
        open.push(tx);
    }
    for tx in open {
        tx.commit().await.unwrap();
    }
    assert!(s.session("txlock2").await.unwrap().is_some());
    let pool = sqlx::PgPool::connect(url).await.expect("connect");
    let mut c = pool.acquire().await.unwrap();
    sqlx::raw_sql("SET lock_timeout = '5s'; BEGIN").execute(&mut *c).await.unwrap();
    for t in ["sessions", "seen_envelopes", "rate_windows", "audit_pending"] {
        sqlx::raw_sql(&format!("LOCK TABLE {schema}.{t} IN ACCESS EXCLUSIVE MODE"))
            .execute(&mut *c)
            .await
            .unwrap_or_else(|e| panic!("{t} is locked by an idle connection: {e}"));
    }
    sqlx::raw_sql("ROLLBACK").execute(&mut *c).await.unwrap();
    drop(c);
    pool.close().await;
}

/// Sending-limit counters hit in a step: windows that exist and windows that do not yet, in one call, in the
/// order given (PostgreSQL updates the first kind and inserts the second in one statement).
pub(super) async fn rate_hits_in_a_step_count_new_and_existing_windows(b: &Backend) {
    let s = &b.store;
    const HOUR: i64 = 60 * MIN;
    assert_eq!(s.rate_hit("txr-a", MIN, T0).await.unwrap(), 1);
    let hits = [("txr-a", MIN), ("txr-b", MIN), ("txr-a", HOUR)];
    let mut tx = s.begin_write().await.unwrap();
    assert_eq!(tx.rate_hits(&hits, T0 + 1).await.unwrap(), vec![2, 1, 1]);
    assert_eq!(tx.rate_hits(&hits, T0 + 2).await.unwrap(), vec![3, 2, 2]);
    tx.commit().await.unwrap();
    assert_eq!(s.rate_count("txr-a", MIN, T0).await.unwrap(), 3);
    assert_eq!(s.rate_count("txr-b", MIN, T0).await.unwrap(), 2);
    assert_eq!(s.rate_count("txr-a", HOUR, T0).await.unwrap(), 2);
    // The next minute is a new window of the same key.
    let mut tx = s.begin_write().await.unwrap();
    assert_eq!(tx.rate_hits(&[("txr-a", MIN), ("txr-b", MIN)], T0 + MIN).await.unwrap(), vec![1, 1]);
    drop(tx);
    assert_eq!(s.rate_count("txr-a", MIN, T0 + MIN).await.unwrap(), 0, "a dropped step's hits are not kept");
}

/// Session reads from many tasks at once (more than PostgreSQL's 8 reader connections), some of them cancelled
/// while they run: every finished read returns its own session, and the readers stay usable.
pub(super) async fn many_concurrent_and_cancelled_session_reads(b: &Backend) {
    let s = &b.store;
    for i in 0..6 {
        created(s, &format!("txread{i}")).await;
    }
    for _ in 0..5 {
        let mut read: Step<'_> = Box::pin(async {
            let _ = s.session("txread0").await;
        });
        poll_once(&mut read).await;
    }
    let tasks: Vec<_> = (0..60)
        .map(|n| {
            let s = s.clone();
            tokio::spawn(async move {
                let id = format!("txread{}", n % 7);
                (id.clone(), s.session(&id).await.unwrap().map(|x| x.id))
            })
        })
        .collect();
    for t in tasks {
        let (id, got) = t.await.unwrap();
        if id == "txread6" {
            assert_eq!(got, None);
        } else {
            assert_eq!(got.as_deref(), Some(id.as_str()));
        }
    }
}

/// Counting last (`commit_within_limits`): a step commits with its counters when every count stays within its
/// limit; when one goes over, nothing of the step is kept — its code, its audit events, its hits — and the
/// steps after it (on PostgreSQL the same connection, rolled back) commit normally.
pub(super) async fn counting_last_commits_within_limits_and_rolls_back_over_them(b: &Backend) {
    use realname_domain::audit::Event;
    let s = &b.store;
    created(s, "txlim").await;
    assert_eq!(s.rate_hit("txl-ip", MIN, T0).await.unwrap(), 1);
    let limits = [("txl-ip", MIN, 2), ("txl-dest", 60 * MIN, 5)];
    let mut tx = s.begin_write().await.unwrap();
    tx.issue_code(&new_code("txlim", 1, T0)).await.unwrap();
    tx.audit_pending(T0, &[Event::new("person", "kept", "session:txlim")]).await.unwrap();
    assert!(tx.commit_within_limits(&limits, None, T0 + 1).await.unwrap());
    assert_eq!(s.rate_count("txl-ip", MIN, T0).await.unwrap(), 2);
    assert_eq!(s.rate_count("txl-dest", 60 * MIN, T0).await.unwrap(), 1);
    assert_eq!(s.audit_pending_count().await.unwrap(), 1);
    for round in 0..3 {
        let mut tx = s.begin_write().await.unwrap();
        tx.issue_code(&new_code("txlim", 2, T0 + 2)).await.unwrap();
        tx.audit_pending(T0, &[Event::new("person", "refused", "session:txlim")]).await.unwrap();
        assert!(
            !tx.commit_within_limits(&limits, None, T0 + 2).await.unwrap(),
            "round {round}: the IP's count would be 3"
        );
    }
    assert_eq!(s.rate_count("txl-ip", MIN, T0).await.unwrap(), 2, "a refused step's hits are not kept");
    assert_eq!(s.rate_count("txl-dest", 60 * MIN, T0).await.unwrap(), 1);
    assert_eq!(s.latest_code("txlim").await.unwrap().unwrap().code_hmac, vec![1; 32], "nor its code");
    assert_eq!(s.audit_pending_count().await.unwrap(), 1, "nor its audit events");
    // The next minute's window has room: the same step commits, and plain commits still work after refusals.
    let mut tx = s.begin_write().await.unwrap();
    tx.issue_code(&new_code("txlim", 3, T0 + MIN)).await.unwrap();
    assert!(tx.commit_within_limits(&limits, None, T0 + MIN).await.unwrap());
    assert_eq!(s.rate_count("txl-ip", MIN, T0 + MIN).await.unwrap(), 1);
    assert_eq!(s.rate_count("txl-dest", 60 * MIN, T0).await.unwrap(), 2);
    assert_eq!(s.latest_code("txlim").await.unwrap().unwrap().code_hmac, vec![3; 32]);
    let mut tx = s.begin_write().await.unwrap();
    tx.audit_pending(T0, &[Event::new("person", "plain", "session:txlim")]).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(s.audit_pending_count().await.unwrap(), 2);
    // No counters: a plain commit.
    let tx = s.begin_write().await.unwrap();
    assert!(tx.commit_within_limits(&[], None, T0).await.unwrap());
    // The session's own limit counts the codes issued to it, this step's included (two are stored).
    assert_eq!(s.codes_sent("txlim").await.unwrap(), 2);
    let mut tx = s.begin_write().await.unwrap();
    tx.issue_code_at_commit(&new_code("txlim", 4, T0 + MIN)).await.unwrap();
    assert!(
        !tx.commit_within_limits(&limits, Some(("txlim", 2)), T0 + MIN).await.unwrap(),
        "a third code over a limit of 2"
    );
    assert_eq!(s.codes_sent("txlim").await.unwrap(), 2);
    assert_eq!(s.rate_count("txl-ip", MIN, T0 + MIN).await.unwrap(), 1, "its hits are not kept either");
    let mut tx = s.begin_write().await.unwrap();
    tx.issue_code_at_commit(&new_code("txlim", 4, T0 + MIN)).await.unwrap();
    assert!(tx.commit_within_limits(&limits, Some(("txlim", 3)), T0 + MIN).await.unwrap());
    assert_eq!(s.codes_sent("txlim").await.unwrap(), 3);
    assert_eq!(s.rate_count("txl-ip", MIN, T0 + MIN).await.unwrap(), 2);
}

/// Steps counting last on one shared counter from two instances at once: exactly `limit` of them commit, the
/// others roll back, and the count ends at the limit.
pub(super) async fn concurrent_steps_counting_last_stop_exactly_at_the_limit(b: &Backend) {
    let stores = [b.store.clone(), b.another_instance().await];
    for i in 0..24 {
        created(&b.store, &format!("txcl{i}")).await;
    }
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            let s = stores[i % 2].clone();
            tokio::spawn(async move {
                let mut tx = s.begin_write().await.unwrap();
                tx.issue_code(&new_code(&format!("txcl{i}"), 1, T0)).await.unwrap();
                tx.commit_within_limits(&[("txcl-shared", 60 * MIN, 7)], None, T0).await.unwrap()
            })
        })
        .collect();
    let mut committed = 0;
    for t in tasks {
        committed += usize::from(t.await.unwrap());
    }
    assert_eq!(committed, 7);
    assert_eq!(b.store.rate_count("txcl-shared", 60 * MIN, T0).await.unwrap(), 7);
    let mut codes = 0;
    for i in 0..24 {
        codes += usize::from(b.store.latest_code(&format!("txcl{i}")).await.unwrap().is_some());
    }
    assert_eq!(codes, 7, "only the committed steps' codes are stored");
}
