//! The HTTP face of every error: [`ApiError`] (a stable [`ErrorCode`] plus optional details and, for the log only,
//! an internal cause), the mapping of the services' errors to it, and the one place it becomes a response: the
//! status of its code, the JSON error body and `Retry-After`. The internal cause never reaches the client: the
//! response carries it as an [`ErrorCause`] extension, which the request middleware (`hygiene` in `http/mod.rs`)
//! logs.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use realname_core::protocol::{ErrorBody, ErrorCode, ErrorResponse};
use realname_domain::vault::VaultError;
use realname_store::StoreError;

use crate::sessions::SessionError;

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

impl From<SessionError> for ApiError {
    /// The session service's refusals as the protocol states them (docs/protocol.md, section 4); failures inside
    /// keep their cause for the log.
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Refused(code) => Self::new(code),
            SessionError::Explained { code, message } => Self::new(code).with_message(message),
            SessionError::Invalid { field, reason } => Self::invalid(field, &reason),
            SessionError::CodeInvalid { attempts_left } => {
                let mut e = Self::new(ErrorCode::CodeInvalid);
                e.attempts_left = Some(attempts_left);
                e
            }
            SessionError::CheckRefused { code, attempts_left } => {
                let mut e = Self::new(code);
                e.attempts_left = Some(attempts_left);
                e
            }
            SessionError::RetryLater { code, retry_after } => Self::retry(code, retry_after),
            SessionError::Cooldown { retry_after } => Self::retry(ErrorCode::ResendCooldown, retry_after),
            SessionError::Limited(l) => {
                let e = Self::retry(ErrorCode::RateLimited, l.retry_after);
                if l.per_session {
                    e.with_message("This session cannot send more codes; start a new session.")
                } else {
                    e
                }
            }
            SessionError::Store(e) => e.into(),
            // Data sealed with a vault key this instance has not loaded (a rotation not rolled out to it yet) is a
            // passing state of the deployment, not a bug: the client retries (docs/deploy.md).
            SessionError::Vault(VaultError::UnknownKey(id)) => Self::new(ErrorCode::Unavailable)
                .caused_by(format!("vault key {id} is not loaded on this instance (docs/deploy.md, rotation)")),
            other @ (SessionError::Vault(_) | SessionError::Review(_) | SessionError::Internal(_)) => {
                Self::internal(&other)
            }
        }
    }
}

/// The internal cause of an error response, handed from [`ApiError`] to the middleware that logs it.
#[derive(Debug, Clone)]
pub struct ErrorCause(pub String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry_after = self.retry_after;
        let body = ErrorResponse {
            error: ErrorBody {
                code: self.code,
                message: self.message,
                field: self.field,
                reason: self.reason,
                attempts_left: self.attempts_left,
                retry_after: self.retry_after,
            },
        };
        let mut resp = (status, axum::Json(body)).into_response();
        if let Some(secs) = retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if let Some(cause) = self.cause {
            resp.extensions_mut().insert(ErrorCause(cause.into()));
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::Limited;

    #[test]
    fn session_errors_map_to_their_codes_and_details() {
        let e = ApiError::from(SessionError::CodeInvalid { attempts_left: 2 });
        assert_eq!((e.code, e.attempts_left), (ErrorCode::CodeInvalid, Some(2)));
        let e = ApiError::from(SessionError::Limited(Limited { retry_after: 3600, per_session: true }));
        assert_eq!((e.code, e.retry_after), (ErrorCode::RateLimited, Some(3600)));
        assert!(e.message.contains("new session"), "{}", e.message);
        let e = ApiError::from(SessionError::Cooldown { retry_after: 0 });
        assert_eq!((e.code, e.retry_after), (ErrorCode::ResendCooldown, Some(1)));
        let e = ApiError::from(SessionError::invalid("phone", "too_short"));
        assert_eq!((e.field.as_deref(), e.reason.as_deref()), (Some("phone"), Some("too_short")));
        let e = ApiError::from(SessionError::Store(StoreError::Conflict));
        assert_eq!(e.code, ErrorCode::WrongStep);
        // Inside failures keep their cause for the log and tell the client nothing of it.
        let e = ApiError::from(SessionError::Internal("identity missing"));
        assert_eq!(e.code, ErrorCode::Internal);
        assert_eq!(e.cause.as_deref(), Some("internal error: identity missing"));
        assert!(!e.message.contains("identity missing"));
        // A vault key this instance has not loaded yet is a 503 to retry; data that does not open is a bug.
        let e = ApiError::from(SessionError::Vault(VaultError::UnknownKey(2)));
        assert_eq!(e.code, ErrorCode::Unavailable);
        assert!(e.cause.as_deref().is_some_and(|c| c.contains("vault key 2")));
        assert_eq!(ApiError::from(SessionError::Vault(VaultError::Open)).code, ErrorCode::Internal);
    }
}
