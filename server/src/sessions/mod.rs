//! The verification flow on the server: create a session, accept the sealed identity, send and check codes,
//! resend, cancel, and build the trusted result. Handlers in `http/` are thin wrappers around these.

use realname_core::envelope::{self, EnvelopeError};
use realname_core::protocol::{
    AgeBand, ClientSessionView, CreateSessionResponse, DocumentKind, Envelope, ErrorCode, EventType, Method,
    PROTOCOL_VERSION, ResultClaims, SessionResult, SessionStatus, Step,
};
use realname_core::validate::{self, Date, Options};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

use crate::delivery::Channel;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::webhooks;
use realname_domain::audit::flow as audit;
use realname_domain::clock::UnixMillis;
use realname_domain::lifecycle::SessionEvent;
use realname_domain::session::{Methods, NewSession, Session};
use realname_domain::sites::{Site, hash_secret};
use realname_store as store;

mod code;
mod identity;
mod send;

/// Base64's 64 characters in ASCII order, so that encoded numbers sort as the numbers do.
const SORTABLE: &[u8; 64] = b"-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

/// A new session id: `ses_`, the creation time (Unix ms in 8 characters of [`SORTABLE`]) and 96 random bits
/// (16 base64url characters). Ids made later sort later, so the indexes keyed by session id (sessions, codes,
/// the replay guard, audit subjects) grow at their end instead of taking a random page per step: measured on
/// SQLite, those random pages were a third of what each COMMIT wrote to the WAL. The id stays unguessable; it
/// tells only when the session was created.
pub(crate) fn session_id(now: UnixMillis, rng: &dyn realname_domain::clock::Random) -> String {
    let ms = u64::try_from(now).unwrap_or(0);
    let mut id = String::with_capacity(28);
    id.push_str("ses_");
    id.extend((0..8).rev().map(|i| char::from(SORTABLE[((ms >> (6 * i)) & 63) as usize])));
    id.push_str(&rng.token(12));
    id
}

pub use code::submit_code;
pub use identity::{submit_documents, submit_identity};
pub use send::resend;

/// How long a remembered envelope id is kept beyond the session's end.
const REPLAY_MARGIN_MS: i64 = 3_600_000;

/// The methods a session offers: the subset the site asked for or every method it enabled, and after the
/// identity step the chosen one.
pub fn offered_methods(session: &Session, site: &Site) -> Vec<Method> {
    match &session.methods {
        Methods::SiteDefault => site.cfg.methods.clone(),
        Methods::Offered(list) => list.clone(),
        Methods::Chosen(m) => vec![*m],
    }
}

pub(crate) fn secs(ms: UnixMillis) -> i64 {
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
        Some(m) if m.is_empty() || !m.iter().all(|x| site.enables(*x)) => {
            return Err(ErrorCode::MethodNotEnabled.into());
        }
        Some(mut m) => {
            m.dedup();
            m
        }
    };
    if methods.is_empty() {
        return Err(ErrorCode::MethodNotEnabled.into());
    }
    if let Some(r) = &reference
        && (r.is_empty() || r.chars().count() > 128 || r.chars().any(char::is_control))
    {
        return Err(
            ApiError::new(ErrorCode::BadRequest).with_message("reference must be 1 to 128 printable characters.")
        );
    }
    let now = state.clock.now_ms();
    let id = session_id(now, state.rng.as_ref());
    let client_secret = format!("cs_{}", state.rng.token(32));
    let s = &state.cfg.session;
    let new = NewSession {
        id: id.clone(),
        site_id: site.cfg.id.clone(),
        reference,
        client_secret_hash: hash_secret(&client_secret).to_vec(),
        client_secret_expires_at: now + s.client_secret_ttl_secs * 1000,
        methods: if methods == site.cfg.methods { Methods::SiteDefault } else { Methods::Offered(methods.clone()) },
        created_at: now,
        expires_at: now + s.session_ttl_secs * 1000,
    };
    let listed = methods.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(",");
    let mut tx = state.store.begin_write().await?;
    tx.create_session_at_commit(&new).await?;
    tx.audit_pending(now, &[audit::created(&id, &site.cfg.id, &listed)]).await?;
    tx.commit().await?;
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
/// allowed for the session's site, and the secret still works (sections 2.1 and 4.10 of docs/protocol.md): a
/// session past its lifetime answers `410 session_expired` (whether or not the sweep has stored it yet), a finished
/// one `401 client_secret_used`, a secret past its own lifetime `401 client_secret_expired`. Calls that change
/// something (`mutating`) also store the expiry they notice, with its audit event; reads change nothing.
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
    if session.as_of(now).status == SessionStatus::Expired {
        if mutating && session.status != SessionStatus::Expired {
            expire(state, &session, now).await;
        }
        return Err(ErrorCode::SessionExpired.into());
    }
    if session.client_secret_used || session.status.is_terminal() {
        return Err(ErrorCode::ClientSecretUsed.into());
    }
    if now >= session.client_secret_expires_at {
        return Err(ErrorCode::ClientSecretExpired.into());
    }
    Ok(ClientCtx { session, site })
}

