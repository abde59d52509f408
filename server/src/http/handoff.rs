//! Cross-device handoff endpoints (docs/protocol.md 4.13 to 4.15): make a code (client secret + Origin), redeem it
//! on the phone (Origin), and follow a session's status (either device's secret + Origin) with `ETag` and
//! `If-None-Match`, so a device that polls is answered `304` without a body until something changed.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use realname_core::protocol::handoff::{HandoffResponse, RedeemRequest, SessionStatusView};
use realname_core::protocol::{CreateSessionResponse, ErrorResponse};

use super::error::ApiResult;
use super::{ApiJson, Bearer, ClientIp, EmptyOrObject, Origin, SessionId};
use crate::sessions::Caller;
use crate::state::AppState;

/// The handoff routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/sessions/{id}/handoff", post(create_handoff))
        .route("/v1/handoff/redeem", post(redeem_handoff))
        .route("/v1/sessions/{id}/status", get(session_status))
}

/// Makes a single-use handoff code for the session, with its link and QR code.
#[utoipa::path(post, tag = "handoff", path = "/v1/sessions/{id}/handoff",
    params(("id" = String, Path, description = "session id")),
    responses((status = 201, body = HandoffResponse), (status = "4XX", body = ErrorResponse)),
    security(("client_secret" = [])))]
pub async fn create_handoff(
    State(state): State<AppState>,
    bearer: Bearer,
    Origin(origin): Origin,
    ClientIp(ip): ClientIp,
    SessionId(id): SessionId,
    _body: EmptyOrObject,
) -> ApiResult<(StatusCode, Json<HandoffResponse>)> {
    let caller = Caller { session_id: &id, bearer: bearer.0.as_deref(), origin: origin.as_deref() };
    Ok((StatusCode::CREATED, Json(state.sessions.create_handoff(&caller, &ip).await?)))
}

/// Redeems a handoff code on the phone: the session and the phone's own client secret.
#[utoipa::path(post, tag = "handoff", path = "/v1/handoff/redeem", request_body = RedeemRequest,
    responses((status = 200, body = CreateSessionResponse), (status = "4XX", body = ErrorResponse)))]
pub async fn redeem_handoff(
    State(state): State<AppState>,
    Origin(origin): Origin,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<RedeemRequest>,
) -> ApiResult<Json<CreateSessionResponse>> {
    Ok(Json(state.sessions.redeem_handoff(&req.code, origin.as_deref(), &ip).await?))
}

/// The session's status, nothing personal; `304` while it matches the `If-None-Match` the client sent.
#[utoipa::path(get, tag = "handoff", path = "/v1/sessions/{id}/status",
    params(("id" = String, Path, description = "session id"),
        ("If-None-Match" = Option<String>, Header, description = "the ETag of the answer the client holds")),
    responses((status = 200, body = SessionStatusView, headers(("ETag" = String, description = "this answer's tag"))),
        (status = 304, description = "Unchanged since the ETag sent in If-None-Match"),
        (status = "4XX", body = ErrorResponse)),
    security(("client_secret" = [])))]
pub async fn session_status(
    State(state): State<AppState>,
    bearer: Bearer,
    Origin(origin): Origin,
    SessionId(id): SessionId,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let caller = Caller { session_id: &id, bearer: bearer.0.as_deref(), origin: origin.as_deref() };
    let view = state.sessions.status(&caller).await?;
    let tag = etag(&view);
    let unchanged = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim() == tag || t.trim() == "*");
    let value = HeaderValue::from_str(&tag).unwrap_or(HeaderValue::from_static("\"\""));
    if unchanged {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, value)]).into_response());
    }
    Ok(([(header::ETAG, value)], Json(view)).into_response())
}

/// The tag of a status answer: it names everything the answer holds besides the session id (which the URL names).
fn etag(view: &SessionStatusView) -> String {
    format!("\"{}.{}\"", view.status.as_str(), u8::from(view.handed_off))
}
