//! The `tencent` and `aliyun` check providers against fake vendor endpoints that check each request as the
//! vendor documents it (`fake.rs`): every documented result code, 5xx (retried), garbage, error answers, slow
//! answers (the timeout) and a wrong secret (the fake refuses the signature). `flows.rs`: the providers in the
//! identity step on SQLite and PostgreSQL.

use std::sync::Arc;

use realname_core::protocol::{Check, CheckOutcome, DocumentKind};
use realname_domain::clock::{ManualClock, SeededRandom};
use realname_domain::config::{CheckPolicy, ChecksConfig, Secret, SiteCheck};
use realname_server::checks::{CheckRequest, Checker, aliyun, tencent};
use realname_server::metrics::{Gauges, Metrics};

use crate::harness::T0;
use fake::{Answer, Fake, Reply};

pub mod fake;
mod flows;
mod own;

/// Name, number and phone sent in these tests.
const NAME: &str = "张三";
const NUMBER: &str = "11010519491231002X";
const PHONE: &str = "13800138000";

/// The checks' settings for the fakes at `tencent_url` and `aliyun_url`, with `timeout_ms`.
pub fn vendor_checks(cfg: &mut ChecksConfig, tencent_url: &str, aliyun_url: &str) {
    cfg.tencent.endpoint = tencent_url.into();
    cfg.tencent.secret_id = fake::TENCENT_ID.into();
    cfg.tencent.secret_key = Secret::new(fake::TENCENT_KEY);
    cfg.aliyun.endpoint = aliyun_url.into();
    cfg.aliyun.access_key_id = fake::ALIYUN_ID.into();
    cfg.aliyun.access_key_secret = Secret::new(fake::ALIYUN_SECRET);
}

pub fn answer(f: impl Fn(&fake::Seen) -> Reply + Send + Sync + 'static) -> Answer {
    Arc::new(f)
}

/// A checker for both fakes (retries without waiting long), its clock and metrics.
fn checker(
    t: &Fake,
    a: &Fake,
    clock: Arc<ManualClock>,
    tweak: impl FnOnce(&mut ChecksConfig),
) -> (Checker, Arc<Metrics>) {
    let mut cfg = ChecksConfig { retry_backoff_ms: 5, ..ChecksConfig::default() };
    vendor_checks(&mut cfg, &t.url, &a.url);
    tweak(&mut cfg);
    let metrics = Arc::new(Metrics::default());
    (Checker::new(&cfg, clock, SeededRandom::new(9), metrics.clone()), metrics)
}

async fn run(c: &Checker, provider: &str, check: Check) -> CheckOutcome {
    let setting = SiteCheck { check, provider: provider.into(), unavailable: CheckPolicy::Review };
    let req = CheckRequest { check, name: NAME, number: NUMBER, phone: Some(PHONE), kind: DocumentKind::ResidentId };
    c.run(&setting, &req, None).await.outcome
}

/// Both fakes answering `t` and `a` to everything.
async fn fakes(clock: &Arc<ManualClock>, t: Answer, a: Answer) -> (Fake, Fake) {
    (fake::tencent(clock.clone(), t).await, fake::aliyun(clock.clone(), a).await)
}

