//! A session's events for its site: the `verification.*` webhook deliveries queued in the store (sent by the worker
//! in `webhooks.rs`) and the outcome metrics; also what a review decision raises.

use std::sync::Arc;

use async_trait::async_trait;
use realname_core::protocol::{EventType, SessionResult, SessionStatus, WebhookEvent};

use super::error::{ServiceResult, SessionError};
use super::result::Results;
use crate::metrics::Metrics;
use crate::review::DecisionHook;
use realname_domain::clock::{Clock, Random};
use realname_domain::session::Session;
use realname_domain::sites::{Site, Sites};
use realname_store::{NewDelivery, Store, WriteTx};

/// Queues a session's webhook events and counts its outcome.
#[derive(Clone)]
pub struct Events {
    /// The delivery queue.
    pub store: Arc<dyn Store>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Randomness (event ids).
    pub random: Arc<dyn Random>,
    /// Outcome counters.
    pub metrics: Arc<Metrics>,
    /// The events' payload: the session's masked result.
    pub results: Results,
    /// The sites (for a review decision, which names only the session).
    pub sites: Arc<Sites>,
}

impl Events {
    /// The delivery an event makes for the site's webhook (`None` for sites without one). Masked values only.
    fn delivery(&self, session: &Session, site: &Site, kind: EventType) -> ServiceResult<Option<NewDelivery>> {
        if site.cfg.webhook_url.is_none() {
            return Ok(None);
        }
        self.delivery_of(self.results.current(session, site)?, site, kind)
    }

    /// The delivery of `data`, the session's view already built (its token is left out).
    fn delivery_of(&self, mut data: SessionResult, site: &Site, kind: EventType) -> ServiceResult<Option<NewDelivery>> {
        let Some(url) = site.cfg.webhook_url.clone() else { return Ok(None) };
        data.result_token = None;
        let now = self.clock.now_ms();
        let event =
            WebhookEvent { id: format!("evt_{}", self.random.token(16)), kind, created_at: now.div_euclid(1000), data };
        let body = serde_json::to_string(&event).map_err(|_| SessionError::Internal("webhook event not encoded"))?;
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
    pub fn observe(&self, session: &Session, kind: EventType) {
        self.metrics.observe_outcome(session, kind, self.clock.now_ms());
    }

    /// Queues an event for the site's webhook (no-op for sites without one) and counts it in the metrics.
    pub async fn enqueue(&self, session: &Session, site: &Site, kind: EventType) -> ServiceResult<()> {
        self.observe(session, kind);
        if let Some(new) = self.delivery(session, site, kind)? {
            self.store.enqueue_delivery(&new).await?;
        }
        Ok(())
    }

    /// Queues an event in the transaction that changes the session, so the event exists exactly when the change
    /// does. The caller [`observe`](Self::observe)s it after the commit.
    pub async fn enqueue_in(
        &self,
        tx: &mut dyn WriteTx,
        session: &Session,
        site: &Site,
        kind: EventType,
    ) -> ServiceResult<()> {
        if let Some(new) = self.delivery(session, site, kind)? {
            tx.enqueue_delivery(&new).await?;
        }
        Ok(())
    }

    /// As [`enqueue_in`](Self::enqueue_in), for a step that already holds the session's view
    /// ([`result_of`](super::result::result_of)): nothing is decrypted again.
    pub async fn enqueue_result_in(
        &self,
        tx: &mut dyn WriteTx,
        result: &SessionResult,
        site: &Site,
        kind: EventType,
    ) -> ServiceResult<()> {
        if let Some(new) = self.delivery_of(result.clone(), site, kind)? {
            tx.enqueue_delivery(&new).await?;
        }
        Ok(())
    }
}

/// A review decision fires the session's `verification.verified` / `verification.rejected` webhook.
#[async_trait]
impl DecisionHook for Events {
    async fn decided(&self, session: &Session) {
        let kind = match session.status {
            SessionStatus::Verified => EventType::Verified,
            SessionStatus::Rejected => EventType::Rejected,
            _ => return,
        };
        let Some(site) = self.sites.by_id(&session.site_id) else {
            // Counted here since no webhook event is raised for an unknown site.
            self.observe(session, kind);
            return;
        };
        if let Err(e) = self.enqueue(session, site, kind).await {
            tracing::error!(error = %e, session = %session.id, "review decision webhook not queued");
        }
    }
}
