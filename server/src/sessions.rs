//! The verification flow on the server: create a session, accept the sealed identity, send and check codes,
//! resend, cancel, and build the trusted result. Handlers in `http/` are thin wrappers around these.

use realname_core::envelope::{self, EnvelopeError};
use realname_core::protocol::{
    AgeBand, ClientSessionView, CodePayload, CodeSentResponse, CreateSessionResponse, DocumentKind, Envelope,
    ErrorCode, EventType, IdentityPayload, Method, PROTOCOL_VERSION, ResultClaims, SessionResult, SessionStatus,
    Step, VerifiedResponse,
};
use realname_core::validate::{self, Date, Options};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

use crate::clock::UnixMillis;
use crate::codes;
use crate::delivery::{Channel, CodeMessage};
use crate::error::{ApiError, ApiResult};
use crate::review::Reason;
use crate::sites::{Site, hash_secret};
use crate::state::AppState;
use crate::store::{self, Consent, NewCode, NewSession, Session};
use crate::vault::PlainIdentity;
use crate::webhooks;

/// How long a remembered envelope id is kept beyond the session's end.
const REPLAY_MARGIN_MS: i64 = 3_600_000;

/// The store's status as the protocol's.
pub fn wire_status(s: store::SessionStatus) -> SessionStatus {
    SessionStatus::parse(s.as_str()).unwrap_or(SessionStatus::Failed)
}

fn parse_method(s: &str) -> Option<Method> {
    match s {
        "sms" => Some(Method::Sms),
        "email" => Some(Method::Email),
        "documents" => Some(Method::Documents),
        _ => None,
    }
}

/// The methods a session offers. Before the identity step the store's `method` holds the comma-separated
/// subset the site asked for (or nothing: every method the site enabled); afterwards the chosen one.
pub fn offered_methods(session: &Session, site: &Site) -> Vec<Method> {
    match session.method.as_deref() {
        Some(list) => list.split(',').filter_map(parse_method).collect(),
        None => site.cfg.methods.clone(),
    }
}

fn secs(ms: UnixMillis) -> i64 {
    ms.div_euclid(1000)
}

/// Creates a session for `site` offering `methods` (default: all the site enabled).
pub async fn create(
    state: &AppState,
    site: &Site,
    methods: Option<Vec<Method>>,
    reference: Option<String>,
) -> ApiResult<CreateSessionResponse> {
    if !site.cfg.enabled {
        return Err(ErrorCode::SiteDisabled.into());
    }
    let methods = match methods {
        None => site.cfg.methods.clone(),
        Some(m) if m.is_empty() || !m.iter().all(|x| site.enables(*x)) => return Err(ErrorCode::MethodNotEnabled.into()),
        Some(mut m) => {
            m.dedup();
            m
        }
    };
    if methods.is_empty() {
        return Err(ErrorCode::MethodNotEnabled.into());
    }
    if let Some(r) = &reference
        && (r.is_empty() || r.chars().count() > 128 || r.chars().any(char::is_control)) {
            return Err(ApiError::new(ErrorCode::BadRequest).with_message("reference must be 1 to 128 printable characters."));
        }
    let now = state.clock.now_ms();
    let id = format!("ses_{}", state.rng.token(16));
    let client_secret = format!("cs_{}", state.rng.token(32));
    let s = &state.cfg.session;
    let new = NewSession {
        id: id.clone(),
        site_id: site.cfg.id.clone(),
        reference,
        client_secret_hash: hash_secret(&client_secret).to_vec(),
        client_secret_expires_at: now + s.client_secret_ttl_secs * 1000,
        method: (methods != site.cfg.methods)
            .then(|| methods.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(",")),
        created_at: now,
        expires_at: now + s.session_ttl_secs * 1000,
    };
    state.store.create_session(&new).await?;
    tracing::info!(session = %id, site = %site.cfg.id, "session created");
    Ok(CreateSessionResponse {
        session_id: id,
        client_secret,
        expires_at: secs(new.client_secret_expires_at),
        methods,
        protocol: PROTOCOL_VERSION,
    })
}

