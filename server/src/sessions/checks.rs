//! The identity's authoritative checks (issue 17), run by the identity and documents steps after the identity is
//! re-validated and before anything is stored: each check the site enabled asks its provider, and the outcome
//! decides. `match` goes on; `mismatch` (and `no_record` where the site refuses) refuses the step, records the
//! outcome and lets the person correct within the session's limit, the last refusal failing the session;
//! `unavailable` where the site refuses answers retry-later; otherwise the session goes on and is reviewed
//! (reason `check_unavailable`). Mismatches also count per ID number (its blind index) per UTC day, so nobody
//! can try names against a number. Only outcomes are stored and logged.

use realname_core::protocol::{Check, CheckOutcome, DocumentKind, Envelope, ErrorCode, EventType};
use realname_domain::audit::flow as audit;
use realname_domain::checks::{CheckRecord, corrections, latest};
use realname_domain::config::CheckPolicy;
use realname_domain::encoding::hex_encode;
use realname_domain::lifecycle::SessionEvent;
use realname_domain::session::Session;
use realname_domain::sites::Site;
use realname_domain::vault::PlainIdentity;

use super::error::{ServiceResult, SessionError};
use super::{ClientCtx, Sessions, remember_in};
use crate::checks::CheckRequest;
use crate::review::Reason;

/// The per-identity window: one UTC day.
const DAY_MS: i64 = 86_400_000;

/// How long a client waits after `check_unavailable`, seconds.
const UNAVAILABLE_RETRY_SECS: u64 = 30;

/// The counter of an ID number's mismatches today (keyed by its blind index, never the number).
fn day_key(blind: &[u8]) -> String {
    format!("check-mismatch-day:{}", hex_encode(blind))
}

/// Why a session that passed its checks needs a reviewer: a check without an answer, or a check the site requires
/// that did not `match` (the identity step refuses those, so this catches a site that changed its settings).
pub(super) fn check_flags(session: &Session, site: &Site) -> Vec<Reason> {
    let unanswered = Check::ALL
        .into_iter()
        .any(|c| matches!(latest(&session.checks, c), Some(CheckOutcome::NoRecord | CheckOutcome::Unavailable)));
    let required_missing =
        site.cfg.required_checks.iter().any(|c| latest(&session.checks, *c) != Some(CheckOutcome::Match));
    if unanswered || required_missing { vec![Reason::CheckUnavailable] } else { Vec::new() }
}

impl Sessions {
    /// Runs the site's checks on the re-validated identity of `ctx`'s session (`blind`: its number's blind
    /// index). `Ok`: the step goes on and stores these records (its audit events too). `Err`: the step is refused;
    /// a refusal by a check is already recorded, with the envelope `env` so it cannot be replayed (`None`: the
    /// step remembered it already).
    pub(super) async fn run_checks(
        &self,
        ctx: &ClientCtx<'_>,
        plain: &PlainIdentity,
        kind: DocumentKind,
        blind: &[u8],
        env: Option<&Envelope>,
    ) -> ServiceResult<Vec<CheckRecord>> {
        let site = ctx.site;
        let mut records: Vec<CheckRecord> = Vec::new();
        for setting in &site.cfg.checks {
            let required = site.cfg.required_checks.contains(&setting.check);
            let req = CheckRequest {
                check: setting.check,
                name: &plain.name,
                number: &plain.id_number,
                phone: plain.phone.as_deref(),
                kind,
            };
            if !req.applicable() && required {
                // A required check no provider can make: this document (or, for phone_owner, a method without a
                // phone) cannot be verified on this site.
                let field = if setting.check.applies_to(kind) { "method" } else { "document_kind" };
                return Err(SessionError::invalid(field, "check_not_applicable"));
            }
            let limit = self.config.checks.mismatches_per_identity_day;
            let now = self.clock.now_ms();
            if req.applicable() && limit > 0 && self.store.rate_count(&day_key(blind), DAY_MS, now).await? >= limit {
                let left = DAY_MS - now.rem_euclid(DAY_MS);
                let retry_after = u64::try_from((left + 999) / 1000).unwrap_or(1);
                return Err(SessionError::RetryLater { code: ErrorCode::CheckLimit, retry_after });
            }
            let key = self.checker.caches().then(|| self.cache_key(blind, plain));
            let r = self.checker.run(setting, &req, key.as_deref()).await;
            let refuse = required || setting.unavailable == CheckPolicy::Refuse;
            match r.outcome {
                CheckOutcome::Mismatch => {}
                CheckOutcome::NoRecord | CheckOutcome::Unavailable if refuse => {}
                _ => {
                    records.push(r);
                    continue;
                }
            }
            return Err(match self.record_refusal(ctx, records, r, blind, env).await {
                Ok(refusal) | Err(refusal) => refusal,
            });
        }
        Ok(records)
    }

