//! Operations: liveness, readiness, and the generated OpenAPI document.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use realname_core::protocol::ErrorCode;
use utoipa::OpenApi;

use crate::error::ApiError;
use crate::state::AppState;

/// The operations routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { Json(serde_json::json!({ "status": "ok" })) }))
        .route("/readyz", get(readyz))
        .route("/v1/openapi.json", get(openapi))
}

async fn readyz(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    match state.store.ping().await {
        Ok(()) => Ok(Json(serde_json::json!({ "status": "ready", "store": state.store.backend() }))),
        Err(e) => {
            tracing::warn!(error = %e, "not ready");
            Err(ErrorCode::Unavailable.into())
        }
    }
}

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = api.components.get_or_insert_with(Default::default);
        let bearer = |d: &str| SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some(d)).build());
        components.add_security_scheme("secret_key", bearer("The site's secret API key sk_… (server to server only)."));
        components.add_security_scheme("client_secret", bearer("The session's client secret cs_…, with an allowed Origin."));
    }
}

/// The OpenAPI document, generated from the handlers and the protocol types.
#[derive(OpenApi)]
#[openapi(
    info(title = "realname", description = "Real-name verification server. Normative spec: docs/protocol.md."),
    paths(
        super::api::create_session,
        super::api::create_widget_session,
        super::api::get_session,
        super::api::client_session,
        super::api::submit_identity,
        super::api::submit_code,
        super::api::submit_documents,
        super::api::resend,
        super::api::cancel,
        super::keys::hpke_keys,
        super::keys::jwks,
    ),
    modifiers(&Security)
)]
pub struct ApiDoc;

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