/// What a widget call is allowed to touch once authenticated.
pub struct ClientCtx<'a> {
    /// The session.
    pub session: Session,
    /// Its site.
    pub site: &'a Site,
}

/// Authenticates a widget call: session exists, the client secret matches (constant time), the Origin is
/// allowed for the session's site, and — for calls that change something (`mutating`) — the secret is not
/// used up or expired and the session not expired.
pub async fn authenticate_client<'a>(
    state: &'a AppState,
    session_id: &str,
    client_secret: Option<&str>,
    origin: Option<&str>,
    mutating: bool,
) -> ApiResult<ClientCtx<'a>> {
    let session = state.store.session(session_id).await?;
    let given = hash_secret(client_secret.unwrap_or(""));
    let Some(session) = session else {
        return Err(ErrorCode::Unauthorized.into());
    };
    if client_secret.is_none() || !bool::from(session.client_secret_hash.as_slice().ct_eq(&given)) {
        return Err(ErrorCode::Unauthorized.into());
    }
    let site = state.sites.by_id(&session.site_id).ok_or(ErrorCode::Unauthorized)?;
    match origin {
        Some(o) if site.allows_origin(o) => {}
        _ => return Err(ErrorCode::ForbiddenOrigin.into()),
    }
    let now = state.clock.now_ms();
    if mutating {
        if session.client_secret_used || session.status.is_terminal() {
            return Err(ErrorCode::ClientSecretUsed.into());
        }
        if now >= session.client_secret_expires_at {
            return Err(ErrorCode::ClientSecretExpired.into());
        }
        if now >= session.expires_at {
            let mut expired = session.clone();
            expired.status = store::SessionStatus::Expired;
            expired.updated_at = now;
            let _ = state.store.update_session(&expired).await;
            return Err(ErrorCode::SessionExpired.into());
        }
    }
    Ok(ClientCtx { session, site })
}

/// The widget's view of its session.
pub async fn client_view(state: &AppState, ctx: &ClientCtx<'_>) -> ApiResult<ClientSessionView> {
    let s = &ctx.session;
    let mut view = ClientSessionView {
        session_id: s.id.clone(),
        status: wire_status(s.status),
        methods: offered_methods(s, ctx.site),
        expires_at: secs(s.client_secret_expires_at),
        destination: None,
        resend_available_at: None,
    };
    if let Some(code) = state.store.latest_code(&s.id).await? {
        view.resend_available_at = Some(secs(code.sent_at + state.cfg.codes.resend_cooldown_secs * 1000));
        view.destination = destination(state, s).map(|(_, _, masked)| masked);
    }
    Ok(view)
}

fn open_step<T: DeserializeOwned>(state: &AppState, session_id: &str, env: &Envelope, step: Step) -> ApiResult<T> {
    let now = state.clock.now_ms();
    let plain = {
        let keys = state.keys();
        envelope::open_with(keys.hpke_usable(now, state.hpke_grace_ms()), env, session_id, step)
    };
    let plain = plain.map_err(|e| match e {
        EnvelopeError::Malformed => ErrorCode::EnvelopeMalformed,
        EnvelopeError::UnknownKid => ErrorCode::UnknownKid,
        EnvelopeError::Invalid | EnvelopeError::Seal => ErrorCode::EnvelopeInvalid,
    })?;
    serde_json::from_slice(&plain).map_err(|_| ErrorCode::PayloadInvalid.into())
}

async fn remember(state: &AppState, session: &Session, env: &Envelope) -> ApiResult<()> {
    let id = Sha256::digest(env.enc.as_bytes());
    let first = state.store.remember_envelope(&session.id, &id, session.expires_at + REPLAY_MARGIN_MS).await?;
    if first { Ok(()) } else { Err(ErrorCode::EnvelopeReplayed.into()) }
}

