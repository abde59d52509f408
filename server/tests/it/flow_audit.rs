//! The verification flow's audit events (issue 5: "every state change"): each request step writes its events as
//! pending rows in its own transaction; chaining (`audit verify` runs it first) moves them into the hash chain.
//! Checked on SQLite and PostgreSQL: the sequence of a whole SMS flow, no personal data in any event, cancelled,
//! locked and expired sessions, and a valid chain after concurrent flows.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::http::StatusCode;
use realname_domain::audit::Entry;
use realname_domain::clock::Clock as _;
use realname_server::audit::cli;
use realname_store::PurgePolicy;

use crate::harness::*;

on_both_backends!(
    an_sms_flow_writes_its_events_into_the_chain,
    cancelled_locked_and_expired_sessions_write_their_events,
    the_chain_stays_valid_with_concurrent_flows,
);

/// Every chained entry, in order.
async fn entries(h: &Harness) -> Vec<Entry> {
    h.state.store.audit_after(0, 100_000).await.unwrap()
}

/// The actions of `session`'s `session.*` entries, in chain order.
fn actions_of(all: &[Entry], session: &str) -> Vec<String> {
    let subject = format!("session:{session}");
    all.iter()
        .filter(|e| e.event.subject == subject && e.event.action.starts_with("session."))
        .map(|e| e.event.action.clone())
        .collect()
}

/// The keys `audit verify` reads from the server's key ring.
fn audit_keys(h: &Harness) -> cli::AuditKeys {
    cli::AuditKeys::of_ring(&h.state.keys())
}

fn entry<'a>(all: &'a [Entry], session: &str, action: &str) -> &'a Entry {
    let subject = format!("session:{session}");
    all.iter().find(|e| e.event.subject == subject && e.event.action == action).unwrap_or_else(|| panic!("no {action}"))
}

/// The code the outbox holds for `phone` (it keeps masked destinations, newest first).
fn code_for(h: &Harness, phone: &str) -> String {
    let masked = realname_core::validate::mask_phone(phone);
    h.outbox.messages().iter().find(|m| m.to == masked).map(|m| m.code.clone()).expect("a code for the phone")
}

