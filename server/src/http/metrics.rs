//! `GET /metrics`: Prometheus text format, behind a bearer token (`review.metrics_token`) unless the operator opens
//! it (`review.metrics_public = true`): without either it answers 401 to everyone.

use std::time::Duration;

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use subtle::ConstantTimeEq as _;

use crate::metrics::Gauges;
use crate::review::Reviews;

/// How long the gauges' database counts may take before the scrape answers 503.
const GAUGES_TIMEOUT: Duration = Duration::from_secs(2);

/// Reads the gauges of open work: two indexed counts, whatever the history holds.
pub async fn gauges(rv: &Reviews) -> Result<Gauges, realname_store::StoreError> {
    let now = rv.clock.now_ms();
    let q = rv.store.queue_counts(now).await?;
    let (open, overdue) = rv.store.complaint_counts(now).await?;
    Ok(Gauges {
        review_queue: q.pending,
        review_overdue: q.overdue,
        complaints_open: open,
        complaints_overdue: overdue,
    })
}

/// Whether the request may read the metrics.
fn allowed(rv: &Reviews, headers: &HeaderMap) -> bool {
    let want = rv.config.metrics_token.expose();
    if want.is_empty() {
        return rv.config.metrics_public;
    }
    let given =
        headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    given.is_some_and(|g| bool::from(g.as_bytes().ct_eq(want.as_bytes())))
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (status, axum::Json(serde_json::json!({"error": {"code": code, "message": message}}))).into_response()
}

async fn metrics(State(rv): State<Reviews>, headers: HeaderMap) -> Response {
    if !allowed(&rv, &headers) {
        let mut res = error(StatusCode::UNAUTHORIZED, "unauthorized", "metrics need the bearer token");
        res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return res;
    }
    match tokio::time::timeout(GAUGES_TIMEOUT, gauges(&rv)).await {
        Ok(Ok(g)) => {
            let mut res = rv.metrics.render(&g).into_response();
            res.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
            res
        }
        Ok(Err(e)) => {
            tracing::error!(error = %e, "metrics gauges failed");
            error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "database unavailable")
        }
        Err(_) => {
            tracing::error!("metrics gauges: the database did not answer in time");
            error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "database unavailable")
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
