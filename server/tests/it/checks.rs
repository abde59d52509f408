//! Authoritative checks in the flow (issue 17), with the `demo` provider's fixtures (docs/checks.md): each
//! outcome, each policy without an answer, the corrections a session allows, the daily limit per ID number
//! across the day boundary, required checks, and the checks in the site's result and token. Every case runs on
//! SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::http::StatusCode;
use base64::Engine as _;
use realname_core::protocol::{Check, CreateSessionResponse};
use realname_domain::config::{CheckPolicy, Config, SiteCheck};
use serde_json::{Value, json};

use crate::harness::*;
use realname_domain::clock::Clock as _;

on_both_backends!(
    a_match_goes_on_and_the_result_and_token_carry_it,
    a_mismatch_is_refused_and_the_person_corrects_it,
    the_last_correction_fails_the_session,
    an_id_number_collects_few_mismatches_a_day,
    without_an_answer_the_review_policy_goes_on_to_a_reviewer,
    without_an_answer_the_refuse_policy_refuses,
    a_required_check_must_match,
);

/// The demo fixture that matches: 张三 holds 11010519491231002X.
const FIXTURE_NAME: &str = "张三";
/// A fixture the demo source has no record of.
const NO_RECORD: &str = "11010519700707004X";
/// A fixture the demo source fails on.
const FAILING: &str = "110105197007070058";

/// The test site runs `id_match` with the demo provider and `policy` for no answer.
fn with_demo(cfg: &mut Config, policy: CheckPolicy) {
    cfg.sites[0].checks = vec![SiteCheck { check: Check::IdMatch, provider: "demo".into(), unavailable: policy }];
}

/// An SMS identity with `name` and `number`, consent now, each call a new phone (sending limits are per phone).
fn identity(h: &Harness, name: &str, number: &str) -> Value {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut v = identity_sms(&format!("1371234{:04}", n % 10_000), h.clock.now_secs());
    v["name"] = json!(name);
    v["number"] = json!(number);
    v
}

/// The site's view's `checks` as `(check, outcome, provider)`.
async fn checks_of(h: &Harness, s: &CreateSessionResponse) -> Vec<(String, String, String)> {
    let v = h.site_view(&s.session_id).await;
    v.json["checks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            assert_eq!(c["at"].as_i64(), Some(h.clock.now_secs()), "{c}");
            let f = |k: &str| c[k].as_str().unwrap().to_owned();
            (f("check"), f("outcome"), f("provider"))
        })
        .collect()
}

fn check(outcome: &str) -> (String, String, String) {
    ("id_match".into(), outcome.into(), "demo".into())
}

/// The `session.checked` audit entries of a session: (outcome, provider) each; their details hold nothing else
/// than check, provider, outcome and latency.
async fn audited(h: &Harness, s: &CreateSessionResponse) -> Vec<String> {
    let subject = format!("session:{}", s.session_id);
    // Chain the pending rows the steps wrote (as `audit verify` does first).
    let keys = realname_server::audit::cli::AuditKeys::of_ring(&h.state.keys());
    realname_server::audit::cli::verify(h.state.store.as_ref(), &keys, &[]).await.expect("the chain verifies");
    let all = h.state.store.audit_after(0, 100_000).await.unwrap();
    all.iter()
        .filter(|e| e.event.subject == subject && e.event.action == "session.checked")
        .map(|e| {
            let keys: Vec<&String> = e.event.detail.keys().collect();
            assert_eq!(keys, ["check", "latency_ms", "outcome", "provider"], "{:?}", e.event.detail);
            e.event.detail["outcome"].clone()
        })
        .collect()
}

async fn a_match_goes_on_and_the_result_and_token_carry_it(b: Backend) {
    let h = Harness::with(b, |c| {
        with_demo(c, CheckPolicy::Review);
        c.sites[0].webhook_url = Some("https://shop.example/hooks".into());
        c.sites[0].webhook_secret = realname_domain::config::Secret::new("whsec_test");
    })
    .await;
    let s = h.create_session().await;
    let r = h.submit_identity(&s, &identity(&h, FIXTURE_NAME, ID_NUMBER)).await;
    assert_eq!((r.status, r.json["status"].as_str()), (StatusCode::OK, Some("code_sent")), "{}", r.json);
    let r = h.submit_code(&s, &h.last_code()).await;
    assert_eq!(r.json["status"], "verified", "{}", r.json);
    assert_eq!(checks_of(&h, &s).await, [check("match")]);
    // The token's claims carry the same list.
    let token = r.json["result_token"].as_str().unwrap();
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(
        claims["checks"],
        json!([{ "check": "id_match", "outcome": "match", "provider": "demo",
        "at": h.clock.now_secs() }])
    );
    assert_eq!(audited(&h, &s).await, ["match"]);
    // And so does the webhook event.
    let queued = h.state.store.claim_deliveries("t", h.clock.now_ms(), 60_000, 10).await.unwrap();
    let verified = queued.iter().find(|d| d.event_type == "verification.verified").expect("a verified event");
    let event: Value = serde_json::from_str(&verified.body).unwrap();
    assert_eq!(event["data"]["checks"], claims["checks"], "{}", verified.body);
    // A site without checks shows none.
    let plain = Harness::new(Backend::sqlite().await).await;
    let (s, _) = plain.verified_session(PHONE).await;
    assert!(plain.site_view(&s.session_id).await.json.get("checks").is_none());
}

