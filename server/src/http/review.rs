//! The review console's JSON API (`/console/api/…`): login, queue, case view, decisions, reviewer accounts.
//! Bearer tokens (`Authorization: Bearer …`) from `POST /console/api/login`; no cookies, so no CSRF surface.

use axum::extract::{FromRef, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::review::auth::{self, AuthError};
use crate::review::{ReviewError, Reviews, throttle};
use realname_domain::audit::Event;
use realname_store::review::{Reviewer, Role};

/// An error of the console API: status, stable code, message; never internal detail.
#[derive(Debug)]
pub struct ConsoleError(pub StatusCode, pub &'static str, pub String);

impl ConsoleError {
    fn new(status: StatusCode, code: &'static str, msg: impl Into<String>) -> Self {
        Self(status, code, msg.into())
    }

    /// 401 `unauthorized`.
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "log in first")
    }

    /// 403 `forbidden`.
    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "this action needs the admin role")
    }

    /// 400 `bad_request`.
    pub fn bad_request(msg: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", msg)
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let mut res = (self.0, Json(json!({ "error": { "code": self.1, "message": self.2 } }))).into_response();
        res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        res
    }
}

impl From<ReviewError> for ConsoleError {
    fn from(e: ReviewError) -> Self {
        match e {
            ReviewError::NotFound => Self::new(StatusCode::NOT_FOUND, "not_found", "no such item"),
            ReviewError::AlreadyDecided => Self::new(StatusCode::CONFLICT, "already_decided", e.to_string()),
            ReviewError::BadReason => Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_reason_code", e.to_string()),
            ReviewError::Invalid(m) => Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", m),
            ReviewError::Vault | ReviewError::Store(_) | ReviewError::Audit => {
                tracing::error!(error = %e, "console request failed");
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again later")
            }
        }
    }
}

impl From<AuthError> for ConsoleError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::BadCredentials => Self::new(StatusCode::UNAUTHORIZED, "bad_credentials", e.to_string()),
            AuthError::Exists => Self::new(StatusCode::CONFLICT, "exists", e.to_string()),
            AuthError::Invalid(m) => Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", m),
            AuthError::Busy(_) => Self::new(StatusCode::SERVICE_UNAVAILABLE, "overloaded", "too many logins at once"),
            AuthError::Hash | AuthError::Store(_) => {
                tracing::error!(error = %e, "console auth failed");
                Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again later")
            }
        }
    }
}

/// Result of a console handler.
pub type ConsoleResult<T = Json<Value>> = Result<T, ConsoleError>;

/// Parses a JSON body (`Content-Type: application/json` required); answers 4xx JSON otherwise.
pub fn json_body<T: DeserializeOwned>(headers: &HeaderMap, body: &[u8]) -> Result<T, ConsoleError> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !ct.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")) {
        return Err(ConsoleError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send application/json",
        ));
    }
    serde_json::from_slice(body).map_err(|_| ConsoleError::bad_request("the body is not JSON of the documented shape"))
}

/// The logged-in reviewer (from the bearer token); 401 without a live session.
pub struct Authed(pub Reviewer, pub String);

fn bearer(parts: &Parts) -> Option<String> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let t = v.strip_prefix("Bearer ")?.trim();
    (!t.is_empty() && t.len() <= 256).then(|| t.to_owned())
}

impl<S> FromRequestParts<S> for Authed
where
    Reviews: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let reviews = Reviews::from_ref(state);
        let token = bearer(parts).ok_or_else(ConsoleError::unauthorized)?;
        match auth::authenticate(reviews.store.as_ref(), reviews.clock.as_ref(), &token).await {
            Ok(Some(r)) => Ok(Authed(r, token)),
            Ok(None) => Err(ConsoleError::unauthorized()),
            Err(e) => Err(ReviewError::Store(e).into()),
        }
    }
}

/// The logged-in reviewer, who must be an admin; 403 otherwise.
pub struct Admin(pub Reviewer);

