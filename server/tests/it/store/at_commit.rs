//! Writes checked at the commit (`WriteTx::*_at_commit`): PostgreSQL sends them with the commit, SQLite runs
//! them at once; either way the answer is what gets stored, and a failed check fails the call or the commit
//! with the same error and keeps nothing of the step.

use realname_domain::audit::Event;

use super::*;

/// The call's error, or else the commit's.
async fn call_or_commit<T>(
    mut tx: Box<dyn WriteTx>,
    call: impl AsyncFnOnce(&mut dyn WriteTx) -> StoreResult<T>,
) -> StoreResult<()> {
    call(tx.as_mut()).await?;
    tx.commit().await
}

pub(super) async fn writes_checked_at_commit_store_what_they_answer(b: &Backend) {
    let s = &b.store;
    let vault = Vault::generate().unwrap();
    let mut tx = s.begin_write().await.unwrap();
    let made = tx.create_session_at_commit(&new_session("ac1")).await.unwrap();
    // A statement that needs an answer sees the writes before it (the envelope's session exists).
    assert!(tx.remember_envelope("ac1", b"env", T0 + MIN).await.unwrap());
    let mut next = made.clone();
    next.status = SessionStatus::Submitted;
    next.methods = Methods::Chosen(realname_core::protocol::Method::Sms);
    next.consent = Some(Consent { version: "2025-01 'quoted' \\ back".into(), at: T0 + 1 });
    next.identity = Some(
        vault
            .seal_identity(
                "ac1",
                &PlainIdentity {
                    name: "张三".into(),
                    id_number: "11010519491231002X".into(),
                    phone: Some("13900000000".into()),
                    email: None,
                },
            )
            .unwrap(),
    );
    next.blind_index = Some(vec![0, 1, 0xfe, 0xff]);
    next.updated_at = T0 + 2;
    let updated = tx.update_session_at_commit(&next).await.unwrap();
    tx.issue_code_at_commit(&new_code("ac1", 1, T0)).await.unwrap();
    tx.issue_code_at_commit(&new_code("ac1", 2, T0 + 1)).await.unwrap();
    tx.audit_pending(T0, &[Event::new("person", "ac", "session:ac1")]).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(made.version, 1);
    assert_eq!(updated.version, 2);
    assert_eq!(s.session("ac1").await.unwrap().as_ref(), Some(&updated), "the answer is what was stored");
    let code = s.latest_code("ac1").await.unwrap().unwrap();
    assert_eq!(code.code_hmac, vec![2; 32]);
    assert_eq!(s.codes_sent("ac1").await.unwrap(), 2);
    // The older code was invalidated: only the newest can be tried.
    let mut tx = s.begin_write().await.unwrap();
    let CodeAttempt::Check(taken) = tx.take_code_attempt("ac1", 5, T0 + 2).await.unwrap() else {
        panic!("newest code")
    };
    assert_eq!(taken.id, code.id);
    tx.consume_code_at_commit(taken.id, T0 + 2).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(s.latest_code("ac1").await.unwrap().unwrap().state, CodeState::Consumed);
    assert_eq!(s.audit_pending_count().await.unwrap(), 1);
}

