//! The records the store keeps besides sessions (`realname_domain::session`). Personal data only ever appears
//! here sealed by the vault (`realname_domain::vault`).

pub use realname_domain::clock::UnixMillis;

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
