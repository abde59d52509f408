//! Site webhooks `verification.*`: queued in the store by the session service (`sessions/events.rs`, at least once),
//! signed here at send time with `Realname-Signature: t=…,v1=…` (HMAC-SHA256 over `t.body`), retried with backoff
//! by a worker that leases deliveries, so several instances never send one event twice at the same time.

use std::time::Duration;

use crate::state::AppState;
use realname_store::retry_backoff_ms;

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
