//! Session endpoints: server-to-server creation and results (secret key), browser creation (publishable key),
//! and the widget's sealed steps (client secret + Origin).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use realname_core::protocol::{
    ClientSessionView, CodeSentResponse, CreateSessionRequest, CreateSessionResponse, ErrorCode, ErrorResponse,
    SealedRequest, SessionResult, StatusResponse, VerifiedResponse, WidgetSessionRequest,
};

use super::{ApiJson, Bearer, ClientIp, EmptyOrObject, Origin, SessionId};
use crate::error::{ApiError, ApiResult};
use crate::sessions;
use crate::state::AppState;
use realname_domain::sites::Site;

/// The session routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v1/sessions", post(create_session))
        .route("/v1/widget/sessions", post(create_widget_session))
        .route("/v1/sessions/{id}", get(get_session))
        .route("/v1/sessions/{id}/client", get(client_session))
        .route("/v1/sessions/{id}/identity", post(submit_identity))
        .route("/v1/sessions/{id}/code", post(submit_code))
        .route("/v1/sessions/{id}/resend", post(resend))
        // Two photos travel base64url inside the sealed JSON: this route alone accepts up to 12 MiB.
        .route(
            "/v1/sessions/{id}/documents",
            post(submit_documents).layer(axum::extract::DefaultBodyLimit::max(12 << 20)),
        )
        .route("/v1/sessions/{id}/cancel", post(cancel))
}

fn site_by_secret<'a>(state: &'a AppState, bearer: &Bearer) -> ApiResult<&'a Site> {
    bearer
        .0
        .as_deref()
        .filter(|k| k.starts_with("sk_"))
        .and_then(|k| state.sites.by_secret_key(k))
        .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized))
}

/// Creates a session (site backend, secret key).
#[utoipa::path(post, path = "/v1/sessions", tag = "sessions", request_body = CreateSessionRequest,
    responses((status = 201, body = CreateSessionResponse), (status = "4XX", body = ErrorResponse)),
    security(("secret_key" = [])))]
pub async fn create_session(
    State(state): State<AppState>,
    bearer: Bearer,
    ApiJson(req): ApiJson<CreateSessionRequest>,
) -> ApiResult<(StatusCode, Json<CreateSessionResponse>)> {
    let site = site_by_secret(&state, &bearer)?;
    let resp = sessions::create(&state, site, req.methods, req.reference).await?;
    Ok((StatusCode::CREATED, Json(resp)))
}

/// Creates a session from the browser with a publishable key (demo sites), Origin checked.
#[utoipa::path(post, path = "/v1/widget/sessions", tag = "sessions", request_body = WidgetSessionRequest,
    responses((status = 201, body = CreateSessionResponse), (status = "4XX", body = ErrorResponse)))]
pub async fn create_widget_session(
    State(state): State<AppState>,
    Origin(origin): Origin,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<WidgetSessionRequest>,
) -> ApiResult<(StatusCode, Json<CreateSessionResponse>)> {
    let site = state.sites.by_publishable_key(&req.publishable_key).ok_or(ErrorCode::Unauthorized)?;
    if !origin.as_deref().is_some_and(|o| site.allows_origin(o)) {
        return Err(ErrorCode::ForbiddenOrigin.into());
    }
    let now = state.clock.now_ms();
    let ip_key = format!("widget-session-ip-h:{}", state.vault.blind_text("rate-ip", &ip));
    crate::codes::hit(&state, &ip_key, 3_600_000, state.cfg.limits.widget_sessions_per_ip_hour, now).await?;
    let resp = sessions::create(&state, site, req.methods, None).await?;
    Ok((StatusCode::CREATED, Json(resp)))
}

/// A session's result (site backend, secret key): masked values and, when verified, a fresh result token.
#[utoipa::path(get, tag = "sessions", path = "/v1/sessions/{id}", params(("id" = String, Path, description = "session id")),
    responses((status = 200, body = SessionResult), (status = "4XX", body = ErrorResponse)),
    security(("secret_key" = [])))]
pub async fn get_session(
    State(state): State<AppState>,
    bearer: Bearer,
    SessionId(id): SessionId,
) -> ApiResult<Json<SessionResult>> {
    let site = site_by_secret(&state, &bearer)?;
    let session = state.store.session(&id).await?.filter(|s| s.site_id == site.cfg.id).ok_or(ErrorCode::NotFound)?;
    Ok(Json(sessions::session_result(&state, &session, site)?))
}

/// The widget's view of its session.
#[utoipa::path(get, tag = "sessions", path = "/v1/sessions/{id}/client", params(("id" = String, Path, description = "session id")),
    responses((status = 200, body = ClientSessionView), (status = "4XX", body = ErrorResponse)),
    security(("client_secret" = [])))]
pub async fn client_session(
    State(state): State<AppState>,
    bearer: Bearer,
    Origin(origin): Origin,
    SessionId(id): SessionId,
) -> ApiResult<Json<ClientSessionView>> {
    let ctx = sessions::authenticate_client(&state, &id, bearer.0.as_deref(), origin.as_deref(), false).await?;
    Ok(Json(sessions::client_view(&state, &ctx).await?))
}

