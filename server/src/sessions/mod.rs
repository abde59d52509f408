//! The verification flow on the server, as the [`Sessions`] service: create a session, accept the sealed identity
//! or documents, send and check codes, resend, cancel, and build the trusted result. It takes its dependencies
//! explicitly (built once by `state.rs`); handlers in `http/api.rs` extract, call it and map its [`SessionError`].

use std::sync::Arc;

use realname_core::envelope::{self, EnvelopeError};
use realname_core::protocol::{
    CheckNotice, ClientSessionView, CreateSessionResponse, Envelope, ErrorCode, EventType, Method, PROTOCOL_VERSION,
    SessionResult, SessionStatus, Step,
};
use realname_core::validate;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

use crate::codes;
use crate::delivery::{Channel, Delivery};
use crate::keyring::{ServerKeys, VaultKeys};
use crate::metrics::Metrics;
use crate::review::Reviews;
use realname_domain::audit::flow as audit;
use realname_domain::clock::{Clock, Random, UnixMillis};
use realname_domain::config::{CodeConfig, LimitConfig, SessionConfig};
use realname_domain::keys::KeyRing;
use realname_domain::lifecycle::SessionEvent;
use realname_domain::session::{Methods, NewSession, Session};
use realname_domain::sites::{Site, Sites, hash_secret};
use realname_store::{self as store, Store};

mod checks;
mod code;
mod error;
mod events;
mod handoff;
mod identity;
mod result;
mod review;
mod send;

pub use error::{ServiceResult, SessionError};
pub use events::Events;
use result::secs;
pub use result::{Masked, Results, result_of};

/// The session service: every step of a verification, with what it needs and nothing more.
#[derive(Clone)]
pub struct Sessions {
    /// Storage.
    pub store: Arc<dyn Store>,
    /// Field encryption and keyed hashes (reloadable).
    pub vault: VaultKeys,
    /// HPKE and code keys (reloadable).
    pub keys: ServerKeys,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Randomness.
    pub random: Arc<dyn Random>,
    /// Prometheus counters.
    pub metrics: Arc<Metrics>,
    /// Code delivery (SMS, email, the demo outbox).
    pub delivery: Delivery,
    /// The sites, by id and key.
    pub sites: Arc<Sites>,
    /// The review queue, for documents and flagged cases.
    pub reviews: Reviews,
    /// Webhook events and outcome metrics.
    pub events: Events,
    /// The site's view of a session and its token.
    pub results: Results,
    /// The authoritative checks' providers.
    pub checker: crate::checks::Checker,
    /// The settings the steps read.
    pub config: SessionsConfig,
}

/// The parts of the configuration the session service reads.
#[derive(Debug, Clone)]
pub struct SessionsConfig {
    /// Session and token lifetimes.
    pub session: SessionConfig,
    /// One-time code policy.
    pub codes: CodeConfig,
    /// Sending limits.
    pub limits: LimitConfig,
    /// How long a retired HPKE key still opens envelopes, seconds.
    pub hpke_grace_secs: i64,
    /// The checks' timeout and limits.
    pub checks: realname_domain::config::ChecksConfig,
}

/// Who calls a session endpoint: the session in the path, the bearer credential (the client secret, or where the
/// endpoint allows it the site's secret key) and the `Origin` header.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    /// The session id from the path.
    pub session_id: &'a str,
    /// The `Authorization: Bearer` value.
    pub bearer: Option<&'a str>,
    /// The `Origin` header.
    pub origin: Option<&'a str>,
}

/// What a widget call is allowed to touch once authenticated.
pub(crate) struct ClientCtx<'a> {
    /// The session.
    pub session: Session,
    /// Its site.
    pub site: &'a Site,
}

/// Base64's 64 characters in ASCII order, so that encoded numbers sort as the numbers do.
const SORTABLE: &[u8; 64] = b"-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

/// A new session id: `ses_`, the creation time (Unix ms in 8 characters of [`SORTABLE`]) and 96 random bits
/// (16 base64url characters). Ids made later sort later, so the indexes keyed by session id (sessions, codes,
/// the replay guard, audit subjects) grow at their end instead of taking a random page per step: measured on
/// SQLite, those random pages were a third of what each COMMIT wrote to the WAL. The id stays unguessable; it
/// tells only when the session was created.
pub(crate) fn session_id(now: UnixMillis, rng: &dyn Random) -> String {
    let ms = u64::try_from(now).unwrap_or(0);
    let mut id = String::with_capacity(28);
    id.push_str("ses_");
    id.extend((0..8).rev().map(|i| char::from(SORTABLE[((ms >> (6 * i)) & 63) as usize])));
    id.push_str(&rng.token(12));
    id
}

