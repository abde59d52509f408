//! The one place an [`ApiError`] becomes an HTTP response: the status of its code, the JSON error body and
//! `Retry-After`. The internal cause never reaches the client: the response carries it as an [`ErrorCause`]
//! extension, which the request middleware (`hygiene` in `http/mod.rs`) logs.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use realname_core::protocol::{ErrorBody, ErrorResponse};

use crate::error::ApiError;

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