async fn a_mismatch_is_refused_and_the_person_corrects_it(b: Backend) {
    let h = Harness::with(b, |c| with_demo(c, CheckPolicy::Review)).await;
    let s = h.create_session().await;
    // 张三丰 is not the name the number is recorded under.
    let r = h.submit_identity(&s, &identity(&h, NAME, ID_NUMBER)).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "identity_mismatch"), "{}", r.json);
    assert_eq!(r.json["error"]["attempts_left"], 2);
    assert!(h.outbox.messages().is_empty(), "no code before the check matches");
    let v = h.site_view(&s.session_id).await;
    assert_eq!(v.json["status"], "created");
    assert!(v.json.get("masked_name").is_none(), "the refused identity is not stored: {}", v.json);
    // The envelope was recorded with the refusal: replaying it is refused, not checked again.
    let env = h.seal(&s.session_id, realname_core::protocol::Step::Identity, &identity(&h, NAME, ID_NUMBER)).await;
    let body = json!({ "envelope": env });
    assert_eq!(h.widget_post(&s, "identity", Some(&body), "198.51.100.7").await.code(), "identity_mismatch");
    assert_eq!(h.widget_post(&s, "identity", Some(&body), "198.51.100.7").await.code(), "envelope_replayed");
    // Corrected: the code goes out and the session is verified, both outcomes on record.
    let r = h.submit_identity(&s, &identity(&h, FIXTURE_NAME, ID_NUMBER)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let r = h.submit_code(&s, &h.last_code()).await;
    assert_eq!(r.json["status"], "verified", "{}", r.json);
    assert_eq!(checks_of(&h, &s).await, [check("mismatch"), check("mismatch"), check("match")]);
    assert_eq!(audited(&h, &s).await, ["mismatch", "mismatch", "match"]);
}

async fn the_last_correction_fails_the_session(b: Backend) {
    let h = Harness::with(b, |c| with_demo(c, CheckPolicy::Review)).await;
    let s = h.create_session().await;
    for left in [2, 1] {
        let r = h.submit_identity(&s, &identity(&h, NAME, ID_NUMBER)).await;
        assert_eq!((r.code(), r.json["error"]["attempts_left"].as_u64()), ("identity_mismatch", Some(left)));
    }
    let r = h.submit_identity(&s, &identity(&h, NAME, ID_NUMBER)).await;
    assert_eq!((r.status, r.code()), (StatusCode::LOCKED, "identity_mismatch_locked"), "{}", r.json);
    let v = h.site_view(&s.session_id).await;
    assert_eq!(v.json["status"], "failed", "{}", v.json);
    assert_eq!(checks_of(&h, &s).await.len(), 3);
    // Even the right name is refused now: the session is over.
    let r = h.submit_identity(&s, &identity(&h, FIXTURE_NAME, ID_NUMBER)).await;
    assert_eq!(r.code(), "client_secret_used", "{}", r.json);
}

