//! The vendors in the identity step, on SQLite and PostgreSQL: the test site runs `id_match` with `tencent`
//! (policy `review`) and `phone_owner` (三要素) with `aliyun` (policy `refuse`), against the fakes, which answer by
//! the name (FaceID) and the phone (Cloudauth). Each outcome and each policy, corrections, and `phone_owner`
//! on an email identity.

use axum::http::StatusCode;
use realname_core::protocol::{Check, CreateSessionResponse};
use realname_domain::clock::{Clock as _, ManualClock};
use realname_domain::config::{CheckPolicy, Config, SiteCheck};
use serde_json::{Value, json};

use super::fake::{self, Fake, Reply};
use super::{answer, vendor_checks};
use crate::harness::*;

on_both_backends!(
    both_checks_match_and_the_result_carries_them,
    each_mismatch_is_refused_with_its_code_and_corrected,
    without_an_answer_each_check_follows_its_policy,
    phone_owner_does_not_apply_to_an_email_identity,
);

/// The number every identity here uses (its name decides FaceID's answer).
const NUMBER: &str = "11010519491231002X";

/// FaceID by name: 张三 matches, 张三丰 does not, 李四 has no record, 王五 meets a failing source (503).
fn tencent_by_name(seen: &fake::Seen) -> Reply {
    match seen.fields["Name"].as_str() {
        "张三" => fake::tencent_result("0"),
        "张三丰" => fake::tencent_result("-1"),
        "李四" => fake::tencent_result("-5"),
        _ => Reply::status(503, "Service Unavailable"),
    }
}

/// Cloudauth by the phone's last digit: 1 registered to the person, 2 to someone else, 3 unknown, else 503.
fn aliyun_by_phone(seen: &fake::Seen) -> Reply {
    match seen.fields["Mobile"].chars().last() {
        Some('1') => fake::aliyun_biz("1"),
        Some('2') => fake::aliyun_biz("2"),
        Some('3') => fake::aliyun_biz("3"),
        _ => Reply::status(503, ""),
    }
}

/// A harness whose site runs both vendor checks against fresh fakes.
async fn harness(b: Backend, tweak: impl FnOnce(&mut Config)) -> (Harness, Fake, Fake) {
    let clock = ManualClock::new(T0);
    let t = fake::tencent(clock.clone(), answer(tencent_by_name)).await;
    let a = fake::aliyun(clock, answer(aliyun_by_phone)).await;
    let h = Harness::with(b, |c| {
        vendor_checks(&mut c.checks, &t.url, &a.url);
        c.checks.retry_backoff_ms = 5;
        c.sites[0].checks = vec![
            SiteCheck { check: Check::IdMatch, provider: "tencent".into(), unavailable: CheckPolicy::Review },
            SiteCheck { check: Check::PhoneOwner, provider: "aliyun".into(), unavailable: CheckPolicy::Refuse },
        ];
        tweak(c);
    })
    .await;
    (h, t, a)
}

/// An SMS identity of `name` with the phone ending in `last` (a new phone each call: sending limits are per
/// phone).
fn sms(h: &Harness, name: &str, last: char) -> Value {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 1000;
    let mut v = identity_sms(&format!("1390000{n:03}{last}"), h.clock.now_secs());
    v["name"] = json!(name);
    v["number"] = json!(NUMBER);
    v
}

/// The site's view's `checks` as `check:outcome:provider`.
async fn checks_of(h: &Harness, s: &CreateSessionResponse) -> Vec<String> {
    let v = h.site_view(&s.session_id).await;
    let items = v.json["checks"].as_array().cloned().unwrap_or_default();
    items.iter().map(|c| format!("{}:{}:{}", c["check"], c["outcome"], c["provider"]).replace('"', "")).collect()
}

async fn both_checks_match_and_the_result_carries_them(b: Backend) {
    let (h, t, a) = harness(b, |_| {}).await;
    let s = h.create_session().await;
    let r = h.submit_identity(&s, &sms(&h, "张三", '1')).await;
    assert_eq!((r.status, r.json["status"].as_str()), (StatusCode::OK, Some("code_sent")), "{}", r.json);
    let r = h.submit_code(&s, &h.last_code()).await;
    assert_eq!(r.json["status"], "verified", "{}", r.json);
    assert_eq!(checks_of(&h, &s).await, ["id_match:match:tencent", "phone_owner:match:aliyun"]);
    assert_eq!((t.calls(), a.calls()), (1, 1));
    t.assert_clean();
    a.assert_clean();
}

