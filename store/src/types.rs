//! The records the store keeps. Personal data only ever appears here sealed by the [`crate::vault::Vault`].

use crate::vault::Sealed;

/// Unix time in milliseconds (UTC). The server's injected clock supplies every `now`; the store never reads one.
pub type UnixMillis = i64;

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

/// State of a one-time code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeState {
    /// Can still be checked.
    Active,
    /// Used successfully (single use).
    Consumed,
    /// Replaced by a newer code.
    Invalidated,
}

impl CodeState {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Consumed => "consumed",
            Self::Invalidated => "invalidated",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Active, Self::Consumed, Self::Invalidated].into_iter().find(|c| c.as_str() == s)
    }
}

/// A code to remember: only its HMAC (keyed outside the database), never the digits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCode {
    /// The session it belongs to.
    pub session_id: String,
    /// HMAC of the code.
    pub code_hmac: Vec<u8>,
    /// Delivery channel ("sms" or "email").
    pub channel: String,
    /// When it was sent (for the resend cooldown).
    pub sent_at: UnixMillis,
    /// When it expires.
    pub expires_at: UnixMillis,
}

/// A stored one-time code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Code {
    /// Row id.
    pub id: i64,
    /// The session it belongs to.
    pub session_id: String,
    /// HMAC of the code.
    pub code_hmac: Vec<u8>,
    /// Delivery channel.
    pub channel: String,
    /// When it was sent.
    pub sent_at: UnixMillis,
    /// When it expires.
    pub expires_at: UnixMillis,
    /// Attempts made so far (including the one that succeeded).
    pub attempts: u32,
    /// Its state.
    pub state: CodeState,
}

/// Outcome of reserving one attempt at a session's current code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CodeAttempt {
    /// An attempt was counted; compare `code_hmac` in constant time, then `consume_code` on a match.
    Check(Code),
    /// The session has no code.
    NoCode,
    /// The current code expired.
    Expired,
    /// The current code already had the maximum number of attempts.
    TooManyAttempts,
    /// The current code was already used.
    Used,
}

/// State of a webhook delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryState {
    /// Waiting for (another) attempt.
    Pending,
    /// Delivered (2xx received).
    Delivered,
    /// Given up after the last retry.
    Abandoned,
}

impl DeliveryState {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Abandoned => "abandoned",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Abandoned].into_iter().find(|d| d.as_str() == s)
    }
}

/// A webhook event to deliver. The body must carry no plaintext personal data (masked values only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDelivery {
    /// The receiving site.
    pub site_id: String,
    /// Unique event id (enqueueing the same id twice is a no-op).
    pub event_id: String,
    /// Event type, e.g. `verification.verified`.
    pub event_type: String,
    /// Target URL.
    pub url: String,
    /// JSON body, signed at send time.
    pub body: String,
    /// When it was created (and first becomes due).
    pub created_at: UnixMillis,
}

/// A queued webhook delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// Row id.
    pub id: i64,
    /// The receiving site.
    pub site_id: String,
    /// Unique event id.
    pub event_id: String,
    /// Event type.
    pub event_type: String,
    /// Target URL.
    pub url: String,
    /// JSON body.
    pub body: String,
    /// Its state.
    pub state: DeliveryState,
    /// Attempts claimed so far.
    pub attempts: u32,
    /// When it is next due.
    pub next_attempt_at: UnixMillis,
    /// Worker holding the lease, if any.
    pub lease_owner: Option<String>,
    /// When the lease ends (another worker may then claim it).
    pub lease_until: Option<UnixMillis>,
    /// Last failure, for operators.
    pub last_error: Option<String>,
    /// Creation time.
    pub created_at: UnixMillis,
    /// Delivery time.
    pub delivered_at: Option<UnixMillis>,
}

/// Delay before retry number `attempt` (1-based): 30 s doubling per attempt, capped at 6 hours.
pub fn retry_backoff_ms(attempt: u32) -> i64 {
    const BASE: i64 = 30_000;
    const CAP: i64 = 6 * 3_600_000;
    let shift = attempt.saturating_sub(1).min(20);
    (BASE << shift).min(CAP)
}

/// What `purge` removes, relative to `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PurgePolicy {
    /// The current time.
    pub now: UnixMillis,
    /// Sessions (and their codes) older than this are deleted, except ones waiting for review.
    pub session_retention_ms: i64,
    /// Finished webhook deliveries older than this are deleted.
    pub delivery_retention_ms: i64,
}

/// How many rows `purge` touched.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// Unfinished sessions marked expired (their identity data wiped).
    pub sessions_expired: u64,
    /// Sessions deleted after the retention period.
    pub sessions_deleted: u64,
    /// Codes deleted (expired for over an hour, or with their session).
    pub codes_deleted: u64,
    /// Rate-limit windows deleted.
    pub rate_windows_deleted: u64,
    /// Replay-guard entries deleted.
    pub envelopes_deleted: u64,
    /// Finished webhook deliveries deleted.
    pub deliveries_deleted: u64,
}