fn issue_reason(code: &impl serde::Serialize) -> String {
    serde_json::to_value(code).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_else(|| "invalid".into())
}

/// The re-validated identity: normalized values and what the number tells.
struct Checked {
    plain: PlainIdentity,
    kind: DocumentKind,
    destination: String,
    channel: Channel,
    /// Why the identity needs a reviewer, from the number alone (a child, an unknown region code).
    flags: Vec<Reason>,
}

/// What the number says that a reviewer must look at (issue 5): a child under 14 (PIPL art. 31: their data is
/// sensitive and needs a guardian's consent) and a region or nationality code not in the table (a soft warning in
/// the browser). 14–17-year-olds consent themselves and are not flagged.
fn number_flags(id: &validate::IdCheck) -> Vec<Reason> {
    let mut flags = Vec::new();
    if id.under_14 == Some(true) {
        flags.push(Reason::Minor);
    }
    let unknown = |i: &validate::Issue| matches!(i.code, validate::IssueCode::UnknownRegion | validate::IssueCode::UnknownNationality);
    if id.warnings.iter().any(unknown) {
        flags.push(Reason::UnknownRegion);
    }
    flags
}

/// A consent record is present, names a version and was given recently (not in the future).
fn consent_ok(c: Option<&realname_core::protocol::Consent>, now: UnixMillis) -> bool {
    c.is_some_and(|c| {
        !c.version.trim().is_empty()
            && c.version.chars().count() <= 64
            && c.accepted_at * 1000 <= now + 300_000
            && c.accepted_at * 1000 >= now - 86_400_000
    })
}

/// Re-validates an identity. `documents` is true for the documents step, which has no phone or email.
fn check_identity(p: &IdentityPayload, site: &Site, offered: &[Method], now: UnixMillis, documents: bool) -> ApiResult<Checked> {
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
        return Err(ApiError::invalid("name", &issue_reason(&issue.code)));
    }
    let today = Date::from_unix_millis(now as f64);
    let id = validate::validate_id(&p.number, &Options::new(today).kind(p.document_kind));
    if let Some(issue) = id.errors.first() {
        return Err(ApiError::invalid("number", &issue_reason(&issue.code)));
    }
    if id.kind != p.document_kind {
        // A resident-ID field holding a residence permit number: the validator says what it is.
        return Err(ApiError::invalid("document_kind", "kind_mismatch"));
    }
    let flags = number_flags(&id);
    if flags.contains(&Reason::Minor) && !consent_ok(p.guardian_consent.as_ref(), now) {
        return Err(ApiError::new(ErrorCode::ConsentRequired)
            .with_message("A parent's or guardian's consent is required for a child under 14."));
    }
    let (destination, phone, email) = match channel {
        _ if documents => (String::new(), None, None),
        Channel::Sms => {
            let c = validate::validate_phone(p.phone.as_deref().unwrap_or(""));
            if let Some(issue) = c.errors.first() {
                return Err(ApiError::invalid("phone", &issue_reason(&issue.code)));
            }
            (c.normalized.clone(), Some(c.normalized), None)
        }
        Channel::Email => {
            let c = validate::validate_email(p.email.as_deref().unwrap_or(""));
            if let Some(issue) = c.errors.first() {
                return Err(ApiError::invalid("email", &issue_reason(&issue.code)));
            }
            (c.normalized.clone(), None, Some(c.normalized))
        }
    };
    let plain = PlainIdentity { name: name.normalized, id_number: id.normalized, phone, email };
    Ok(Checked { plain, kind: id.kind, destination, channel, flags })
}

