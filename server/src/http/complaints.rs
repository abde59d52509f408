//! Complaints over HTTP: the person files one (`POST /v1/complaints`) and checks it with ticket + secret
//! (`GET /v1/complaints/{ticket}`, `Authorization: Bearer <secret>`); reviewers list, read, answer and close them
//! in the console (`/console/api/complaints…`).

use axum::extract::{FromRef, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use super::review::{Authed, ConsoleError, ConsoleResult, json_body};
use crate::review::{ReviewError, Reviews};

/// Complaints one session may file per day.
const PER_SESSION_PER_DAY: u64 = 5;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileBody {
    session_id: String,
    category: String,
    message: String,
}

async fn file(
    State(rv): State<Reviews>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ConsoleResult<(StatusCode, Json<Value>)> {
    let b: FileBody = json_body(&headers, &body)?;
    if b.session_id.is_empty() || b.session_id.len() > 128 {
        return Err(ReviewError::NotFound.into());
    }
    // Bad input is refused before the day's allowance counts it.
    crate::complaint::check_complaint(&b.category, &b.message)?;
    let session = rv.store.session(&b.session_id).await.map_err(ReviewError::from)?.ok_or(ReviewError::NotFound)?;
    let hits = rv
        .store
        .rate_hit(&format!("complaint:session:{}", session.id), 86_400_000, rv.clock.now_ms())
        .await
        .map_err(ReviewError::from)?;
    if hits > PER_SESSION_PER_DAY {
        return Err(ConsoleError(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            "too many complaints for this verification today".into(),
        ));
    }
    let filed = rv.file_complaint(&session.site_id, Some(&session.id), &b.category, &b.message).await?;
    Ok((StatusCode::CREATED, Json(json!(filed))))
}

async fn status(State(rv): State<Reviews>, Path(ticket): Path<String>, headers: HeaderMap) -> ConsoleResult {
    let secret = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= 256)
        .ok_or_else(ConsoleError::unauthorized)?;
    if ticket.len() > 64 {
        return Err(ReviewError::NotFound.into());
    }
    Ok(Json(json!(rv.complaint_status(&ticket, secret).await?)))
}

async fn list(State(rv): State<Reviews>, Authed(r, _): Authed) -> ConsoleResult {
    let list = rv.complaints(&r).await?;
    let overdue = list.iter().filter(|c| c.overdue).count();
    Ok(Json(json!({ "complaints": list, "open": list.len(), "overdue": overdue })))
}

async fn view(State(rv): State<Reviews>, Authed(r, _): Authed, Path(ticket): Path<String>) -> ConsoleResult {
    Ok(Json(json!(rv.view_complaint(&r, &ticket).await?)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerBody {
    answer: String,
}

async fn answer(
    State(rv): State<Reviews>,
    Authed(r, _): Authed,
    Path(ticket): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ConsoleResult {
    let b: AnswerBody = json_body(&headers, &body)?;
    Ok(Json(json!({ "complaint": rv.answer_complaint(&r, &ticket, &b.answer).await? })))
}

async fn close(State(rv): State<Reviews>, Authed(r, _): Authed, Path(ticket): Path<String>) -> ConsoleResult {
    Ok(Json(json!({ "complaint": rv.close_complaint(&r, &ticket).await? })))
}

/// Routes for complaints (public and console).
pub fn routes<S>() -> Router<S>
where
    Reviews: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new()
        .route("/v1/complaints", post(file))
        .route("/v1/complaints/{ticket}", get(status))
        .route("/console/api/complaints", get(list))
        .route("/console/api/complaints/{ticket}", get(view))
        .route("/console/api/complaints/{ticket}/answer", post(answer))
        .route("/console/api/complaints/{ticket}/close", post(close))
}
