//! The cross-device handoff (docs/protocol.md 4.13): the device a person started on (the desktop) asks for a
//! single-use code, shown as a QR code and as a short link with a code to type; the phone redeems it and gets a
//! client secret of its own; from then on the desktop's secret only follows the session's status, which carries
//! no personal data.
//!
//! Whether a session may be handed off is its lifecycle's decision (`SessionEvent::HandedOff`); whether a code can
//! be redeemed is `realname_domain::handoff::redeem`. Only the code's HMAC is stored. Making codes is limited per
//! session and per address; every redemption attempt counts against its address before the code is looked at, so
//! the 40 bits of a code cannot be searched.

use realname_core::protocol::handoff::{HandoffResponse, SessionStatusView, display_code, normalize_code};
use realname_core::protocol::{CreateSessionResponse, ErrorCode, PROTOCOL_VERSION};
use realname_domain::audit::flow as audit;
use realname_domain::handoff::{self, Refused};
use realname_domain::lifecycle::{SessionEvent, next};
use realname_domain::sites::hash_secret;
use realname_store::StoreError;
use realname_store::handoff::{NewHandoff, Redemption};
use subtle::ConstantTimeEq as _;

use super::error::{ServiceResult, SessionError};
use super::{Caller, Sessions, check_notices, offered_methods, secs};
use crate::codes;

/// What the codes' HMAC is computed over besides the code: a label no session id can equal (those begin `ses_`).
const LABEL: &str = "handoff";

/// The window of the per-session count of codes made: longer than any session lives.
const SESSION_WINDOW_MS: i64 = 24 * 3_600_000;