/// The sealed identity step.
#[utoipa::path(post, tag = "sessions", path = "/v1/sessions/{id}/identity", request_body = SealedRequest,
    params(("id" = String, Path, description = "session id")),
    responses((status = 200, body = CodeSentResponse), (status = "4XX", body = ErrorResponse)),
    security(("client_secret" = [])))]
pub async fn submit_identity(
    State(state): State<AppState>,
    bearer: Bearer,
    Origin(origin): Origin,
    ClientIp(ip): ClientIp,
    SessionId(id): SessionId,
    ApiJson(req): ApiJson<SealedRequest>,
) -> ApiResult<Json<CodeSentResponse>> {
    let ctx = sessions::authenticate_client(&state, &id, bearer.0.as_deref(), origin.as_deref(), true).await?;
    Ok(Json(sessions::submit_identity(&state, ctx, &req.envelope, &ip).await?))
}

/// The sealed code step.
#[utoipa::path(post, tag = "sessions", path = "/v1/sessions/{id}/code", request_body = SealedRequest,
    params(("id" = String, Path, description = "session id")),
    responses((status = 200, body = VerifiedResponse), (status = "4XX", body = ErrorResponse)),
    security(("client_secret" = [])))]
pub async fn submit_code(
    State(state): State<AppState>,
    bearer: Bearer,
    Origin(origin): Origin,
    SessionId(id): SessionId,
    ApiJson(req): ApiJson<SealedRequest>,
) -> ApiResult<Json<VerifiedResponse>> {
    let ctx = sessions::authenticate_client(&state, &id, bearer.0.as_deref(), origin.as_deref(), true).await?;
    Ok(Json(sessions::submit_code(&state, ctx, &req.envelope).await?))
}

/// The sealed documents step (selfie and document photo for a reviewer).
#[utoipa::path(post, tag = "sessions", path = "/v1/sessions/{id}/documents", request_body = SealedRequest,
    params(("id" = String, Path, description = "session id")),
    responses((status = 200, body = realname_core::protocol::DocumentsResponse), (status = "4XX", body = ErrorResponse)),
    security(("client_secret" = [])))]
pub async fn submit_documents(
    State(state): State<AppState>,
    bearer: Bearer,
    Origin(origin): Origin,
    SessionId(id): SessionId,
    ApiJson(req): ApiJson<SealedRequest>,
) -> ApiResult<Json<realname_core::protocol::DocumentsResponse>> {
    let ctx = sessions::authenticate_client(&state, &id, bearer.0.as_deref(), origin.as_deref(), true).await?;
    Ok(Json(sessions::submit_documents(&state, ctx, &req.envelope).await?))
}

/// Sends a new code (the previous one stops working).
#[utoipa::path(post, tag = "sessions", path = "/v1/sessions/{id}/resend", params(("id" = String, Path, description = "session id")),
    responses((status = 200, body = CodeSentResponse), (status = "4XX", body = ErrorResponse)),
    security(("client_secret" = [])))]
pub async fn resend(
    State(state): State<AppState>,
    bearer: Bearer,
    Origin(origin): Origin,
    ClientIp(ip): ClientIp,
    SessionId(id): SessionId,
    // Read (and held to section 2's rules) before anything is answered: see `http/body.rs`.
    _body: EmptyOrObject,
) -> ApiResult<Json<CodeSentResponse>> {
    let ctx = sessions::authenticate_client(&state, &id, bearer.0.as_deref(), origin.as_deref(), true).await?;
    Ok(Json(sessions::resend(&state, ctx, &ip).await?))
}

/// Cancels the session (widget with client secret + Origin, or site backend with its secret key).
#[utoipa::path(post, tag = "sessions", path = "/v1/sessions/{id}/cancel", params(("id" = String, Path, description = "session id")),
    responses((status = 200, body = StatusResponse), (status = "4XX", body = ErrorResponse)),
    security(("client_secret" = []), ("secret_key" = [])))]
pub async fn cancel(
    State(state): State<AppState>,
    bearer: Bearer,
    Origin(origin): Origin,
    SessionId(id): SessionId,
    _body: EmptyOrObject,
) -> ApiResult<Json<StatusResponse>> {
    let status = if bearer.0.as_deref().is_some_and(|k| k.starts_with("sk_")) {
        let site = site_by_secret(&state, &bearer)?;
        let session =
            state.store.session(&id).await?.filter(|s| s.site_id == site.cfg.id).ok_or(ErrorCode::NotFound)?;
        sessions::cancel(&state, session, site, true).await?
    } else {
        let ctx = sessions::authenticate_client(&state, &id, bearer.0.as_deref(), origin.as_deref(), true).await?;
        sessions::cancel(&state, ctx.session, ctx.site, false).await?
    };
    Ok(Json(StatusResponse { status }))
}