async fn each_mismatch_is_refused_with_its_code_and_corrected(b: Backend) {
    let (h, t, a) = harness(b, |_| {}).await;
    let s = h.create_session().await;
    // The name: FaceID says no; Cloudauth is not asked.
    let r = h.submit_identity(&s, &sms(&h, "张三丰", '1')).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "identity_mismatch"), "{}", r.json);
    assert_eq!(r.json["error"]["attempts_left"], 2);
    assert_eq!(a.calls(), 0);
    // The phone is someone else's.
    let r = h.submit_identity(&s, &sms(&h, "张三", '2')).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "phone_mismatch"), "{}", r.json);
    assert_eq!(r.json["error"]["attempts_left"], 1);
    assert!(h.outbox.messages().is_empty(), "no code before the checks pass");
    // Corrected.
    let r = h.submit_identity(&s, &sms(&h, "张三", '1')).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(h.submit_code(&s, &h.last_code()).await.json["status"], "verified");
    assert_eq!(
        checks_of(&h, &s).await,
        [
            "id_match:mismatch:tencent",
            "id_match:match:tencent",
            "phone_owner:mismatch:aliyun",
            "id_match:match:tencent",
            "phone_owner:match:aliyun"
        ]
    );
    t.assert_clean();
    a.assert_clean();
}

async fn without_an_answer_each_check_follows_its_policy(b: Backend) {
    let (h, t, a) = harness(b, |_| {}).await;
    // id_match (review): no record, and a failing source (retried, then unavailable), go on to a reviewer.
    for (name, outcome) in [("李四", "no_record"), ("王五", "unavailable")] {
        let s = h.create_session().await;
        let before = t.calls();
        let r = h.submit_identity(&s, &sms(&h, name, '1')).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        let r = h.submit_code(&s, &h.last_code()).await;
        assert_eq!(r.json["status"], "pending_review", "{}", r.json);
        let cases = h.state.store.pending_cases(Some("shop"), 10).await.unwrap();
        let case = cases.iter().find(|c| c.session_id == s.session_id).expect("a case");
        assert_eq!(case.reasons, ["check_unavailable"]);
        assert_eq!(checks_of(&h, &s).await, [format!("id_match:{outcome}:tencent"), "phone_owner:match:aliyun".into()]);
        let calls = if outcome == "unavailable" { 3 } else { 1 };
        assert_eq!(t.calls() - before, calls, "{name}: the 503 is tried three times");
    }
    // phone_owner (refuse): a failing source is retry-later, no record a correction.
    let s = h.create_session().await;
    let r = h.submit_identity(&s, &sms(&h, "张三", '5')).await;
    assert_eq!((r.status, r.code()), (StatusCode::SERVICE_UNAVAILABLE, "check_unavailable"), "{}", r.json);
    assert_eq!(r.json["error"]["retry_after"], 30);
    let r = h.submit_identity(&s, &sms(&h, "张三", '3')).await;
    assert_eq!((r.code(), r.json["error"]["attempts_left"].as_u64()), ("phone_mismatch", Some(2)), "{}", r.json);
    assert_eq!(h.site_view(&s.session_id).await.json["status"], "created");
    t.assert_clean();
    a.assert_clean();
}

async fn phone_owner_does_not_apply_to_an_email_identity(b: Backend) {
    let (h, _t, a) = harness(b, |_| {}).await;
    let s = h.create_session().await;
    let mut v = identity_email(EMAIL, h.clock.now_secs());
    v["name"] = json!("张三");
    v["number"] = json!(NUMBER);
    let r = h.submit_identity(&s, &v).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(h.submit_code(&s, &h.last_code()).await.json["status"], "verified");
    assert_eq!(checks_of(&h, &s).await, ["id_match:match:tencent", "phone_owner:not_applicable:aliyun"]);
    assert_eq!(a.calls(), 0);
    // Where the site requires it, an email identity cannot be verified.
    let (h, _, _) = harness(Backend::sqlite().await, |c| c.sites[0].required_checks = vec![Check::PhoneOwner]).await;
    let s = h.create_session().await;
    let r = h.submit_identity(&s, &v).await;
    assert_eq!((r.code(), r.json["error"]["field"].as_str()), ("validation_failed", Some("method")), "{}", r.json);
    assert_eq!(r.json["error"]["reason"], "check_not_applicable");
}
