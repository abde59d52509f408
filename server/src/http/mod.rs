//! The HTTP face: [`app`] builds the router (tests drive it with `oneshot`); each submodule exposes `routes()`.
//!
//! Cross-cutting rules live here: JSON-only bodies with a size limit, read whole before any answer (`body.rs`),
//! one error shape for every rejection (never 5xx for client input), `Cache-Control: no-store` and security
//! headers on every response, per-site CORS, and request logs with no personal data.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use realname_core::protocol::ErrorCode;

pub use body::{ApiJson, EmptyOrObject};

use crate::state::AppState;
use error::ApiError;
use error::ErrorCause;

pub mod api;
pub mod body;
pub mod complaints;
pub mod conn;
pub mod console;
pub mod dev;
pub mod error;
pub mod handoff;
pub mod keys;
pub mod metrics;
pub mod openapi_errors;
pub mod ops;
pub mod review;
pub mod upload;

/// The whole application router.
pub fn app(state: AppState) -> Router {
    let limit = state.cfg.server.body_limit;
    let mut router =
        Router::new().merge(api::routes()).merge(handoff::routes()).merge(keys::routes()).merge(ops::routes());
    router =
        router.merge(review::routes()).merge(complaints::routes()).merge(console::routes()).merge(metrics::routes());
    if state.cfg.server.demo {
        router = router.merge(dev::routes());
    }
    let mut router = router
        .fallback(|| async { ApiError::new(ErrorCode::NotFound) })
        .method_not_allowed_fallback(|| async { ApiError::new(ErrorCode::MethodNotAllowed) });
    if let Some(www) = state.cfg.server.www.clone() {
        router = router.fallback_service(dev::static_files(www));
    }
    let hsts = hsts(&state.cfg.http);
    let router = router
        .layer(middleware::from_fn_with_state(state.clone(), cors))
        .layer(middleware::from_fn_with_state(state.clone(), console_login_address))
        .layer(middleware::from_fn(hygiene))
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn(body::keep_alive))
        .with_state(state);
    match hsts {
        Some(value) => router.layer(middleware::map_response(move |mut res: Response| {
            res.headers_mut().insert(header::STRICT_TRANSPORT_SECURITY, value.clone());
            std::future::ready(res)
        })),
        None => router,
    }
}

/// The `Strict-Transport-Security` value `[http]` asks for, if any (for deployments where the server terminates
/// TLS, or where the proxy in front does not add it).
fn hsts(cfg: &realname_domain::config::HttpConfig) -> Option<HeaderValue> {
    if cfg.hsts_max_age_secs == 0 {
        return None;
    }
    let sub = if cfg.hsts_include_subdomains { "; includeSubDomains" } else { "" };
    HeaderValue::from_str(&format!("max-age={}{sub}", cfg.hsts_max_age_secs)).ok()
}

/// Hands the console login its client address (the console's routes are generic over their state, so they cannot
/// use [`ClientIp`] themselves).
async fn console_login_address(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    if req.uri().path() != "/console/api/login" {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    if let Ok(ip) = ClientIp::from_request_parts(&mut parts, &state).await {
        parts.extensions.insert(ip);
    }
    next.run(Request::from_parts(parts, body)).await
}

/// Security headers and `no-store` on every response; turns axum's own plain-text rejections into JSON.
async fn hygiene(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let started = std::time::Instant::now();
    let mut resp = next.run(req).await;
    if let Some(ErrorCause(cause)) = resp.extensions().get::<ErrorCause>() {
        tracing::error!(error = %cause, %method, path = %route_of(&path), status = resp.status().as_u16(), "request failed");
    }
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let api_path = ["/v1/", "/dev/", "/demo/", "/healthz", "/readyz"].iter().any(|p| path.starts_with(p));
    let failed = resp.status().is_client_error() || resp.status().is_server_error();
    // Static pages may answer a plain 404; everything else answers JSON with a stable code.
    if failed && !is_json && (api_path || resp.status() != StatusCode::NOT_FOUND) {
        let code = match resp.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
            StatusCode::NOT_FOUND => ErrorCode::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => ErrorCode::MethodNotAllowed,
            s if s.is_server_error() => ErrorCode::Internal,
            _ => ErrorCode::BadRequest,
        };
        resp = ApiError::new(code).into_response();
    }
    let h = resp.headers_mut();
    let static_page = !api_path && !is_json;
    // Static files say how they may be cached (the widget's hashed files for a year); everything else is no-store.
    if !(static_page && h.contains_key(header::CACHE_CONTROL)) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !static_page {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
    }
    h.insert("cross-origin-resource-policy", HeaderValue::from_static("cross-origin"));
    let status = resp.status().as_u16();
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    // Paths carry session ids at most, never personal data; bodies are never logged.
    if status >= 500 {
        tracing::error!(%method, path = %route_of(&path), status, ms, "request");
    } else {
        tracing::debug!(%method, path = %route_of(&path), status, ms, "request");
    }
    resp
}

