//! Crash atomicity of the steps (issue 20): a write that fails (or a process that dies) in the middle of a step
//! leaves nothing half-done. Failures are injected into the real databases with a trigger that makes one
//! table's inserts fail, as a full disk or a lost connection would at that statement.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use axum::http::StatusCode;
use realname_core::validate::{RegionStatus, check_char, region_status};
use realname_domain::config::Secret;
use realname_server::delivery::{CodeMessage, DeliveryError, Outbox, Sender};
use tokio::sync::Notify;

use crate::harness::*;
use realname_domain::clock::Clock as _;

on_both_backends!(
    a_failed_binding_leaves_the_code_unused,
    a_failed_case_write_leaves_the_session_out_of_review,
    the_code_sent_event_survives_a_crash_after_the_delivery
);

/// Makes every insert into `table` fail until [`heal`] (SQLite: a trigger raising; PostgreSQL: the same as a
/// PL/pgSQL function in the test's schema).
async fn break_inserts(b: &Backend, table: &str) {
    if b.store.backend() == "postgres" {
        b.sql(&format!(
            "CREATE FUNCTION {{schema}}.injected_failure() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$; \
             CREATE TRIGGER injected_failure BEFORE INSERT ON {{schema}}.{table} \
             FOR EACH ROW EXECUTE FUNCTION {{schema}}.injected_failure()"
        ))
        .await;
    } else {
        b.sql(&format!(
            "CREATE TRIGGER injected_failure BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
        ))
        .await;
    }
}

/// Removes what [`break_inserts`] made.
async fn heal(b: &Backend, table: &str) {
    if b.store.backend() == "postgres" {
        b.sql(&format!(
            "DROP TRIGGER injected_failure ON {{schema}}.{table}; DROP FUNCTION {{schema}}.injected_failure()"
        ))
        .await;
    } else {
        b.sql("DROP TRIGGER injected_failure").await;
    }
}

/// The code step with `max_accounts_per_identity` set: when binding the account fails after the code was
/// checked, the step fails whole — the code is not consumed, the session stays at `code_sent`, and the right
/// code then verifies (before, the code's use was committed first: the right code got `409 wrong_step`).
async fn a_failed_binding_leaves_the_code_unused(b: Backend) {
    let h = Harness::with(b, |cfg| cfg.sites[0].max_accounts_per_identity = 2).await;
    let s = h.create_session().await;
    let r = h.submit_identity(&s, &identity_sms(PHONE, h.clock.now_secs())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let code = h.last_code();
    break_inserts(&h.backend, "identity_bindings").await;
    let r = h.submit_code(&s, &code).await;
    // A database failure: the service is unavailable for that request.
    assert_eq!((r.status, r.code()), (StatusCode::SERVICE_UNAVAILABLE, "unavailable"), "{}", r.json);
    assert_eq!(h.site_view(&s.session_id).await.json["status"], "code_sent");
    assert_eq!(h.backend.count("identity_bindings").await, 0);
    heal(&h.backend, "identity_bindings").await;
    let r = h.submit_code(&s, &code).await;
    assert_eq!(r.status, StatusCode::OK, "the right code after the failure: {}", r.json);
    assert_eq!(r.json["status"], "verified");
    assert_eq!(h.backend.count("identity_bindings").await, 1);
}

/// The code step that sends a session to review writes its case in the step's transaction (issue 16): when the
/// case's insert fails, the step fails whole (the session stays at `code_sent`, the code unused, no case) and the
/// right code then queues it with its case. Before, the session was committed to `pending_review` first, and the
/// failed insert left it there with no case for a reviewer to find.
async fn a_failed_case_write_leaves_the_session_out_of_review(b: Backend) {
    let h = Harness::new(b).await;
    // An unknown region code: a reviewer looks at it after the code step.
    let unknown = (110100..=119999).find(|c| region_status(*c) == RegionStatus::Unknown).unwrap();
    let first17 = format!("{unknown}19900101001");
    let mut payload = identity_sms(PHONE, h.clock.now_secs());
    payload["number"] = serde_json::json!(format!("{first17}{}", check_char(first17.as_bytes()).unwrap()));
    let s = h.create_session().await;
    let r = h.submit_identity(&s, &payload).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let code = h.last_code();
    break_inserts(&h.backend, "review_cases").await;
    let r = h.submit_code(&s, &code).await;
    assert_eq!((r.status, r.code()), (StatusCode::SERVICE_UNAVAILABLE, "unavailable"), "{}", r.json);
    assert_eq!(h.site_view(&s.session_id).await.json["status"], "code_sent", "in review without a case");
    assert_eq!(h.backend.count("review_cases").await, 0);
    heal(&h.backend, "review_cases").await;
    let r = h.submit_code(&s, &code).await;
    assert_eq!((r.status, &r.json["status"]), (StatusCode::OK, &serde_json::json!("pending_review")), "{}", r.json);
    let case = h.state.store.case_for_session(&s.session_id).await.unwrap().expect("the session's case");
    assert_eq!(case.reasons, ["unknown_region"]);
}

/// Stands for a server process that dies right after the provider took the code: the message reaches the outbox
/// (the person gets the code), then the step never goes on.
struct DiesAfterSending {
    outbox: Arc<Outbox>,
    sent: Arc<Notify>,
}

#[async_trait::async_trait]
impl Sender for DiesAfterSending {
    async fn send(&self, msg: &CodeMessage) -> Result<(), DeliveryError> {
        self.outbox.send(msg).await?;
        self.sent.notify_one();
        std::future::pending().await
    }

    fn name(&self) -> &'static str {
        "dies-after-sending"
    }
}

/// docs/protocol.md section 8: a crash never loses an event. The identity step's `verification.code_sent` is
/// queued in the commit that records the send, before the code leaves: a process that dies once the provider
/// took the code (the step's future dropped there) leaves the event queued (before, it was queued after the
/// delivery and lost).
async fn the_code_sent_event_survives_a_crash_after_the_delivery(b: Backend) {
    let sent = Arc::new(Notify::new());
    let dies = sent.clone();
    let h = Harness::with_delivery(
        b,
        |cfg| {
            cfg.sites[0].webhook_url = Some("http://127.0.0.1:9/hook".into());
            cfg.sites[0].webhook_secret = Secret::new("whsec_test_0123456789");
        },
        move |mut d| {
            d.sms = Arc::new(DiesAfterSending { outbox: d.outbox.clone().expect("outbox"), sent: dies });
            d
        },
    )
    .await;
    let s = h.create_session().await;
    let payload = identity_sms(PHONE, h.clock.now_secs());
    tokio::select! {
        r = h.submit_identity(&s, &payload) => panic!("the step went on: {}", r.json),
        () = sent.notified() => {}
    }
    assert_eq!(h.outbox.messages().len(), 1, "the code left");
    let queued = h.state.store.claim_deliveries("test", h.clock.now_ms(), 60_000, 10).await.unwrap();
    let kinds: Vec<&str> = queued.iter().map(|d| d.event_type.as_str()).collect();
    assert_eq!(kinds, ["verification.code_sent"], "the event of a send that went out");
    assert!(queued[0].body.contains(&s.session_id) && queued[0].body.contains("\"code_sent\""), "{}", queued[0].body);
}
