//! Authoritative checks (issue 17): the [`CheckProvider`] trait every provider implements, and the [`Checker`]
//! that runs one check: the optional result cache, the provider's circuit breaker, bounded retries with jitter
//! for calls that failed in transit, all under the timeout; it records the outcome, provider, time and latency
//! (never what was checked) and counts them in `/metrics`. Providers: `demo` (deterministic fixtures), `tencent`
//! (FaceID), `aliyun` (Cloudauth), `nppa` (the anti-addiction system), `webhook` (the operator's own service);
//! docs/checks.md. Where to add one: ARCHITECTURE.md.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use realname_core::protocol::{Check, CheckOutcome, DocumentKind};
use realname_domain::checks::CheckRecord;
use realname_domain::clock::{Clock, Random};
use realname_domain::config::{ChecksConfig, SiteCheck};

use crate::delivery::http::HttpClient;
use crate::metrics::Metrics;

pub mod aliyun;
pub mod breaker;
pub mod cache;
pub mod demo;
pub mod nppa;
pub mod tencent;
pub mod webhook;

use breaker::Breaker;
use cache::Cache;

/// What a provider is asked: the check and the fields it needs (only those leave the server).
#[derive(Clone, Copy)]
pub struct CheckRequest<'a> {
    /// The check.
    pub check: Check,
    /// The normalized full name.
    pub name: &'a str,
    /// The normalized document number.
    pub number: &'a str,
    /// The normalized phone number (11 digits) of an SMS identity; sent for `phone_owner` only.
    pub phone: Option<&'a str>,
    /// The document kind (a provider is only asked where [`Check::applies_to`] it).
    pub kind: DocumentKind,
}

impl CheckRequest<'_> {
    /// Whether a provider can be asked: the check covers the document, and `phone_owner` has a phone.
    pub fn applicable(&self) -> bool {
        self.check.applies_to(self.kind) && (self.check != Check::PhoneOwner || self.phone.is_some())
    }
}

impl std::fmt::Debug for CheckRequest<'_> {
    /// The check only: a request is personal data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckRequest").field("check", &self.check).finish_non_exhaustive()
    }
}

/// Why a call gave no answer. The text names the failure (a status, a vendor's error code), never what was
/// checked: it is logged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The call failed in transit (connection, timeout, HTTP 5xx): an idempotent call is tried again.
    #[error("transit: {0}")]
    Transit(String),
    /// The provider answered with an error or something unreadable: not tried again.
    #[error("answer: {0}")]
    Answer(String),
}

/// An authoritative source answering checks. An implementation maps every answer it can get to an outcome or a
/// [`CallError`] (which the [`Checker`] turns into `unavailable`); the [`Checker`] adds the timeout, retries and
/// breaker.
#[async_trait]
pub trait CheckProvider: Send + Sync {
    /// The provider's configured name (`demo`, …), as recorded with each outcome.
    fn name(&self) -> &'static str;
    /// Whether a call may be repeated after it failed in transit (a query is; a call with effects is not).
    fn idempotent(&self) -> bool {
        true
    }
    /// Answers one check. Never [`CheckOutcome::NotApplicable`]: the flow decides that before asking.
    async fn check(&self, req: &CheckRequest<'_>) -> Result<CheckOutcome, CallError>;
}

/// The call policy the [`Checker`] applies to every provider.
#[derive(Debug, Clone, Copy)]
struct Policy {
    timeout: Duration,
    retries: u32,
    backoff_ms: u64,
}

/// Runs checks with the configured providers.
#[derive(Clone)]
pub struct Checker {
    providers: Vec<Arc<dyn CheckProvider>>,
    policy: Policy,
    breakers: Arc<Mutex<HashMap<&'static str, Breaker>>>,
    breaker: Breaker,
    cache: Option<Arc<Cache>>,
    clock: Arc<dyn Clock>,
    random: Arc<dyn Random>,
    metrics: Arc<Metrics>,
}

impl Checker {
    /// Every provider this server implements whose settings are complete (the names in
    /// `realname_domain::config::CHECK_PROVIDERS`; configuration validation refuses a site using one that is not).
    pub fn new(cfg: &ChecksConfig, clock: Arc<dyn Clock>, random: Arc<dyn Random>, metrics: Arc<Metrics>) -> Self {
        let http = HttpClient::new(Duration::from_millis(cfg.timeout_ms.max(1)));
        let mut providers: Vec<Arc<dyn CheckProvider>> = vec![Arc::new(demo::Demo)];
        if cfg.configured("tencent") {
            providers.push(Arc::new(tencent::Tencent::new(cfg.tencent.clone(), http.clone(), clock.clone())));
        }
        if cfg.configured("aliyun") {
            let a = aliyun::Aliyun::new(cfg.aliyun.clone(), http.clone(), clock.clone(), random.clone());
            providers.push(Arc::new(a));
        }
        if cfg.configured("nppa") {
            providers.push(Arc::new(nppa::Nppa::new(cfg.nppa.clone(), http.clone(), clock.clone(), random.clone())));
        }
        if cfg.configured("webhook") {
            let w = webhook::Webhook::new(cfg.webhook.clone(), http, clock.clone(), random.clone());
            providers.push(Arc::new(w));
        }
        Self::with_providers(providers, cfg, clock, random, metrics)
    }