impl<S> FromRequestParts<S> for Admin
where
    Reviews: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Authed(r, _) = Authed::from_request_parts(parts, state).await?;
        if !auth::is_admin(&r) {
            return Err(ConsoleError::forbidden());
        }
        Ok(Admin(r))
    }
}

fn reviewer_json(r: &Reviewer) -> Value {
    json!({ "id": r.id, "username": r.username, "role": r.role.as_str(), "site": r.site_id, "disabled": r.disabled })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    username: String,
    password: String,
}

async fn login(
    State(rv): State<Reviews>,
    addr: Option<axum::Extension<super::ClientIp>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ConsoleResult<Response> {
    let b: LoginBody = json_body(&headers, &body)?;
    if b.username.len() > 64 || b.password.len() > 1024 {
        return Err(AuthError::BadCredentials.into());
    }
    let addr = addr.map_or_else(|| "unknown".to_owned(), |a| a.0.0.clone());
    let keys = throttle::LoginKeys::new(&rv.vault.current(), &b.username, &addr);
    // Throttled: no password is checked and nothing is written.
    if let Some(secs) = throttle::wait(rv.store.as_ref(), &keys, rv.clock.now_ms()).await.map_err(ReviewError::from)? {
        rv.metrics.rate_limited("console_login");
        return Ok(throttled(secs));
    }
    let ttl = rv.config.console_session_secs * 1000;
    let (store, clock, random) = (rv.store.as_ref(), rv.clock.as_ref(), rv.random.as_ref());
    match auth::login(store, clock, random, &rv.hashing, &b.username, &b.password, ttl).await {
        Ok((token, r)) => {
            rv.audit(Event::new(format!("reviewer:{}", r.id), "console.login", format!("reviewer:{}", r.id))).await?;
            let body =
                json!({ "token": token, "reviewer": reviewer_json(&r), "expires_in": rv.config.console_session_secs });
            Ok(Json(body).into_response())
        }
        Err(AuthError::BadCredentials) => {
            let (audit, this_hour) =
                throttle::failed(rv.store.as_ref(), &keys, rv.clock.now_ms()).await.map_err(ReviewError::from)?;
            if audit {
                // The username is not logged: it may be a mistyped password.
                let e = Event::new("anonymous", "console.login_failed", "console");
                rv.audit(e.detail("failures_this_hour", this_hour.to_string())).await?;
            }
            Err(AuthError::BadCredentials.into())
        }
        Err(e) => Err(e.into()),
    }
}

/// `429 rate_limited` with `retry_after` and `Retry-After`: too many failed logins for the account or address.
fn throttled(secs: u64) -> Response {
    let msg = "too many failed logins; try again later";
    let body = json!({ "error": { "code": "rate_limited", "message": msg, "retry_after": secs } });
    let mut res = (StatusCode::TOO_MANY_REQUESTS, Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

async fn logout(State(rv): State<Reviews>, Authed(r, token): Authed) -> ConsoleResult {
    rv.store.delete_reviewer_session(&auth::token_hash(&token)).await.map_err(ReviewError::from)?;
    rv.audit(Event::new(format!("reviewer:{}", r.id), "console.logout", format!("reviewer:{}", r.id))).await?;
    Ok(Json(json!({ "ok": true })))
}

async fn me(Authed(r, _): Authed) -> ConsoleResult {
    Ok(Json(reviewer_json(&r)))
}

async fn queue(State(rv): State<Reviews>, Authed(r, _): Authed) -> ConsoleResult {
    let cases = rv.queue(&r).await?;
    let overdue = cases.iter().filter(|c| c.overdue).count();
    Ok(Json(json!({ "cases": cases, "pending": cases.len(), "overdue": overdue })))
}

async fn case(State(rv): State<Reviews>, Authed(r, _): Authed, Path(id): Path<String>) -> ConsoleResult<Response> {
    let view = rv.view(&r, &id).await?;
    let mut res = Json(view).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    decision: String,
    reason_code: String,
}

async fn decide(
    State(rv): State<Reviews>,
    Authed(r, _): Authed,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ConsoleResult {
    let b: DecisionBody = json_body(&headers, &body)?;
    let approve = match b.decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Err(ConsoleError::bad_request("decision must be approve or reject")),
    };
    let case = rv.decide(&r, &id, approve, &b.reason_code).await?;
    Ok(Json(json!({ "case": case })))
}

async fn reason_codes() -> Json<Value> {
    Json(json!({ "approve": crate::review::APPROVE_CODES, "reject": crate::review::REJECT_CODES }))
}

async fn reviewers(State(rv): State<Reviews>, Admin(_): Admin) -> ConsoleResult {
    let list = rv.store.reviewers().await.map_err(ReviewError::from)?;
    Ok(Json(json!({ "reviewers": list.iter().map(reviewer_json).collect::<Vec<_>>() })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewReviewerBody {
    username: String,
    password: String,
    role: String,
    #[serde(default)]
    site: Option<String>,
}

async fn create_reviewer(
    State(rv): State<Reviews>,
    Admin(admin): Admin,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ConsoleResult<(StatusCode, Json<Value>)> {
    let b: NewReviewerBody = json_body(&headers, &body)?;
    let role = Role::parse(&b.role).ok_or_else(|| ConsoleError::bad_request("role must be reviewer or admin"))?;
    let r = auth::create_reviewer(
        rv.store.as_ref(),
        rv.clock.as_ref(),
        rv.random.as_ref(),
        &b.username,
        &b.password,
        role,
        b.site.as_deref(),
    )
    .await?;
    rv.audit(
        Event::new(format!("reviewer:{}", admin.id), "reviewer.created", format!("reviewer:{}", r.id))
            .detail("role", role.as_str()),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(reviewer_json(&r))))
}

async fn disable_reviewer(State(rv): State<Reviews>, Admin(admin): Admin, Path(id): Path<String>) -> ConsoleResult {
    if id == admin.id {
        return Err(ConsoleError::bad_request("an admin cannot disable their own account"));
    }
    if !rv.store.set_reviewer_disabled(&id, true).await.map_err(ReviewError::from)? {
        return Err(ReviewError::NotFound.into());
    }
    rv.audit(Event::new(format!("reviewer:{}", admin.id), "reviewer.disabled", format!("reviewer:{id}"))).await?;
    Ok(Json(json!({ "ok": true })))
}

async fn console_erase(State(rv): State<Reviews>, Admin(admin): Admin, Path(id): Path<String>) -> ConsoleResult {
    let e = rv.erase_session(&format!("reviewer:{}", admin.id), admin.site_id.as_deref(), &id).await?;
    Ok(Json(json!(e)))
}

async fn site_erase(State(rv): State<Reviews>, headers: HeaderMap, Path(id): Path<String>) -> ConsoleResult {
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .unwrap_or("");
    let site = rv.sites.site_for_secret_key(key).ok_or_else(ConsoleError::unauthorized)?;
    let e = rv.erase_session(&format!("site:{site}"), Some(&site), &id).await?;
    Ok(Json(json!(e)))
}

/// Routes of the console API for reviews and accounts.
pub fn routes<S>() -> Router<S>
where
    Reviews: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/console/api/login", post(login))
        .route("/console/api/logout", post(logout))
        .route("/console/api/me", get(me))
        .route("/console/api/reason-codes", get(reason_codes))
        .route("/console/api/cases", get(queue))
        .route("/console/api/cases/{id}", get(case))
        .route("/console/api/cases/{id}/decision", post(decide))
        .route("/console/api/reviewers", get(reviewers).post(create_reviewer))
        .route("/console/api/reviewers/{id}/disable", post(disable_reviewer))
        .route("/console/api/sessions/{id}/erase", post(console_erase))
        .route("/v1/sessions/{id}/erase", post(site_erase))
}