/// The path with session ids collapsed, for logs.
fn route_of(path: &str) -> String {
    path.split('/').map(|seg| if seg.starts_with("ses_") { "{id}" } else { seg }).collect::<Vec<_>>().join("/")
}

/// Browser endpoints: CORS for the sites' allowed origins only (never `*` with credentials, never `null`).
async fn cors(axum::extract::State(state): axum::extract::State<AppState>, req: Request, next: Next) -> Response {
    let origin = req.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let path = req.uri().path().to_owned();
    let public = matches!(path.as_str(), "/v1/keys" | "/v1/jwks.json" | "/v1/openapi.json" | "/healthz" | "/readyz");
    let allowed = origin.as_deref().is_some_and(|o| state.sites.any_allows_origin(o));
    // A page at an origin no site allows still learns why it is refused: its preflight passes, the request itself
    // is refused by the endpoint (403 forbidden_origin) and that refusal is readable. The widget can then report a
    // misconfigured page instead of a network error; nothing but the refusal is ever readable from such an origin.
    let refusable = origin.is_some() && path.starts_with("/v1/");
    if req.method() == Method::OPTIONS {
        let mut resp = if allowed || refusable {
            StatusCode::NO_CONTENT.into_response()
        } else {
            ApiError::new(ErrorCode::ForbiddenOrigin).into_response()
        };
        if allowed || public || refusable {
            let h = resp.headers_mut();
            set_cors(h, origin.as_deref(), public && !allowed);
            h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("authorization, content-type, if-none-match"),
            );
            h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        }
        return resp;
    }
    let mut resp = next.run(req).await;
    let refused = refusable && resp.status() == StatusCode::FORBIDDEN;
    if allowed || public || refused {
        set_cors(resp.headers_mut(), origin.as_deref(), public && !allowed);
    }
    resp
}

fn set_cors(h: &mut HeaderMap, origin: Option<&str>, wildcard: bool) {
    // The status's tag (docs/protocol.md 4.15) is read by the widget on another origin.
    h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("etag"));
    if wildcard {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    } else if let Some(v) = origin.and_then(|o| HeaderValue::from_str(o).ok()) {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    h.append(header::VARY, HeaderValue::from_static("Origin"));
}

/// The `Authorization: Bearer …` token, if any.
pub struct Bearer(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Bearer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty());
        Ok(Bearer(token))
    }
}

/// The `Origin` header, if any.
pub struct Origin(pub Option<String>);

impl FromRequestParts<AppState> for Origin {
    type Rejection = ApiError;