async fn an_id_number_collects_few_mismatches_a_day(b: Backend) {
    let h = Harness::with(b, |c| {
        with_demo(c, CheckPolicy::Review);
        c.checks.mismatches_per_identity_day = 2;
    })
    .await;
    // Two mismatches in one session (T0 is midnight UTC, the start of the day's window).
    let a = h.create_session().await;
    for _ in 0..2 {
        assert_eq!(h.submit_identity(&a, &identity(&h, NAME, ID_NUMBER)).await.code(), "identity_mismatch");
    }
    // Another session, even with the right name: the number is not checked again today.
    h.clock.advance_secs(3600);
    let b2 = h.create_session().await;
    let r = h.submit_identity(&b2, &identity(&h, FIXTURE_NAME, ID_NUMBER)).await;
    assert_eq!((r.status, r.code()), (StatusCode::TOO_MANY_REQUESTS, "check_limit"), "{}", r.json);
    assert_eq!(r.json["error"]["retry_after"], 23 * 3600, "until the day ends");
    assert_eq!(h.site_view(&b2.session_id).await.json["status"], "created");
    assert!(h.site_view(&b2.session_id).await.json.get("checks").is_none(), "nothing asked, nothing recorded");
    // Other numbers are not affected.
    let c = h.create_session().await;
    let r = h.submit_identity(&c, &identity(&h, "赵六", "110105199001010010")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    // Across the day boundary the number is checked again.
    h.clock.advance_secs(23 * 3600);
    let d = h.create_session().await;
    let r = h.submit_identity(&d, &identity(&h, FIXTURE_NAME, ID_NUMBER)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
}

async fn without_an_answer_the_review_policy_goes_on_to_a_reviewer(b: Backend) {
    let h = Harness::with(b, |c| with_demo(c, CheckPolicy::Review)).await;
    for (number, outcome) in [(FAILING, "unavailable"), (NO_RECORD, "no_record")] {
        let s = h.create_session().await;
        let r = h.submit_identity(&s, &identity(&h, FIXTURE_NAME, number)).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        let r = h.submit_code(&s, &h.last_code()).await;
        assert_eq!(r.json["status"], "pending_review", "{}", r.json);
        assert!(r.json.get("result_token").is_none());
        let cases = h.state.store.pending_cases(Some("shop"), 10).await.unwrap();
        let case = cases.iter().find(|c| c.session_id == s.session_id).expect("a case");
        assert_eq!(case.reasons, ["check_unavailable"]);
        assert_eq!(checks_of(&h, &s).await, [check(outcome)]);
        assert_eq!(audited(&h, &s).await, [outcome]);
    }
}

async fn without_an_answer_the_refuse_policy_refuses(b: Backend) {
    let h = Harness::with(b, |c| with_demo(c, CheckPolicy::Refuse)).await;
    let s = h.create_session().await;
    let r = h.submit_identity(&s, &identity(&h, FIXTURE_NAME, FAILING)).await;
    assert_eq!((r.status, r.code()), (StatusCode::SERVICE_UNAVAILABLE, "check_unavailable"), "{}", r.json);
    assert_eq!(r.json["error"]["retry_after"], 30);
    assert_eq!(r.headers.get("retry-after").and_then(|v| v.to_str().ok()), Some("30"));
    // No record: the person may correct the number (it counts as a correction).
    let r = h.submit_identity(&s, &identity(&h, FIXTURE_NAME, NO_RECORD)).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "identity_no_record"), "{}", r.json);
    assert_eq!(r.json["error"]["attempts_left"], 2);
    assert_eq!(h.site_view(&s.session_id).await.json["status"], "created");
    assert!(h.outbox.messages().is_empty());
    let r = h.submit_identity(&s, &identity(&h, FIXTURE_NAME, ID_NUMBER)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(h.submit_code(&s, &h.last_code()).await.json["status"], "verified");
    assert_eq!(checks_of(&h, &s).await, [check("unavailable"), check("no_record"), check("match")]);
}

async fn a_required_check_must_match(b: Backend) {
    let h = Harness::with(b, |c| {
        with_demo(c, CheckPolicy::Review);
        c.sites[0].required_checks = vec![Check::IdMatch];
    })
    .await;
    // A passport cannot be checked: this site cannot verify it.
    let s = h.create_session().await;
    let mut passport = identity(&h, "ZHANG SAN", "E12345678");
    passport["document_kind"] = json!("chinese_passport");
    let r = h.submit_identity(&s, &passport).await;
    assert_eq!(
        (r.code(), r.json["error"]["field"].as_str()),
        ("validation_failed", Some("document_kind")),
        "{}",
        r.json
    );
    assert_eq!(r.json["error"]["reason"], "check_not_applicable");
    // Without an answer a required check refuses whatever the site's policy for the check.
    let r = h.submit_identity(&s, &identity(&h, FIXTURE_NAME, FAILING)).await;
    assert_eq!(r.code(), "check_unavailable", "{}", r.json);
    let r = h.submit_identity(&s, &identity(&h, FIXTURE_NAME, ID_NUMBER)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(h.submit_code(&s, &h.last_code()).await.json["status"], "verified");
    // Not required, the passport goes on with `not_applicable` on record, and is verified.
    let h = Harness::with(Backend::sqlite().await, |c| with_demo(c, CheckPolicy::Review)).await;
    let s = h.create_session().await;
    let r = h.submit_identity(&s, &passport).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(h.submit_code(&s, &h.last_code()).await.json["status"], "verified");
    assert_eq!(checks_of(&h, &s).await, [check("not_applicable")]);
}