fn scripted(replies: Vec<Reply>) -> Answer {
    let replies = std::sync::Mutex::new(std::collections::VecDeque::from(replies));
    answer(move |_| replies.lock().unwrap().pop_front().unwrap_or_else(|| Reply::status(599, "script ended")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tencent_every_documented_result_code_is_its_outcome() {
    let clock = ManualClock::new(T0);
    for (check, code, expected, _) in tencent::RESULTS {
        let code = code.to_string();
        let (t, a) = fakes(&clock, answer(move |_| fake::tencent_result(&code)), scripted(vec![])).await;
        let (c, _) = checker(&t, &a, clock.clone(), |_| {});
        assert_eq!(run(&c, "tencent", *check).await, *expected, "{check:?} {:?}", tencent::RESULTS);
        t.assert_clean();
        // Only what the action needs reached the vendor.
        let seen = t.seen.lock().unwrap()[0].clone();
        let mut want = vec![("IdCard", NUMBER), ("Name", NAME)];
        if *check == Check::PhoneOwner {
            want.push(("Phone", PHONE));
        }
        let want = want.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        assert_eq!((seen.action.as_str(), seen.fields), (tencent::action(*check), want));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aliyun_every_documented_code_is_its_outcome() {
    let clock = ManualClock::new(T0);
    for check in Check::ALL {
        for (field, code, expected, _) in aliyun::CODES {
            let code = code.to_string();
            let reply = if *field == "BizCode" { fake::aliyun_biz(&code) } else { fake::aliyun_code(&code) };
            let (t, a) = fakes(&clock, scripted(vec![]), answer(move |_| reply.clone())).await;
            let (c, _) = checker(&t, &a, clock.clone(), |_| {});
            assert_eq!(run(&c, "aliyun", check).await, *expected, "{check:?} {field} {code}");
            a.assert_clean();
            let seen = a.seen.lock().unwrap()[0].clone();
            let mut want = vec![("IdentifyNum", NUMBER), ("ParamType", "normal"), ("UserName", NAME)];
            if check == Check::PhoneOwner {
                want.push(("Mobile", PHONE));
            }
            let want = want.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
            assert_eq!((seen.action.as_str(), seen.fields), (aliyun::action(check), want));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5xx_is_retried_and_garbage_errors_and_slow_answers_are_unavailable() {
    let clock = ManualClock::new(T0);
    for provider in ["tencent", "aliyun"] {
        let ok = if provider == "tencent" { fake::tencent_result("0") } else { fake::aliyun_biz("1") };
        let cases: Vec<(Vec<Reply>, CheckOutcome, usize)> = vec![
            // One 502, then the answer: retried.
            (vec![Reply::status(502, "<html>bad gateway</html>"), ok.clone()], CheckOutcome::Match, 2),
            // 5xx every time: the retries (2) are spent.
            ((0..3).map(|_| Reply::status(503, "")).collect(), CheckOutcome::Unavailable, 3),
            // Garbage and empty answers are not retried.
            (vec![Reply::ok("<xml>not json</xml>")], CheckOutcome::Unavailable, 1),
            (vec![Reply::ok("{}")], CheckOutcome::Unavailable, 1),
            (vec![Reply::status(404, "not found")], CheckOutcome::Unavailable, 1),
        ];
        for (replies, expected, calls) in cases {
            let script = scripted(replies.clone());
            let (t, a) = if provider == "tencent" {
                fakes(&clock, script, scripted(vec![])).await
            } else {
                fakes(&clock, scripted(vec![]), script).await
            };
            let (c, _) = checker(&t, &a, clock.clone(), |_| {});
            assert_eq!(run(&c, provider, Check::IdMatch).await, expected, "{provider} {replies:?}");
            let f = if provider == "tencent" { &t } else { &a };
            assert_eq!(f.calls(), calls, "{provider} {replies:?}");
            f.assert_clean();
        }
        // An answer slower than the timeout.
        let (t, a) = fakes(&clock, answer(|_| Reply::slow(5_000)), answer(|_| Reply::slow(5_000))).await;
        let (c, metrics) = checker(&t, &a, clock.clone(), |c| c.timeout_ms = 300);
        assert_eq!(run(&c, provider, Check::IdMatch).await, CheckOutcome::Unavailable);
        let text = metrics.render(&Gauges::default());
        let line =
            format!("realname_checks_total{{check=\"id_match\",provider=\"{provider}\",outcome=\"unavailable\"}} 1");
        assert!(text.contains(&line), "{text}");
        assert!(text.contains(&format!("realname_check_latency_seconds_count{{provider=\"{provider}\"}} 1")), "{text}");
    }
    // The vendor's error answer (here to a request the fake refuses) is not retried either.
    let (t, a) = fakes(&clock, answer(|_| fake::tencent_result("0")), answer(|_| fake::aliyun_biz("1"))).await;
    let (c, _) = checker(&t, &a, clock.clone(), |c| {
        c.tencent.secret_key = Secret::new("not-the-key");
        c.aliyun.access_key_secret = Secret::new("not-the-secret");
    });
    assert_eq!(run(&c, "tencent", Check::IdMatch).await, CheckOutcome::Unavailable);
    assert_eq!(run(&c, "aliyun", Check::PhoneOwner).await, CheckOutcome::Unavailable);
    for f in [&t, &a] {
        assert_eq!(f.calls(), 1);
        let problems = f.problems.lock().unwrap();
        assert!(problems.len() == 1 && problems[0].contains("ignature"), "{problems:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_vendor_opens_its_breaker_and_the_other_goes_on() {
    let clock = ManualClock::new(T0);
    let (t, a) = fakes(&clock, answer(|_| Reply::status(500, "")), answer(|_| fake::aliyun_biz("1"))).await;
    let (c, metrics) = checker(&t, &a, clock.clone(), |c| {
        c.retries = 0;
        c.breaker_failures = 3;
    });
    for _ in 0..3 {
        assert_eq!(run(&c, "tencent", Check::IdMatch).await, CheckOutcome::Unavailable);
    }
    assert_eq!(t.calls(), 3);
    // Open: no more calls to tencent; aliyun is not affected.
    assert_eq!(run(&c, "tencent", Check::IdMatch).await, CheckOutcome::Unavailable);
    assert_eq!(t.calls(), 3);
    assert_eq!(run(&c, "aliyun", Check::IdMatch).await, CheckOutcome::Match);
    // After the open time one call tries again.
    clock.advance_ms(30_000);
    assert_eq!(run(&c, "tencent", Check::IdMatch).await, CheckOutcome::Unavailable);
    assert_eq!(t.calls(), 4);
    let text = metrics.render(&Gauges::default());
    assert!(text.contains("realname_check_events_total{provider=\"tencent\",event=\"short_circuited\"} 1"), "{text}");
}