impl Sessions {
    /// Makes a handoff code for the caller's session (its client secret and Origin), allowed where the session's
    /// lifecycle allows `HandedOff` (before anything was submitted) and the site has a phone page.
    pub async fn create_handoff(&self, caller: &Caller<'_>, client_ip: &str) -> ServiceResult<HandoffResponse> {
        let ctx = self.authenticate(caller, true).await?;
        let page = ctx.site.cfg.handoff_url.clone().ok_or(ErrorCode::HandoffNotEnabled)?;
        next(ctx.session.status, SessionEvent::HandedOff)?;
        let now = self.clock.now_ms();
        let limits = &self.config.limits;
        let by_session = format!("handoff-session:{}", ctx.session.id);
        let by_ip = format!("handoff-ip-h:{}", self.vault.blind_text("rate-ip", client_ip));
        for limit in [
            (by_session.as_str(), SESSION_WINDOW_MS, u64::from(limits.handoffs_per_session)),
            (by_ip.as_str(), 3_600_000, limits.handoffs_per_ip_hour),
        ] {
            if let Some(limited) = codes::hit(self.store.as_ref(), &self.metrics, limit, now).await? {
                return Err(SessionError::Limited(limited));
            }
        }
        let expires_at = (now + self.config.session.handoff_ttl_secs * 1000).min(ctx.session.expires_at);
        let watch = hash_secret(caller.bearer.unwrap_or(""));
        // Two live codes alike (40 random bits each) are refused by the store's key: draw again.
        for _ in 0..3 {
            let code = handoff::new_code(self.random.as_ref());
            let mac = codes::mac(self.keys().code_key(), LABEL, &code);
            let new = NewHandoff {
                code_hmac: &mac,
                session_id: &ctx.session.id,
                watch_hash: &watch,
                created_at: now,
                expires_at,
            };
            match self.store.create_handoff(&new, &[audit::handoff_created(&ctx.session)]).await {
                Ok(()) => {
                    tracing::info!(session = %ctx.session.id, "handoff code made");
                    let shown = display_code(&code);
                    let url = format!("{page}#{shown}");
                    let qr_svg =
                        crate::qr::svg(&url).ok_or(SessionError::Internal("handoff URL too long for a QR code"))?;
                    return Ok(HandoffResponse {
                        code: shown,
                        url,
                        link: page,
                        qr_svg,
                        expires_in: (expires_at - now + 999) / 1000,
                        expires_at: secs(expires_at),
                    });
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(SessionError::Internal("handoff codes collided three times"))
    }

    /// Redeems a handoff code from the phone's page (`origin` must be allowed for the session's site): the session
    /// gets a new client secret, which the answer carries; the secret that asked for the code can only follow the
    /// session's status from now on.
    pub async fn redeem_handoff(
        &self,
        typed: &str,
        origin: Option<&str>,
        client_ip: &str,
    ) -> ServiceResult<CreateSessionResponse> {
        let now = self.clock.now_ms();
        // Counted before the code is read: a wrong guess costs as much as a right one.
        let by_ip = format!("handoff-redeem-ip-h:{}", self.vault.blind_text("rate-ip", client_ip));
        let limit = (by_ip.as_str(), 3_600_000, self.config.limits.handoff_redeems_per_ip_hour);
        if let Some(limited) = codes::hit(self.store.as_ref(), &self.metrics, limit, now).await? {
            return Err(SessionError::Limited(limited));
        }
        let code = normalize_code(typed).ok_or(ErrorCode::HandoffUnknown)?;
        let mac = codes::mac(self.keys().code_key(), LABEL, &code);
        let found = self.store.handoff(&mac).await?.ok_or(ErrorCode::HandoffUnknown)?;
        handoff::redeem(&found, now).map_err(|r| match r {
            Refused::Used => ErrorCode::HandoffUsed,
            Refused::Expired => ErrorCode::HandoffExpired,
        })?;
        let session = self.store.session(&found.session_id).await?.ok_or(ErrorCode::HandoffUnknown)?;
        let site = self.sites.by_id(&session.site_id).ok_or(ErrorCode::HandoffUnknown)?;
        if !origin.is_some_and(|o| site.allows_origin(o)) {
            return Err(ErrorCode::ForbiddenOrigin.into());
        }
        // A code never outlives its session (its expiry is capped by the session's), so a live code's session is
        // not past its lifetime; a session that moved on is at the wrong step.
        next(session.status, SessionEvent::HandedOff)?;
        let secret = format!("cs_{}", self.random.token(32));
        let secret_expires_at = (now + self.config.session.client_secret_ttl_secs * 1000).min(session.expires_at);
        let redemption = Redemption {
            code_hmac: &mac,
            session_id: &session.id,
            version: session.version,
            secret_hash: &hash_secret(&secret),
            secret_expires_at,
            now,
        };
        match self.store.redeem_handoff(&redemption, &[audit::handed_off(&session)]).await {
            Ok(()) => {}
            // Another device redeemed it between the read and the write.
            Err(StoreError::Replayed) => return Err(ErrorCode::HandoffUsed.into()),
            Err(e) => return Err(e.into()),
        }
        tracing::info!(session = %session.id, "session handed off");
        Ok(CreateSessionResponse {
            session_id: session.id.clone(),
            client_secret: secret,
            expires_at: secs(secret_expires_at),
            methods: offered_methods(&session, site),
            checks: check_notices(site),
            protocol: PROTOCOL_VERSION,
        })
    }

    /// The session's status for any device that holds one of its secrets: its client secret, or the secret that
    /// handed it off. Answered at every status, finished ones included (that is how the desktop learns the
    /// result), and with nothing personal.
    pub async fn status(&self, c: &Caller<'_>) -> ServiceResult<SessionStatusView> {
        let session = self.store.session(c.session_id).await?.ok_or(ErrorCode::Unauthorized)?;
        let bearer = c.bearer.ok_or(ErrorCode::Unauthorized)?;
        let given = hash_secret(bearer);
        let own = bool::from(session.client_secret_hash.as_slice().ct_eq(&given));
        let watching = !own && self.store.handoff_watcher(&session.id, &given).await?;
        if !own && !watching {
            return Err(ErrorCode::Unauthorized.into());
        }
        let site = self.sites.by_id(&session.site_id).ok_or(ErrorCode::Unauthorized)?;
        if !c.origin.is_some_and(|o| site.allows_origin(o)) {
            return Err(ErrorCode::ForbiddenOrigin.into());
        }
        let handed_off = watching || self.store.handed_off(&session.id).await?;
        let status = session.as_of(self.clock.now_ms()).status;
        Ok(SessionStatusView { session_id: session.id, status, handed_off })
    }
}
