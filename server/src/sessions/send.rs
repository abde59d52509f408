//! Sending a code: the limits, the stored HMAC, the session's move to `CodeSent` and (identity step) the site's
//! `verification.code_sent` event in one transaction, then the delivery; and the resend endpoint.

use realname_core::protocol::{CodeSentResponse, ErrorCode, EventType, Method, SessionStatus};

use super::error::{ServiceResult, SessionError};
use super::result::secs;
use super::{Caller, Sessions};
use crate::codes::{self, FirstCount};
use crate::delivery::{Channel, CodeMessage};
use realname_domain::audit::flow as audit;
use realname_domain::clock::UnixMillis;
use realname_domain::lifecycle::{SessionEvent, next};
use realname_domain::session::Session;
use realname_domain::sites::Site;
use realname_store as store;
use realname_store::{NewCode, WriteTx};

/// A code stored and ready to go out, with the answer the client gets once it went.
pub(super) struct Issued {
    /// The message for the delivery channel (holds the code: never logged).
    pub msg: CodeMessage,
    /// The answer to the client.
    pub resp: CodeSentResponse,
    /// When the send was counted (the windows a failed delivery gives its hits back to).
    pub counted_at: UnixMillis,
}

/// Which step sends.
#[derive(Clone, Copy)]
pub(super) enum Sending<'s> {
    /// The identity step: the session row carries the sealed identity, and the site's `verification.code_sent`
    /// event is queued with the send.
    Identity(&'s Site),
    /// A resend: the session stays at `code_sent`.
    Resend,
}

