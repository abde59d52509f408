//! What a site learns of a session: its masked identity, its result, and for a verified one a signed result token.
//! Only masked values leave here.

use std::sync::Arc;

use realname_core::protocol::{AgeBand, DocumentKind, ResultClaims, SessionResult, SessionStatus};
use realname_core::validate::{self, Date, Options};

use super::error::{ServiceResult, SessionError};
use crate::keyring::{ServerKeys, VaultKeys};
use realname_domain::clock::{Clock, Random, UnixMillis};
use realname_domain::session::Session;
use realname_domain::sites::Site;

/// Builds the site's view of sessions and signs result tokens.
#[derive(Clone)]
pub struct Results {
    /// Opens the sealed identity.
    pub vault: VaultKeys,
    /// The token signing key.
    pub keys: ServerKeys,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Randomness (token ids).
    pub random: Arc<dyn Random>,
    /// The tokens' issuer (`server.public_url`).
    pub issuer: String,
    /// How long a token is valid, seconds.
    pub token_ttl_secs: i64,
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

impl Results {
    /// Decrypts the session's identity once and masks it; `None` once the identity data is erased.
    pub fn masked(&self, s: &Session, now: UnixMillis) -> ServiceResult<Option<Masked>> {
        let Some(sealed) = &s.identity else { return Ok(None) };
        let plain = self.vault.open_identity(&s.id, sealed)?;
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
    pub fn current(&self, s: &Session, site: &Site) -> ServiceResult<SessionResult> {
        let now = self.clock.now_ms();
        let s = &*s.as_of(now);
        let masked = self.masked(s, now)?;
        let mut r = result_of(s, masked.as_ref());
        self.add_token(&mut r, s, site)?;
        Ok(r)
    }

    /// Signs the result token of a verified session into `r`.
    pub fn add_token(&self, r: &mut SessionResult, s: &Session, site: &Site) -> ServiceResult<()> {
        // Once the identity data is erased (on request or by retention) the status stays, with nothing left to
        // vouch for.
        if s.status == SessionStatus::Verified && s.identity.is_some() {
            r.result_token = Some(self.token(r, site)?);
        }
        Ok(())
    }

    fn token(&self, r: &SessionResult, site: &Site) -> ServiceResult<String> {
        let now = self.clock.now_secs();
        let (Some(method), Some(kind), Some(name), Some(number), Some(verified_at)) =
            (r.method, r.document_kind, r.masked_name.clone(), r.masked_number.clone(), r.verified_at)
        else {
            return Err(SessionError::Internal("verified session lacks identity facts"));
        };
        let claims = ResultClaims {
            iss: self.issuer.clone(),
            sub: r.session_id.clone(),
            aud: site.cfg.id.clone(),
            iat: now,
            exp: now + self.token_ttl_secs,
            jti: format!("rt_{}", self.random.token(12)),
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
            checks: r.checks.clone(),
        };
        let keys = self.keys.current();
        let (kid, key) = keys.token_signer().ok_or(SessionError::Internal("no token key"))?;
        Ok(realname_domain::tokens::sign(kid, key, &claims))
    }
}

/// Unix milliseconds as the protocol's Unix seconds.
pub(crate) fn secs(ms: UnixMillis) -> i64 {
    ms.div_euclid(1000)
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
        checks: s.checks.iter().map(|c| c.result()).collect(),
        result_token: None,
    };
    if let (Some(_), Some(m)) = (&s.identity, masked) {
        r.masked_name = Some(m.name.clone());
        r.masked_number = Some(m.number.clone());
        r.age_band = m.age_band;
    }
    r
}
