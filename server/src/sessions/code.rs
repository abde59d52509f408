//! The code step: the replay guard, the counted attempt, the constant-time comparison and the verdict, written
//! in one transaction.

use realname_core::protocol::{CodePayload, Envelope, ErrorCode, EventType, SessionStatus, Step, VerifiedResponse};

use super::checks::check_flags;
use super::error::{ServiceResult, SessionError};
use super::result::{Masked, result_of};
use super::review::number_flags;
use super::{Caller, ClientCtx, Sessions, remember_in};
use crate::codes;
use crate::review::Reason;
use realname_domain::audit::flow as audit;
use realname_domain::clock::UnixMillis;
use realname_domain::lifecycle::{SessionEvent, next};
use realname_store as store;
use realname_store::WriteTx;

impl Sessions {
    /// Fails the session after too many wrong codes, in `tx`, and commits.
    async fn lock(&self, mut tx: Box<dyn WriteTx>, ctx: &mut ClientCtx<'_>) -> ServiceResult<VerifiedResponse> {
        let s = &mut ctx.session;
        s.apply(SessionEvent::AttemptsExhausted, self.clock.now_ms())?;
        s.failure = Some("code_locked".to_owned());
        s.client_secret_used = true;
        match tx.update_session(s).await {
            Ok(done) => {
                *s = done;
                self.events.enqueue_in(tx.as_mut(), s, ctx.site, EventType::Failed).await?;
                tx.audit_pending(s.updated_at, &[audit::failed(s, "code_locked")]).await?;
                tx.commit().await?;
                self.events.observe(s, EventType::Failed);
            }
            // Someone else finished it meanwhile: nothing more to do (the counted attempt stays).
            Err(store::StoreError::Conflict) => tx.commit().await?,
            Err(e) => return Err(e.into()),
        }
        Err(ErrorCode::CodeLocked.into())
    }

    /// The code step: count the attempt, compare in constant time, verify or refuse.
    pub async fn submit_code(&self, caller: &Caller<'_>, env: &Envelope) -> ServiceResult<VerifiedResponse> {
        let mut ctx = self.authenticate(caller, true).await?;
        let payload: CodePayload = self.open_step(&ctx.session.id, env, Step::Code)?;
        let code = codes::normalize(&payload.code).ok_or(ErrorCode::PayloadInvalid)?;
        if next(ctx.session.status, SessionEvent::CodeConfirmed).is_err() {
            return Err(ErrorCode::WrongStep.into());
        }
        let now = self.clock.now_ms();
        // CPU work (opening the sealed identity, once for the flags, the result, the token and the webhook)
        // before the transaction, which holds the write lock.
        let masked = self.results.masked(&ctx.session, now)?.ok_or(SessionError::Internal("identity missing"))?;
        let mut flags = number_flags(&masked.check);
        flags.extend(check_flags(&ctx.session, ctx.site));
        let max = self.config.codes.max_attempts;
        let mut tx = self.store.begin_write().await?;
        // A replayed code envelope is refused before it could count as an attempt.
        remember_in(tx.as_mut(), &ctx.session, env).await?;
        let stored = match tx.take_code_attempt(&ctx.session.id, max, now).await? {
            store::CodeAttempt::Check(c) => c,
            store::CodeAttempt::Expired => {
                tx.commit().await?;
                return Err(ErrorCode::CodeExpired.into());
            }
            store::CodeAttempt::TooManyAttempts => return self.lock(tx, &mut ctx).await,
            store::CodeAttempt::NoCode | store::CodeAttempt::Used => {
                tx.commit().await?;
                return Err(ErrorCode::WrongStep.into());
            }
        };
        if !codes::matches(self.keys().code_key(), &ctx.session.id, &code, &stored.code_hmac) {
            let left = max.saturating_sub(stored.attempts);
            tracing::info!(session = %ctx.session.id, attempts_left = left, "wrong code");
            tx.audit_pending(now, &[audit::code_failed(&ctx.session, stored.attempts, left)]).await?;
            if left == 0 {
                return self.lock(tx, &mut ctx).await;
            }
            tx.commit().await?;
            return Err(SessionError::CodeInvalid { attempts_left: left });
        }
        // The attempt taken above holds the code's row: nothing can use or invalidate it before the commit.
        // The code's use, the account's binding and the verdict commit together: a failure in between leaves the
        // code unused, so the right code still works (issue 20).
        tx.consume_code_at_commit(stored.id, now).await?;
        let limit = ctx.site.cfg.max_accounts_per_identity;
        if limit > 0 {
            let account = ctx.session.reference.clone().unwrap_or_else(|| ctx.session.id.clone());
            let blind = ctx.session.blind_index.clone().unwrap_or_default();
            // Re-verifying an account already bound is fine; a new account over the limit goes to a reviewer.
            // A case flagged otherwise is bound only if a reviewer approves it (a rejection must not take a slot).
            if flags.is_empty() {
                if !tx.bind_identity(&ctx.site.cfg.id, &blind, &account, limit, now).await? {
                    flags.push(Reason::MaxAccounts);
                }
            } else if self.store.identity_bindings(&ctx.site.cfg.id, &blind).await? >= limit {
                flags.push(Reason::MaxAccounts);
            }
        }
        if flags.is_empty() {
            return self.verify(tx, &mut ctx, &masked, now).await;
        }
        let event = SessionEvent::CodeConfirmedForReview;
        let case = self.reviews.prepare(&ctx.session, &flags, Vec::new())?;
        let due = self.queue_for_review(tx, &mut ctx.session, event, case, Vec::new(), now).await?;
        Ok(VerifiedResponse { status: SessionStatus::PendingReview, result_token: None, review_due: Some(due) })
    }

    /// Marks the session verified and queues its webhook in `tx`, commits, and answers with a signed result token.
    async fn verify(
        &self,
        mut tx: Box<dyn WriteTx>,
        ctx: &mut ClientCtx<'_>,
        masked: &Masked,
        now: UnixMillis,
    ) -> ServiceResult<VerifiedResponse> {
        let s = &mut ctx.session;
        s.apply(SessionEvent::CodeConfirmed, now)?;
        s.verified_at = Some(now);
        s.client_secret_used = true;
        ctx.session = tx.update_session_at_commit(&ctx.session).await?;
        let mut result = result_of(&ctx.session, Some(masked));
        self.events.enqueue_result_in(tx.as_mut(), &result, ctx.site, EventType::Verified).await?;
        tx.audit_pending(now, &[audit::verified(&ctx.session)]).await?;
        tx.commit().await?;
        self.events.observe(&ctx.session, EventType::Verified);
        tracing::info!(session = %ctx.session.id, site = %ctx.site.cfg.id, "session verified");
        self.results.add_token(&mut result, &ctx.session, ctx.site)?;
        let token = result.result_token.ok_or(SessionError::Internal("no token for a verified session"))?;
        Ok(VerifiedResponse { status: SessionStatus::Verified, result_token: Some(token), review_due: None })
    }
}
