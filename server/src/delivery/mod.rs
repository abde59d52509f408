//! Delivery of one-time codes: SMS providers and email behind one trait.
//!
//! `aliyun` (Dysmsapi SendSms, RPC signature), `tencent` (SMS API 3.0, TC3-HMAC-SHA256), `webhook`
//! (HMAC-signed JSON POST), `smtp` (lettre) and `outbox` (demo only: kept in memory, shown at `/dev/outbox`).

use std::sync::Arc;

use async_trait::async_trait;

pub mod aliyun;
pub mod email;
pub mod http;
pub mod outbox;
pub mod tencent;
pub mod webhook;

pub use outbox::Outbox;
use realname_domain::clock::{Clock, Random};
use realname_domain::config::Config;

/// Where a code goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// A text message.
    Sms,
    /// An email.
    Email,
}

/// One code to deliver. `Debug` masks the destination and hides the code.
#[derive(Clone)]
pub struct CodeMessage {
    /// Channel.
    pub channel: Channel,
    /// Phone number (normalized, 11 digits) or email address.
    pub to: String,
    /// Masked destination, for logs and the outbox.
    pub to_masked: String,
    /// The six digits.
    pub code: String,
    /// Lifetime in minutes (for the message text).
    pub ttl_minutes: u32,
}

impl std::fmt::Debug for CodeMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeMessage")
            .field("channel", &self.channel)
            .field("to", &self.to_masked)
            .field("code", &"<redacted>")
            .finish()
    }
}

impl CodeMessage {
    /// The human text of the message (SMS body / email body).
    pub fn text(&self) -> String {
        format!(
            "您的验证码是 {}，{} 分钟内有效。请勿告诉他人。Your verification code is {}.",
            self.code, self.ttl_minutes, self.code
        )
    }
}

/// Why a delivery failed. Never carries personal data.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The provider is not configured.
    #[error("provider not configured: {0}")]
    NotConfigured(&'static str),
    /// Network or protocol failure talking to the provider.
    #[error("transport: {0}")]
    Transport(String),
    /// The provider answered with an error.
    #[error("provider refused: {0}")]
    Refused(String),
}

/// A way to deliver codes.
#[async_trait]
pub trait Sender: Send + Sync {
    /// Delivers one message.
    async fn send(&self, msg: &CodeMessage) -> Result<(), DeliveryError>;
    /// The provider's name, for logs.
    fn name(&self) -> &'static str;
}

/// The configured senders for both channels.
#[derive(Clone)]
pub struct Delivery {
    /// SMS sender.
    pub sms: Arc<dyn Sender>,
    /// Email sender.
    pub email: Arc<dyn Sender>,
    /// The outbox, when a channel uses it (demo).
    pub outbox: Option<Arc<Outbox>>,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery").field("sms", &self.sms.name()).field("email", &self.email.name()).finish()
    }
}

impl Delivery {
    /// Builds the senders named in the configuration.
    pub fn from_config(cfg: &Config, clock: Arc<dyn Clock>, rng: Arc<dyn Random>) -> Result<Self, DeliveryError> {
        let client = http::HttpClient::new(std::time::Duration::from_secs(10));
        let mut outbox = None;
        let mut get_outbox = || outbox.get_or_insert_with(|| Arc::new(Outbox::new(500))).clone();
        let sms: Arc<dyn Sender> = match cfg.sms.provider.as_str() {
            "outbox" => get_outbox(),
            "aliyun" => Arc::new(aliyun::Aliyun::new(cfg.sms.aliyun.clone(), client.clone(), clock, rng)?),
            "tencent" => Arc::new(tencent::Tencent::new(cfg.sms.tencent.clone(), client.clone(), clock)?),
            "webhook" => Arc::new(webhook::WebhookSms::new(cfg.sms.webhook.clone(), client.clone(), clock)?),
            _ => return Err(DeliveryError::NotConfigured("sms.provider")),
        };
        let email: Arc<dyn Sender> = match cfg.email.provider.as_str() {
            "outbox" => get_outbox(),
            "smtp" => Arc::new(email::Smtp::new(&cfg.email)?),
            _ => return Err(DeliveryError::NotConfigured("email.provider")),
        };
        Ok(Self { sms, email, outbox })
    }

    /// The sender for a channel.
    pub fn for_channel(&self, channel: Channel) -> &Arc<dyn Sender> {
        match channel {
            Channel::Sms => &self.sms,
            Channel::Email => &self.email,
        }
    }
}

/// Formats Unix seconds as ISO 8601 UTC (`2017-07-12T02:42:19Z`) and the date part.
pub fn utc_datetime(secs: i64) -> (String, String) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = realname_core::validate::civil_from_days(days);
    let date = format!("{y:04}-{m:02}-{d:02}");
    (format!("{date}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60), date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_encoding() {
        assert_eq!(utc_datetime(1_499_827_339).0, "2017-07-12T02:42:19Z");
        assert_eq!(utc_datetime(1_551_113_065).1, "2019-02-25");
        assert_eq!(utc_datetime(0).0, "1970-01-01T00:00:00Z");
        let msg = CodeMessage {
            channel: Channel::Sms,
            to: "13800138000".into(),
            to_masked: "138****8000".into(),
            code: "123456".into(),
            ttl_minutes: 5,
        };
        let dbg = format!("{msg:?}");
        assert!(!dbg.contains("123456") && !dbg.contains("13800138000"), "{dbg}");
    }
}
