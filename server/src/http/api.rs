//! Session endpoints: server-to-server creation and results (secret key), browser creation (publishable key),
//! and the widget's sealed steps (client secret + Origin).

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use realname_core::protocol::{
    ClientSessionView, CodeSentResponse, CreateSessionRequest, CreateSessionResponse, DocumentsResponse, ErrorResponse,
    SealedRequest, SessionResult, StatusResponse, VerifiedResponse, WidgetSessionRequest,
};

use super::error::ApiResult;
use super::{ApiJson, Bearer, ClientIp, EmptyOrObject, Origin, SessionId};
use crate::sessions::Caller;
use crate::state::AppState;

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
        // Two photos travel base64url inside the sealed JSON: this route alone accepts up to 12 MiB (upload.rs).
        .route("/v1/sessions/{id}/documents", post(submit_documents))
        .route("/v1/sessions/{id}/cancel", post(cancel))
}

/// The caller of a session endpoint, from its path, `Authorization` and `Origin`.
fn caller<'a>(id: &'a str, bearer: &'a Bearer, origin: &'a Option<String>) -> Caller<'a> {
    Caller { session_id: id, bearer: bearer.0.as_deref(), origin: origin.as_deref() }
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
    let resp = state.sessions.create_for_site(bearer.0.as_deref(), req.methods, req.reference).await?;
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
    let resp = state.sessions.create_for_widget(&req.publishable_key, origin.as_deref(), &ip, req.methods).await?;
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
    Ok(Json(state.sessions.result_for_site(bearer.0.as_deref(), &id).await?))
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
    Ok(Json(state.sessions.client_view(&caller(&id, &bearer, &origin)).await?))
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
    Ok(Json(state.sessions.submit_identity(&caller(&id, &bearer, &origin), &req.envelope, &ip).await?))
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
    Ok(Json(state.sessions.submit_code(&caller(&id, &bearer, &origin), &req.envelope).await?))
}

/// The sealed documents step (selfie and document photo for a reviewer).
#[utoipa::path(post, tag = "sessions", path = "/v1/sessions/{id}/documents", request_body = SealedRequest,
    params(("id" = String, Path, description = "session id")),
    responses((status = 200, body = DocumentsResponse), (status = "4XX", body = ErrorResponse)),
    security(("client_secret" = [])))]
pub async fn submit_documents(
    State(state): State<AppState>,
    bearer: Bearer,
    Origin(origin): Origin,
    SessionId(id): SessionId,
    request: axum::extract::Request,
) -> ApiResult<Json<DocumentsResponse>> {
    let caller = caller(&id, &bearer, &origin);
    // The session first: up to 12 MiB of a stranger's (or of a session past this step) is refused unread.
    state.sessions.check_documents(&caller).await?;
    let timed_out = request.extensions().get::<super::conn::BodyTimedOut>().cloned();
    let (parts, body) = request.into_parts();
    let limit = super::upload::DOCUMENTS_LIMIT;
    // The share of the upload budget is held until the step is done with what the body held.
    let (req, _share): (SealedRequest, _) =
        super::upload::read_json(&parts.headers, body, limit, &state.uploads, timed_out).await?;
    Ok(Json(state.sessions.submit_documents(&caller, &req.envelope).await?))
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
    Ok(Json(state.sessions.resend(&caller(&id, &bearer, &origin), &ip).await?))
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
    let status = state.sessions.cancel(&caller(&id, &bearer, &origin)).await?;
    Ok(Json(StatusResponse { status }))
}
