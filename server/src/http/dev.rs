//! Demo mode only: the outbox (`/dev/outbox`), the movable clock (`/dev/clock`), a site backend's token check
//! (`/demo/verify-token`), and the static demo pages.

use std::path::{Component, Path, PathBuf};

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use realname_core::protocol::ErrorCode;
use serde::Deserialize;

use super::ApiJson;
use super::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The demo routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dev/outbox", get(outbox))
        .route("/dev/clock", post(advance_clock))
        .route("/demo/verify-token", post(verify_token))
}

/// At most a year per call: enough for any expiry or retention period, small enough to never overflow.
const MAX_ADVANCE_SECS: i64 = 366 * 24 * 3600;

#[derive(Deserialize)]
struct ClockRequest {
    advance_secs: i64,
}

/// Moves demo mode's clock forward, so a code or session can expire without anyone waiting for it.
async fn advance_clock(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<ClockRequest>,
) -> ApiResult<Json<serde_json::Value>> {
    if !(0..=MAX_ADVANCE_SECS).contains(&req.advance_secs) {
        return Err(
            ApiError::new(ErrorCode::BadRequest).with_message(format!("advance_secs must be 0..={MAX_ADVANCE_SECS}."))
        );
    }
    if !state.clock.advance_dev_ms(req.advance_secs * 1000) {
        return Err(ApiError::new(ErrorCode::NotFound));
    }
    Ok(Json(serde_json::json!({ "now_ms": state.clock.now_ms() })))
}

async fn outbox(State(state): State<AppState>) -> Json<serde_json::Value> {
    let messages = state.delivery.outbox.as_ref().map(|o| o.messages()).unwrap_or_default();
    Json(serde_json::json!({ "messages": messages }))
}

#[derive(Deserialize)]
struct TokenRequest {
    token: String,
}

/// What a site's backend does with a result token: verify it against the JWKS (as fetched from
/// `/v1/jwks.json`) and return the claims.
async fn verify_token(
    State(state): State<AppState>,
    ApiJson(req): ApiJson<TokenRequest>,
) -> ApiResult<Json<serde_json::Value>> {
    let jwks = super::keys::current_jwks(&state);
    let audience = state.sites.by_publishable_key("pk_demo").map(|s| s.cfg.id.clone());
    match realname_domain::tokens::verify(&jwks, &req.token, state.clock.now_secs(), audience.as_deref()) {
        Ok(claims) => Ok(Json(serde_json::json!({ "valid": true, "claims": claims }))),
        Err(e) => Err(ApiError::new(ErrorCode::BadRequest).with_message(format!("The token does not verify: {e}."))),
    }
}