async fn an_sms_flow_writes_its_events_into_the_chain(b: Backend) {
    let h = Harness::new(b).await;
    let s = h.create_session().await;
    let r = h.submit_identity(&s, &identity_sms(PHONE, h.clock.now_secs())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    h.clock.advance_secs(h.state.cfg.codes.resend_cooldown_secs + 1);
    let r = h.widget_post(&s, "resend", None, "198.51.100.7").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let right = h.last_code();
    let wrong = if right == "000000" { "111111" } else { "000000" };
    assert_eq!(h.submit_code(&s, wrong).await.code(), "code_invalid");
    let r = h.submit_code(&s, &right).await;
    assert_eq!(r.json["status"], "verified", "{}", r.json);

    // Written as pending rows by the steps; not in the chain until chained.
    assert_eq!(h.state.store.audit_pending_count().await.unwrap(), 6);
    assert!(actions_of(&entries(&h).await, &s.session_id).is_empty());
    let n = cli::verify(h.state.store.as_ref(), &audit_keys(&h), &[])
        .await
        .map(|r| r.verified.entries)
        .expect("the chain verifies");
    assert_eq!(h.state.store.audit_pending_count().await.unwrap(), 0);
    let all = entries(&h).await;
    assert_eq!(n, all.len() as u64);
    assert_eq!(
        actions_of(&all, &s.session_id),
        [
            "session.created",
            "session.identity_submitted",
            "session.code_sent",
            "session.code_resent",
            "session.code_failed",
            "session.verified"
        ]
    );
    let created = entry(&all, &s.session_id, "session.created");
    assert_eq!(created.event.actor, "site:shop");
    assert_eq!(created.event.site.as_deref(), Some("shop"));
    let sent = entry(&all, &s.session_id, "session.code_sent");
    assert_eq!((sent.event.detail["channel"].as_str(), sent.event.detail["status"].as_str()), ("sms", "code_sent"));
    let failed = entry(&all, &s.session_id, "session.code_failed");
    assert_eq!(failed.event.detail["attempts_left"], (h.state.cfg.codes.max_attempts - 1).to_string());
    let verified = entry(&all, &s.session_id, "session.verified");
    assert_eq!(verified.event.detail["method"], "sms");
    assert_eq!(verified.event.detail["document_kind"], "resident_id");
    assert_eq!(verified.event.detail["status"], "verified");

    // No personal data in any event: name, ID number (and its masked form), phone (and masked), codes.
    let masked_phone = realname_core::validate::mask_phone(PHONE);
    let masked_number = realname_core::validate::mask_id(ID_NUMBER);
    let text: String = all.iter().map(|e| format!("{:?}\n", e.event)).collect();
    for secret in [NAME, ID_NUMBER, &ID_NUMBER[..6], PHONE, &PHONE[3..], &masked_phone, &masked_number, &right] {
        assert!(!text.contains(secret), "{secret:?} in the audit log:\n{text}");
    }
    // Still valid after a direct append (which chains any pending events first).
    let s2 = h.create_session().await;
    h.state
        .store
        .audit_append(
            &h.state.audit_key,
            h.clock.now_ms(),
            realname_domain::audit::Event::new("system", "test.direct", "x"),
        )
        .await
        .unwrap();
    let all = entries(&h).await;
    let created2 = entry(&all, &s2.session_id, "session.created").seq;
    assert!(created2 < all.last().unwrap().seq, "the pending event is chained before the later direct append");
    assert_eq!(
        cli::verify(h.state.store.as_ref(), &audit_keys(&h), &[]).await.map(|r| r.verified.entries).unwrap(),
        all.len() as u64
    );
}

async fn cancelled_locked_and_expired_sessions_write_their_events(b: Backend) {
    // A client secret outliving its session, so a request can be the first to notice the session's end.
    let h = Harness::with(b, |c| c.session.client_secret_ttl_secs = c.session.session_ttl_secs * 2).await;
    // Cancelled by the person in the widget, and by the site's backend.
    let by_person = h.create_session().await;
    let r = h.widget_post(&by_person, "cancel", None, "198.51.100.7").await;
    assert_eq!(r.json["status"], "canceled", "{}", r.json);
    let by_site = h.create_session().await;
    let r = h
        .call(
            "POST",
            &format!("/v1/sessions/{}/cancel", by_site.session_id),
            &[("authorization", &format!("Bearer {SECRET_KEY}"))],
            None,
        )
        .await;
    assert_eq!(r.json["status"], "canceled", "{}", r.json);

    // Locked after too many wrong codes.
    let locked = h.create_session().await;
    assert_eq!(h.submit_identity(&locked, &identity_sms(PHONE, h.clock.now_secs())).await.status, StatusCode::OK);
    let right = h.last_code();
    let wrong = if right == "000000" { "111111" } else { "000000" };
    let max = h.state.cfg.codes.max_attempts;
    for _ in 1..max {
        assert_eq!(h.submit_code(&locked, wrong).await.code(), "code_invalid");
    }
    assert_eq!(h.submit_code(&locked, wrong).await.code(), "code_locked");

    // Expired: one noticed by a request, one by the purge sweep.
    let noticed = h.create_session().await;
    let swept = h.create_session().await;
    h.clock.advance_secs(h.state.cfg.session.session_ttl_secs + 1);
    let r = h.submit_identity(&noticed, &identity_sms("13912340000", h.clock.now_secs())).await;
    assert_ne!(r.status, StatusCode::OK, "{}", r.json);
    let policy =
        PurgePolicy { now: h.clock.now_ms(), session_retention_ms: i64::MAX / 4, delivery_retention_ms: i64::MAX / 4 };
    let report = h.state.store.purge(&policy).await.unwrap();
    assert!(report.sessions_expired >= 1, "{report:?}");

    cli::verify(h.state.store.as_ref(), &audit_keys(&h), &[])
        .await
        .map(|r| r.verified.entries)
        .expect("the chain verifies");
    let all = entries(&h).await;
    assert_eq!(actions_of(&all, &by_person.session_id), ["session.created", "session.canceled"]);
    assert_eq!(entry(&all, &by_person.session_id, "session.canceled").event.actor, "person");
    assert_eq!(actions_of(&all, &by_site.session_id), ["session.created", "session.canceled"]);
    assert_eq!(entry(&all, &by_site.session_id, "session.canceled").event.actor, "site:shop");

    let mut expected = vec!["session.created", "session.identity_submitted", "session.code_sent"];
    expected.extend(std::iter::repeat_n("session.code_failed", max as usize));
    expected.push("session.failed");
    assert_eq!(actions_of(&all, &locked.session_id), expected);
    let failed = entry(&all, &locked.session_id, "session.failed");
    assert_eq!(
        (failed.event.detail["reason"].as_str(), failed.event.detail["status"].as_str()),
        ("code_locked", "failed")
    );
    let last_try = all
        .iter()
        .rfind(|e| {
            e.event.subject == format!("session:{}", locked.session_id) && e.event.action == "session.code_failed"
        })
        .unwrap();
    assert_eq!(last_try.event.detail["attempts_left"], "0");

    assert_eq!(actions_of(&all, &noticed.session_id), ["session.created", "session.expired"]);
    assert_eq!(entry(&all, &noticed.session_id, "session.expired").event.detail["by"], "request");
    assert_eq!(actions_of(&all, &swept.session_id), ["session.created", "session.expired"]);
    let swept_event = entry(&all, &swept.session_id, "session.expired");
    assert_eq!((swept_event.event.detail["by"].as_str(), swept_event.event.actor.as_str()), ("ttl", "system"));
    // The sweep expires each session once: a second pass writes nothing more.
    assert_eq!(h.state.store.purge(&policy).await.unwrap().sessions_expired, 0);
    assert_eq!(h.state.store.audit_pending_count().await.unwrap(), 0);
}

async fn the_chain_stays_valid_with_concurrent_flows(b: Backend) {
    let h = Harness::with(b, |c| {
        c.limits.per_ip_hour = 10_000;
    })
    .await;
    const FLOWS: usize = 24;
    let h = std::sync::Arc::new(h);
    // Chaining and direct appends run while the flows write their pending events.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let chainer = {
        let (h, stop) = (h.clone(), stop.clone());
        tokio::spawn(async move {
            let mut k = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                realname_server::audit::chain::chain_all(h.state.store.as_ref(), &h.state.audit_key).await.unwrap();
                let ev = realname_domain::audit::Event::new("system", "test.direct", format!("n:{k}"));
                h.state.store.audit_append(&h.state.audit_key, h.clock.now_ms(), ev).await.unwrap();
                k += 1;
                tokio::task::yield_now().await;
            }
            k
        })
    };
    let mut flows = tokio::task::JoinSet::new();
    for i in 0..FLOWS {
        let h = h.clone();
        flows.spawn(async move {
            let phone = format!("1391111{i:04}");
            let s = h.create_session().await;
            let r = h.submit_identity(&s, &identity_sms(&phone, h.clock.now_secs())).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.json);
            let r = h.submit_code(&s, &code_for(&h, &phone)).await;
            assert_eq!(r.json["status"], "verified", "{}", r.json);
            s.session_id
        });
    }
    let ids = flows.join_all().await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let appended = chainer.await.unwrap();
    assert!(appended > 0);
    let n = cli::verify(h.state.store.as_ref(), &audit_keys(&h), &[])
        .await
        .map(|r| r.verified.entries)
        .expect("the chain verifies");
    let all = entries(&h).await;
    assert_eq!(n, all.len() as u64);
    assert_eq!(all.iter().filter(|e| e.event.action == "test.direct").count(), appended);
    for id in &ids {
        assert_eq!(
            actions_of(&all, id),
            ["session.created", "session.identity_submitted", "session.code_sent", "session.verified"],
            "session {id}"
        );
    }
}