    /// A checker with the given providers (tests add their own).
    pub fn with_providers(
        providers: Vec<Arc<dyn CheckProvider>>,
        cfg: &ChecksConfig,
        clock: Arc<dyn Clock>,
        random: Arc<dyn Random>,
        metrics: Arc<Metrics>,
    ) -> Self {
        let policy = Policy {
            timeout: Duration::from_millis(cfg.timeout_ms),
            retries: cfg.retries,
            backoff_ms: cfg.retry_backoff_ms,
        };
        let ttl_ms = i64::try_from(cfg.cache_ttl_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        let cache = (cfg.cache_ttl_secs > 0).then(|| Arc::new(Cache::new(ttl_ms, cfg.cache_entries)));
        let open_ms = i64::try_from(cfg.breaker_open_ms).unwrap_or(i64::MAX);
        Self {
            providers,
            policy,
            breakers: Arc::default(),
            breaker: Breaker::new(cfg.breaker_failures, open_ms),
            cache,
            clock,
            random,
            metrics,
        }
    }

    /// Whether answers are cached: the caller then passes a cache key to [`Checker::run`].
    pub fn caches(&self) -> bool {
        self.cache.is_some()
    }

    /// Runs `setting`'s check on `req`: the provider's answer (or the cached one for `key`, the identity's keyed
    /// hashes), or `unavailable` past the timeout, after failures, while the provider's breaker is open (or for a
    /// provider this server lacks, which configuration validation prevents), or `not_applicable` without a call
    /// where the check does not apply.
    pub async fn run(&self, setting: &SiteCheck, req: &CheckRequest<'_>, key: Option<&[u8]>) -> CheckRecord {
        let start = self.clock.now_ms();
        let record = |outcome, at: i64| CheckRecord {
            check: setting.check,
            outcome,
            provider: setting.provider.clone(),
            at,
            latency_ms: (at - start).max(0),
        };
        let r = match self.providers.iter().find(|p| p.name() == setting.provider) {
            _ if !req.applicable() => record(CheckOutcome::NotApplicable, start),
            None => record(CheckOutcome::Unavailable, start),
            Some(p) => record(self.ask(p.as_ref(), req, key, start).await, self.clock.now_ms()),
        };
        self.metrics.check_done(r.check.as_str(), &r.provider, r.outcome.as_str());
        tracing::info!(
            check = r.check.as_str(),
            provider = %r.provider,
            outcome = r.outcome.as_str(),
            latency_ms = r.latency_ms,
            "identity check"
        );
        r
    }

    /// The cache, the breaker, then the call with its retries under the timeout.
    async fn ask(&self, p: &dyn CheckProvider, req: &CheckRequest<'_>, key: Option<&[u8]>, now: i64) -> CheckOutcome {
        let name = p.name();
        let cached = self.cache.as_ref().zip(key);
        if let Some(outcome) = cached.and_then(|(c, k)| c.get(req.check, name, k, now)) {
            self.metrics.check_event(name, "cache_hit");
            return outcome;
        }
        if !self.breakers().entry(name).or_insert_with(|| self.breaker.clone()).admit(now) {
            self.metrics.check_event(name, "short_circuited");
            return CheckOutcome::Unavailable;
        }
        let started = tokio::time::Instant::now();
        let outcome = match tokio::time::timeout(self.policy.timeout, self.attempts(p, req)).await {
            Ok(outcome) => outcome,
            Err(_) => {
                tracing::warn!(provider = name, "identity check timed out");
                CheckOutcome::Unavailable
            }
        };
        self.metrics.check_latency(name, started.elapsed().as_secs_f64());
        let failed = outcome == CheckOutcome::Unavailable;
        if self.breakers().entry(name).or_insert_with(|| self.breaker.clone()).record(failed, self.clock.now_ms()) {
            tracing::warn!(provider = name, "circuit breaker opened");
            self.metrics.check_event(name, "breaker_opened");
        }
        if let Some((c, k)) = cached {
            c.put(req.check, name, k, outcome, self.clock.now_ms());
        }
        outcome
    }

    /// Calls `p`, again after a failure in transit (for an idempotent provider, at most `retries` more times),
    /// each retry after a random wait below a doubling bound (full jitter, so callers do not retry in step).
    async fn attempts(&self, p: &dyn CheckProvider, req: &CheckRequest<'_>) -> CheckOutcome {
        let mut attempt = 0u32;
        loop {
            match p.check(req).await {
                // A provider that claims `not_applicable` for a document it was asked about gave no answer.
                Ok(CheckOutcome::NotApplicable) => return CheckOutcome::Unavailable,
                Ok(outcome) => return outcome,
                Err(CallError::Transit(why)) if attempt < self.policy.retries && p.idempotent() => {
                    tracing::info!(provider = p.name(), attempt, %why, "identity check failed in transit; retrying");
                    self.metrics.check_event(p.name(), "retry");
                    let bound = self.policy.backoff_ms.saturating_mul(1 << attempt.min(16)).max(1);
                    let wait = self.random.below(u32::try_from(bound).unwrap_or(u32::MAX));
                    tokio::time::sleep(Duration::from_millis(u64::from(wait))).await;
                    attempt += 1;
                }
                Err(e) => {
                    tracing::warn!(provider = p.name(), error = %e, "identity check failed");
                    return CheckOutcome::Unavailable;
                }
            }
        }
    }

    fn breakers(&self) -> std::sync::MutexGuard<'_, HashMap<&'static str, Breaker>> {
        self.breakers.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests;
