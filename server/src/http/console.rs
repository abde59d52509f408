//! The review console's static files (`/console/`), embedded in the binary, served with a strict CSP.

use axum::Router;
use axum::extract::FromRef;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

use crate::review::Reviews;

const INDEX: &str = include_str!("../../../www/console/index.html");
const SCRIPT: &str = include_str!("../../../www/console/console.js");
const STYLE: &str = include_str!("../../../www/console/console.css");

/// The console's Content-Security-Policy: only its own script and style; images only from data: (case photos).
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                       connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

fn file(body: &'static str, content_type: &'static str) -> Response {
    let mut res = body.into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}

/// Routes of the console's pages.
pub fn routes<S>() -> Router<S>
where
    Reviews: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/console", get(|| async { Redirect::permanent("/console/") }))
        .route("/console/", get(|| async { file(INDEX, "text/html; charset=utf-8") }))
        .route("/console/console.js", get(|| async { file(SCRIPT, "text/javascript; charset=utf-8") }))
        .route("/console/console.css", get(|| async { file(STYLE, "text/css; charset=utf-8") }))
}