/// How [`Sessions::issue_code`] counts the sending limits. A step tries [`Counting::Last`] first; when a limit was
/// reached, which rolled that transaction back, it opens a second one and counts [`Counting::First`], so the
/// refusal is recorded and answered (a window that rolled over meanwhile lets the code go out after all).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Counting {
    /// Last, in the commit, which they make conditional: a counter shared by many steps (every send from one
    /// IP counts on one row) stays locked for the commit only. A reached limit rolls the step back.
    Last,
    /// First, reading the counters: a refusal knows which limit refused and for how long, and is counted only
    /// against the client address and destination that asked (see [`codes::check_send_limits`]).
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
    /// the previous one), moves `session` to `CodeSent` (a resend writes the row too: its version is what makes
    /// concurrent resends conflict, so one of them sends) and queues the identity step's event — one commit.
    /// A limit's refusal is the inner `Err`: recorded with the session as it was given (`Submitted`), unless the
    /// client address and destination are past their bound of refusals, when nothing is written. `None`:
    /// counting [`Counting::Last`], a limit was reached and nothing was written. The outer `Err` is a store
    /// failure (a resend that lost the race for the session's row: `Conflict`), after which nothing was written.
    pub(super) async fn issue_code(
        &self,
        mut tx: Box<dyn WriteTx>,
        session: &mut Session,
        sending: Sending<'_>,
        (channel, to, to_masked): (Channel, &str, &str),
        send: &Prepared,
        counting: Counting,
    ) -> ServiceResult<Option<ServiceResult<Issued>>> {
        let now = self.clock.now_ms();
        let per_session = self.config.limits.per_session;
        let identity = matches!(sending, Sending::Identity(_));
        let mut events = Vec::with_capacity(2);
        if identity {
            events.push(audit::identity_submitted(session));
        }
        let refused = match counting {
            Counting::First => {
                let store = self.store.as_ref();
                let limits = &send.limits;
                match codes::check_send_limits(store, &self.metrics, per_session, tx.as_mut(), &session.id, limits, now)
                    .await?
                {
                    FirstCount::Send => None,
                    FirstCount::Refused(refused) => Some(refused),
                    // Dropped without commit: nothing of the step is written.
                    FirstCount::RefusedQuietly(refused) => return Ok(Some(Err(SessionError::Limited(refused)))),
                }
            }
            Counting::Last => None,
        };
        if let Some(refused) = refused {
            if identity {
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
        if identity || session.status != SessionStatus::CodeSent {
            session.apply(SessionEvent::CodeIssued, now)?;
        } else {
            session.updated_at = now;
        }
        *session = tx.update_session_at_commit(session).await?;
        if let Sending::Identity(site) = sending {
            // Queued with the send it reports, before the code leaves: a crash after the delivery cannot lose it.
            self.events.enqueue_in(tx.as_mut(), session, site, EventType::CodeSent).await?;
        }
        events.push(audit::code_sent(session, &new.channel, !identity));
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
        Ok(Some(Ok(Issued { msg, resp, counted_at: now })))
    }

    /// Delivers an issued code. When that fails, the send's hits on the sending limits are given back (only
    /// delivered codes count against a destination or address), and a session that [`Self::issue_code`] moved to
    /// `CodeSent` goes back to `before` (so the site sees `submitted` and the person may resend); the undelivered
    /// code reached no one.
    pub(super) async fn deliver(
        &self,
        session: &mut Session,
        before: SessionStatus,
        issued: &Issued,
        send: &Prepared,
    ) -> ServiceResult<()> {
        let msg = &issued.msg;
        let sender = self.delivery.for_channel(msg.channel);
        if let Err(e) = sender.send(msg).await {
            tracing::warn!(session = %session.id, provider = sender.name(), to = %msg.to_masked, error = %e, "code delivery failed");
            let mut tx = self.store.begin_write().await?;
            tx.rate_refunds(&send.limits.windows(), issued.counted_at).await?;
            let mut back = session.clone();
            // Back to `before` (submitted) when this step moved it to code_sent; a resend leaves code_sent as it is.
            if before != session.status && back.apply(SessionEvent::DeliveryFailed, self.clock.now_ms()).is_ok() {
                match tx.update_session(&back).await {
                    Ok(s) => {
                        *session = s;
                        tx.audit_pending(back.updated_at, &[audit::code_delivery_failed(session)]).await?;
                    }
                    // Finished or changed meanwhile: leave it as it is.
                    Err(store::StoreError::Conflict) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            tx.commit().await?;
            return Err(ErrorCode::DeliveryFailed.into());
        }
        tracing::info!(session = %session.id, provider = sender.name(), to = %msg.to_masked, "code sent");
        self.metrics.code_sent(if msg.channel == Channel::Sms { "sms" } else { "email" });
        Ok(())
    }

    /// The cooldown after the session's last send, if it has not ended at `now`.
    async fn cooldown(&self, session_id: &str, now: UnixMillis) -> ServiceResult<Option<SessionError>> {
        let Some(last) = self.store.latest_code(session_id).await? else { return Ok(None) };
        let ready = last.sent_at + self.config.codes.resend_cooldown_secs * 1000;
        Ok((now < ready)
            .then(|| SessionError::Cooldown { retry_after: u64::try_from((ready - now + 999) / 1000).unwrap_or(1) }))
    }

    /// Sends a new code to the same destination, invalidating the previous one (cooldown and limits apply). The
    /// cooldown is read first, and held where the send is recorded: the send writes the session's row under its
    /// version, so of concurrent resends that read the same last send exactly one commits; the others answer the
    /// cooldown that one started.
    pub async fn resend(&self, caller: &Caller<'_>, client_ip: &str) -> ServiceResult<CodeSentResponse> {
        let mut ctx = self.authenticate(caller, true).await?;
        let before = ctx.session.status;
        if next(before, SessionEvent::CodeIssued).is_err() {
            return Err(ErrorCode::WrongStep.into());
        }
        let now = self.clock.now_ms();
        if let Some(wait) = self.cooldown(&ctx.session.id, now).await? {
            return Err(wait);
        }
        let (channel, to, masked) =
            self.destination(&ctx.session)?.ok_or(SessionError::Internal("identity missing"))?;
        let send = Prepared::new(self, &ctx.session.id, &to, client_ip);
        let given = ctx.session.clone();
        let to = (channel, to.as_str(), masked.as_str());
        let issued = match self.resend_counted(&mut ctx.session, &given, to, &send).await {
            Err(SessionError::Store(store::StoreError::Conflict)) => {
                // Another send got the session's row first.
                let wait = self.cooldown(&given.id, self.clock.now_ms()).await?;
                return Err(wait.unwrap_or(SessionError::Store(store::StoreError::Conflict)));
            }
            other => other?,
        };
        self.deliver(&mut ctx.session, before, &issued, &send).await?;
        Ok(issued.resp)
    }

    /// A resend's transaction: counting last, and after a refusal counting first.
    async fn resend_counted(
        &self,
        session: &mut Session,
        given: &Session,
        to: (Channel, &str, &str),
        send: &Prepared,
    ) -> ServiceResult<Issued> {
        let tx = self.store.begin_write().await?;
        if let Some(issued) = self.issue_code(tx, session, Sending::Resend, to, send, Counting::Last).await? {
            return issued;
        }
        *session = given.clone();
        let tx = self.store.begin_write().await?;
        self.issue_code(tx, session, Sending::Resend, to, send, Counting::First).await?.ok_or_else(rolled_back)?
    }
}

/// Counting first never rolls back: reaching this is a bug.
pub(super) fn rolled_back() -> SessionError {
    SessionError::Internal("sending limits counted first rolled back")
}