/// How long a remembered envelope id is kept beyond the session's end.
const REPLAY_MARGIN_MS: i64 = 3_600_000;

/// The site's identity checks and their providers, as the session answers name them for the widget's consent.
pub(crate) fn check_notices(site: &Site) -> Vec<CheckNotice> {
    site.cfg.checks.iter().map(|c| CheckNotice { check: c.check, provider: c.provider.clone() }).collect()
}

/// The methods a session offers: the subset the site asked for or every method it enabled, and after the
/// identity step the chosen one.
pub fn offered_methods(session: &Session, site: &Site) -> Vec<Method> {
    match &session.methods {
        Methods::SiteDefault => site.cfg.methods.clone(),
        Methods::Offered(list) => list.clone(),
        Methods::Chosen(m) => vec![*m],
    }
}

impl Sessions {
    /// The key ring as it stands now.
    fn keys(&self) -> Arc<KeyRing> {
        self.keys.current()
    }

    /// The site whose secret key `bearer` is.
    fn site_by_secret(&self, bearer: Option<&str>) -> ServiceResult<&Site> {
        bearer
            .filter(|k| k.starts_with("sk_"))
            .and_then(|k| self.sites.by_secret_key(k))
            .ok_or(SessionError::Refused(ErrorCode::Unauthorized))
    }

    /// Creates a session for the site whose secret key is `bearer` (its backend), offering `methods` (default:
    /// all the site enabled).
    pub async fn create_for_site(
        &self,
        bearer: Option<&str>,
        methods: Option<Vec<Method>>,
        reference: Option<String>,
    ) -> ServiceResult<CreateSessionResponse> {
        let site = self.site_by_secret(bearer)?;
        self.create(site, methods, reference).await
    }

    /// Creates a session from the browser with a site's publishable key (demo sites): the Origin must be the
    /// site's, and each client IP creates a limited number per hour.
    pub async fn create_for_widget(
        &self,
        publishable_key: &str,
        origin: Option<&str>,
        client_ip: &str,
        methods: Option<Vec<Method>>,
    ) -> ServiceResult<CreateSessionResponse> {
        let site = self.sites.by_publishable_key(publishable_key).ok_or(ErrorCode::Unauthorized)?;
        if !origin.is_some_and(|o| site.allows_origin(o)) {
            return Err(ErrorCode::ForbiddenOrigin.into());
        }
        let now = self.clock.now_ms();
        let ip_key = format!("widget-session-ip-h:{}", self.vault.blind_text("rate-ip", client_ip));
        let limit = (ip_key.as_str(), 3_600_000, self.config.limits.widget_sessions_per_ip_hour);
        if let Some(limited) = codes::hit(self.store.as_ref(), &self.metrics, limit, now).await? {
            return Err(SessionError::Limited(limited));
        }
        self.create(site, methods, None).await
    }

