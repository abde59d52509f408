//! Request bodies: the JSON extractors that hold every body to section 2 of docs/protocol.md, and the layer that
//! keeps kept-alive HTTP/1.1 connections honest.
//!
//! A handler that answers without reading its request body leaves the rest of that body in the connection; hyper
//! then closes the connection after the response, which a client reusing connections (Python `requests`, Go's
//! `net/http`) only notices when its next request on it fails. So every extractor here reads the whole body
//! (up to the limit) before it decides anything, and [`keep_alive`] marks every response whose request body was
//! not read to its end with `Connection: close`, so the client knows not to reuse the connection.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, Version, header};
use axum::middleware::Next;
use axum::response::Response;
use realname_core::protocol::ErrorCode;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// Marks the response `Connection: close` when the request's body was not read to its end (a rejection before
/// the body extractor ran, or a body over the limit), so that the connection hyper is about to close is not
/// dropped silently.
pub async fn keep_alive(req: Request, next: Next) -> Response {
    let http1 = matches!(req.version(), Version::HTTP_10 | Version::HTTP_11);
    if !http1 || req.body().is_end_stream() {
        return next.run(req).await;
    }
    let read = Arc::new(AtomicBool::new(false));
    let req = req.map(|body| Body::new(Tracked { inner: body, read: read.clone() }));
    let mut resp = next.run(req).await;
    if !read.load(Ordering::Acquire) {
        resp.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

/// A request body that records when it was read to its end.
struct Tracked {
    inner: Body,
    read: Arc<AtomicBool>,
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || self.inner.is_end_stream() {
            self.read.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Reads the whole body (up to the route's limit: `413 payload_too_large` beyond) and tells whether its
/// `Content-Type` is `application/json` (a `charset` or other parameter allowed).
async fn read<S: Send + Sync>(req: Request, state: &S) -> Result<(bool, Bytes), ApiError> {
    let json_type = is_json(req.headers());
    let timed_out = req.extensions().get::<super::conn::BodyTimedOut>().cloned();
    let bytes = Bytes::from_request(req, state).await.map_err(|rej| {
        ApiError::new(if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ErrorCode::PayloadTooLarge
        } else if timed_out.is_some_and(|t| t.happened()) {
            ErrorCode::RequestTimeout
        } else {
            ErrorCode::BadRequest
        })
    })?;
    Ok((json_type, bytes))
}

/// Whether the `Content-Type` is `application/json` (a `charset` or other parameter allowed).
pub(crate) fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| v == "application/json")
}

/// `bytes` as a `T` written as a JSON object: `400 bad_request` otherwise (serde would also accept a struct
/// written as an array).
pub(crate) fn object<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::new(ErrorCode::BadRequest));
    }
    serde_json::from_slice(bytes).map_err(|_| ApiError::new(ErrorCode::BadRequest))
}

/// A JSON body: `application/json` only (`415 unsupported_media_type`), a JSON object of `T`'s shape
/// (`400 bad_request`), within the limit (`413 payload_too_large`).
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let (json_type, bytes) = read(req, state).await?;
        if !json_type {
            return Err(ApiError::new(ErrorCode::UnsupportedMediaType));
        }
        object(&bytes).map(ApiJson)
    }
}

/// The body of the endpoints that take "an empty body or `{}`" (resend, cancel): nothing at all, or a JSON
/// object held to the same rules as [`ApiJson`] (its fields are ignored, like unknown fields everywhere).
pub struct EmptyOrObject;

impl<S: Send + Sync> FromRequest<S> for EmptyOrObject {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let (json_type, bytes) = read(req, state).await?;
        if bytes.is_empty() {
            return Ok(EmptyOrObject);
        }
        if !json_type {
            return Err(ApiError::new(ErrorCode::UnsupportedMediaType));
        }
        object::<serde::de::IgnoredAny>(&bytes).map(|_| EmptyOrObject)
    }
}
