//! The `nppa` (anti-addiction system) and `webhook` (the operator's service) providers against fakes that check
//! each request as the interface specification and docs/checks.md say (`fake.rs`): every documented code, the
//! "in progress" answer polled with `query`, 5xx, garbage, slow answers, a wrong key; unsigned or foreign answers
//! of the operator's service; and both in the identity step on SQLite and PostgreSQL.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use realname_core::protocol::{Check, CheckOutcome, DocumentKind};
use realname_domain::clock::{Clock as _, ManualClock, SeededRandom};
use realname_domain::config::{CheckPolicy, ChecksConfig, Secret, SiteCheck};
use realname_server::checks::{CheckRequest, Checker, nppa};
use realname_server::metrics::Metrics;
use serde_json::json;

use super::answer;
use super::fake::{self, Fake, Reply, Seen};
use crate::harness::*;

on_both_backends!(the_anti_addiction_system_and_the_operators_service_in_the_flow);

const NAME: &str = "张三";
const NUMBER: &str = "11010519491231002X";
const PHONE: &str = "13800138000";

/// The settings for the fakes at `nppa_url` and `webhook_url`.
pub fn own_checks(cfg: &mut ChecksConfig, nppa_url: &str, webhook_url: &str) {
    cfg.nppa.check_url = format!("{nppa_url}check");
    cfg.nppa.query_url = format!("{nppa_url}query");
    cfg.nppa.app_id = fake::NPPA_APP.into();
    cfg.nppa.biz_id = fake::NPPA_BIZ.into();
    cfg.nppa.secret_key = Secret::new(fake::NPPA_KEY);
    cfg.nppa.poll_ms = 10;
    cfg.webhook.url = webhook_url.into();
    cfg.webhook.secret = Secret::new(fake::WEBHOOK_SECRET);
    cfg.retry_backoff_ms = 5;
}

fn checker(n: &Fake, w: &Fake, clock: Arc<ManualClock>, tweak: impl FnOnce(&mut ChecksConfig)) -> Checker {
    let mut cfg = ChecksConfig::default();
    own_checks(&mut cfg, &n.url, &w.url);
    tweak(&mut cfg);
    Checker::new(&cfg, clock, SeededRandom::new(5), Arc::new(Metrics::default()))
}

async fn run(c: &Checker, provider: &str, check: Check) -> CheckOutcome {
    let setting = SiteCheck { check, provider: provider.into(), unavailable: CheckPolicy::Review };
    let req = CheckRequest { check, name: NAME, number: NUMBER, phone: Some(PHONE), kind: DocumentKind::ResidentId };
    c.run(&setting, &req, None).await.outcome
}

/// The anti-addiction system answering `check` with `first`, then each `query` with the next of `then` (the last
/// one repeated).
fn polled(first: Reply, then: Vec<Reply>) -> super::fake::Answer {
    let queries = AtomicUsize::new(0);
    answer(move |seen: &Seen| {
        if seen.action == "check" {
            return first.clone();
        }
        let i = queries.fetch_add(1, Ordering::SeqCst).min(then.len().saturating_sub(1));
        then.get(i).cloned().unwrap_or_else(|| Reply::status(500, ""))
    })
}

