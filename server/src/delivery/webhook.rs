//! The `webhook` SMS provider: a JSON POST signed like site webhooks (`Realname-Signature`), for operators
//! whose SMS gateway is their own service.

use std::sync::Arc;

use async_trait::async_trait;

use super::http::HttpClient;
use super::{CodeMessage, DeliveryError, Sender};
use realname_domain::clock::Clock;
use realname_domain::config::SmsWebhookConfig;

/// The webhook SMS sender. Body: `{"to": "+8613800138000", "code": "123456", "ttl_minutes": 5, "text": "…"}`.
pub struct WebhookSms {
    cfg: SmsWebhookConfig,
    http: HttpClient,
    clock: Arc<dyn Clock>,
}

impl WebhookSms {
    /// Checks the configuration is complete.
    pub fn new(cfg: SmsWebhookConfig, http: HttpClient, clock: Arc<dyn Clock>) -> Result<Self, DeliveryError> {
        if cfg.url.is_empty() || cfg.secret.is_empty() {
            return Err(DeliveryError::NotConfigured("sms.webhook (url, secret)"));
        }
        Ok(Self { cfg, http, clock })
    }
}

#[async_trait]
impl Sender for WebhookSms {
    async fn send(&self, msg: &CodeMessage) -> Result<(), DeliveryError> {
        let body = serde_json::json!({
            "to": format!("+86{}", msg.to),
            "code": msg.code,
            "ttl_minutes": msg.ttl_minutes,
            "text": msg.text(),
        })
        .to_string();
        let sig = realname_domain::signature::sign(
            self.cfg.secret.expose().as_bytes(),
            self.clock.now_secs(),
            body.as_bytes(),
        );
        let headers = vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            (realname_domain::signature::HEADER.to_owned(), sig),
        ];
        let reply =
            self.http.send(&self.cfg.url, headers, Some(body.into_bytes())).await.map_err(DeliveryError::Transport)?;
        if (200..300).contains(&reply.status) {
            Ok(())
        } else {
            Err(DeliveryError::Refused(format!("webhook HTTP {}", reply.status)))
        }
    }

    fn name(&self) -> &'static str {
        "webhook"
    }
}
