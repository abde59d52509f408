//! The identity and documents steps: re-validation of everything the browser checked, consent, the sealed
//! record, and (identity) the first code.

use realname_core::protocol::{
    CodeSentResponse, DocumentKind, DocumentsPayload, DocumentsResponse, Envelope, ErrorCode, EventType,
    IdentityPayload, Method, SessionStatus, Step,
};
use realname_core::validate::{self, Date, Options};

use super::checks::{self, check_flags};
use super::error::{ServiceResult, SessionError};
use super::review::number_flags;
use super::send::{Counting, Prepared, Sending, rolled_back};
use super::{Caller, Sessions, issue_reason, offered_methods, remember_in};
use crate::delivery::Channel;
use crate::review::{PlainImage, Reason};
use realname_domain::clock::UnixMillis;
use realname_domain::lifecycle::{SessionEvent, next};
use realname_domain::session::{Consent, Methods, Session};
use realname_domain::sites::Site;
use realname_domain::vault::PlainIdentity;
use realname_store::WriteTx;

/// The re-validated identity: normalized values and what the number tells.
struct Checked {
    plain: PlainIdentity,
    kind: DocumentKind,
    destination: String,
    channel: Channel,
    /// Why the identity needs a reviewer, from the number alone (a child, an unknown region code).
    flags: Vec<Reason>,
}

/// How far ahead of the server's clock a consent time may be (the device's clock runs fast), ms.
const CONSENT_AHEAD_MS: i64 = 300_000;
/// How long ago a consent may have been given, ms.
const CONSENT_AGE_MS: i64 = 86_400_000;

/// A consent's time in Unix ms when it lies in the accepted range (the last day, at most five minutes ahead);
/// any other integer (negative, far past or future, or one whose milliseconds overflow) is `None`.
fn consent_at(accepted_at: i64, now: UnixMillis) -> Option<UnixMillis> {
    let at = accepted_at.checked_mul(1000)?;
    (now.saturating_sub(CONSENT_AGE_MS)..=now.saturating_add(CONSENT_AHEAD_MS)).contains(&at).then_some(at)
}

/// A consent record is present, names a version and was given recently (not in the future).
fn consent_ok(c: Option<&realname_core::protocol::Consent>, now: UnixMillis) -> bool {
    c.is_some_and(|c| {
        !c.version.trim().is_empty() && c.version.chars().count() <= 64 && consent_at(c.accepted_at, now).is_some()
    })
}

/// The consent as stored: its version and time in Unix ms (checked by [`consent_ok`] before).
fn stored_consent(c: &realname_core::protocol::Consent) -> Consent {
    Consent { version: c.version.clone(), at: c.accepted_at.saturating_mul(1000) }
}

/// Re-validates an identity. `documents` is true for the documents step, which has no phone or email.
fn check_identity(
    p: &IdentityPayload,
    site: &Site,
    offered: &[Method],
    now: UnixMillis,
    documents: bool,
) -> ServiceResult<Checked> {
    if !offered.contains(&p.method) || !site.enables(p.method) {
        return Err(ErrorCode::MethodNotEnabled.into());
    }
    let channel = match (p.method, documents) {
        (Method::Sms, false) => Channel::Sms,
        (Method::Email, false) => Channel::Email,
        // Photos go through the documents step, codes through the identity step.
        (Method::Documents, true) => Channel::Sms,
        _ => return Err(ErrorCode::MethodNotEnabled.into()),
    };
    if !consent_ok(p.consent.as_ref(), now) {
        return Err(ErrorCode::ConsentRequired.into());
    }
    let name = validate::validate_name(&p.name);
    if let Some(issue) = name.errors.first() {
        return Err(SessionError::invalid("name", issue_reason(&issue.code)));
    }
    let today = Date::from_unix_millis(now as f64);
    let id = validate::validate_id(&p.number, &Options::new(today).kind(p.document_kind));
    if let Some(issue) = id.errors.first() {
        return Err(SessionError::invalid("number", issue_reason(&issue.code)));
    }
    if id.kind != p.document_kind {
        // A resident-ID field holding a residence permit number: the validator says what it is.
        return Err(SessionError::invalid("document_kind", "kind_mismatch"));
    }
    let flags = number_flags(&id);
    // A guardian's consent sent for anyone is held to the same ranges as the person's own.
    let guardian_needed = flags.contains(&Reason::Minor) || p.guardian_consent.is_some();
    if guardian_needed && !consent_ok(p.guardian_consent.as_ref(), now) {
        return Err(SessionError::Explained {
            code: ErrorCode::ConsentRequired,
            message: "A parent's or guardian's consent is required for a child under 14.",
        });
    }
    let (destination, phone, email) = match channel {
        _ if documents => (String::new(), None, None),
        Channel::Sms => {
            let c = validate::validate_phone(p.phone.as_deref().unwrap_or(""));
            if let Some(issue) = c.errors.first() {
                return Err(SessionError::invalid("phone", issue_reason(&issue.code)));
            }
            (c.normalized.clone(), Some(c.normalized), None)
        }
        Channel::Email => {
            let c = validate::validate_email(p.email.as_deref().unwrap_or(""));
            if let Some(issue) = c.errors.first() {
                return Err(SessionError::invalid("email", issue_reason(&issue.code)));
            }
            (c.normalized.clone(), None, Some(c.normalized))
        }
    };
    let plain = PlainIdentity { name: name.normalized, id_number: id.normalized, phone, email };
    Ok(Checked { plain, kind: id.kind, destination, channel, flags })
}

