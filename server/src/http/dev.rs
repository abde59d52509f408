//! Demo mode only: the outbox (`/dev/outbox`), a site backend's token check (`/demo/verify-token`), and the
//! static demo pages.

use std::path::{Component, Path, PathBuf};

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use realname_core::protocol::ErrorCode;
use serde::Deserialize;

use super::ApiJson;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The demo routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/dev/outbox", get(outbox)).route("/demo/verify-token", post(verify_token))
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
async fn verify_token(State(state): State<AppState>, ApiJson(req): ApiJson<TokenRequest>) -> ApiResult<Json<serde_json::Value>> {
    let jwks = super::keys::current_jwks(&state);
    let audience = state.sites.by_publishable_key("pk_demo").map(|s| s.cfg.id.clone());
    match crate::tokens::verify(&jwks, &req.token, state.clock.now_secs(), audience.as_deref()) {
        Ok(claims) => Ok(Json(serde_json::json!({ "valid": true, "claims": claims }))),
        Err(e) => Err(ApiError::new(ErrorCode::BadRequest).with_message(format!("The token does not verify: {e}."))),
    }
}

/// Serves files under `root` (GET only, no directory listing, no path escapes; `/` → `index.html`).
pub fn static_files(root: PathBuf) -> axum::routing::MethodRouter<()> {
    get(move |req: Request| {
        let root = root.clone();
        async move { serve_file(&root, req.uri().path()).await }
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

async fn serve_file(root: &Path, uri_path: &str) -> Response {
    let rel = uri_path.trim_start_matches('/');
    let rel = if rel.is_empty() || rel.ends_with('/') { format!("{rel}index.html") } else { rel.to_owned() };
    let rel = PathBuf::from(rel);
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let mut path = root.join(&rel);
    if tokio::fs::metadata(&path).await.is_ok_and(|m| m.is_dir()) {
        path = path.join("index.html");
    }
    match tokio::fs::read(&path).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, content_type(&path))], bytes).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}
