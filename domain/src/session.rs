//! The verification session: its record, its status and what it holds. The store keeps it; the server's session
//! steps change it. Personal data appears here only sealed by the vault.

pub use realname_core::protocol::SessionStatus;

use crate::clock::UnixMillis;
use crate::lifecycle::{Refused, SessionEvent, next};
use crate::vault::Sealed;

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
    /// Method fixed by the site, if any ("sms", "email", "document").
    pub method: Option<String>,
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
    /// Chosen method ("sms", "email", "document").
    pub method: Option<String>,
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
}
