//! Flagged identities (issue 5): a child under 14 (with the guardian's consent), an unknown region code, an
//! identity already bound to the site's maximum of accounts. They prove their phone by code like anyone, then go
//! to the review queue: the code step answers `pending_review` with the due date, no result token. Every case
//! runs on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::http::StatusCode;
use realname_core::validate::{RegionStatus, check_char, region_status};
use serde_json::{Value, json};

use crate::harness::*;
use realname_domain::clock::Clock as _;

on_both_backends!(
    a_child_needs_the_guardian_consent_and_goes_to_review,
    an_unknown_region_code_goes_to_review,
    an_identity_over_the_account_limit_goes_to_review,
    an_adult_with_a_known_region_is_verified_without_review,
    a_flagged_case_takes_an_account_slot_only_when_approved,
);

fn resident_id(first17: &str) -> String {
    format!("{first17}{}", check_char(first17.as_bytes()).unwrap())
}

/// An SMS identity with `number`, consent now; each call a new phone (the sending limits are per phone).
fn identity(number: &str, now: i64) -> Value {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut v = identity_sms(&format!("1391234{:04}", n % 10_000), now);
    v["number"] = json!(number);
    v
}

/// Submits the identity and the right code; returns the code step's reply.
async fn identity_then_code(h: &Harness, s: &realname_core::protocol::CreateSessionResponse, payload: &Value) -> Reply {
    let r = h.submit_identity(s, payload).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["status"], "code_sent");
    h.submit_code(s, &h.last_code()).await
}

/// The code step's answer is `pending_review` with a due date and no token; the site sees `pending_review`; one
/// pending case with exactly `reasons` is queued for the session.
async fn assert_in_review(h: &Harness, session: &str, r: &Reply, reasons: &[&str]) {
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["status"], "pending_review", "{}", r.json);
    assert!(r.json.get("result_token").is_none(), "no token before a reviewer decides: {}", r.json);
    // T0 is 2026-10-01 (National Day week): five working days later is mid-October.
    assert!(r.json["review_due"].as_str().is_some_and(|d| d.starts_with("2026-10")), "{}", r.json);
    let site = h.site_view(session).await;
    assert_eq!(site.json["status"], "pending_review", "{}", site.json);
    assert!(site.json.get("result_token").is_none_or(Value::is_null), "{}", site.json);
    let cases = h.state.store.pending_cases(Some("shop"), 10).await.unwrap();
    let case = cases.iter().find(|c| c.session_id == session).expect("a case for the session");
    assert_eq!(case.reasons, reasons);
}

async fn a_child_needs_the_guardian_consent_and_goes_to_review(b: Backend) {
    let h = Harness::new(b).await;
    let now = h.clock.now_secs();
    let child = resident_id("11010520150601001");
    let s = h.create_session().await;
    // Without the guardian's consent: refused, nothing stored, no code.
    let r = h.submit_identity(&s, &identity(&child, now)).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "consent_required"), "{}", r.json);
    let mut stale = identity(&child, now);
    stale["guardian_consent"] = json!({ "version": "", "accepted_at": now });
    assert_eq!(h.submit_identity(&s, &stale).await.code(), "consent_required", "a guardian consent needs a version");
    assert_eq!(h.site_view(&s.session_id).await.json["status"], "created");
    assert!(h.outbox.messages().is_empty());
    // With it: the code goes out, and the right code sends the child to a reviewer.
    let mut with = identity(&child, now);
    with["guardian_consent"] = json!({ "version": "guardian-2025-01", "accepted_at": now });
    let r = identity_then_code(&h, &s, &with).await;
    assert_in_review(&h, &s.session_id, &r, &["minor"]).await;
    // The guardian's consent is on record (version and time only) in the audit log.
    // The step's entries are pending until the chainer (every second in `serve`) links them.
    realname_server::audit::chain::chain_all(h.state.store.as_ref(), &h.state.audit_key).await.unwrap();
    let entries = h.state.store.audit_after(0, 1000).await.unwrap();
    let consent = entries
        .iter()
        .find(|e| {
            e.event.action == "session.guardian_consent" && e.event.subject == format!("session:{}", s.session_id)
        })
        .expect("the guardian consent is recorded");
    assert_eq!(consent.event.detail["version"], "guardian-2025-01");
    assert_eq!(consent.event.detail["accepted_at"], now.to_string());
    // The reviewer's case view shows it next to the child's data.
    let token = reviewer_token(&h).await;
    let case = h
        .state
        .store
        .pending_cases(Some("shop"), 10)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.session_id == s.session_id)
        .unwrap();
    let v = h.call("GET", &format!("/console/api/cases/{}", case.id), &[("authorization", &token)], None).await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.json);
    let g = &v.json["guardian_consent"];
    assert_eq!((g["version"].as_str(), g["accepted_at"].as_i64()), (Some("guardian-2025-01"), Some(now)), "{}", v.json);
    assert_eq!(g["audit_seq"].as_i64(), Some(consent.seq));
    // A 14-year-old consents alone and is verified as usual.
    let teen = resident_id("11010520120101001");
    let s = h.create_session().await;
    let r = identity_then_code(&h, &s, &identity(&teen, now)).await;
    assert_eq!(r.json["status"], "verified", "{}", r.json);
}