fn idle() -> super::fake::Answer {
    answer(|_| Reply::status(599, "not asked"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nppa_every_documented_code_is_its_outcome_and_in_progress_is_polled() {
    let clock = ManualClock::new(T0);
    for (field, code, expected, _) in nppa::CODES {
        let reply = if *field == "status" {
            fake::nppa_status(*code)
        } else {
            Reply::ok(format!(r#"{{"errcode":{code},"errmsg":"x"}}"#))
        };
        // In progress: asked again until final (here: success on the second query).
        let queries = vec![fake::nppa_status(1), fake::nppa_status(0)];
        let n = fake::nppa(clock.clone(), polled(reply, queries)).await;
        let w = fake::webhook(clock.clone(), idle()).await;
        let c = checker(&n, &w, clock.clone(), |_| {});
        let want = expected.unwrap_or(CheckOutcome::Match);
        assert_eq!(run(&c, "nppa", Check::IdMatch).await, want, "{field} {code}");
        n.assert_clean();
        let seen = n.seen.lock().unwrap().clone();
        assert_eq!(seen[0].action, "check");
        assert_eq!((seen[0].fields["name"].as_str(), seen[0].fields["idNum"].as_str()), (NAME, NUMBER));
        if expected.is_none() {
            // Two queries, for the member id the check was sent with.
            assert_eq!(seen.len(), 3, "{seen:?}");
            assert!(seen[1..].iter().all(|q| q.action == "query" && q.fields["ai"] == seen[0].fields["ai"]));
        } else {
            assert_eq!(seen.len(), 1);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nppa_failures_are_unavailable_and_a_5xx_is_retried() {
    let clock = ManualClock::new(T0);
    let w = fake::webhook(clock.clone(), idle()).await;
    // A 502, then the answer: a new check (a new member id).
    let script = Mutex::new(vec![fake::nppa_status(2), Reply::status(502, "")]);
    let n = fake::nppa(clock.clone(), answer(move |_| script.lock().unwrap().pop().unwrap_or(Reply::status(500, ""))))
        .await;
    assert_eq!(run(&checker(&n, &w, clock.clone(), |_| {}), "nppa", Check::IdMatch).await, CheckOutcome::Mismatch);
    let seen = n.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert_ne!(seen[0].fields["ai"], seen[1].fields["ai"]);
    // Garbage, an undocumented status: no answer, not retried.
    for body in ["<html>", r#"{"errcode":0,"data":{"result":{"status":9}}}"#, "{}"] {
        let n = fake::nppa(clock.clone(), answer(move |_| Reply::ok(body))).await;
        assert_eq!(
            run(&checker(&n, &w, clock.clone(), |_| {}), "nppa", Check::IdMatch).await,
            CheckOutcome::Unavailable
        );
        assert_eq!(n.calls(), 1, "{body}");
    }
    // In progress for ever: the timeout ends the polling.
    let n = fake::nppa(clock.clone(), polled(fake::nppa_status(1), vec![fake::nppa_status(1)])).await;
    let c = checker(&n, &w, clock.clone(), |c| c.timeout_ms = 300);
    assert_eq!(run(&c, "nppa", Check::IdMatch).await, CheckOutcome::Unavailable);
    assert!(n.calls() > 2, "polled: {}", n.calls());
    n.assert_clean();
    // A slow answer.
    let n = fake::nppa(clock.clone(), answer(|_| Reply::slow(5_000))).await;
    let c = checker(&n, &w, clock.clone(), |c| c.timeout_ms = 300);
    assert_eq!(run(&c, "nppa", Check::IdMatch).await, CheckOutcome::Unavailable);
    // Another key: the system refuses the signature (1011), which is no answer.
    let n = fake::nppa(clock.clone(), answer(|_| fake::nppa_status(0))).await;
    let c = checker(&n, &w, clock.clone(), |c| c.nppa.secret_key = Secret::new("00112233445566778899aabbccddeeff"));
    assert_eq!(run(&c, "nppa", Check::IdMatch).await, CheckOutcome::Unavailable);
    assert!(n.problems.lock().unwrap()[0].contains("sign"), "{:?}", n.problems.lock().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operators_service_answers_every_outcome_signed_and_nothing_else_counts() {
    let clock = ManualClock::new(T0);
    let n = fake::nppa(clock.clone(), idle()).await;
    let now = clock.now_secs();
    for check in Check::ALL {
        for outcome in ["match", "mismatch", "no_record", "unavailable"] {
            let w = fake::webhook(
                clock.clone(),
                answer(move |s| fake::webhook_answer(s, outcome, fake::WEBHOOK_SECRET, now)),
            )
            .await;
            let c = checker(&n, &w, clock.clone(), |_| {});
            assert_eq!(run(&c, "webhook", check).await.as_str(), outcome, "{check:?}");
            w.assert_clean();
            let seen = w.seen.lock().unwrap()[0].clone();
            assert_eq!((seen.fields["name"].as_str(), seen.fields["number"].as_str()), (NAME, NUMBER));
            assert_eq!(seen.fields["document_kind"], "resident_id");
            assert_eq!(seen.fields.get("phone").map(String::as_str), (check == Check::PhoneOwner).then_some(PHONE));
        }
    }
    let cases: Vec<(&str, super::fake::Answer, usize)> = vec![
        (
            "unsigned",
            answer(|s| Reply::ok(json!({ "request_id": s.fields["request_id"], "outcome": "match" }).to_string())),
            1,
        ),
        ("signed with another secret", answer(move |s| fake::webhook_answer(s, "match", "not-the-secret", now)), 1),
        ("signed long ago", answer(move |s| fake::webhook_answer(s, "match", fake::WEBHOOK_SECRET, now - 3600)), 1),
        (
            "for another request",
            answer(move |s| {
                let mut other = s.clone();
                other.fields.insert("request_id".into(), "chk_other".into());
                fake::webhook_answer(&other, "match", fake::WEBHOOK_SECRET, now)
            }),
            1,
        ),
        ("not_applicable", answer(move |s| fake::webhook_answer(s, "not_applicable", fake::WEBHOOK_SECRET, now)), 1),
        ("a 503 every time", answer(|_| Reply::status(503, "")), 3),
        ("a 400", answer(|_| Reply::status(400, "bad")), 1),
    ];
    for (why, a, calls) in cases {
        let w = fake::webhook(clock.clone(), a).await;
        let c = checker(&n, &w, clock.clone(), |_| {});
        assert_eq!(run(&c, "webhook", Check::IdMatch).await, CheckOutcome::Unavailable, "{why}");
        assert_eq!(w.calls(), calls, "{why}");
    }
    // A request signed with another secret is refused by the service.
    let w = fake::webhook(clock.clone(), answer(move |s| fake::webhook_answer(s, "match", fake::WEBHOOK_SECRET, now)))
        .await;
    let c = checker(&n, &w, clock.clone(), |c| c.webhook.secret = Secret::new("not-the-secret"));
    assert_eq!(run(&c, "webhook", Check::IdMatch).await, CheckOutcome::Unavailable);
    assert_eq!(w.problems.lock().unwrap().len(), 1);
}

async fn the_anti_addiction_system_and_the_operators_service_in_the_flow(b: Backend) {
    let clock = ManualClock::new(T0);
    let now = clock.now_secs();
    // The system: 张三 in progress once, then success; any other name fails.
    let n = fake::nppa(
        clock.clone(),
        answer(|s: &Seen| match (s.action.as_str(), s.fields.get("name").map(String::as_str)) {
            ("check", Some("张三")) => fake::nppa_status(1),
            ("check", _) => fake::nppa_status(2),
            _ => fake::nppa_status(0),
        }),
    )
    .await;
    // The service: phones ending in 1 are the person's, 2 someone else's, anything else it cannot say.
    let w = fake::webhook(
        clock.clone(),
        answer(move |s: &Seen| {
            let outcome = match s.fields["phone"].chars().last() {
                Some('1') => "match",
                Some('2') => "mismatch",
                _ => "unavailable",
            };
            fake::webhook_answer(s, outcome, fake::WEBHOOK_SECRET, now)
        }),
    )
    .await;
    let h = Harness::with(b, |c| {
        own_checks(&mut c.checks, &n.url, &w.url);
        c.sites[0].checks = vec![
            SiteCheck { check: Check::IdMatch, provider: "nppa".into(), unavailable: CheckPolicy::Refuse },
            SiteCheck { check: Check::PhoneOwner, provider: "webhook".into(), unavailable: CheckPolicy::Review },
        ];
    })
    .await;
    let identity = |name: &str, phone: &str| {
        let mut v = identity_sms(phone, h.clock.now_secs());
        v["name"] = json!(name);
        v["number"] = json!(NUMBER);
        v
    };
    let s = h.create_session().await;
    let r = h.submit_identity(&s, &identity("张三丰", "13900000011")).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "identity_mismatch"), "{}", r.json);
    let r = h.submit_identity(&s, &identity("张三", "13900000012")).await;
    assert_eq!((r.status, r.code()), (StatusCode::UNPROCESSABLE_ENTITY, "phone_mismatch"), "{}", r.json);
    let r = h.submit_identity(&s, &identity("张三", "13900000021")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(h.submit_code(&s, &h.last_code()).await.json["status"], "verified");
    // The service without an answer (policy review): a reviewer decides.
    let t = h.create_session().await;
    assert_eq!(h.submit_identity(&t, &identity("张三", "13900000033")).await.status, StatusCode::OK);
    assert_eq!(h.submit_code(&t, &h.last_code()).await.json["status"], "pending_review");
    let v = h.site_view(&t.session_id).await;
    let outcomes: Vec<String> = v.json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("{}:{}", c["provider"], c["outcome"]).replace('"', ""))
        .collect();
    assert_eq!(outcomes, ["nppa:match", "webhook:unavailable"]);
    n.assert_clean();
    w.assert_clean();
}