/// The decrypted destination of a session: (channel, plaintext, masked).
fn destination(state: &AppState, s: &Session) -> Option<(Channel, String, String)> {
    let sealed = s.identity.as_ref()?;
    let plain = state.vault.open_identity(&s.id, sealed).ok()?;
    match (plain.phone, plain.email) {
        (Some(p), _) => {
            let m = validate::mask_phone(&p);
            Some((Channel::Sms, p, m))
        }
        (None, Some(e)) => {
            let m = validate::mask_email(&e);
            Some((Channel::Email, e, m))
        }
        _ => None,
    }
}

/// Generates, stores (as HMAC) and delivers a new code; the store invalidates the previous one.
async fn send_code(
    state: &AppState,
    session: &Session,
    channel: Channel,
    to: &str,
    to_masked: &str,
    client_ip: &str,
) -> ApiResult<CodeSentResponse> {
    let now = state.clock.now_ms();
    codes::check_send_limits(state, &session.id, to, client_ip, now).await?;
    let code = codes::generate(state.rng.as_ref());
    let code_mac = codes::mac(state.keys().code_key(), &session.id, &code);
    let ttl_ms = state.cfg.codes.ttl_secs * 1000;
    let channel_name = if channel == Channel::Sms { "sms" } else { "email" };
    state
        .store
        .issue_code(&NewCode {
            session_id: session.id.clone(),
            code_hmac: code_mac,
            channel: channel_name.into(),
            sent_at: now,
            expires_at: now + ttl_ms,
        })
        .await?;
    let msg = CodeMessage {
        channel,
        to: to.to_owned(),
        to_masked: to_masked.to_owned(),
        code,
        ttl_minutes: u32::try_from((ttl_ms / 60_000).max(1)).unwrap_or(5),
    };
    let sender = state.delivery.for_channel(channel);
    if let Err(e) = sender.send(&msg).await {
        tracing::warn!(session = %session.id, provider = sender.name(), to = %to_masked, error = %e, "code delivery failed");
        return Err(ErrorCode::DeliveryFailed.into());
    }
    tracing::info!(session = %session.id, provider = sender.name(), to = %to_masked, "code sent");
    state.metrics.code_sent(if channel == Channel::Sms { "sms" } else { "email" });
    Ok(CodeSentResponse {
        status: SessionStatus::CodeSent,
        method: if channel == Channel::Sms { Method::Sms } else { Method::Email },
        destination: to_masked.to_owned(),
        code_expires_at: secs(now + ttl_ms),
        resend_available_at: secs(now + state.cfg.codes.resend_cooldown_secs * 1000),
    })
}

/// Moves the session to `CodeSent` after a successful send (unless it already is).
async fn mark_code_sent(state: &AppState, session: &mut Session) -> ApiResult<()> {
    if session.status != store::SessionStatus::CodeSent {
        session.status = store::SessionStatus::CodeSent;
        session.updated_at = state.clock.now_ms();
        *session = state.store.update_session(session).await?;
    }
    Ok(())
}