/// Marks a session a request found past its end expired, with its audit event; best effort (the purge sweep
/// expires it otherwise).
async fn expire(state: &AppState, session: &Session, now: UnixMillis) {
    let mut expired = session.clone();
    if expired.apply(SessionEvent::Expired, now).is_err() {
        return;
    }
    let Ok(mut tx) = state.store.begin_write().await else { return };
    if tx.update_session(&expired).await.is_ok()
        && tx.audit_pending(now, &[audit::expired(&session.id, &session.site_id, "request")]).await.is_ok()
    {
        let _ = tx.commit().await;
    }
}

/// The widget's view of its session.
pub async fn client_view(state: &AppState, ctx: &ClientCtx<'_>) -> ApiResult<ClientSessionView> {
    let s = &ctx.session;
    let mut view = ClientSessionView {
        session_id: s.id.clone(),
        status: s.status,
        methods: offered_methods(s, ctx.site),
        expires_at: secs(s.client_secret_expires_at),
        destination: None,
        resend_available_at: None,
        resend_in: None,
        code_expires_in: None,
        attempts_left: None,
    };
    if let Some(code) = state.store.latest_code(&s.id).await? {
        let ready = code.sent_at + state.cfg.codes.resend_cooldown_secs * 1000;
        view.resend_available_at = Some(secs(ready));
        // Durations as well as instants: the widget counts down without trusting the browser's clock.
        let now = state.clock.now_ms();
        let left = |at: i64| ((at - now).max(0) + 999) / 1000;
        view.resend_in = Some(left(ready));
        view.destination = destination(state, s).map(|(_, _, masked)| masked);
        if code.state == store::CodeState::Active {
            view.code_expires_in = Some(left(code.expires_at));
            view.attempts_left = Some(state.cfg.codes.max_attempts.saturating_sub(code.attempts));
        }
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

/// What the replay guard remembers of an envelope: the hash of its HPKE `enc` (fresh for every seal).
fn envelope_id(env: &Envelope) -> [u8; 32] {
    Sha256::digest(env.enc.as_bytes()).into()
}

/// How long the replay guard keeps a session's envelope ids.
fn replay_until(session: &Session) -> UnixMillis {
    session.expires_at + REPLAY_MARGIN_MS
}

/// Refuses an envelope seen before for the session (in its own statement).
async fn remember(state: &AppState, session: &Session, env: &Envelope) -> ApiResult<()> {
    let first = state.store.remember_envelope(&session.id, &envelope_id(env), replay_until(session)).await?;
    if first { Ok(()) } else { Err(ErrorCode::EnvelopeReplayed.into()) }
}

/// Refuses an envelope seen before for the session, inside the step's transaction (checked at its commit at the latest).
async fn remember_in(tx: &mut dyn store::WriteTx, session: &Session, env: &Envelope) -> ApiResult<()> {
    // A replay fails this call, the step's next statement or its commit with `Replayed`: envelope_replayed.
    Ok(tx.remember_envelope_at_commit(&session.id, &envelope_id(env), replay_until(session)).await?)
}

fn issue_reason(code: &impl serde::Serialize) -> String {
    serde_json::to_value(code).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_else(|| "invalid".into())
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

/// Cancels an unfinished session (`by_site`: the site's backend with its secret key, else the widget).
pub async fn cancel(state: &AppState, session: Session, site: &Site, by_site: bool) -> ApiResult<SessionStatus> {
    let now = state.clock.now_ms();
    // As the session stands now: past its lifetime it is expired, finished, even before the sweep stores that.
    let mut session = session.as_of(now).into_owned();
    session.apply(SessionEvent::Canceled, now)?;
    session.client_secret_used = true;
    let mut tx = state.store.begin_write().await?;
    let session = tx.update_session(&session).await?;
    webhooks::enqueue_in(state, tx.as_mut(), &session, site, EventType::Canceled).await?;
    let actor = if by_site { format!("site:{}", site.cfg.id) } else { "person".to_owned() };
    tx.audit_pending(session.updated_at, &[audit::canceled(&session, &actor)]).await?;
    tx.commit().await?;
    webhooks::observe(state, &session, EventType::Canceled);
    Ok(SessionStatus::Canceled)
}

/// What a session's identity shows: masked name and number and the age band, from one decryption.
pub struct Masked {
    /// The masked name.
    pub name: String,
    /// The masked document number.
    pub number: String,
    /// The age band on the day it was opened.
    pub age_band: Option<AgeBand>,
    /// The validator's verdict on the number (for the code step's review flags).
    pub check: validate::IdCheck,
}

/// Decrypts the session's identity once and masks it; `None` once the identity data is erased.
pub fn masked(state: &AppState, s: &Session, now: UnixMillis) -> ApiResult<Option<Masked>> {
    let Some(sealed) = &s.identity else { return Ok(None) };
    let plain = state.vault.open_identity(&s.id, sealed).map_err(|e| ApiError::internal(&e))?;
    let mut opts = Options::new(Date::from_unix_millis(now as f64));
    opts.kind = s.document_kind.as_deref().and_then(DocumentKind::from_name);
    let check = validate::validate_id(&plain.id_number, &opts);
    Ok(Some(Masked {
        name: validate::mask_name(&plain.name),
        number: validate::mask_id(&plain.id_number),
        age_band: check.age.map(AgeBand::from_age),
        check,
    }))
}

/// The site's view of a session as it stands now (see [`Session::as_of`]: past its lifetime unfinished it is
/// expired, without identity data), with a result token issued afresh on every call when verified. Only masked
/// values.
pub fn session_result(state: &AppState, s: &Session, site: &Site) -> ApiResult<SessionResult> {
    let now = state.clock.now_ms();
    let s = &*s.as_of(now);
    let masked = masked(state, s, now)?;
    let mut r = result_of(s, masked.as_ref());
    add_token(state, &mut r, s, site)?;
    Ok(r)
}

/// The site's view of a session from its already masked identity, without a token.
pub fn result_of(s: &Session, masked: Option<&Masked>) -> SessionResult {
    let mut r = SessionResult {
        session_id: s.id.clone(),
        site: s.site_id.clone(),
        status: s.status,
        reference: s.reference.clone(),
        method: s.methods.chosen(),
        document_kind: s.document_kind.as_deref().and_then(DocumentKind::from_name),
        created_at: secs(s.created_at),
        verified_at: s.verified_at.map(secs),
        masked_name: None,
        masked_number: None,
        age_band: None,
        result_token: None,
    };
    if let (Some(_), Some(m)) = (&s.identity, masked) {
        r.masked_name = Some(m.name.clone());
        r.masked_number = Some(m.number.clone());
        r.age_band = m.age_band;
    }
    r
}

/// Signs the result token of a verified session into `r`.
pub fn add_token(state: &AppState, r: &mut SessionResult, s: &Session, site: &Site) -> ApiResult<()> {
    // Once the identity data is erased (on request or by retention) the status stays, with nothing left to vouch for.
    if s.status == SessionStatus::Verified && s.identity.is_some() {
        r.result_token = Some(result_token(state, r, site)?);
    }
    Ok(())
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
    Ok(realname_domain::tokens::sign(kid, key, &claims))
}

#[cfg(test)]
mod tests {
    use super::*;
    use realname_domain::clock::SeededRandom;

    #[test]
    fn session_ids_sort_by_creation_time_and_stay_random() {
        let rng = SeededRandom::new(3);
        let times = [0, 1, 63, 64, 1_735_689_600_000, 1_735_689_600_001, 1_735_689_660_000, 4_102_444_800_000];
        let ids: Vec<String> = times.iter().map(|t| session_id(*t, rng.as_ref())).collect();
        for pair in ids.windows(2) {
            assert!(pair[0] < pair[1], "{} !< {}", pair[0], pair[1]);
        }
        for id in &ids {
            assert_eq!(id.len(), 28);
            assert!(crate::http::is_session_id(id), "{id}");
        }
        // The same millisecond: the random part tells them apart.
        assert_ne!(session_id(5, rng.as_ref()), session_id(5, rng.as_ref()));
    }
}