/// Serves files under `root` (GET only, no directory listing, no path escapes; `/` → `index.html`), choosing a
/// precompressed `.br` or `.gz` sibling (written by `cargo xtask build`) when the browser accepts it. The widget's
/// content-hashed files (`pkg/manifest.json`) are cached for a year as immutable; everything else is revalidated
/// (`no-cache`), and the pages and scripts outside `pkg/` get the hashed names filled in where they name the
/// widget's stable ones, as a site hosting the files itself would (docs/embedding.md).
pub fn static_files(root: PathBuf) -> axum::routing::MethodRouter<()> {
    get(move |req: Request| {
        let root = root.clone();
        async move {
            let accept = req.headers().get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("");
            let accepts =
                |coding: &str| accept.split(',').any(|c| c.split(';').next().is_some_and(|n| n.trim() == coding));
            let encodings: Vec<&'static str> = [("br", "br"), ("gzip", "gz")]
                .into_iter()
                .filter(|(coding, _)| accepts(coding))
                .map(|(_, ext)| ext)
                .collect();
            serve_file(&root, req.uri().path(), &encodings).await
        }
    })
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "wasm" => "application/wasm",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "ts" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Long-lived caching for files whose name changes with their content.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The widget's stable names and their content-hashed ones (`pkg/manifest.json`, written by `cargo xtask build`);
/// empty without a build.
async fn hashed_names(root: &Path) -> Vec<(String, String)> {
    let Ok(text) = tokio::fs::read_to_string(root.join("pkg/manifest.json")).await else { return Vec::new() };
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str(&text) else { return Vec::new() };
    map.into_iter().filter_map(|(stable, hashed)| Some((stable, hashed.as_str()?.to_owned()))).collect()
}

async fn serve_file(root: &Path, uri_path: &str, encodings: &[&str]) -> Response {
    let names = hashed_names(root).await;
    let rel = uri_path.trim_start_matches('/');
    let immutable = rel.strip_prefix("pkg/").is_some_and(|f| names.iter().any(|(_, hashed)| hashed == f));
    let cache = if immutable { IMMUTABLE } else { "no-cache" };
    let in_pkg = rel.starts_with("pkg/");
    let rel = if rel.is_empty() || rel.ends_with('/') { format!("{rel}index.html") } else { rel.to_owned() };
    let rel = PathBuf::from(rel);
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let mut path = root.join(&rel);
    if tokio::fs::metadata(&path).await.is_ok_and(|m| m.is_dir()) {
        path = path.join("index.html");
    }
    for ext in encodings {
        let mut packed = path.clone().into_os_string();
        packed.push(".");
        packed.push(ext);
        if let Ok(bytes) = tokio::fs::read(&packed).await {
            let coding = if *ext == "gz" { "gzip" } else { "br" };
            let headers = [
                (header::CONTENT_TYPE, content_type(&path)),
                (header::CONTENT_ENCODING, coding),
                (header::VARY, "accept-encoding"),
                (header::CACHE_CONTROL, cache),
            ];
            return (headers, bytes).into_response();
        }
    }
    let Ok(mut bytes) = tokio::fs::read(&path).await else { return StatusCode::NOT_FOUND.into_response() };
    let text = matches!(path.extension().and_then(|e| e.to_str()), Some("html" | "js"));
    if text && !in_pkg && !names.is_empty() {
        let mut page = String::from_utf8_lossy(&bytes).into_owned();
        for (stable, hashed) in &names {
            page = page.replace(&format!("pkg/{stable}"), &format!("pkg/{hashed}"));
        }
        bytes = page.into_bytes();
    }
    (
        [
            (header::CONTENT_TYPE, content_type(&path)),
            (header::VARY, "accept-encoding"),
            (header::CACHE_CONTROL, cache),
        ],
        bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use tower::ServiceExt;

    fn www() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("realname-static-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join("a.wasm"), b"plain");
        let _ = std::fs::write(dir.join("a.wasm.gz"), b"gzipped");
        let _ = std::fs::write(dir.join("a.wasm.br"), b"brotli");
        let _ = std::fs::write(dir.join("b.js"), b"only plain");
        dir
    }

    async fn get_page(root: &Path, path: &str) -> (String, String) {
        let app = Router::new().fallback_service(static_files(root.to_path_buf()));
        let Ok(req) = Request::builder().uri(path).header(header::ACCEPT_ENCODING, "br").body(Body::empty()) else {
            return (String::new(), String::new());
        };
        let Ok(res) = app.oneshot(req).await;
        let cache =
            res.headers().get(header::CACHE_CONTROL).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let body = axum::body::to_bytes(res.into_body(), 1 << 20).await.map(|b| b.to_vec()).unwrap_or_default();
        (cache, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn the_widget_is_served_under_content_hashed_names_cached_for_a_year() {
        let root = std::env::temp_dir().join(format!("realname-hashed-{}", std::process::id()));
        let _ = std::fs::create_dir_all(root.join("pkg"));
        let manifest = r#"{"realname.js": "realname.0123456789abcdef.js", "realname_bg.wasm": "realname_bg.fedcba9876543210.wasm"}"#;
        let _ = std::fs::write(root.join("pkg/manifest.json"), manifest);
        let _ = std::fs::write(
            root.join("pkg/realname.0123456789abcdef.js"),
            b"new URL('realname_bg.fedcba9876543210.wasm')",
        );
        let _ = std::fs::write(root.join("pkg/realname_bg.fedcba9876543210.wasm.br"), b"brotli");
        let _ = std::fs::write(root.join("pkg/realname.js"), b"new URL('realname_bg.wasm')");
        let page =
            r#"<link rel="preload" href="pkg/realname_bg.wasm"><link rel="modulepreload" href="pkg/realname.js">"#;
        let _ = std::fs::write(root.join("index.html"), page);
        let _ = std::fs::write(root.join("app.js"), b"import init from '../pkg/realname.js';");
        // The page and its scripts name the hashed files and are revalidated on every visit.
        let (cache, body) = get_page(&root, "/index.html").await;
        assert_eq!(cache, "no-cache");
        assert!(
            body.contains(r#"href="pkg/realname_bg.fedcba9876543210.wasm""#)
                && body.contains("pkg/realname.0123456789abcdef.js"),
            "{body}"
        );
        assert_eq!(get_page(&root, "/app.js").await.1, "import init from '../pkg/realname.0123456789abcdef.js';");
        // The hashed files (precompressed or not) are immutable; the stable names are not, and are served as built.
        assert_eq!(get_page(&root, "/pkg/realname.0123456789abcdef.js").await.0, IMMUTABLE);
        assert_eq!(
            get_page(&root, "/pkg/realname_bg.fedcba9876543210.wasm").await,
            (IMMUTABLE.to_string(), "brotli".to_string())
        );
        assert_eq!(
            get_page(&root, "/pkg/realname.js").await,
            ("no-cache".to_string(), "new URL('realname_bg.wasm')".to_string())
        );
        let _ = std::fs::remove_dir_all(root);
    }

    async fn get_with(root: &Path, path: &str, accept: &str) -> (Option<String>, Vec<u8>) {
        let app = Router::new().fallback_service(static_files(root.to_path_buf()));
        let req = Request::builder().uri(path).header(header::ACCEPT_ENCODING, accept).body(Body::empty());
        let Ok(req) = req else { return (None, vec![]) };
        let Ok(res) = app.oneshot(req).await;
        let coding = res.headers().get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let body = axum::body::to_bytes(res.into_body(), 1 << 20).await.map(|b| b.to_vec()).unwrap_or_default();
        (coding, body)
    }

    #[tokio::test]
    async fn serves_the_precompressed_file_the_browser_accepts() {
        let root = www();
        assert_eq!(get_with(&root, "/a.wasm", "gzip, deflate, br").await, (Some("br".into()), b"brotli".to_vec()));
        assert_eq!(get_with(&root, "/a.wasm", "gzip").await, (Some("gzip".into()), b"gzipped".to_vec()));
        assert_eq!(get_with(&root, "/a.wasm", "identity").await, (None, b"plain".to_vec()));
        // "brotli" is not "br": only exact codings count.
        assert_eq!(get_with(&root, "/a.wasm", "brotli").await, (None, b"plain".to_vec()));
        assert_eq!(get_with(&root, "/b.js", "br, gzip").await, (None, b"only plain".to_vec()));
        let _ = std::fs::remove_dir_all(root);
    }
}
