//! The webhook delivery queue and identity bindings.

use super::*;

pub(super) fn delivery(event: &str, at: i64) -> NewDelivery {
    NewDelivery {
        site_id: "site-a".into(),
        event_id: event.into(),
        event_type: "verification.verified".into(),
        url: "http://127.0.0.1:9/hook".into(),
        body: format!("{{\"id\":\"{event}\"}}"),
        created_at: at,
    }
}

pub(super) async fn webhook_queue_lifecycle(b: &Backend) {
    let s = &b.store;
    let id = s.enqueue_delivery(&delivery("evt-1", T0)).await.unwrap();
    assert_eq!(s.enqueue_delivery(&delivery("evt-1", T0 + 5)).await.unwrap(), id, "idempotent per event");
    assert!(s.claim_deliveries("w1", T0 - 1, MIN, 10).await.unwrap().is_empty(), "not due yet");
    let got = s.claim_deliveries("w1", T0, MIN, 10).await.unwrap();
    assert_eq!(got.len(), 1);
    let d = &got[0];
    assert_eq!(
        (d.id, d.attempts, d.state, d.lease_owner.as_deref(), d.lease_until),
        (id, 1, DeliveryState::Pending, Some("w1"), Some(T0 + MIN))
    );
    assert_eq!(d.body, "{\"id\":\"evt-1\"}");
    assert!(s.claim_deliveries("w2", T0 + 1, MIN, 10).await.unwrap().is_empty(), "leased");
    // The receiver answered 500: retry later with backoff.
    let retry_at = T0 + retry_backoff_ms(1);
    assert!(!s.retry_delivery(id, "w2", retry_at, "HTTP 500").await.unwrap(), "not w2's lease");
    assert!(s.retry_delivery(id, "w1", retry_at, "HTTP 500").await.unwrap());
    assert!(s.claim_deliveries("w2", retry_at - 1, MIN, 10).await.unwrap().is_empty());
    let again = s.claim_deliveries("w2", retry_at, MIN, 10).await.unwrap();
    assert_eq!(again.iter().map(|d| (d.id, d.attempts)).collect::<Vec<_>>(), vec![(id, 2)]);
    assert_eq!(again[0].last_error.as_deref(), Some("HTTP 500"));
    assert!(s.complete_delivery(id, "w2", retry_at + 5).await.unwrap());
    let done = s.delivery(id).await.unwrap().unwrap();
    assert_eq!((done.state, done.delivered_at, done.lease_owner), (DeliveryState::Delivered, Some(retry_at + 5), None));
    assert!(s.claim_deliveries("w3", T0 + 100 * MIN, MIN, 10).await.unwrap().is_empty(), "delivered is done");
    // Giving up.
    let id2 = s.enqueue_delivery(&delivery("evt-2", T0)).await.unwrap();
    assert_eq!(s.claim_deliveries("w1", T0, MIN, 10).await.unwrap().len(), 1);
    assert!(s.abandon_delivery(id2, "w1", "gave up after 8 attempts").await.unwrap());
    assert_eq!(s.delivery(id2).await.unwrap().map(|d| d.state), Some(DeliveryState::Abandoned));
    assert_eq!(s.delivery(999_999).await.unwrap(), None);
    assert!(retry_backoff_ms(1) < retry_backoff_ms(2) && retry_backoff_ms(40) == 6 * 3_600_000);
}

pub(super) async fn webhook_leases_expire_and_move_to_another_worker(b: &Backend) {
    let s = &b.store;
    let id = s.enqueue_delivery(&delivery("evt-lease", T0)).await.unwrap();
    assert_eq!(s.claim_deliveries("crashed", T0, MIN, 10).await.unwrap().len(), 1);
    assert!(s.claim_deliveries("w2", T0 + MIN - 1, MIN, 10).await.unwrap().is_empty());
    let taken = s.claim_deliveries("w2", T0 + MIN, MIN, 10).await.unwrap();
    assert_eq!(taken.iter().map(|d| (d.id, d.attempts)).collect::<Vec<_>>(), vec![(id, 2)], "at least once");
    assert!(!s.complete_delivery(id, "crashed", T0 + MIN + 1).await.unwrap(), "lost its lease");
    assert!(s.complete_delivery(id, "w2", T0 + MIN + 1).await.unwrap());
}

pub(super) async fn two_instances_claim_each_delivery_once(b: &Backend) {
    let (one, two) = (b.store.clone(), b.another_instance().await);
    for i in 0..60 {
        one.enqueue_delivery(&delivery(&format!("bulk-{i}"), T0 + i)).await.unwrap();
    }
    let tasks: Vec<_> = (0..6)
        .map(|w| {
            let s = if w % 2 == 0 { one.clone() } else { two.clone() };
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let batch = s.claim_deliveries(&format!("worker-{w}"), T0 + 100, MIN, 3).await.unwrap();
                    if batch.is_empty() {
                        return mine;
                    }
                    mine.extend(batch.into_iter().map(|d| d.id));
                }
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let unique: HashSet<i64> = all.iter().copied().collect();
    assert_eq!((all.len(), unique.len()), (60, 60), "each delivery claimed exactly once");
}

pub(super) async fn identity_bindings_respect_the_limit(b: &Backend) {
    let s = &b.store;
    let idx = vec![9u8; 32];
    assert!(s.bind_identity("site-a", &idx, "acct-1", 2, T0).await.unwrap());
    assert!(s.bind_identity("site-a", &idx, "acct-1", 2, T0).await.unwrap(), "same account again");
    assert!(s.bind_identity("site-a", &idx, "acct-2", 2, T0).await.unwrap());
    assert!(!s.bind_identity("site-a", &idx, "acct-3", 2, T0).await.unwrap(), "limit reached");
    assert_eq!(s.identity_bindings("site-a", &idx).await.unwrap(), 2);
    assert!(s.bind_identity("site-b", &idx, "acct-3", 2, T0).await.unwrap(), "per site");
    assert!(s.bind_identity("site-a", &[1u8; 32], "acct-3", 2, T0).await.unwrap(), "per identity");
    assert!(s.unbind_identity("site-a", &idx, "acct-1").await.unwrap());
    assert!(!s.unbind_identity("site-a", &idx, "acct-1").await.unwrap());
    assert!(s.bind_identity("site-a", &idx, "acct-3", 2, T0).await.unwrap(), "room again");
    assert_eq!(s.identity_bindings("site-a", &idx).await.unwrap(), 2);
    assert!(!s.bind_identity("site-a", &[2u8; 32], "acct-9", 0, T0).await.unwrap(), "limit 0 binds nothing");
    assert_eq!(s.identity_bindings("site-a", &[2u8; 32]).await.unwrap(), 0);
}

pub(super) async fn concurrent_bindings_respect_the_limit(b: &Backend) {
    let (one, two) = (b.store.clone(), b.another_instance().await);
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let s = if i % 2 == 0 { one.clone() } else { two.clone() };
            tokio::spawn(
                async move { s.bind_identity("site-a", &[5u8; 32], &format!("acct-{i}"), 3, T0).await.unwrap() },
            )
        })
        .collect();
    let mut bound = 0;
    for t in tasks {
        bound += usize::from(t.await.unwrap());
    }
    assert_eq!(bound, 3);
    assert_eq!(one.identity_bindings("site-a", &[5u8; 32]).await.unwrap(), 3);
}
