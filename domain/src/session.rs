//! The verification session: its record, its status and what it holds. The store keeps it; the server's session
//! steps change it. Personal data appears here only sealed by the vault.

use realname_core::protocol::Method;
pub use realname_core::protocol::SessionStatus;

use crate::clock::UnixMillis;
use crate::lifecycle::{Refused, SessionEvent, expires, next};
use crate::vault::Sealed;

/// A session's methods: what it offers until the identity step, then the one the person chose. Stored in the
/// `method` column as wire names: the offered ones comma-separated, the chosen one alone, NULL for the site's
/// default.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Methods {
    /// Every method the site enabled.
    SiteDefault,
    /// The subset the site asked for, in its order.
    Offered(Vec<Method>),
    /// The method of the accepted identity step.
    Chosen(Method),
}

impl Methods {
    /// The method a wire name stands for.
    pub fn parse_method(name: &str) -> Option<Method> {
        [Method::Sms, Method::Email, Method::Documents].into_iter().find(|m| m.as_str() == name)
    }

    /// From the stored column of a session in `status` (before the identity step it lists what is offered).
    /// Names this version does not know are skipped, as they always were.
    pub fn from_stored(status: SessionStatus, stored: Option<&str>) -> Self {
        match stored {
            None => Methods::SiteDefault,
            Some(one)
                if status != SessionStatus::Created
                    && let Some(m) = Self::parse_method(one) =>
            {
                Methods::Chosen(m)
            }
            // Before the identity step, or a session that ended before it (its list stays as it was).
            Some(list) => Methods::Offered(list.split(',').filter_map(Self::parse_method).collect()),
        }
    }

    /// The stored column.
    pub fn to_stored(&self) -> Option<String> {
        match self {
            Methods::SiteDefault => None,
            Methods::Offered(list) => Some(list.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(",")),
            Methods::Chosen(m) => Some(m.as_str().to_owned()),
        }
    }

    /// The method chosen at the identity step, if any.
    pub fn chosen(&self) -> Option<Method> {
        match self {
            Methods::Chosen(m) => Some(*m),
            _ => None,
        }
    }
}

/// What the person agreed to, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Consent {
    /// Version of the consent text shown.
    pub version: String,
    /// When it was given.
    pub at: UnixMillis,
}

/// The identity data of a session, every field sealed by the vault (bound to `sessions`/column/session id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealedIdentity {
    /// Full name.
    pub name: Sealed,
    /// Document (ID) number.
    pub id_number: Sealed,
    /// Phone number, for the SMS method.
    pub phone: Option<Sealed>,
    /// Email address, for the email method.
    pub email: Option<Sealed>,
}

/// What a site asks for when it creates a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSession {
    /// Session id (random, unguessable; chosen by the server).
    pub id: String,
    /// The site that owns it.
    pub site_id: String,
    /// The site's own reference for the person/account (never personal data), if any.
    pub reference: Option<String>,
    /// Hash of the single-use client secret handed to the widget.
    pub client_secret_hash: Vec<u8>,
    /// When the client secret stops working.
    pub client_secret_expires_at: UnixMillis,
    /// The methods the site asked this session to offer (none: every method the site enabled).
    pub methods: Methods,
    /// When the session was created.
    pub created_at: UnixMillis,
    /// When an unfinished session expires.
    pub expires_at: UnixMillis,
}

/// A stored verification session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// Session id.
    pub id: String,
    /// The owning site.
    pub site_id: String,
    /// The site's own reference, if any.
    pub reference: Option<String>,
    /// Hash of the client secret.
    pub client_secret_hash: Vec<u8>,
    /// When the client secret stops working.
    pub client_secret_expires_at: UnixMillis,
    /// Whether the single-use client secret was used.
    pub client_secret_used: bool,
    /// Where the session stands.
    pub status: SessionStatus,
    /// The methods offered, or once the identity step is accepted the one chosen.
    pub methods: Methods,
    /// Document kind (protocol name).
    pub document_kind: Option<String>,
    /// The consent record, once given.
    pub consent: Option<Consent>,
    /// Sealed identity data, once submitted (wiped when the session expires unfinished).
    pub identity: Option<SealedIdentity>,
    /// Keyed blind index of the normalized ID number (see `Vault::blind_id_number`).
    pub blind_index: Option<Vec<u8>>,
    /// Stable failure/rejection code, for failed or rejected sessions.
    pub failure: Option<String>,
    /// The authoritative checks run, in order (outcomes only).
    pub checks: Vec<crate::checks::CheckRecord>,
    /// Creation time.
    pub created_at: UnixMillis,
    /// Last change.
    pub updated_at: UnixMillis,
    /// When an unfinished session expires.
    pub expires_at: UnixMillis,
    /// When it was verified.
    pub verified_at: Option<UnixMillis>,
    /// Optimistic-concurrency version; `update_session` fails with `Conflict` if it moved.
    pub version: i64,
}

impl Session {
    /// Applies `event` at `now`: the status [`next`] decides, and the time of the change. Refused events change
    /// nothing.
    pub fn apply(&mut self, event: SessionEvent, now: UnixMillis) -> Result<(), Refused> {
        self.status = next(self.status, event)?;
        self.updated_at = now;
        Ok(())
    }

    /// The session as it stands at `now`: one whose lifetime ([`expires_at`](Session::expires_at)) has passed in
    /// a status that [`expires`] is `Expired` (through [`next`], like every change) and holds no identity data,
    /// exactly as the store's purge sweep will write it about a minute later. Every read goes through this, so
    /// no reader sees `created` past the lifetime.
    pub fn as_of(&self, now: UnixMillis) -> std::borrow::Cow<'_, Session> {
        if now < self.expires_at || !expires(self.status) {
            return std::borrow::Cow::Borrowed(self);
        }
        let mut s = self.clone();
        if s.apply(SessionEvent::Expired, now).is_err() {
            return std::borrow::Cow::Borrowed(self);
        }
        s.identity = None;
        s.blind_index = None;
        std::borrow::Cow::Owned(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_round_trip_through_the_stored_column() {
        let offered = Methods::Offered(vec![Method::Email, Method::Sms]);
        assert_eq!(offered.to_stored().as_deref(), Some("email,sms"));
        assert_eq!(Methods::from_stored(SessionStatus::Created, Some("email,sms")), offered);
        assert_eq!(Methods::from_stored(SessionStatus::CodeSent, Some("sms")), Methods::Chosen(Method::Sms));
        assert_eq!(Methods::Chosen(Method::Documents).to_stored().as_deref(), Some("documents"));
        assert_eq!(Methods::from_stored(SessionStatus::Created, None), Methods::SiteDefault);
        assert_eq!(Methods::SiteDefault.to_stored(), None);
        assert_eq!(Methods::from_stored(SessionStatus::Created, Some("fax,sms")), Methods::Offered(vec![Method::Sms]));
        assert_eq!(Methods::Chosen(Method::Email).chosen(), Some(Method::Email));
        let ended = Methods::from_stored(SessionStatus::Canceled, Some("email,sms"));
        assert_eq!(ended.to_stored().as_deref(), Some("email,sms"));
        assert_eq!(offered.chosen(), None);
    }
}
