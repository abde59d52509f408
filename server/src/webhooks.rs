//! Site webhooks `verification.*`: queued in the store (at least once), signed at send time with
//! `Realname-Signature: t=…,v1=…` (HMAC-SHA256 over `t.body`), retried with backoff by a worker that leases
//! deliveries, so several instances never send one event twice at the same time.

use std::time::Duration;

use realname_core::protocol::{EventType, SessionResult, WebhookEvent};

use crate::error::ApiResult;
use crate::sessions::session_result;
use crate::state::AppState;
use realname_domain::session::Session;
use realname_domain::sites::Site;
use realname_store::{NewDelivery, WriteTx, retry_backoff_ms};

/// The delivery an event makes for the site's webhook (`None` for sites without one). Masked values only.
fn delivery(state: &AppState, session: &Session, site: &Site, kind: EventType) -> ApiResult<Option<NewDelivery>> {
    if site.cfg.webhook_url.is_none() {
        return Ok(None);
    }
    delivery_of(state, session_result(state, session, site)?, site, kind)
}

/// The delivery of `data`, the session's view already built (its token is left out).
fn delivery_of(
    state: &AppState,
    mut data: SessionResult,
    site: &Site,
    kind: EventType,
) -> ApiResult<Option<NewDelivery>> {
    let Some(url) = site.cfg.webhook_url.clone() else { return Ok(None) };
    data.result_token = None;
    let now = state.clock.now_ms();
    let event =
        WebhookEvent { id: format!("evt_{}", state.rng.token(16)), kind, created_at: now.div_euclid(1000), data };
    let body = serde_json::to_string(&event).map_err(|e| crate::error::ApiError::internal(&e))?;
    Ok(Some(NewDelivery {
        site_id: site.cfg.id.clone(),
        event_id: event.id,
        event_type: kind.as_str().to_owned(),
        url,
        body,
        created_at: now,
    }))
}

/// Counts a finished session in the metrics (call once its new state is committed).
pub fn observe(state: &AppState, session: &Session, kind: EventType) {
    crate::metrics::observe_outcome(state, session, kind);
}

/// Queues an event for the site's webhook (no-op for sites without one) and counts it in the metrics.
pub async fn enqueue(state: &AppState, session: &Session, site: &Site, kind: EventType) -> ApiResult<()> {
    observe(state, session, kind);
    if let Some(new) = delivery(state, session, site, kind)? {
        state.store.enqueue_delivery(&new).await?;
    }
    Ok(())
}

/// Queues an event in the transaction that changes the session, so the event exists exactly when the change
/// does. The caller [`observe`]s it after the commit.
pub async fn enqueue_in(
    state: &AppState,
    tx: &mut dyn WriteTx,
    session: &Session,
    site: &Site,
    kind: EventType,
) -> ApiResult<()> {
    if let Some(new) = delivery(state, session, site, kind)? {
        tx.enqueue_delivery(&new).await?;
    }
    Ok(())
}

/// As [`enqueue_in`], for a step that already holds the session's view (`result_of`): nothing is decrypted again.
pub async fn enqueue_result_in(
    state: &AppState,
    tx: &mut dyn WriteTx,
    result: &SessionResult,
    site: &Site,
    kind: EventType,
) -> ApiResult<()> {
    if let Some(new) = delivery_of(state, result.clone(), site, kind)? {
        tx.enqueue_delivery(&new).await?;
    }
    Ok(())
}

/// What one worker pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TickReport {
    /// Delivered (2xx).
    pub delivered: u32,
    /// Failed and scheduled again.
    pub retried: u32,
    /// Given up.
    pub abandoned: u32,
}

/// One pass: claims due deliveries, sends them, records the outcome. Tests call this after moving the clock.
pub async fn tick(state: &AppState, owner: &str) -> TickReport {
    let mut report = TickReport::default();
    let now = state.clock.now_ms();
    let lease_ms = i64::try_from(state.cfg.webhooks.timeout_secs).unwrap_or(10) * 1000 * 3;
    let due = match state.store.claim_deliveries(owner, now, lease_ms, 20).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "webhook queue unavailable");
            return report;
        }
    };
    for d in due {
        let Some(site) = state.sites.by_id(&d.site_id) else {
            let _ = state.store.abandon_delivery(d.id, owner, "site no longer configured").await;
            report.abandoned += 1;
            continue;
        };
        let sent_at = state.clock.now_secs();
        let sig =
            realname_domain::signature::sign(site.cfg.webhook_secret.expose().as_bytes(), sent_at, d.body.as_bytes());
        let headers = vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            ("Realname-Event-Id".to_owned(), d.event_id.clone()),
            (realname_domain::signature::HEADER.to_owned(), sig),
        ];
        let outcome = state.http.send(&d.url, headers, Some(d.body.clone().into_bytes())).await;
        let error = match outcome {
            Ok(r) if (200..300).contains(&r.status) => None,
            Ok(r) => Some(format!("HTTP {}", r.status)),
            Err(e) => Some(format!("transport: {e}")),
        };
        match error {
            None => {
                let _ = state.store.complete_delivery(d.id, owner, state.clock.now_ms()).await;
                tracing::info!(event = %d.event_id, kind = %d.event_type, site = %d.site_id, "webhook delivered");
                report.delivered += 1;
            }
            Some(err) if d.attempts >= state.cfg.webhooks.max_attempts => {
                let _ = state.store.abandon_delivery(d.id, owner, &err).await;
                tracing::warn!(event = %d.event_id, site = %d.site_id, error = %err, "webhook abandoned");
                report.abandoned += 1;
            }
            Some(err) => {
                let next = state.clock.now_ms() + retry_backoff_ms(d.attempts);
                let _ = state.store.retry_delivery(d.id, owner, next, &err).await;
                tracing::info!(event = %d.event_id, site = %d.site_id, error = %err, attempt = d.attempts, "webhook will be retried");
                report.retried += 1;
            }
        }
    }
    report
}

/// Runs [`tick`] every `webhooks.poll_ms` until `shutdown` resolves.
pub async fn run(state: AppState, shutdown: impl std::future::Future<Output = ()>) {
    let owner = format!("worker-{}", state.rng.token(8));
    let period = Duration::from_millis(state.cfg.webhooks.poll_ms.max(50));
    tokio::pin!(shutdown);
    loop {
        tick(&state, &owner).await;
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tokio::time::sleep(period) => {}
        }
    }
}
