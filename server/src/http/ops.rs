//! Operations: liveness, readiness, and the generated OpenAPI document.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use realname_core::protocol::{ErrorCode, ErrorResponse};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

use super::error::ApiError;
use super::openapi_errors::ErrorResponses;
use crate::state::AppState;

/// The operations routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz)).route("/v1/openapi.json", get(openapi))
}

/// Answer of `/healthz`.
#[derive(Serialize, ToSchema)]
pub struct Live {
    /// `ok`: the process runs.
    status: &'static str,
}

/// Answer of `/readyz`.
#[derive(Serialize, ToSchema)]
pub struct Ready {
    /// `ready`: the database answers and the instance's keys match it.
    status: &'static str,
    /// The storage backend, `sqlite` or `postgres`.
    store: &'static str,
}

/// Liveness: the process runs.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, body = Live)))]
async fn healthz() -> Json<Live> {
    Json(Live { status: "ok" })
}

/// Readiness: the database answers and this instance's keys match the ones it was initialised with (an instance
/// with other keys fails every flow another instance started, see `realname_domain::keyprint`).
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = Ready), (status = 503, body = ErrorResponse)))]
async fn readyz(State(state): State<AppState>) -> Result<Json<Ready>, ApiError> {
    // Bounded: a database that hangs (not only one that refuses) must not hang the balancer's probe.
    let bound = std::time::Duration::from_millis(state.cfg.http.ready_timeout_ms);
    let recorded = match tokio::time::timeout(bound, state.store.key_prints()).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready");
            return Err(ErrorCode::Unavailable.into());
        }
        Err(_) => {
            tracing::warn!(timeout_ms = bound.as_millis() as u64, "not ready: the database did not answer in time");
            return Err(ErrorCode::Unavailable.into());
        }
    };
    let held: Vec<_> = state.keys().prints().into_iter().chain(state.vault.prints()).collect();
    match realname_domain::keyprint::compare(&held, &recorded) {
        Ok(()) => Ok(Json(Ready { status: "ready", store: state.store.backend() })),
        Err(e) => {
            tracing::error!(error = %e, "not ready");
            Err(ErrorCode::Unavailable.into())
        }
    }
}

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = api.components.get_or_insert_with(Default::default);
        let bearer = |d: &str| {
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some(d)).build())
        };
        components.add_security_scheme("secret_key", bearer("The site's secret API key sk_… (server to server only)."));
        components
            .add_security_scheme("client_secret", bearer("The session's client secret cs_…, with an allowed Origin."));
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
        super::handoff::create_handoff,
        super::handoff::redeem_handoff,
        super::handoff::session_status,
        super::keys::hpke_keys,
        super::keys::jwks,
        healthz,
        readyz,
        openapi,
    ),
    // Not bodies of any path, but part of the contract (docs/protocol.md sections 3.2, 7 and 8): the sealed step
    // payloads, the result token's claims and the webhook body.
    components(schemas(
        realname_core::protocol::IdentityPayload,
        realname_core::protocol::CodePayload,
        realname_core::protocol::DocumentsPayload,
        realname_core::protocol::ResultClaims,
        realname_core::protocol::WebhookEvent,
    )),
    modifiers(&Security, &ErrorResponses)
)]
pub struct ApiDoc;

/// This document (OpenAPI 3.1).
#[utoipa::path(get, path = "/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
