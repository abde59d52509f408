//! Authoritative checks (issue 17): the [`CheckProvider`] trait every provider implements, and the [`Checker`]
//! that runs one call under the timeout and records its outcome, provider, time and latency (never what was
//! checked). Providers: `demo` (deterministic fixtures, docs/checks.md). Where to add one: ARCHITECTURE.md.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use realname_core::protocol::{Check, CheckOutcome, DocumentKind};
use realname_domain::checks::CheckRecord;
use realname_domain::clock::Clock;
use realname_domain::config::{ChecksConfig, SiteCheck};

pub mod demo;

/// What a provider is asked: the check and the fields it needs (only those leave the server).
#[derive(Clone, Copy)]
pub struct CheckRequest<'a> {
    /// The check.
    pub check: Check,
    /// The normalized full name.
    pub name: &'a str,
    /// The normalized document number.
    pub number: &'a str,
    /// The document kind (a provider is only asked where [`Check::applies_to`] it).
    pub kind: DocumentKind,
}

impl std::fmt::Debug for CheckRequest<'_> {
    /// The check only: a request is personal data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckRequest").field("check", &self.check).finish_non_exhaustive()
    }
}

/// An authoritative source answering checks. An implementation maps every answer it can get to an outcome:
/// errors, 5xx and answers it cannot read are [`CheckOutcome::Unavailable`]; the [`Checker`] adds the timeout.
#[async_trait]
pub trait CheckProvider: Send + Sync {
    /// The provider's configured name (`demo`, …), as recorded with each outcome.
    fn name(&self) -> &'static str;
    /// Answers one check. Never [`CheckOutcome::NotApplicable`]: the flow decides that before asking.
    async fn check(&self, req: &CheckRequest<'_>) -> CheckOutcome;
}

/// Runs checks with the configured providers under the timeout.
#[derive(Clone)]
pub struct Checker {
    providers: Vec<Arc<dyn CheckProvider>>,
    timeout: Duration,
    clock: Arc<dyn Clock>,
}

impl Checker {
    /// Every provider this server implements (the names in `realname_domain::config::CHECK_PROVIDERS`).
    pub fn new(cfg: &ChecksConfig, clock: Arc<dyn Clock>) -> Self {
        Self::with_providers(vec![Arc::new(demo::Demo)], cfg, clock)
    }

    /// A checker with the given providers (tests add their own).
    pub fn with_providers(providers: Vec<Arc<dyn CheckProvider>>, cfg: &ChecksConfig, clock: Arc<dyn Clock>) -> Self {
        Self { providers, timeout: Duration::from_millis(cfg.timeout_ms), clock }
    }

    /// Runs `setting`'s check on `req`: the provider's answer, or `unavailable` past the timeout (or for a
    /// provider this server lacks, which configuration validation prevents), or `not_applicable` without a call
    /// for a document the check does not cover.
    pub async fn run(&self, setting: &SiteCheck, req: &CheckRequest<'_>) -> CheckRecord {
        let start = self.clock.now_ms();
        let record = |outcome, at: i64| CheckRecord {
            check: setting.check,
            outcome,
            provider: setting.provider.clone(),
            at,
            latency_ms: (at - start).max(0),
        };
        if !setting.check.applies_to(req.kind) {
            return record(CheckOutcome::NotApplicable, start);
        }
        let provider = self.providers.iter().find(|p| p.name() == setting.provider);
        let outcome = match provider {
            Some(p) => match tokio::time::timeout(self.timeout, p.check(req)).await {
                // A provider that claims `not_applicable` for a document it was asked about gave no answer.
                Ok(CheckOutcome::NotApplicable) | Err(_) => CheckOutcome::Unavailable,
                Ok(outcome) => outcome,
            },
            None => CheckOutcome::Unavailable,
        };
        let r = record(outcome, self.clock.now_ms());
        tracing::info!(
            check = r.check.as_str(),
            provider = %r.provider,
            outcome = r.outcome.as_str(),
            latency_ms = r.latency_ms,
            "identity check"
        );
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use realname_domain::clock::ManualClock;
    use realname_domain::config::CheckPolicy;

    /// Never answers.
    struct Silent;

    #[async_trait]
    impl CheckProvider for Silent {
        fn name(&self) -> &'static str {
            "silent"
        }
        async fn check(&self, _: &CheckRequest<'_>) -> CheckOutcome {
            std::future::pending().await
        }
    }

    fn setting(provider: &str) -> SiteCheck {
        SiteCheck { check: Check::IdMatch, provider: provider.into(), unavailable: CheckPolicy::Review }
    }

    fn req(kind: DocumentKind) -> CheckRequest<'static> {
        CheckRequest { check: Check::IdMatch, name: "张三", number: "11010519491231002X", kind }
    }

    // Paused tokio time: the 3 s timeout passes without waiting.
    #[tokio::test(start_paused = true)]
    async fn a_provider_without_an_answer_is_unavailable_after_the_timeout() {
        let clock = ManualClock::new(1_000);
        let checker = Checker::with_providers(vec![Arc::new(Silent)], &ChecksConfig::default(), clock);
        let before = tokio::time::Instant::now();
        let r = checker.run(&setting("silent"), &req(DocumentKind::ResidentId)).await;
        assert_eq!(r.outcome, CheckOutcome::Unavailable);
        assert_eq!(r.provider, "silent");
        assert_eq!(tokio::time::Instant::now() - before, Duration::from_secs(3));
    }

    #[tokio::test]
    async fn a_document_the_check_does_not_cover_is_not_applicable_without_a_call() {
        let clock = ManualClock::new(1_000);
        let checker = Checker::with_providers(vec![Arc::new(Silent)], &ChecksConfig::default(), clock);
        let r = checker.run(&setting("silent"), &req(DocumentKind::Passport)).await;
        assert_eq!((r.outcome, r.at, r.latency_ms), (CheckOutcome::NotApplicable, 1_000, 0));
        let r = checker.run(&setting("nowhere"), &req(DocumentKind::ResidentId)).await;
        assert_eq!(r.outcome, CheckOutcome::Unavailable);
    }

    #[test]
    fn a_request_does_not_debug_print_its_fields() {
        let text = format!("{:?}", req(DocumentKind::ResidentId));
        assert!(!text.contains("张三") && !text.contains("1101"), "{text}");
    }
}
