//! One-time codes, rate-limit windows and the envelope replay guard.

use super::*;

pub(super) async fn codes_count_attempts_and_are_single_use(b: &Backend) {
    let s = &b.store;
    created(s, "c1").await;
    let code = s.issue_code(&new_code("c1", 1, T0)).await.unwrap();
    assert_eq!((code.attempts, code.state), (0, CodeState::Active));
    for n in 1..=4 {
        let CodeAttempt::Check(c) = s.take_code_attempt("c1", 5, T0 + n).await.unwrap() else { panic!("attempt {n}") };
        assert_eq!((c.id, c.attempts, c.code_hmac.clone()), (code.id, n as u32, vec![1; 32]));
    }
    // The fifth try is still allowed (and right), then the code is spent.
    assert!(matches!(s.take_code_attempt("c1", 5, T0 + 5).await.unwrap(), CodeAttempt::Check(_)));
    assert!(s.consume_code(code.id, T0 + 5).await.unwrap());
    assert!(!s.consume_code(code.id, T0 + 6).await.unwrap(), "single use");
    assert_eq!(s.take_code_attempt("c1", 5, T0 + 7).await.unwrap(), CodeAttempt::Used);
    assert_eq!(s.latest_code("c1").await.unwrap().map(|c| c.state), Some(CodeState::Consumed));

    // Five wrong tries, and then even the right code is refused.
    created(s, "c2").await;
    let c2 = s.issue_code(&new_code("c2", 2, T0)).await.unwrap();
    for n in 0..5 {
        assert!(matches!(s.take_code_attempt("c2", 5, T0 + n).await.unwrap(), CodeAttempt::Check(_)));
    }
    assert_eq!(s.take_code_attempt("c2", 5, T0 + 9).await.unwrap(), CodeAttempt::TooManyAttempts);
    assert_eq!(s.latest_code("c2").await.unwrap().map(|c| (c.id, c.attempts)), Some((c2.id, 5)));
}

pub(super) async fn resend_invalidates_the_previous_code(b: &Backend) {
    let s = &b.store;
    created(s, "r1").await;
    let first = s.issue_code(&new_code("r1", 1, T0)).await.unwrap();
    let second = s.issue_code(&new_code("r1", 2, T0 + MIN)).await.unwrap();
    assert!(second.id > first.id);
    assert_eq!(s.codes_sent("r1").await.unwrap(), 2);
    assert_eq!(s.codes_sent("other").await.unwrap(), 0);
    assert_eq!(s.latest_code("r1").await.unwrap().map(|c| (c.id, c.sent_at)), Some((second.id, T0 + MIN)));
    let CodeAttempt::Check(c) = s.take_code_attempt("r1", 5, T0 + MIN + 1).await.unwrap() else { panic!() };
    assert_eq!(c.code_hmac, vec![2; 32], "only the newest code is checked");
    assert!(!s.consume_code(first.id, T0 + MIN + 2).await.unwrap(), "old code is invalid");
    assert!(s.consume_code(second.id, T0 + MIN + 2).await.unwrap());
    assert!(matches!(s.issue_code(&new_code("no-such-session", 1, T0)).await, Err(StoreError::NotFound)));
}

pub(super) async fn expired_and_missing_codes(b: &Backend) {
    let s = &b.store;
    created(s, "e1").await;
    assert_eq!(s.take_code_attempt("e1", 5, T0).await.unwrap(), CodeAttempt::NoCode);
    assert_eq!(s.latest_code("e1").await.unwrap(), None);
    let code = s.issue_code(&new_code("e1", 1, T0)).await.unwrap();
    assert_eq!(s.take_code_attempt("e1", 5, T0 + 5 * MIN).await.unwrap(), CodeAttempt::Expired);
    assert!(!s.consume_code(code.id, T0 + 5 * MIN).await.unwrap());
    assert!(matches!(s.take_code_attempt("e1", 5, T0 + 5 * MIN - 1).await.unwrap(), CodeAttempt::Check(_)));
}

