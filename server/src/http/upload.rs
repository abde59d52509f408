//! The documents step's body: up to 12 MiB of photos, read only after the session was checked (the handler asks
//! the `Sessions` service first), and only within a memory budget shared by every upload in flight
//! (`http.upload_memory_bytes`). An upload that does not fit gets `503 overloaded` at once, before a byte of its
//! body is read, and its place comes back as soon as its step ends.

use std::pin::Pin;

use axum::body::{Body, HttpBody};
use axum::http::{HeaderMap, header};
use realname_core::protocol::ErrorCode;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::uploads::{UploadBudget, UploadShare};

/// The most bytes one documents body may have.
pub const DOCUMENTS_LIMIT: usize = crate::uploads::DOCUMENTS_LIMIT;

/// Reads a JSON object body of at most `limit` bytes under the budget: `415` for another content type, `413`
/// for a declared or actual length over the limit (nothing read), `503 overloaded` when the budget is spent,
/// `408`/`400` for a body that stalls or breaks. Returns the value and the share, to hold while the step works on
/// what the body held.
pub async fn read_json<T: DeserializeOwned>(
    headers: &HeaderMap,
    mut body: Body,
    limit: usize,
    budget: &UploadBudget,
    timed_out: Option<super::conn::BodyTimedOut>,
) -> Result<(T, UploadShare), ApiError> {
    if !super::body::is_json(headers) {
        return Err(ApiError::new(ErrorCode::UnsupportedMediaType));
    }
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<u64>().ok());
    let expect = match declared {
        Some(n) if n > limit as u64 => return Err(ApiError::new(ErrorCode::PayloadTooLarge)),
        Some(n) => n as usize,
        // Chunked: it may be as large as the limit.
        None => limit,
    };
    let share = budget.take(expect).ok_or_else(|| ApiError::retry(ErrorCode::Overloaded, 1))?;
    let mut bytes = Vec::with_capacity(expect.min(limit));
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let frame = frame.map_err(|_| {
            ApiError::new(if timed_out.as_ref().is_some_and(|t| t.happened()) {
                ErrorCode::RequestTimeout
            } else {
                ErrorCode::BadRequest
            })
        })?;
        if let Ok(data) = frame.into_data() {
            if bytes.len() + data.len() > expect {
                return Err(ApiError::new(ErrorCode::PayloadTooLarge));
            }
            bytes.extend_from_slice(&data);
        }
    }
    let value = super::body::object(&bytes)?;
    Ok((value, share))
}
