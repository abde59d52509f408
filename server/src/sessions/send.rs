//! Sending a code: the limits, the stored HMAC and the session's move to `CodeSent` in one transaction, then
//! the delivery; and the resend endpoint.

use realname_core::protocol::{CodeSentResponse, ErrorCode, Method, SessionStatus};

use super::error::{ServiceResult, SessionError};
use super::result::secs;
use super::{Caller, Sessions};
use crate::codes;
use crate::delivery::{Channel, CodeMessage};
use realname_domain::audit::flow as audit;
use realname_domain::lifecycle::{SessionEvent, next};
use realname_domain::session::Session;
use realname_store as store;
use realname_store::{NewCode, WriteTx};

/// A code stored and ready to go out, with the answer the client gets once it went.
pub(super) struct Issued {
    /// The message for the delivery channel (holds the code: never logged).
    pub msg: CodeMessage,
    /// The answer to the client.
    pub resp: CodeSentResponse,
}

/// How [`Sessions::issue_code`] counts the sending limits. A step tries [`Counting::Last`] first; when a limit was
/// reached, which rolled that transaction back, it opens a second one and counts [`Counting::First`], so the
/// refusal is recorded and answered (a window that rolled over meanwhile lets the code go out after all).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Counting {
    /// Last, in the commit, which they make conditional: a counter shared by many steps (every send from one
    /// IP counts on one row) stays locked for the commit only. A reached limit rolls the step back.
    Last,
    /// First, as separate statements did: a refusal knows which limit refused and for how long.
    First,
}

/// What [`Sessions::issue_code`] needs that is CPU work (keyed hashes, the fresh code and its HMAC), computed
/// before the transaction so that the write lock is held for statements only.
pub(super) struct Prepared {
    limits: codes::SendLimits,
    code: String,
    code_hmac: Vec<u8>,
}

impl Prepared {
    /// The counters and a fresh code for a send to `to` in `session_id`.
    pub(super) fn new(sessions: &Sessions, session_id: &str, to: &str, client_ip: &str) -> Self {
        let code = codes::generate(sessions.random.as_ref());
        let code_hmac = codes::mac(sessions.keys().code_key(), session_id, &code);
        let limits = codes::SendLimits::new(&sessions.vault.current(), &sessions.config.limits, to, client_ip);
        Self { limits, code, code_hmac }
    }
}

impl Sessions {
    /// In the step's transaction `tx`: checks the sending limits, stores the HMAC of a fresh code (invalidating
    /// the previous one) and moves `session` to `CodeSent` — one commit where separate statements took five. The
    /// session row is written when `write_session` (the identity step's sealed identity) or its status changes.
    /// A limit's refusal is the inner `Err`: the counters keep the hit and the session is written as it was
    /// given (`Submitted`), exactly as separate statements left them. `None`: counting [`Counting::Last`], a limit
    /// was reached and nothing was written. The outer `Err` is a store failure, after which nothing was written.
    pub(super) async fn issue_code(
        &self,
        mut tx: Box<dyn WriteTx>,
        session: &mut Session,
        write_session: bool,
        (channel, to, to_masked): (Channel, &str, &str),
        send: &Prepared,
        counting: Counting,
    ) -> ServiceResult<Option<ServiceResult<Issued>>> {
        let now = self.clock.now_ms();
        let per_session = self.config.limits.per_session;
        let mut events = Vec::with_capacity(2);
        if write_session {
            events.push(audit::identity_submitted(session));
        }
        let refused = match counting {
            Counting::First => {
                codes::check_send_limits(&self.metrics, per_session, tx.as_mut(), &session.id, &send.limits, now)
                    .await?
            }
            Counting::Last => None,
        };
        if let Some(refused) = refused {
            if write_session {
                *session = tx.update_session_at_commit(session).await?;
            }
            events.push(audit::code_refused(session, ErrorCode::RateLimited.as_str()));
            tx.audit_pending(now, &events).await?;
            tx.commit().await?;
            return Ok(Some(Err(SessionError::Limited(refused))));
        }
        let ttl_ms = self.config.codes.ttl_secs * 1000;
        let sms = channel == Channel::Sms;
        let new = NewCode {
            session_id: session.id.clone(),
            code_hmac: send.code_hmac.clone(),
            channel: if sms { "sms" } else { "email" }.into(),
            sent_at: now,
            expires_at: now + ttl_ms,
        };
        tx.issue_code_at_commit(&new).await?;
        if write_session || session.status != SessionStatus::CodeSent {
            session.apply(SessionEvent::CodeIssued, now)?;
            *session = tx.update_session_at_commit(session).await?;
        }
        events.push(audit::code_sent(session, &new.channel, !write_session));
        tx.audit_pending(now, &events).await?;
        match counting {
            Counting::First => tx.commit().await?,
            Counting::Last => {
                let per_session = Some(per_session).filter(|n| *n > 0).map(|n| (session.id.as_str(), n));
                if !tx.commit_within_limits(&send.limits.counters(), per_session, now).await? {
                    return Ok(None);
                }
            }
        }
        let msg = CodeMessage {
            channel,
            to: to.to_owned(),
            to_masked: to_masked.to_owned(),
            code: send.code.clone(),
            ttl_minutes: u32::try_from((ttl_ms / 60_000).max(1)).unwrap_or(5),
        };
        let cooldown = self.config.codes.resend_cooldown_secs;
        let resp = CodeSentResponse {
            status: SessionStatus::CodeSent,
            method: if sms { Method::Sms } else { Method::Email },
            destination: to_masked.to_owned(),
            code_expires_at: secs(now + ttl_ms),
            resend_available_at: secs(now + cooldown * 1000),
            code_expires_in: ttl_ms / 1000,
            resend_in: cooldown,
        };
        Ok(Some(Ok(Issued { msg, resp })))
    }