pub(super) async fn concurrent_code_attempts_never_exceed_the_limit(b: &Backend) {
    let s = &b.store;
    created(s, "guess").await;
    s.issue_code(&new_code("guess", 3, T0)).await.unwrap();
    let other = b.another_instance().await;
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let s = if i % 2 == 0 { s.clone() } else { other.clone() };
            tokio::spawn(async move { s.take_code_attempt("guess", 5, T0 + 1).await.unwrap() })
        })
        .collect();
    let mut checks = 0;
    for t in tasks {
        match t.await.unwrap() {
            CodeAttempt::Check(_) => checks += 1,
            CodeAttempt::TooManyAttempts => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(checks, 5);
}

pub(super) async fn rate_windows_count_and_reset(b: &Backend) {
    let s = &b.store;
    let key = "send:phone:3q2+7w";
    assert_eq!(s.rate_count(key, MIN, T0).await.unwrap(), 0);
    for n in 1..=3 {
        assert_eq!(s.rate_hit(key, MIN, T0 + n).await.unwrap(), n as u64);
    }
    assert_eq!(s.rate_count(key, MIN, T0 + 10).await.unwrap(), 3);
    assert_eq!(s.rate_hit("send:ip:1", MIN, T0).await.unwrap(), 1, "keys are independent");
    assert_eq!(s.rate_hit(key, 60 * MIN, T0).await.unwrap(), 1, "window sizes are independent");
    let next = T0 - T0.rem_euclid(MIN) + MIN;
    assert_eq!(s.rate_hit(key, MIN, next).await.unwrap(), 1, "a new window starts at zero");
    assert_eq!(s.rate_count(key, MIN, next - 1).await.unwrap(), 3);
    assert!(matches!(s.rate_hit(key, 0, T0).await, Err(StoreError::Config(_))));
}

pub(super) async fn concurrent_rate_hits_from_two_instances_are_exact(b: &Backend) {
    let (one, two) = (b.store.clone(), b.another_instance().await);
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let s = if i % 2 == 0 { one.clone() } else { two.clone() };
            tokio::spawn(async move { s.rate_hit("burst", 3_600_000, T0 + i).await.unwrap() })
        })
        .collect();
    let mut seen = BTreeSet::new();
    for t in tasks {
        seen.insert(t.await.unwrap());
    }
    assert_eq!(seen, (1..=50).collect::<BTreeSet<u64>>(), "every hit got its own count");
    assert_eq!(one.rate_count("burst", 3_600_000, T0).await.unwrap(), 50);
}

pub(super) async fn replayed_envelopes_are_refused(b: &Backend) {
    let s = &b.store;
    assert!(s.remember_envelope("s1", b"enc-1", T0 + MIN).await.unwrap());
    assert!(!s.remember_envelope("s1", b"enc-1", T0 + MIN).await.unwrap(), "replay");
    assert!(s.remember_envelope("s1", b"enc-2", T0 + MIN).await.unwrap());
    assert!(s.remember_envelope("s2", b"enc-1", T0 + MIN).await.unwrap());
    let other = b.another_instance().await;
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let s = if i % 2 == 0 { s.clone() } else { other.clone() };
            tokio::spawn(async move { s.remember_envelope("s3", b"same", T0 + MIN).await.unwrap() })
        })
        .collect();
    let mut firsts = 0;
    for t in tasks {
        firsts += usize::from(t.await.unwrap());
    }
    assert_eq!(firsts, 1, "concurrent replays: one accepted");
}

pub(super) async fn batched_rate_hits_count_each_window(b: &Backend) {
    let s = &b.store;
    let hour = 60 * MIN;
    let keys = [("dest:a", MIN), ("dest:a", hour), ("ip:b", hour)];
    assert_eq!(s.rate_hits(&keys, T0).await.unwrap(), vec![1, 1, 1]);
    s.rate_hit("dest:a", hour, T0).await.unwrap();
    assert_eq!(s.rate_hits(&keys, T0 + 1).await.unwrap(), vec![2, 3, 2]);
    assert_eq!(s.rate_count("dest:a", MIN, T0).await.unwrap(), 2);
    assert_eq!(s.rate_hits(&[], T0).await.unwrap(), Vec::<u64>::new());
    let twice = [("k", MIN), ("k", MIN)];
    assert!(matches!(s.rate_hits(&twice, T0).await, Err(StoreError::Config(_))));
    assert!(matches!(s.rate_hits(&[("k", 0)], T0).await, Err(StoreError::Config(_))));
    assert_eq!(s.rate_count("k", MIN, T0).await.unwrap(), 0, "a refused batch counts nothing");
    // Concurrent batches from two instances: every batch gets its own count for each key.
    let (one, two) = (b.store.clone(), b.another_instance().await);
    let tasks: Vec<_> = (0..30)
        .map(|i| {
            let s = if i % 2 == 0 { one.clone() } else { two.clone() };
            tokio::spawn(async move { s.rate_hits(&[("x", MIN), ("y", hour)], T0).await.unwrap() })
        })
        .collect();
    let (mut xs, mut ys) = (BTreeSet::new(), BTreeSet::new());
    for t in tasks {
        let got = t.await.unwrap();
        xs.insert(got[0]);
        ys.insert(got[1]);
    }
    assert_eq!(xs, (1..=30).collect::<BTreeSet<u64>>());
    assert_eq!(ys, xs);
}