impl Sessions {
    /// The identity step: open, re-validate, refuse missing consent, then in one transaction remember the
    /// envelope, store the sealed identity and the code's HMAC and count the sending limits (a second one when a
    /// limit refuses, see [`Counting`]); then deliver the code.
    pub async fn submit_identity(
        &self,
        caller: &Caller<'_>,
        env: &Envelope,
        client_ip: &str,
    ) -> ServiceResult<CodeSentResponse> {
        let mut ctx = self.authenticate(caller, true).await?;
        // Everything that can refuse bad input runs before anything is written, so refusals change nothing.
        let payload: IdentityPayload = self.open_step(&ctx.session.id, env, Step::Identity)?;
        let now = self.clock.now_ms();
        let checked = check_identity(&payload, ctx.site, &offered_methods(&ctx.session, ctx.site), now, false)?;
        // Sealing is CPU work: done before the transaction, which then holds the write lock for statements only.
        // An identity already bound to the site's maximum of accounts still proves its phone or email; the code
        // step then sends it to a reviewer instead of verifying it (issue 5).
        let blind = self.vault.blind_id_number(&checked.plain.id_number);
        let sealed = self.vault.seal_identity(&ctx.session.id, &checked.plain)?;
        let masked = match checked.channel {
            Channel::Sms => validate::mask_phone(&checked.destination),
            Channel::Email => validate::mask_email(&checked.destination),
        };
        let send = Prepared::new(self, &ctx.session.id, &checked.destination, client_ip);
        if next(ctx.session.status, SessionEvent::IdentityAccepted).is_err() {
            return Err(self.wrong_step(&ctx.session, env).await);
        }
        let records = self.run_checks(&ctx, &checked.plain, checked.kind, &blind, Some(env)).await?;
        let read = ctx.session.clone();
        let mut before =
            guardian_event(&read, &checked, payload.guardian_consent.as_ref()).into_iter().collect::<Vec<_>>();
        before.extend(checks::audit_events(&read, &records));
        ctx.session.checks.extend(records);
        let s = &mut ctx.session;
        s.apply(SessionEvent::IdentityAccepted, now)?;
        s.methods = Methods::Chosen(payload.method);
        s.document_kind = Some(checked.kind.as_str().to_owned());
        s.consent = payload.consent.as_ref().map(stored_consent);
        s.identity = Some(sealed);
        s.blind_index = Some(blind);
        let to = (checked.channel, checked.destination.as_str(), masked.as_str());
        let given = ctx.session.clone();
        // The step's transaction: the envelope and the guardian's consent, then the identity, the code and the
        // sending limits with the commit. A reached limit rolls all of it back; the second transaction counts
        // first, so the refusal is recorded (with the identity) and answered.
        let tx = self.begin_identity(&read, env, &before, now).await?;
        let sending = Sending::Identity(ctx.site);
        let issued = match self.issue_code(tx, &mut ctx.session, sending, to, &send, Counting::Last).await? {
            Some(issued) => issued,
            None => {
                ctx.session = given;
                let tx = self.begin_identity(&read, env, &before, now).await?;
                let counted = self.issue_code(tx, &mut ctx.session, sending, to, &send, Counting::First).await?;
                counted.ok_or_else(rolled_back)?
            }
        };
        tracing::info!(session = %ctx.session.id, method = payload.method.as_str(), kind = checked.kind.as_str(), "identity accepted");
        let issued = issued?;
        // The event was queued with the send (see issue_code); counted in the metrics once the code went.
        self.deliver(&mut ctx.session, SessionStatus::Submitted, &issued, &send).await?;
        self.events.observe(&ctx.session, EventType::CodeSent);
        Ok(issued.resp)
    }

    /// Opens the identity step's transaction with what it writes before the identity: the envelope (the replay
    /// guard), the guardian's consent and the checks' audit events.
    async fn begin_identity(
        &self,
        read: &Session,
        env: &Envelope,
        events: &[realname_domain::audit::Event],
        now: UnixMillis,
    ) -> ServiceResult<Box<dyn WriteTx>> {
        let mut tx = self.store.begin_write().await?;
        remember_in(tx.as_mut(), read, env).await?;
        if !events.is_empty() {
            tx.audit_pending(now, events).await?;
        }
        Ok(tx)
    }