/// The identity step: open, re-validate, refuse missing consent, store sealed, send a code.
pub async fn submit_identity(
    state: &AppState,
    mut ctx: ClientCtx<'_>,
    env: &Envelope,
    client_ip: &str,
) -> ApiResult<CodeSentResponse> {
    // Everything that can refuse bad input runs before anything is written, so refusals change nothing.
    let payload: IdentityPayload = open_step(state, &ctx.session.id, env, Step::Identity)?;
    let now = state.clock.now_ms();
    let checked = check_identity(&payload, ctx.site, &offered_methods(&ctx.session, ctx.site), now, false)?;
    remember(state, &ctx.session, env).await?;
    if ctx.session.status != store::SessionStatus::Created {
        return Err(ErrorCode::WrongStep.into());
    }
    // An identity already bound to the site's maximum of accounts still proves its phone or email; the code
    // step then sends it to a reviewer instead of verifying it (issue 5).
    let blind = state.vault.blind_id_number(&checked.plain.id_number);
    let sealed = state.vault.seal_identity(&ctx.session.id, &checked.plain).map_err(|e| ApiError::internal(&e))?;
    let masked = match checked.channel {
        Channel::Sms => validate::mask_phone(&checked.destination),
        Channel::Email => validate::mask_email(&checked.destination),
    };
    let s = &mut ctx.session;
    s.status = store::SessionStatus::Submitted;
    s.method = Some(payload.method.as_str().to_owned());
    s.document_kind = Some(checked.kind.as_str().to_owned());
    s.consent = payload.consent.as_ref().map(|c| Consent { version: c.version.clone(), at: c.accepted_at * 1000 });
    s.identity = Some(sealed);
    s.blind_index = Some(blind);
    s.updated_at = now;
    ctx.session = state.store.update_session(&ctx.session).await?;
    record_guardian_consent(state, &ctx.session, &checked, payload.guardian_consent.as_ref()).await?;
    tracing::info!(session = %ctx.session.id, method = payload.method.as_str(), kind = checked.kind.as_str(), "identity accepted");
    let sent = send_code(state, &ctx.session, checked.channel, &checked.destination, &masked, client_ip).await?;
    mark_code_sent(state, &mut ctx.session).await?;
    webhooks::enqueue(state, &ctx.session, ctx.site, EventType::CodeSent).await?;
    Ok(sent)
}

/// Sends a new code to the same destination, invalidating the previous one (cooldown and limits apply).
pub async fn resend(state: &AppState, mut ctx: ClientCtx<'_>, client_ip: &str) -> ApiResult<CodeSentResponse> {
    if !matches!(ctx.session.status, store::SessionStatus::CodeSent | store::SessionStatus::Submitted) {
        return Err(ErrorCode::WrongStep.into());
    }
    let now = state.clock.now_ms();
    if let Some(last) = state.store.latest_code(&ctx.session.id).await? {
        let ready = last.sent_at + state.cfg.codes.resend_cooldown_secs * 1000;
        if now < ready {
            return Err(ApiError::retry(ErrorCode::ResendCooldown, u64::try_from((ready - now + 999) / 1000).unwrap_or(1)));
        }
    }
    let (channel, to, masked) = destination(state, &ctx.session).ok_or_else(|| ApiError::internal(&"identity missing"))?;
    let sent = send_code(state, &ctx.session, channel, &to, &masked, client_ip).await?;
    mark_code_sent(state, &mut ctx.session).await?;
    Ok(sent)
}