    /// Creates a session for `site` offering `methods` (default: all the site enabled).
    async fn create(
        &self,
        site: &Site,
        methods: Option<Vec<Method>>,
        reference: Option<String>,
    ) -> ServiceResult<CreateSessionResponse> {
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
            return Err(SessionError::Explained {
                code: ErrorCode::BadRequest,
                message: "reference must be 1 to 128 printable characters.",
            });
        }
        let now = self.clock.now_ms();
        let id = session_id(now, self.random.as_ref());
        let client_secret = format!("cs_{}", self.random.token(32));
        let s = &self.config.session;
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
        let mut tx = self.store.begin_write().await?;
        tx.create_session_at_commit(&new).await?;
        tx.audit_pending(now, &[audit::created(&id, &site.cfg.id, &listed)]).await?;
        tx.commit().await?;
        tracing::info!(session = %id, site = %site.cfg.id, "session created");
        Ok(CreateSessionResponse {
            session_id: id,
            client_secret,
            expires_at: secs(new.client_secret_expires_at),
            methods,
            checks: check_notices(site),
            protocol: PROTOCOL_VERSION,
        })
    }

    /// The site's view of one of its sessions (`bearer`: its secret key): masked values and, when verified, a
    /// fresh result token.
    pub async fn result_for_site(&self, bearer: Option<&str>, session_id: &str) -> ServiceResult<SessionResult> {
        let site = self.site_by_secret(bearer)?;
        let session = self.site_session(site, session_id).await?;
        self.results.current(&session, site)
    }

    /// One of the site's sessions; another site's answers `not_found` as a missing one does.
    async fn site_session(&self, site: &Site, session_id: &str) -> ServiceResult<Session> {
        let session = self.store.session(session_id).await?;
        Ok(session.filter(|s| s.site_id == site.cfg.id).ok_or(ErrorCode::NotFound)?)
    }

    /// Authenticates a widget call: session exists, the client secret matches (constant time), the Origin is
    /// allowed for the session's site, and the secret still works (sections 2.1 and 4.10 of docs/protocol.md): a
    /// session past its lifetime answers `410 session_expired` (whether or not the sweep has stored it yet), a
    /// finished one `401 client_secret_used`, a secret past its own lifetime `401 client_secret_expired`. Calls that
    /// change something (`mutating`) also store the expiry they notice, with its audit event; reads change nothing.
    pub(crate) async fn authenticate(&self, c: &Caller<'_>, mutating: bool) -> ServiceResult<ClientCtx<'_>> {
        let session = self.store.session(c.session_id).await?;
        let given = hash_secret(c.bearer.unwrap_or(""));
        let Some(session) = session else {
            return Err(ErrorCode::Unauthorized.into());
        };
        if c.bearer.is_none() || !bool::from(session.client_secret_hash.as_slice().ct_eq(&given)) {
            // The secret of a device that handed the session to another (docs/protocol.md 4.13) only follows its
            // status: every step says so, instead of a plain refusal.
            if c.bearer.is_some() && self.store.handoff_watcher(&session.id, &given).await? {
                return Err(ErrorCode::HandedOff.into());
            }
            return Err(ErrorCode::Unauthorized.into());
        }
        let site = self.sites.by_id(&session.site_id).ok_or(ErrorCode::Unauthorized)?;
        match c.origin {
            Some(o) if site.allows_origin(o) => {}
            _ => return Err(ErrorCode::ForbiddenOrigin.into()),
        }
        let now = self.clock.now_ms();
        if session.as_of(now).status == SessionStatus::Expired {
            if mutating && session.status != SessionStatus::Expired {
                self.expire(&session, now).await;
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
    async fn expire(&self, session: &Session, now: UnixMillis) {
        let mut expired = session.clone();
        if expired.apply(SessionEvent::Expired, now).is_err() {
            return;
        }
        let Ok(mut tx) = self.store.begin_write().await else { return };
        if tx.update_session(&expired).await.is_ok()
            && tx.audit_pending(now, &[audit::expired(&session.id, &session.site_id, "request")]).await.is_ok()
        {
            let _ = tx.commit().await;
        }
    }

    /// The widget's view of its session.
    pub async fn client_view(&self, caller: &Caller<'_>) -> ServiceResult<ClientSessionView> {
        let ctx = self.authenticate(caller, false).await?;
        let s = &ctx.session;
        let mut view = ClientSessionView {
            session_id: s.id.clone(),
            status: s.status,
            methods: offered_methods(s, ctx.site),
            checks: check_notices(ctx.site),
            expires_at: secs(s.client_secret_expires_at),
            destination: None,
            resend_available_at: None,
            resend_in: None,
            code_expires_in: None,
            attempts_left: None,
        };
        if let Some(code) = self.store.latest_code(&s.id).await? {
            let ready = code.sent_at + self.config.codes.resend_cooldown_secs * 1000;
            view.resend_available_at = Some(secs(ready));
            // Durations as well as instants: the widget counts down without trusting the browser's clock.
            let now = self.clock.now_ms();
            let left = |at: i64| ((at - now).max(0) + 999) / 1000;
            view.resend_in = Some(left(ready));
            view.destination = self.destination(s)?.map(|(_, _, masked)| masked);
            if code.state == store::CodeState::Active {
                view.code_expires_in = Some(left(code.expires_at));
                view.attempts_left = Some(self.config.codes.max_attempts.saturating_sub(code.attempts));
            }
        }
        Ok(view)
    }

    /// Cancels an unfinished session: by the site's backend (`bearer` its secret key) or by the widget (the
    /// client secret and the Origin).
    pub async fn cancel(&self, caller: &Caller<'_>) -> ServiceResult<SessionStatus> {
        if caller.bearer.is_some_and(|k| k.starts_with("sk_")) {
            let site = self.site_by_secret(caller.bearer)?;
            let session = self.site_session(site, caller.session_id).await?;
            self.cancel_session(session, site, true).await
        } else {
            let ctx = self.authenticate(caller, true).await?;
            self.cancel_session(ctx.session, ctx.site, false).await
        }
    }

    async fn cancel_session(&self, session: Session, site: &Site, by_site: bool) -> ServiceResult<SessionStatus> {
        let now = self.clock.now_ms();
        // As the session stands now: past its lifetime it is expired, finished, even before the sweep stores that.
        let mut session = session.as_of(now).into_owned();
        session.apply(SessionEvent::Canceled, now)?;
        session.client_secret_used = true;
        let mut tx = self.store.begin_write().await?;
        let session = tx.update_session(&session).await?;
        self.events.enqueue_in(tx.as_mut(), &session, site, EventType::Canceled).await?;
        let actor = if by_site { format!("site:{}", site.cfg.id) } else { "person".to_owned() };
        tx.audit_pending(session.updated_at, &[audit::canceled(&session, &actor)]).await?;
        tx.commit().await?;
        self.events.observe(&session, EventType::Canceled);
        Ok(SessionStatus::Canceled)
    }

    /// Opens a step's envelope with the key ring (a retired key within its grace period still opens) and reads
    /// its JSON.
    fn open_step<T: DeserializeOwned>(&self, session_id: &str, env: &Envelope, step: Step) -> ServiceResult<T> {
        let now = self.clock.now_ms();
        let grace_ms = self.config.hpke_grace_secs.saturating_mul(1000);
        let plain = {
            let keys = self.keys();
            envelope::open_with(keys.hpke_usable(now, grace_ms), env, session_id, step)
        };
        let plain = plain.map_err(|e| match e {
            EnvelopeError::Malformed => ErrorCode::EnvelopeMalformed,
            EnvelopeError::UnknownKid => ErrorCode::UnknownKid,
            EnvelopeError::Invalid | EnvelopeError::Seal => ErrorCode::EnvelopeInvalid,
        })?;
        serde_json::from_slice(&plain).map_err(|_| ErrorCode::PayloadInvalid.into())
    }

    /// The refusal of a step sent at a status it does not apply to, found without writing anything (a refused
    /// request leaves no replay-guard row): `envelope_replayed` for an envelope the guard holds, else `wrong_step`.
    async fn wrong_step(&self, session: &Session, env: &Envelope) -> SessionError {
        match self.store.envelope_seen(&session.id, &envelope_id(env)).await {
            Ok(true) => ErrorCode::EnvelopeReplayed.into(),
            Ok(false) => ErrorCode::WrongStep.into(),
            Err(e) => e.into(),
        }
    }

    /// The decrypted destination of a session: (channel, plaintext, masked); `None` without identity data.
    fn destination(&self, s: &Session) -> ServiceResult<Option<(Channel, String, String)>> {
        let Some(sealed) = s.identity.as_ref() else { return Ok(None) };
        let plain = self.vault.open_identity(&s.id, sealed)?;
        Ok(match (plain.phone, plain.email) {
            (Some(p), _) => {
                let m = validate::mask_phone(&p);
                Some((Channel::Sms, p, m))
            }
            (None, Some(e)) => {
                let m = validate::mask_email(&e);
                Some((Channel::Email, e, m))
            }
            _ => None,
        })
    }
}

/// What the replay guard remembers of an envelope: the hash of its HPKE `enc` (fresh for every seal).
fn envelope_id(env: &Envelope) -> [u8; 32] {
    Sha256::digest(env.enc.as_bytes()).into()
}

/// How long the replay guard keeps a session's envelope ids.
fn replay_until(session: &Session) -> UnixMillis {
    session.expires_at + REPLAY_MARGIN_MS
}

/// Refuses an envelope seen before for the session, inside the step's transaction (checked at its commit at the latest).
async fn remember_in(tx: &mut dyn store::WriteTx, session: &Session, env: &Envelope) -> ServiceResult<()> {
    // A replay fails this call, the step's next statement or its commit with `Replayed`: envelope_replayed.
    Ok(tx.remember_envelope_at_commit(&session.id, &envelope_id(env), replay_until(session)).await?)
}

fn issue_reason(code: &impl serde::Serialize) -> String {
    serde_json::to_value(code).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_else(|| "invalid".into())
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
