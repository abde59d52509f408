//! The [`Checker`]'s call policy with scripted providers: the timeout, applicability, retries with jitter (paused
//! tokio time: the waits pass without waiting), the breaker (the injected clock moves), the cache and the
//! counters.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};

use super::*;
use realname_domain::clock::{ManualClock, SeededRandom};
use realname_domain::config::CheckPolicy;

/// Never answers.
struct Silent;

#[async_trait]
impl CheckProvider for Silent {
    fn name(&self) -> &'static str {
        "silent"
    }
    async fn check(&self, _: &CheckRequest<'_>) -> Result<CheckOutcome, CallError> {
        std::future::pending().await
    }
}

/// Answers from a script, then `Match`; counts its calls.
#[derive(Default)]
struct Scripted {
    script: Mutex<VecDeque<Result<CheckOutcome, CallError>>>,
    calls: AtomicU32,
    not_idempotent: bool,
}

impl Scripted {
    fn new(script: Vec<Result<CheckOutcome, CallError>>) -> Arc<Self> {
        Arc::new(Self { script: Mutex::new(script.into()), ..Self::default() })
    }
    fn calls(&self) -> u32 {
        self.calls.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl CheckProvider for Scripted {
    fn name(&self) -> &'static str {
        "scripted"
    }
    fn idempotent(&self) -> bool {
        !self.not_idempotent
    }
    async fn check(&self, _: &CheckRequest<'_>) -> Result<CheckOutcome, CallError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let next = self.script.lock().unwrap_or_else(|e| e.into_inner()).pop_front();
        next.unwrap_or(Ok(CheckOutcome::Match))
    }
}

fn transit() -> Result<CheckOutcome, CallError> {
    Err(CallError::Transit("HTTP 502".into()))
}

fn setting(provider: &str) -> SiteCheck {
    SiteCheck { check: Check::IdMatch, provider: provider.into(), unavailable: CheckPolicy::Review }
}

fn req(check: Check, kind: DocumentKind, phone: Option<&'static str>) -> CheckRequest<'static> {
    CheckRequest { check, name: "张三", number: "11010519491231002X", phone, kind }
}

fn resident() -> CheckRequest<'static> {
    req(Check::IdMatch, DocumentKind::ResidentId, None)
}

fn checker(p: Vec<Arc<dyn CheckProvider>>, cfg: &ChecksConfig, clock: Arc<ManualClock>) -> (Checker, Arc<Metrics>) {
    let metrics = Arc::new(Metrics::default());
    (Checker::with_providers(p, cfg, clock, SeededRandom::new(1), metrics.clone()), metrics)
}

// Paused tokio time: the 3 s timeout passes without waiting.
#[tokio::test(start_paused = true)]
async fn a_provider_without_an_answer_is_unavailable_after_the_timeout() {
    let (checker, _) = checker(vec![Arc::new(Silent)], &ChecksConfig::default(), ManualClock::new(1_000));
    let before = tokio::time::Instant::now();
    let r = checker.run(&setting("silent"), &resident(), None).await;
    assert_eq!(r.outcome, CheckOutcome::Unavailable);
    assert_eq!(r.provider, "silent");
    assert_eq!(tokio::time::Instant::now() - before, Duration::from_secs(3));
}

#[tokio::test]
async fn what_a_check_does_not_cover_is_not_applicable_without_a_call() {
    let p = Scripted::new(vec![]);
    let (checker, metrics) = checker(vec![p.clone()], &ChecksConfig::default(), ManualClock::new(1_000));
    let passport = req(Check::IdMatch, DocumentKind::Passport, None);
    let r = checker.run(&setting("scripted"), &passport, None).await;
    assert_eq!((r.outcome, r.at, r.latency_ms), (CheckOutcome::NotApplicable, 1_000, 0));
    // phone_owner without a phone (an email or documents identity).
    let no_phone = req(Check::PhoneOwner, DocumentKind::ResidentId, None);
    let phone_owner = SiteCheck { check: Check::PhoneOwner, ..setting("scripted") };
    assert_eq!(checker.run(&phone_owner, &no_phone, None).await.outcome, CheckOutcome::NotApplicable);
    assert_eq!(p.calls(), 0);
    let with_phone = req(Check::PhoneOwner, DocumentKind::ResidentId, Some("13800138000"));
    assert_eq!(checker.run(&phone_owner, &with_phone, None).await.outcome, CheckOutcome::Match);
    assert_eq!(checker.run(&setting("nowhere"), &resident(), None).await.outcome, CheckOutcome::Unavailable);
    let text = metrics.render(&crate::metrics::Gauges::default());
    assert!(
        text.contains("realname_checks_total{check=\"id_match\",provider=\"scripted\",outcome=\"not_applicable\"} 1")
    );
    assert!(text.contains("realname_checks_total{check=\"phone_owner\",provider=\"scripted\",outcome=\"match\"} 1"));
}

#[tokio::test(start_paused = true)]
async fn failures_in_transit_are_retried_a_bounded_number_of_times_with_jitter() {
    let cfg = ChecksConfig { retries: 2, retry_backoff_ms: 100, ..ChecksConfig::default() };
    // Two failures, then an answer: three calls, and the waits stay below 100 + 200 ms.
    let p = Scripted::new(vec![transit(), transit(), Ok(CheckOutcome::Mismatch)]);
    let (c, metrics) = checker(vec![p.clone()], &cfg, ManualClock::new(0));
    let before = tokio::time::Instant::now();
    assert_eq!(c.run(&setting("scripted"), &resident(), None).await.outcome, CheckOutcome::Mismatch);
    assert_eq!(p.calls(), 3);
    assert!(tokio::time::Instant::now() - before < Duration::from_millis(300));
    let text = metrics.render(&crate::metrics::Gauges::default());
    assert!(text.contains("realname_check_events_total{provider=\"scripted\",event=\"retry\"} 2"), "{text}");
    // Three failures: the retries are spent.
    let p = Scripted::new(vec![transit(), transit(), transit()]);
    let (c, _) = checker(vec![p.clone()], &cfg, ManualClock::new(0));
    assert_eq!(c.run(&setting("scripted"), &resident(), None).await.outcome, CheckOutcome::Unavailable);
    assert_eq!(p.calls(), 3);
    // An error answer is not tried again, nor is a call that is not idempotent.
    let p = Scripted::new(vec![Err(CallError::Answer("error InternalError".into()))]);
    let (c, _) = checker(vec![p.clone()], &cfg, ManualClock::new(0));
    assert_eq!(c.run(&setting("scripted"), &resident(), None).await.outcome, CheckOutcome::Unavailable);
    assert_eq!(p.calls(), 1);
    let p = Arc::new(Scripted { not_idempotent: true, ..Scripted::default() });
    p.script.lock().unwrap_or_else(|e| e.into_inner()).push_back(transit());
    let (c, _) = checker(vec![p.clone()], &cfg, ManualClock::new(0));
    assert_eq!(c.run(&setting("scripted"), &resident(), None).await.outcome, CheckOutcome::Unavailable);
    assert_eq!(p.calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn retries_stay_within_the_timeout() {
    let cfg = ChecksConfig { timeout_ms: 250, retries: 10, retry_backoff_ms: 1_000, ..ChecksConfig::default() };
    let p = Scripted::new((0..11).map(|_| transit()).collect());
    let (c, _) = checker(vec![p.clone()], &cfg, ManualClock::new(0));
    let before = tokio::time::Instant::now();
    assert_eq!(c.run(&setting("scripted"), &resident(), None).await.outcome, CheckOutcome::Unavailable);
    assert!(tokio::time::Instant::now() - before <= Duration::from_millis(250));
    assert!(p.calls() < 11);
}

#[tokio::test]
async fn the_breaker_opens_after_failures_and_a_call_tries_again_after_the_open_time() {
    let cfg = ChecksConfig { retries: 0, breaker_failures: 2, breaker_open_ms: 30_000, ..ChecksConfig::default() };
    let clock = ManualClock::new(0);
    let p = Scripted::new(vec![transit(), transit(), transit()]);
    let (c, metrics) = checker(vec![p.clone()], &cfg, clock.clone());
    for _ in 0..2 {
        assert_eq!(c.run(&setting("scripted"), &resident(), None).await.outcome, CheckOutcome::Unavailable);
    }
    assert_eq!(p.calls(), 2);
    // Open: no call, at once.
    clock.advance_ms(29_999);
    assert_eq!(c.run(&setting("scripted"), &resident(), None).await.outcome, CheckOutcome::Unavailable);
    assert_eq!(p.calls(), 2);
    // Half open: one call, which fails: open again.
    clock.advance_ms(1);
    assert_eq!(c.run(&setting("scripted"), &resident(), None).await.outcome, CheckOutcome::Unavailable);
    assert_eq!(p.calls(), 3);
    assert_eq!(c.run(&setting("scripted"), &resident(), None).await.outcome, CheckOutcome::Unavailable);
    assert_eq!(p.calls(), 3);
    // The next trial answers: closed, calls go out again.
    clock.advance_ms(30_000);
    assert_eq!(c.run(&setting("scripted"), &resident(), None).await.outcome, CheckOutcome::Match);
    assert_eq!(c.run(&setting("scripted"), &resident(), None).await.outcome, CheckOutcome::Match);
    assert_eq!(p.calls(), 5);
    let text = metrics.render(&crate::metrics::Gauges::default());
    assert!(text.contains("realname_check_events_total{provider=\"scripted\",event=\"breaker_opened\"} 1"), "{text}");
    assert!(text.contains("realname_check_events_total{provider=\"scripted\",event=\"short_circuited\"} 2"), "{text}");
}

#[tokio::test]
async fn the_cache_reuses_answers_for_the_same_key_only_while_fresh() {
    let clock = ManualClock::new(0);
    let p = Scripted::new(vec![Ok(CheckOutcome::Mismatch), transit(), Ok(CheckOutcome::NoRecord)]);
    let cfg = ChecksConfig { retries: 0, cache_ttl_secs: 60, ..ChecksConfig::default() };
    let (c, metrics) = checker(vec![p.clone()], &cfg, clock.clone());
    assert!(c.caches());
    let s = setting("scripted");
    assert_eq!(c.run(&s, &resident(), Some(b"k1")).await.outcome, CheckOutcome::Mismatch);
    assert_eq!(c.run(&s, &resident(), Some(b"k1")).await.outcome, CheckOutcome::Mismatch);
    assert_eq!(p.calls(), 1);
    // Another key is asked; no answer is not kept.
    assert_eq!(c.run(&s, &resident(), Some(b"k2")).await.outcome, CheckOutcome::Unavailable);
    assert_eq!(c.run(&s, &resident(), Some(b"k2")).await.outcome, CheckOutcome::NoRecord);
    assert_eq!(p.calls(), 3);
    // Expired: asked again.
    clock.advance_secs(60);
    assert_eq!(c.run(&s, &resident(), Some(b"k1")).await.outcome, CheckOutcome::Match);
    assert_eq!(p.calls(), 4);
    let text = metrics.render(&crate::metrics::Gauges::default());
    assert!(text.contains("realname_check_events_total{provider=\"scripted\",event=\"cache_hit\"} 1"), "{text}");
    // Off by default.
    let (c, _) = checker(vec![p.clone()], &ChecksConfig::default(), clock);
    assert!(!c.caches());
}

#[test]
fn a_request_does_not_debug_print_its_fields() {
    let text = format!("{:?}", req(Check::PhoneOwner, DocumentKind::ResidentId, Some("13800138000")));
    assert!(!text.contains("张三") && !text.contains("1101") && !text.contains("1380"), "{text}");
}