async fn fail_session(state: &AppState, session: &mut Session, site: &Site, reason: &str) -> ApiResult<()> {
    session.status = store::SessionStatus::Failed;
    session.failure = Some(reason.to_owned());
    session.client_secret_used = true;
    session.updated_at = state.clock.now_ms();
    match state.store.update_session(session).await {
        Ok(s) => *session = s,
        // Someone else finished it meanwhile: nothing more to do.
        Err(store::StoreError::Conflict) => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    webhooks::enqueue(state, session, site, EventType::Failed).await
}

/// The code step: count the attempt, compare in constant time, verify or refuse.
pub async fn submit_code(state: &AppState, mut ctx: ClientCtx<'_>, env: &Envelope) -> ApiResult<VerifiedResponse> {
    let payload: CodePayload = open_step(state, &ctx.session.id, env, Step::Code)?;
    let code = codes::normalize(&payload.code).ok_or(ErrorCode::PayloadInvalid)?;
    if ctx.session.status != store::SessionStatus::CodeSent {
        return Err(ErrorCode::WrongStep.into());
    }
    // A replayed code envelope is refused before it could count as an attempt.
    remember(state, &ctx.session, env).await?;
    let now = state.clock.now_ms();
    let max = state.cfg.codes.max_attempts;
    let stored = match state.store.take_code_attempt(&ctx.session.id, max, now).await? {
        store::CodeAttempt::Check(c) => c,
        store::CodeAttempt::Expired => return Err(ErrorCode::CodeExpired.into()),
        store::CodeAttempt::TooManyAttempts => {
            fail_session(state, &mut ctx.session, ctx.site, "code_locked").await?;
            return Err(ErrorCode::CodeLocked.into());
        }
        store::CodeAttempt::NoCode | store::CodeAttempt::Used => return Err(ErrorCode::WrongStep.into()),
    };
    if !codes::matches(state.keys().code_key(), &ctx.session.id, &code, &stored.code_hmac) {
        let left = max.saturating_sub(stored.attempts);
        tracing::info!(session = %ctx.session.id, attempts_left = left, "wrong code");
        if left == 0 {
            fail_session(state, &mut ctx.session, ctx.site, "code_locked").await?;
            return Err(ErrorCode::CodeLocked.into());
        }
        let mut e = ApiError::new(ErrorCode::CodeInvalid);
        e.attempts_left = Some(left);
        return Err(e);
    }
    if !state.store.consume_code(stored.id, now).await? {
        return Err(ErrorCode::CodeExpired.into());
    }
    let mut flags = stored_flags(state, &ctx.session, now)?;
    let limit = ctx.site.cfg.max_accounts_per_identity;
    if limit > 0 {
        let account = ctx.session.reference.clone().unwrap_or_else(|| ctx.session.id.clone());
        let blind = ctx.session.blind_index.clone().unwrap_or_default();
        // Re-verifying an account already bound is fine; a new account over the limit goes to a reviewer.
        // A case flagged otherwise is bound only if a reviewer approves it (a rejection must not take a slot).
        if flags.is_empty() {
            if !state.store.bind_identity(&ctx.site.cfg.id, &blind, &account, limit, now).await? {
                flags.push(Reason::MaxAccounts);
            }
        } else if state.store.identity_bindings(&ctx.site.cfg.id, &blind).await? >= limit {
            flags.push(Reason::MaxAccounts);
        }
    }
    if !flags.is_empty() {
        let due = queue_for_review(state, &mut ctx.session, &flags, Vec::new(), now).await?;
        return Ok(VerifiedResponse { status: SessionStatus::PendingReview, result_token: None, review_due: Some(due) });
    }
    let s = &mut ctx.session;
    s.status = store::SessionStatus::Verified;
    s.verified_at = Some(now);
    s.client_secret_used = true;
    s.updated_at = now;
    ctx.session = state.store.update_session(&ctx.session).await?;
    tracing::info!(session = %ctx.session.id, site = %ctx.site.cfg.id, "session verified");
    webhooks::enqueue(state, &ctx.session, ctx.site, EventType::Verified).await?;
    let result = session_result(state, &ctx.session, ctx.site)?;
    let token = result.result_token.ok_or_else(|| ApiError::internal(&"no token for a verified session"))?;
    Ok(VerifiedResponse { status: SessionStatus::Verified, result_token: Some(token), review_due: None })
}

/// The flags of the identity a session holds (re-read from its sealed record at the code step).
fn stored_flags(state: &AppState, s: &Session, now: UnixMillis) -> ApiResult<Vec<Reason>> {
    let sealed = s.identity.as_ref().ok_or_else(|| ApiError::internal(&"identity missing"))?;
    let plain = state.vault.open_identity(&s.id, sealed).map_err(|e| ApiError::internal(&e))?;
    let mut opts = Options::new(Date::from_unix_millis(now as f64));
    if let Some(kind) = s.document_kind.as_deref().and_then(DocumentKind::from_name) {
        opts = opts.kind(kind);
    }
    Ok(number_flags(&validate::validate_id(&plain.id_number, &opts)))
}

/// Moves a session to `pending_review` and queues its case; returns the due instant (RFC 3339, UTC).
async fn queue_for_review(
    state: &AppState,
    session: &mut Session,
    reasons: &[Reason],
    images: Vec<crate::review::PlainImage>,
    now: UnixMillis,
) -> ApiResult<String> {
    use axum::extract::FromRef as _;
    session.status = store::SessionStatus::PendingReview;
    session.updated_at = now;
    *session = state.store.update_session(session).await?;
    let case = crate::review::Reviews::from_ref(state)
        .enqueue(session, reasons, images)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let names: Vec<&str> = reasons.iter().map(|r| r.as_str()).collect();
    tracing::info!(session = %session.id, case = %case.id, reasons = %names.join(","), "queued for review");
    Ok(crate::delivery::utc_datetime(case.due_at.div_euclid(1000)).0)
}

/// Keeps the guardian's consent of a child's identity as an audit entry (its version and time, nothing personal).
async fn record_guardian_consent(
    state: &AppState,
    session: &Session,
    checked: &Checked,
    consent: Option<&realname_core::protocol::Consent>,
) -> ApiResult<()> {
    use axum::extract::FromRef as _;
    let (Some(c), true) = (consent, checked.flags.contains(&Reason::Minor)) else {
        return Ok(());
    };
    let event = crate::audit::Event::new("person", "session.guardian_consent", format!("session:{}", session.id))
        .site(&session.site_id)
        .detail("version", &c.version)
        .detail("accepted_at", c.accepted_at.to_string());
    crate::review::Reviews::from_ref(state).audit(event).await.map_err(|e| ApiError::internal(&e))
}

/// Cancels an unfinished session.
pub async fn cancel(state: &AppState, mut session: Session, site: &Site) -> ApiResult<SessionStatus> {
    if session.status.is_terminal() {
        return Err(ErrorCode::WrongStep.into());
    }
    session.status = store::SessionStatus::Canceled;
    session.client_secret_used = true;
    session.updated_at = state.clock.now_ms();
    let session = state.store.update_session(&session).await?;
    webhooks::enqueue(state, &session, site, EventType::Canceled).await?;
    Ok(SessionStatus::Canceled)
}

/// The site's view of a session, with a fresh result token when verified. Only masked values.
pub fn session_result(state: &AppState, s: &Session, site: &Site) -> ApiResult<SessionResult> {
    let mut r = SessionResult {
        session_id: s.id.clone(),
        site: s.site_id.clone(),
        status: wire_status(s.status),
        reference: s.reference.clone(),
        method: s.method.as_deref().and_then(parse_method).filter(|_| s.status != store::SessionStatus::Created),
        document_kind: s.document_kind.as_deref().and_then(DocumentKind::from_name),
        created_at: secs(s.created_at),
        verified_at: s.verified_at.map(secs),
        masked_name: None,
        masked_number: None,
        age_band: None,
        result_token: None,
    };
    if let Some(sealed) = &s.identity {
        let plain = state.vault.open_identity(&s.id, sealed).map_err(|e| ApiError::internal(&e))?;
        r.masked_name = Some(validate::mask_name(&plain.name));
        r.masked_number = Some(validate::mask_id(&plain.id_number));
        let today = Date::from_unix_millis(state.clock.now_ms() as f64);
        let mut opts = Options::new(today);
        opts.kind = r.document_kind;
        r.age_band = validate::validate_id(&plain.id_number, &opts).age.map(AgeBand::from_age);
    }
    // Once the identity data is erased (on request or by retention) the status stays, with nothing left to vouch for.
    if s.status == store::SessionStatus::Verified && s.identity.is_some() {
        r.result_token = Some(result_token(state, &r, site)?);
    }
    Ok(r)
}

fn result_token(state: &AppState, r: &SessionResult, site: &Site) -> ApiResult<String> {
    let now = state.clock.now_secs();
    let (Some(method), Some(kind), Some(name), Some(number), Some(verified_at)) =
        (r.method, r.document_kind, r.masked_name.clone(), r.masked_number.clone(), r.verified_at)
    else {
        return Err(ApiError::internal(&"verified session lacks identity facts"));
    };
    let claims = ResultClaims {
        iss: state.cfg.server.public_url.clone(),
        sub: r.session_id.clone(),
        aud: site.cfg.id.clone(),
        iat: now,
        exp: now + state.cfg.session.token_ttl_secs,
        jti: format!("rt_{}", state.rng.token(12)),
        session_id: r.session_id.clone(),
        site: site.cfg.id.clone(),
        status: SessionStatus::Verified,
        method,
        document_kind: kind,
        verified_at,
        masked_name: name,
        masked_number: number,
        age_band: r.age_band,
        reference: r.reference.clone(),
    };
    let keys = state.keys();
    let (kid, key) = keys.token_signer().ok_or_else(|| ApiError::internal(&"no token key"))?;
    Ok(crate::tokens::sign(kid, key, &claims))
}

fn jpeg(field: &str, b64: &str) -> ApiResult<crate::review::PlainImage> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(b64.trim_end_matches('=').as_bytes())
        .map_err(|_| ApiError::invalid(field, "not_base64url"))?;
    if bytes.len() > crate::review::MAX_IMAGE_BYTES {
        return Err(ApiError::invalid(field, "too_large"));
    }
    if !bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Err(ApiError::invalid(field, "not_jpeg"));
    }
    let kind = if field == "selfie_jpeg" { "face" } else { "id_front" };
    Ok(crate::review::PlainImage { kind: kind.into(), content_type: "image/jpeg".into(), bytes })
}