    /// The result cache's key for an identity: the number's blind index and keyed hashes (the vault's blind-index
    /// key) of the name and phone, so the cache holds nothing readable.
    fn cache_key(&self, blind: &[u8], plain: &PlainIdentity) -> Vec<u8> {
        let mut key = blind.to_vec();
        key.extend_from_slice(self.vault.blind_text("check_name", &plain.name).as_bytes());
        key.push(b'|');
        key.extend_from_slice(self.vault.blind_text("check_phone", plain.phone.as_deref().unwrap_or("")).as_bytes());
        key
    }

    /// Records a check's refusal (`refused`, after the checks that passed before it) on the session with its
    /// audit events and the envelope, counts a mismatch for the number's day, fails the session when that was its
    /// last correction, and returns the refusal to answer.
    async fn record_refusal(
        &self,
        ctx: &ClientCtx<'_>,
        passed: Vec<CheckRecord>,
        refused: CheckRecord,
        blind: &[u8],
        env: Option<&Envelope>,
    ) -> ServiceResult<SessionError> {
        let now = self.clock.now_ms();
        let mut s = ctx.session.clone();
        let new = passed.len() + 1;
        s.checks.extend(passed);
        s.checks.push(refused.clone());
        let limit = self.config.checks.corrections_per_session;
        let used = corrections(&s.checks);
        let correction = matches!(refused.outcome, CheckOutcome::Mismatch | CheckOutcome::NoRecord);
        let exhausted = correction && used >= limit;
        let mut events: Vec<_> = s.checks[s.checks.len() - new..].iter().map(|r| audit::checked(&s, r)).collect();
        if exhausted {
            s.apply(SessionEvent::ChecksExhausted, now)?;
            s.failure = Some(ErrorCode::IdentityMismatchLocked.as_str().to_owned());
            s.client_secret_used = true;
        } else {
            s.apply(SessionEvent::CheckRefused, now)?;
        }
        let mut tx = self.store.begin_write().await?;
        if let Some(env) = env {
            remember_in(tx.as_mut(), &ctx.session, env).await?;
        }
        let s = tx.update_session(&s).await?;
        if refused.outcome == CheckOutcome::Mismatch && self.config.checks.mismatches_per_identity_day > 0 {
            let key = day_key(blind);
            tx.rate_hits(&[(key.as_str(), DAY_MS)], now).await?;
        }
        if exhausted {
            events.push(audit::failed(&s, ErrorCode::IdentityMismatchLocked.as_str()));
            self.events.enqueue_in(tx.as_mut(), &s, ctx.site, EventType::Failed).await?;
        }
        tx.audit_pending(now, &events).await?;
        tx.commit().await?;
        tracing::info!(session = %s.id, check = refused.check.as_str(), outcome = refused.outcome.as_str(), corrections = used, "identity step refused by a check");
        if exhausted {
            self.events.observe(&s, EventType::Failed);
            return Ok(ErrorCode::IdentityMismatchLocked.into());
        }
        let attempts_left = limit.saturating_sub(used);
        Ok(match (refused.check, refused.outcome) {
            (Check::PhoneOwner, CheckOutcome::Mismatch | CheckOutcome::NoRecord) => {
                SessionError::CheckRefused { code: ErrorCode::PhoneMismatch, attempts_left }
            }
            (_, CheckOutcome::Mismatch) => {
                SessionError::CheckRefused { code: ErrorCode::IdentityMismatch, attempts_left }
            }
            (_, CheckOutcome::NoRecord) => {
                SessionError::CheckRefused { code: ErrorCode::IdentityNoRecord, attempts_left }
            }
            _ => SessionError::RetryLater { code: ErrorCode::CheckUnavailable, retry_after: UNAVAILABLE_RETRY_SECS },
        })
    }
}

/// The checks of `records` as their audit events, for the step that stores them.
pub(super) fn audit_events(session: &Session, records: &[CheckRecord]) -> Vec<realname_domain::audit::Event> {
    records.iter().map(|r| audit::checked(session, r)).collect()
}
