//! The one error type of the API: a stable [`ErrorCode`] plus optional details. The only place that maps
//! errors to HTTP statuses. Internal causes never reach the client: the response carries them as an
//! [`ErrorCause`] extension, which the request middleware (`http::hygiene`) logs.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use realname_core::protocol::{ErrorBody, ErrorCode, ErrorResponse};

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

/// The internal cause of an error response, handed from [`ApiError`] to the middleware that logs it.
#[derive(Debug, Clone)]
pub struct ErrorCause(pub String);

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

impl From<realname_domain::lifecycle::Refused> for ApiError {
    /// An event that does not apply to the session's status: the client is at the wrong step.
    fn from(_: realname_domain::lifecycle::Refused) -> Self {
        ApiError::new(ErrorCode::WrongStep)
    }
}
