//! The one error type of the server's services: a stable [`ErrorCode`] plus optional details and, for the log
//! only, an internal cause. It knows nothing of HTTP: `http/error.rs` turns it into a response.

use realname_core::protocol::ErrorCode;

use realname_store::StoreError;

/// An API error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The stable code.
    pub code: ErrorCode,
    /// Human-readable message (English; no personal data, no internals).
    pub message: String,
    /// `validation_failed`: the field.
    pub field: Option<String>,
    /// `validation_failed`: the validator's reason code.
    pub reason: Option<String>,
    /// `code_invalid`: tries left.
    pub attempts_left: Option<u32>,
    /// `rate_limited` / `resend_cooldown`: seconds to wait.
    pub retry_after: Option<u64>,
    /// What went wrong inside, for the log only (no personal data); never sent. Boxed: `Result`s stay small.
    pub cause: Option<Box<str>>,
}

/// Shorthand for API results.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An error with the default message of its code.
    pub fn new(code: ErrorCode) -> Self {
        Self {
            code,
            message: code.default_message().to_owned(),
            field: None,
            reason: None,
            attempts_left: None,
            retry_after: None,
            cause: None,
        }
    }

    /// Replaces the message.
    pub fn with_message(mut self, m: impl Into<String>) -> Self {
        self.message = m.into();
        self
    }

    /// A `validation_failed` for `field` with the validator's `reason`.
    pub fn invalid(field: &str, reason: &str) -> Self {
        let mut e = Self::new(ErrorCode::ValidationFailed);
        e.message = format!("The {field} is not valid ({reason}).");
        e.field = Some(field.to_owned());
        e.reason = Some(reason.to_owned());
        e
    }

    /// A 429 with `retry_after` seconds.
    pub fn retry(code: ErrorCode, retry_after_secs: u64) -> Self {
        let mut e = Self::new(code);
        e.retry_after = Some(retry_after_secs.max(1));
        e
    }

    /// An internal error: keeps `cause` (which must carry no personal data) for the log, hidden from the client.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        Self::new(ErrorCode::Internal).caused_by(format!("internal error: {cause}"))
    }

    /// Keeps `cause` for the log.
    fn caused_by(mut self, cause: String) -> Self {
        self.cause = Some(cause.into_boxed_str());
        self
    }
}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> Self {
        Self::new(code)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::new(ErrorCode::NotFound),
            StoreError::Conflict => {
                Self::new(ErrorCode::WrongStep).with_message("The session changed meanwhile; reload it.")
            }
            StoreError::Replayed => Self::new(ErrorCode::EnvelopeReplayed),
            StoreError::Database(ref inner) => {
                Self::new(ErrorCode::Unavailable).caused_by(format!("database unavailable: {inner}"))
            }
            StoreError::Sqlite(ref inner) => {
                Self::new(ErrorCode::Unavailable).caused_by(format!("database unavailable: {inner}"))
            }
            other => Self::internal(&other),
        }
    }
}

impl From<realname_domain::lifecycle::Refused> for ApiError {
    /// An event that does not apply to the session's status: the client is at the wrong step.
    fn from(_: realname_domain::lifecycle::Refused) -> Self {
        ApiError::new(ErrorCode::WrongStep)
    }
}
