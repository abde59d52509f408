//! The verification session: its record, its status and what it holds. The store keeps it; the server's session
//! steps change it. Personal data appears here only sealed by the vault.

use crate::clock::UnixMillis;
use crate::vault::Sealed;

/// Where a verification session stands; finished sessions never change again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SessionStatus {
    /// Created by the site; waiting for the person's identity data.
    Created,
    /// Identity accepted and stored; no code delivered yet (e.g. delivery failed or was rate limited).
    Submitted,
    /// A one-time code was sent; waiting for it.
    CodeSent,
    /// Document photos submitted; waiting for a human review.
    PendingReview,
    /// Verified (terminal).
    Verified,
    /// Rejected by a reviewer (terminal).
    Rejected,
    /// Failed, e.g. too many wrong codes (terminal).
    Failed,
    /// Canceled by the person or the site (terminal).
    Canceled,
    /// Expired before it finished (terminal).
    Expired,
}

impl SessionStatus {
    /// Every status, in flow order.
    pub const ALL: [SessionStatus; 9] = [
        Self::Created,
        Self::Submitted,
        Self::CodeSent,
        Self::PendingReview,
        Self::Verified,
        Self::Rejected,
        Self::Failed,
        Self::Canceled,
        Self::Expired,
    ];

    /// The stable name stored in the database (snake_case, like the protocol).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Submitted => "submitted",
            Self::CodeSent => "code_sent",
            Self::PendingReview => "pending_review",
            Self::Verified => "verified",
            Self::Rejected => "rejected",
            Self::Failed => "failed",
            Self::Canceled => "canceled",
            Self::Expired => "expired",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// True for statuses a session never leaves.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Verified | Self::Rejected | Self::Failed | Self::Canceled | Self::Expired)
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