async fn an_unknown_region_code_goes_to_review(b: Backend) {
    let h = Harness::new(b).await;
    let unknown = (110100..=119999).find(|c| region_status(*c) == RegionStatus::Unknown).unwrap();
    let number = resident_id(&format!("{unknown}19900101001"));
    let s = h.create_session().await;
    let r = identity_then_code(&h, &s, &identity(&number, h.clock.now_secs())).await;
    assert_in_review(&h, &s.session_id, &r, &["unknown_region"]).await;
    // An adult's case has no guardian consent to show.
    let token = reviewer_token(&h).await;
    let case = h
        .state
        .store
        .pending_cases(Some("shop"), 10)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.session_id == s.session_id)
        .unwrap();
    let v = h.call("GET", &format!("/console/api/cases/{}", case.id), &[("authorization", &token)], None).await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.json);
    assert!(v.json["guardian_consent"].is_null(), "{}", v.json);
}

async fn an_identity_over_the_account_limit_goes_to_review(b: Backend) {
    let h = Harness::with(b, |cfg| cfg.sites[0].max_accounts_per_identity = 1).await;
    let now = h.clock.now_secs();
    // The first account binds the identity and is verified.
    let first = h.create_session().await;
    let r = identity_then_code(&h, &first, &identity(ID_NUMBER, now)).await;
    assert_eq!(r.json["status"], "verified", "{}", r.json);
    // A second account with the same identity: its phone is proved, then a reviewer decides.
    let second = h.create_session().await;
    let r = identity_then_code(&h, &second, &identity(ID_NUMBER, now)).await;
    assert_in_review(&h, &second.session_id, &r, &["max_accounts"]).await;
    let blind = h.state.store.session(&second.session_id).await.unwrap().unwrap().blind_index.unwrap();
    assert_eq!(h.state.store.identity_bindings("shop", &blind).await.unwrap(), 1, "not bound while in review");

    // A reviewer approves the extra account: the site sees it verified, and it is bound like any verified one.
    let case = h
        .state
        .store
        .pending_cases(Some("shop"), 10)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.session_id == second.session_id)
        .unwrap();
    let token = reviewer_token(&h).await;
    let body = json!({"decision": "approve", "reason_code": "manual_check_passed"}).to_string();
    let d = h
        .call("POST", &format!("/console/api/cases/{}/decision", case.id), &[("authorization", &token)], Some(&body))
        .await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.json);
    let site = h.site_view(&second.session_id).await;
    assert_eq!(site.json["status"], "verified", "{}", site.json);
    assert!(site.json["result_token"].as_str().is_some_and(|t| !t.is_empty()), "{}", site.json);
    assert_eq!(h.state.store.identity_bindings("shop", &blind).await.unwrap(), 2, "the approved account is bound");
    let entries = h.state.store.audit_after(0, 1000).await.unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e.event.action == "binding.bound" && e.event.subject == format!("session:{}", second.session_id))
    );
    // The limit still holds for the next new account: it goes to a reviewer again.
    let third = h.create_session().await;
    let r = identity_then_code(&h, &third, &identity(ID_NUMBER, now)).await;
    assert_in_review(&h, &third.session_id, &r, &["max_accounts"]).await;
    // A rejected one is not bound.
    let case = h
        .state
        .store
        .pending_cases(Some("shop"), 10)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.session_id == third.session_id)
        .unwrap();
    let body = json!({"decision": "reject", "reason_code": "account_limit"}).to_string();
    let d = h
        .call("POST", &format!("/console/api/cases/{}/decision", case.id), &[("authorization", &token)], Some(&body))
        .await;
    assert_eq!(d.status, StatusCode::OK, "{}", d.json);
    assert_eq!(h.site_view(&third.session_id).await.json["status"], "rejected");
    assert_eq!(h.state.store.identity_bindings("shop", &blind).await.unwrap(), 2);
}