    /// What the documents step checks before its body is read, so that a large body is refused unread: the
    /// client secret, origin and session, that the step applies to the session's status and that the method is
    /// offered. [`Sessions::submit_documents`] checks them all again with the body.
    pub async fn check_documents(&self, caller: &Caller<'_>) -> ServiceResult<()> {
        let ctx = self.authenticate(caller, true).await?;
        if next(ctx.session.status, SessionEvent::DocumentsSubmitted).is_err() {
            return Err(ErrorCode::WrongStep.into());
        }
        let offered = offered_methods(&ctx.session, ctx.site);
        if !offered.contains(&Method::Documents) || !ctx.site.enables(Method::Documents) {
            return Err(ErrorCode::MethodNotEnabled.into());
        }
        Ok(())
    }

    /// The documents step: identity plus selfie and document photo, re-validated, stored sealed, queued for a
    /// reviewer (due in five working days by default).
    pub async fn submit_documents(&self, caller: &Caller<'_>, env: &Envelope) -> ServiceResult<DocumentsResponse> {
        let mut ctx = self.authenticate(caller, true).await?;
        let payload: DocumentsPayload = self.open_step(&ctx.session.id, env, Step::Documents)?;
        let now = self.clock.now_ms();
        let offered = offered_methods(&ctx.session, ctx.site);
        let checked = check_identity(&payload.identity, ctx.site, &offered, now, true)?;
        if !consent_ok(Some(&payload.face_consent), now) {
            return Err(SessionError::Explained {
                code: ErrorCode::ConsentRequired,
                message: "A separate consent to the face image is required.",
            });
        }
        let images = vec![jpeg("selfie_jpeg", &payload.selfie_jpeg)?, jpeg("document_jpeg", &payload.document_jpeg)?];
        if next(ctx.session.status, SessionEvent::DocumentsSubmitted).is_err() {
            return Err(self.wrong_step(&ctx.session, env).await);
        }
        let blind = self.vault.blind_id_number(&checked.plain.id_number);
        let records = self.run_checks(&ctx, &checked.plain, checked.kind, &blind, Some(env)).await?;
        let mut before = checks::audit_events(&ctx.session, &records);
        ctx.session.checks.extend(records);
        let mut reasons = vec![Reason::Documents];
        reasons.extend(checked.flags.iter().copied());
        reasons.extend(check_flags(&ctx.session, ctx.site));
        let limit = ctx.site.cfg.max_accounts_per_identity;
        if limit > 0 && self.store.identity_bindings(&ctx.site.cfg.id, &blind).await? >= limit {
            reasons.push(Reason::MaxAccounts);
        }
        let sealed = self.vault.seal_identity(&ctx.session.id, &checked.plain)?;
        let s = &mut ctx.session;
        s.methods = Methods::Chosen(Method::Documents);
        s.document_kind = Some(checked.kind.as_str().to_owned());
        s.consent = payload.identity.consent.as_ref().map(stored_consent);
        s.identity = Some(sealed);
        s.blind_index = Some(blind);
        before.extend(guardian_event(&ctx.session, &checked, payload.identity.guardian_consent.as_ref()));
        let event = SessionEvent::DocumentsSubmitted;
        // The images are sealed before the transaction, which holds the write lock.
        let case = self.reviews.prepare(&ctx.session, &reasons, images)?;
        let mut tx = self.store.begin_write().await?;
        remember_in(tx.as_mut(), &ctx.session, env).await?;
        let due = self.queue_for_review(tx, &mut ctx.session, event, case, before, now).await?;
        Ok(DocumentsResponse { status: SessionStatus::PendingReview, review_due: due })
    }
}

/// The audit event of the guardian's consent, for a child under 14 who has one (the step writes it in its
/// transaction).
fn guardian_event(
    session: &Session,
    checked: &Checked,
    consent: Option<&realname_core::protocol::Consent>,
) -> Option<realname_domain::audit::Event> {
    let c = consent.filter(|_| checked.flags.contains(&Reason::Minor))?;
    Some(realname_domain::audit::flow::guardian_consent(&session.id, &session.site_id, &c.version, c.accepted_at))
}

/// A photo from the documents payload: base64url of a JPEG within the size limit.
fn jpeg(field: &'static str, b64: &str) -> ServiceResult<PlainImage> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(b64.trim_end_matches('=').as_bytes())
        .map_err(|_| SessionError::invalid(field, "not_base64url"))?;
    if bytes.len() > crate::review::MAX_IMAGE_BYTES {
        return Err(SessionError::invalid(field, "too_large"));
    }
    if !bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Err(SessionError::invalid(field, "not_jpeg"));
    }
    let kind = if field == "selfie_jpeg" { "face" } else { "id_front" };
    Ok(PlainImage { kind: kind.into(), content_type: "image/jpeg".into(), bytes })
}