/// The documents step: identity plus selfie and document photo, re-validated, stored sealed, queued for a
/// reviewer (due in five working days by default).
pub async fn submit_documents(
    state: &AppState,
    mut ctx: ClientCtx<'_>,
    env: &Envelope,
) -> ApiResult<realname_core::protocol::DocumentsResponse> {
    let payload: realname_core::protocol::DocumentsPayload = open_step(state, &ctx.session.id, env, Step::Documents)?;
    let now = state.clock.now_ms();
    let checked = check_identity(&payload.identity, ctx.site, &offered_methods(&ctx.session, ctx.site), now, true)?;
    if !consent_ok(Some(&payload.face_consent), now) {
        return Err(ApiError::new(ErrorCode::ConsentRequired).with_message("A separate consent to the face image is required."));
    }
    let images = vec![jpeg("selfie_jpeg", &payload.selfie_jpeg)?, jpeg("document_jpeg", &payload.document_jpeg)?];
    remember(state, &ctx.session, env).await?;
    if ctx.session.status != store::SessionStatus::Created {
        return Err(ErrorCode::WrongStep.into());
    }
    let blind = state.vault.blind_id_number(&checked.plain.id_number);
    let mut reasons = vec![Reason::Document];
    reasons.extend(checked.flags.iter().copied());
    let limit = ctx.site.cfg.max_accounts_per_identity;
    if limit > 0 && state.store.identity_bindings(&ctx.site.cfg.id, &blind).await? >= limit {
        reasons.push(Reason::MaxAccounts);
    }
    let sealed = state.vault.seal_identity(&ctx.session.id, &checked.plain).map_err(|e| ApiError::internal(&e))?;
    let s = &mut ctx.session;
    s.method = Some(Method::Documents.as_str().to_owned());
    s.document_kind = Some(checked.kind.as_str().to_owned());
    s.consent = payload.identity.consent.as_ref().map(|c| Consent { version: c.version.clone(), at: c.accepted_at * 1000 });
    s.identity = Some(sealed);
    s.blind_index = Some(blind);
    let due = queue_for_review(state, &mut ctx.session, &reasons, images, now).await?;
    record_guardian_consent(state, &ctx.session, &checked, payload.identity.guardian_consent.as_ref()).await?;
    Ok(realname_core::protocol::DocumentsResponse { status: SessionStatus::PendingReview, review_due: due })
}
