//! The session service's one error type. It names what went wrong in the service's terms; `http/error.rs` alone
//! turns it into a status and an error body.

use realname_core::protocol::ErrorCode;
use realname_domain::lifecycle::Refused;
use realname_domain::vault::VaultError;
use realname_store::StoreError;

use crate::codes::Limited;
use crate::review::ReviewError;

/// Why a session step refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// A refusal the client can act on, with its stable code and that code's usual message.
    #[error("refused: {}", .0.as_str())]
    Refused(ErrorCode),
    /// A refusal whose code alone does not say enough: the message says what is missing.
    #[error("refused: {}: {message}", .code.as_str())]
    Explained {
        /// The stable code.
        code: ErrorCode,
        /// What the person or the site must change (English, no personal data).
        message: &'static str,
    },
    /// A field failed the server's re-validation.
    #[error("the {field} is not valid ({reason})")]
    Invalid {
        /// The field.
        field: &'static str,
        /// The validator's reason code.
        reason: String,
    },
    /// The code did not match; the attempts left before the session fails.
    #[error("wrong code, {attempts_left} attempts left")]
    CodeInvalid {
        /// Attempts left.
        attempts_left: u32,
    },
    /// An identity check refused the name and number (or phone); the
    /// corrections left before the session fails.
    #[error("refused by a check: {}, {attempts_left} corrections left", .code.as_str())]
    CheckRefused {
        /// `identity_mismatch`, `identity_no_record` or `phone_mismatch`.
        code: ErrorCode,
        /// Corrections left.
        attempts_left: u32,
    },
    /// A wait before the step can succeed: `check_limit` (the number's daily limit) or `check_unavailable`.
    #[error("{}: retry in {retry_after} s", .code.as_str())]
    RetryLater {
        /// The stable code.
        code: ErrorCode,
        /// Seconds to wait.
        retry_after: u64,
    },
    /// A new code was asked for before the cooldown ended.
    #[error("resend available in {retry_after} s")]
    Cooldown {
        /// Seconds until a resend is allowed.
        retry_after: u64,
    },
    /// A sending or creation limit refused.
    #[error("limit reached, retry in {} s", .0.retry_after)]
    Limited(Limited),
    /// The store failed or refused (a conflict, a replay).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A sealed field could not be sealed or opened.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The review queue refused or failed.
    #[error(transparent)]
    Review(#[from] ReviewError),
    /// A state the service never leaves behind (a bug or damaged data); the cause carries no personal data.
    #[error("{0}")]
    Internal(&'static str),
}

/// Results of the session service.
pub type ServiceResult<T> = Result<T, SessionError>;

impl From<ErrorCode> for SessionError {
    fn from(code: ErrorCode) -> Self {
        Self::Refused(code)
    }
}

impl From<Refused> for SessionError {
    /// An event that does not apply to the session's status: the client is at the wrong step.
    fn from(_: Refused) -> Self {
        Self::Refused(ErrorCode::WrongStep)
    }
}

impl SessionError {
    /// A field that failed re-validation with the validator's reason.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid { field, reason: reason.into() }
    }
}