    /// A browser sends no `Origin` on a same-origin GET (`GET /v1/sessions/{id}/client` from a page the server
    /// itself serves): marked `Sec-Fetch-Site: same-origin` and addressed to the host of `public_url`, such a
    /// request comes from the server's own origin.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = |name| parts.headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok());
        if let Some(origin) = header(header::ORIGIN) {
            return Ok(Origin(Some(origin.to_owned())));
        }
        let own = state.cfg.server.public_url.trim_end_matches('/');
        let own_host = own.split_once("://").map(|(_, rest)| rest.split('/').next().unwrap_or_default());
        let same_origin = header(header::HeaderName::from_static("sec-fetch-site")) == Some("same-origin");
        if same_origin && own_host.is_some() && header(header::HOST) == own_host {
            let scheme = own.split_once("://").map(|(s, _)| s).unwrap_or("https");
            return Ok(Origin(own_host.map(|h| format!("{scheme}://{h}"))));
        }
        Ok(Origin(None))
    }
}

/// The client's IP: the socket peer, or behind trusted proxies the address the outermost of them saw (see
/// [`forwarded_client`]).
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
        let server = &state.cfg.server;
        if server.trust_forwarded_for {
            let values = parts.headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
            if let Some(ip) = forwarded_client(values, server.trusted_proxy_hops) {
                return Ok(ClientIp(ip.to_string()));
            }
        }
        Ok(ClientIp(peer.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())))
    }
}

/// The client's address in `X-Forwarded-For` (every header line, in order) behind `hops` proxies that each
/// append the address they saw: the entry `hops` from the right. Entries to its left were written by the client
/// and can say anything, so they are never used (a client choosing the leftmost entry would otherwise pick the
/// address the per-IP limits count). `None` (use the socket peer) when the list is shorter, or the entry is not an
/// IP address.
pub(crate) fn forwarded_client<'a>(values: impl Iterator<Item = &'a str>, hops: u32) -> Option<std::net::IpAddr> {
    let entries: Vec<&str> = values.flat_map(|v| v.split(',')).map(str::trim).collect();
    let back = usize::try_from(hops).ok().filter(|h| *h >= 1)?;
    let entry = *entries.len().checked_sub(back).and_then(|i| entries.get(i))?;
    entry.parse().ok()
}

/// A session id from the path, checked for shape before any lookup.
pub struct SessionId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for SessionId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(id) = axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::new(ErrorCode::InvalidParameter))?;
        if is_session_id(&id) { Ok(SessionId(id)) } else { Err(ApiError::new(ErrorCode::NotFound)) }
    }
}

/// Whether `id` has the shape of a session id (`ses_` and up to 76 URL-safe characters).
pub(crate) fn is_session_id(id: &str) -> bool {
    id.len() <= 80
        && id
            .strip_prefix("ses_")
            .is_some_and(|r| !r.is_empty() && r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

#[cfg(test)]
mod tests {
    use super::forwarded_client;

    #[test]
    fn the_client_is_the_entry_the_trusted_proxies_appended() {
        let ip = |v: &[&str], hops| forwarded_client(v.iter().copied(), hops).map(|a| a.to_string());
        assert_eq!(ip(&["203.0.113.5"], 1).as_deref(), Some("203.0.113.5"));
        // The client wrote the left part itself: never used.
        assert_eq!(ip(&["1.2.3.4, 203.0.113.5"], 1).as_deref(), Some("203.0.113.5"));
        assert_eq!(ip(&["1.2.3.4", "203.0.113.5"], 1).as_deref(), Some("203.0.113.5"));
        assert_eq!(ip(&["1.2.3.4, 203.0.113.5, 10.0.0.2"], 2).as_deref(), Some("203.0.113.5"));
        assert_eq!(ip(&["2001:db8::1"], 1).as_deref(), Some("2001:db8::1"));
        // Shorter than the proxies, or not an address: the socket peer.
        assert_eq!(ip(&["203.0.113.5"], 2), None);
        assert_eq!(ip(&["1.2.3.4, garbage"], 1), None);
        assert_eq!(ip(&[""], 1), None);
        assert_eq!(ip(&[], 1), None);
        assert_eq!(ip(&["203.0.113.5"], 0), None);
    }
}
