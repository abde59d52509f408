//! `GET /metrics`: Prometheus text format; optionally behind a bearer token (`review.metrics_token`).

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::metrics::Gauges;
use crate::review::Reviews;

const WINDOW_MS: i64 = 30 * 86_400_000;

/// Reads the database gauges for a scrape.
pub async fn gauges(rv: &Reviews) -> Result<Gauges, realname_store::StoreError> {
    let now = rv.clock.now_ms();
    let q = rv.store.queue_counts(now).await?;
    let (open, overdue) = rv.store.complaint_counts(now).await?;
    let cases = rv.store.cases_submitted_between(now - WINDOW_MS * 2, now + 1).await?;
    let decided: Vec<_> = cases.iter().filter(|c| c.decided_at.is_some_and(|d| d >= now - WINDOW_MS)).collect();
    let review_sla = ratio(decided.iter().filter(|c| !c.overdue(now)).count(), decided.len());
    let complaints = rv.store.complaints_filed_between(now - WINDOW_MS * 2, now + 1).await?;
    let answered: Vec<_> = complaints.iter().filter(|c| c.answered_at.is_some_and(|a| a >= now - WINDOW_MS)).collect();
    let complaint_sla = ratio(answered.iter().filter(|c| !c.overdue(now)).count(), answered.len());
    Ok(Gauges {
        review_queue: q.pending,
        review_overdue: q.overdue,
        complaints_open: open,
        complaints_overdue: overdue,
        review_sla,
        complaint_sla,
    })
}

fn ratio(good: usize, all: usize) -> f64 {
    if all == 0 { 1.0 } else { good as f64 / all as f64 }
}

async fn metrics(State(rv): State<Reviews>, headers: HeaderMap) -> Response {
    if let Some(want) = rv.config.metrics_token.as_deref().filter(|t| !t.is_empty()) {
        let given =
            headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        let ok = given.is_some_and(|g| {
            g.len() == want.len() && g.bytes().zip(want.bytes()).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0
        });
        if !ok {
            return (
                StatusCode::UNAUTHORIZED,
                axum::Json(
                    serde_json::json!({"error": {"code": "unauthorized", "message": "metrics need the bearer token"}}),
                ),
            )
                .into_response();
        }
    }
    match gauges(&rv).await {
        Ok(g) => {
            let mut res = rv.metrics.render(&g).into_response();
            res.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
            res
        }
        Err(e) => {
            tracing::error!(error = %e, "metrics gauges failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}

/// The `/metrics` route.
pub fn routes<S>() -> Router<S>
where
    Reviews: FromRef<S>,
    S: Clone + Send + Sync + 'static,
{
    Router::new().route("/metrics", get(metrics))
}