/// A console login of a fresh reviewer, as an `Authorization` header value.
async fn reviewer_token(h: &Harness) -> String {
    use realname_server::review::Reviews;
    let rv: Reviews = axum::extract::FromRef::from_ref(&h.state);
    let role = realname_store::review::Role::Reviewer;
    realname_server::review::auth::create_reviewer(
        rv.store.as_ref(),
        rv.clock.as_ref(),
        rv.random.as_ref(),
        "rita",
        "correct horse battery",
        role,
        None,
    )
    .await
    .unwrap();
    let login = h
        .call("POST", "/console/api/login", &[], Some(r#"{"username":"rita","password":"correct horse battery"}"#))
        .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.json);
    format!("Bearer {}", login.json["token"].as_str().unwrap())
}

async fn an_adult_with_a_known_region_is_verified_without_review(b: Backend) {
    let h = Harness::with(b, |cfg| cfg.sites[0].max_accounts_per_identity = 1).await;
    let s = h.create_session().await;
    let r = identity_then_code(&h, &s, &identity(ID_NUMBER, h.clock.now_secs())).await;
    assert_eq!(r.json["status"], "verified", "{}", r.json);
    assert!(r.json["result_token"].as_str().is_some_and(|t| !t.is_empty()));
    assert!(r.json.get("review_due").is_none());
    assert!(h.state.store.pending_cases(Some("shop"), 10).await.unwrap().is_empty());
}

async fn a_flagged_case_takes_an_account_slot_only_when_approved(b: Backend) {
    let h = Harness::with(b, |cfg| cfg.sites[0].max_accounts_per_identity = 1).await;
    let now = h.clock.now_secs();
    let child = resident_id("11010520150601001");
    // Each attempt from a new phone (the sending limits are per phone).
    let payload = || {
        let mut p = identity(&child, now);
        p["guardian_consent"] = json!({ "version": "guardian-2025-01", "accepted_at": now });
        p
    };
    let token = reviewer_token(&h).await;
    let decide = |case: String, decision: &'static str, reason: &'static str| {
        let token = token.clone();
        let h = &h;
        async move {
            let body = json!({"decision": decision, "reason_code": reason}).to_string();
            let d = h
                .call("POST", &format!("/console/api/cases/{case}/decision"), &[("authorization", &token)], Some(&body))
                .await;
            assert_eq!(d.status, StatusCode::OK, "{}", d.json);
        }
    };
    let case_of = |session: String| {
        let h = &h;
        async move {
            h.state
                .store
                .pending_cases(Some("shop"), 10)
                .await
                .unwrap()
                .into_iter()
                .find(|c| c.session_id == session)
                .unwrap()
                .id
        }
    };
    // A child's case, rejected: no slot taken, so the identity is not at the limit afterwards.
    let s = h.create_session().await;
    let r = identity_then_code(&h, &s, &payload()).await;
    assert_in_review(&h, &s.session_id, &r, &["minor"]).await;
    let blind = h.state.store.session(&s.session_id).await.unwrap().unwrap().blind_index.unwrap();
    assert_eq!(h.state.store.identity_bindings("shop", &blind).await.unwrap(), 0, "bound while in review");
    decide(case_of(s.session_id.clone()).await, "reject", "minor_not_permitted").await;
    assert_eq!(h.state.store.identity_bindings("shop", &blind).await.unwrap(), 0, "a rejected case took a slot");
    // Again, approved: bound; the next new account of that identity is then over the limit as well.
    let s = h.create_session().await;
    let r = identity_then_code(&h, &s, &payload()).await;
    assert_in_review(&h, &s.session_id, &r, &["minor"]).await;
    decide(case_of(s.session_id.clone()).await, "approve", "guardian_consent_verified").await;
    assert_eq!(h.site_view(&s.session_id).await.json["status"], "verified");
    assert_eq!(h.state.store.identity_bindings("shop", &blind).await.unwrap(), 1);
    let s = h.create_session().await;
    let r = identity_then_code(&h, &s, &payload()).await;
    assert_in_review(&h, &s.session_id, &r, &["minor", "max_accounts"]).await;
}