    /// Delivers an issued code. When that fails, a session that [`Self::issue_code`] moved to `CodeSent` goes back
    /// to `before` (so the site sees `submitted` and the person may resend); the undelivered code reached no one.
    pub(super) async fn deliver(
        &self,
        session: &mut Session,
        before: SessionStatus,
        msg: &CodeMessage,
    ) -> ServiceResult<()> {
        let sender = self.delivery.for_channel(msg.channel);
        if let Err(e) = sender.send(msg).await {
            tracing::warn!(session = %session.id, provider = sender.name(), to = %msg.to_masked, error = %e, "code delivery failed");
            let mut back = session.clone();
            // Back to `before` (submitted) when this step moved it to code_sent; a resend leaves code_sent as it is.
            if before != session.status && back.apply(SessionEvent::DeliveryFailed, self.clock.now_ms()).is_ok() {
                let mut tx = self.store.begin_write().await?;
                match tx.update_session(&back).await {
                    Ok(s) => {
                        *session = s;
                        tx.audit_pending(back.updated_at, &[audit::code_delivery_failed(session)]).await?;
                        tx.commit().await?;
                    }
                    // Finished or changed meanwhile: leave it as it is.
                    Err(store::StoreError::Conflict) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            return Err(ErrorCode::DeliveryFailed.into());
        }
        tracing::info!(session = %session.id, provider = sender.name(), to = %msg.to_masked, "code sent");
        self.metrics.code_sent(if msg.channel == Channel::Sms { "sms" } else { "email" });
        Ok(())
    }

    /// Sends a new code to the same destination, invalidating the previous one (cooldown and limits apply).
    pub async fn resend(&self, caller: &Caller<'_>, client_ip: &str) -> ServiceResult<CodeSentResponse> {
        let mut ctx = self.authenticate(caller, true).await?;
        let before = ctx.session.status;
        if next(before, SessionEvent::CodeIssued).is_err() {
            return Err(ErrorCode::WrongStep.into());
        }
        let now = self.clock.now_ms();
        if let Some(last) = self.store.latest_code(&ctx.session.id).await? {
            let ready = last.sent_at + self.config.codes.resend_cooldown_secs * 1000;
            if now < ready {
                let retry_after = u64::try_from((ready - now + 999) / 1000).unwrap_or(1);
                return Err(SessionError::Cooldown { retry_after });
            }
        }
        let (channel, to, masked) =
            self.destination(&ctx.session)?.ok_or(SessionError::Internal("identity missing"))?;
        let send = Prepared::new(self, &ctx.session.id, &to, client_ip);
        let given = ctx.session.clone();
        let to = (channel, to.as_str(), masked.as_str());
        let tx = self.store.begin_write().await?;
        let issued = match self.issue_code(tx, &mut ctx.session, false, to, &send, Counting::Last).await? {
            Some(issued) => issued,
            None => {
                ctx.session = given;
                let tx = self.store.begin_write().await?;
                let counted = self.issue_code(tx, &mut ctx.session, false, to, &send, Counting::First).await?;
                counted.ok_or_else(rolled_back)?
            }
        }?;
        self.deliver(&mut ctx.session, before, &issued.msg).await?;
        Ok(issued.resp)
    }
}

/// Counting first never rolls back: reaching this is a bug.
pub(super) fn rolled_back() -> SessionError {
    SessionError::Internal("sending limits counted first rolled back")
}