pub(super) async fn failed_checks_at_commit_keep_nothing_of_the_step(b: &Backend) {
    let s = &b.store;
    // Each failing write comes after others in its step: none of them may be kept.
    let step = |tag: &'static str| {
        let s = s.clone();
        async move {
            let mut tx = s.begin_write().await.unwrap();
            assert_eq!(tx.rate_hits(&[(tag, MIN)], T0).await.unwrap(), vec![1]);
            tx.audit_pending(T0, &[Event::new("person", tag, "session:ac2")]).await.unwrap();
            tx
        }
    };
    let kept = |tag: &'static str| {
        let s = s.clone();
        async move { s.rate_count(tag, MIN, T0).await.unwrap() }
    };
    let taken = created(s, "ac2").await;
    let mut stale = taken.clone();
    stale.version = 7;
    let r =
        call_or_commit(step("ac-dup").await, async |tx| tx.create_session_at_commit(&new_session("ac2")).await).await;
    assert!(matches!(r, Err(StoreError::Conflict)), "existing id: {r:?}");
    let r = call_or_commit(step("ac-stale").await, async |tx| tx.update_session_at_commit(&stale).await).await;
    assert!(matches!(r, Err(StoreError::Conflict)), "stale version: {r:?}");
    let mut gone = taken.clone();
    gone.id = "ac-missing".into();
    let r = call_or_commit(step("ac-gone").await, async |tx| tx.update_session_at_commit(&gone).await).await;
    assert!(matches!(r, Err(StoreError::NotFound)), "missing session: {r:?}");
    let r =
        call_or_commit(step("ac-code").await, async |tx| tx.issue_code_at_commit(&new_code("ac-missing", 1, T0)).await)
            .await;
    assert!(matches!(r, Err(StoreError::NotFound)), "code of a missing session: {r:?}");
    // A finished session never changes.
    let mut done = taken.clone();
    done.status = SessionStatus::Verified;
    let done = s.update_session(&done).await.unwrap();
    let mut again = done.clone();
    again.failure = Some("late".into());
    let r = call_or_commit(step("ac-done").await, async |tx| tx.update_session_at_commit(&again).await).await;
    assert!(matches!(r, Err(StoreError::Conflict)), "finished session: {r:?}");
    // A code that was invalidated cannot be consumed.
    s.issue_code(&new_code("ac2", 1, T0)).await.unwrap();
    let old = s.latest_code("ac2").await.unwrap().unwrap();
    s.issue_code(&new_code("ac2", 2, T0)).await.unwrap();
    let r = call_or_commit(step("ac-used").await, async |tx| tx.consume_code_at_commit(old.id, T0).await).await;
    assert!(matches!(r, Err(StoreError::Conflict)), "invalidated code: {r:?}");
    // A failed check makes the statement after it fail in its place (PostgreSQL sends both together).
    let mut tx = step("ac-next").await;
    tx.update_session_at_commit(&stale).await.ok();
    let r = tx.remember_envelope("ac2", b"env", T0 + MIN).await;
    assert!(matches!(r, Err(StoreError::Conflict)) || r.is_ok(), "{r:?}");
    drop(tx);
    for tag in ["ac-dup", "ac-stale", "ac-gone", "ac-code", "ac-done", "ac-used", "ac-next"] {
        assert_eq!(kept(tag).await, 0, "{tag}: the step's other writes are not kept");
    }
    assert_eq!(s.audit_pending_count().await.unwrap(), 0, "nor its audit events");
    assert_eq!(s.session("ac2").await.unwrap().as_ref(), Some(&done));
    // The connections that saw those failures go on working.
    for i in 0..12 {
        let mut tx = s.begin_write().await.unwrap();
        tx.create_session_at_commit(&new_session(&format!("ac-after{i}"))).await.unwrap();
        tx.commit().await.unwrap();
    }
    assert!(s.session("ac-after11").await.unwrap().is_some());
}

/// The replay guard checked at the commit: a first envelope lets the step's attempt count (on PostgreSQL both go
/// out in one round trip), a replayed one fails the step — at the call, at its next statement or at its commit —
/// with `Replayed`, and its attempt is not counted.
pub(super) async fn a_replay_checked_at_commit_fails_its_step(b: &Backend) {
    let s = &b.store;
    created(s, "ac3").await;
    s.issue_code(&new_code("ac3", 1, T0)).await.unwrap();
    let mut tx = s.begin_write().await.unwrap();
    tx.remember_envelope_at_commit("ac3", b"e1", T0 + MIN).await.unwrap();
    let CodeAttempt::Check(code) = tx.take_code_attempt("ac3", 5, T0).await.unwrap() else { panic!("an active code") };
    assert_eq!((code.attempts, code.code_hmac.clone()), (1, vec![1; 32]));
    tx.commit().await.unwrap();
    let tx = s.begin_write().await.unwrap();
    let r = call_or_commit(tx, async |tx| {
        tx.remember_envelope_at_commit("ac3", b"e1", T0 + MIN).await?;
        tx.take_code_attempt("ac3", 5, T0).await
    })
    .await;
    assert!(matches!(r, Err(StoreError::Replayed)), "replay before an attempt: {r:?}");
    let tx = s.begin_write().await.unwrap();
    let r = call_or_commit(tx, async |tx| tx.remember_envelope_at_commit("ac3", b"e1", T0 + MIN).await).await;
    assert!(matches!(r, Err(StoreError::Replayed)), "replay alone: {r:?}");
    assert_eq!(s.latest_code("ac3").await.unwrap().unwrap().attempts, 1, "the replayed step's attempt is not kept");
    // Another envelope counts; the answers when the code may not be tried come through the same path.
    let mut tx = s.begin_write().await.unwrap();
    tx.remember_envelope_at_commit("ac3", b"e2", T0 + MIN).await.unwrap();
    assert!(matches!(tx.take_code_attempt("ac3", 2, T0).await.unwrap(), CodeAttempt::Check(c) if c.attempts == 2));
    tx.remember_envelope_at_commit("ac3", b"e3", T0 + MIN).await.unwrap();
    assert!(matches!(tx.take_code_attempt("ac3", 2, T0).await.unwrap(), CodeAttempt::TooManyAttempts));
    tx.commit().await.unwrap();
    let mut tx = s.begin_write().await.unwrap();
    tx.remember_envelope_at_commit("ac3", b"e4", T0 + MIN).await.unwrap();
    assert!(matches!(tx.take_code_attempt("ac3", 5, T0 + 10 * MIN).await.unwrap(), CodeAttempt::Expired));
    assert!(matches!(tx.take_code_attempt("ac-none", 5, T0).await.unwrap(), CodeAttempt::NoCode));
    tx.commit().await.unwrap();
    assert!(!s.remember_envelope("ac3", b"e4", T0 + MIN).await.unwrap(), "the committed envelopes are remembered");
}
