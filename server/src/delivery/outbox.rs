//! The demo outbox: "sent" messages are kept in memory and shown at `/dev/outbox`. Only in demo mode.
//!
//! The log gets a line per message with the masked destination only, never the code.

use std::collections::VecDeque;
use std::sync::Mutex;

use async_trait::async_trait;
use serde::Serialize;

use super::{Channel, CodeMessage, DeliveryError, Sender};

/// One message in the outbox.
#[derive(Debug, Clone, Serialize)]
pub struct OutboxMessage {
    /// Sequence number.
    pub id: u64,
    /// `sms` or `email`.
    pub channel: &'static str,
    /// Masked destination.
    pub to: String,
    /// The full text, including the code.
    pub text: String,
    /// The code alone (what a demo page shows to the person).
    pub code: String,
}

/// The in-memory outbox.
#[derive(Debug)]
pub struct Outbox {
    cap: usize,
    inner: Mutex<(u64, VecDeque<OutboxMessage>)>,
}

impl Outbox {
    /// An outbox keeping the newest `cap` messages.
    pub fn new(cap: usize) -> Self {
        Self { cap, inner: Mutex::new((0, VecDeque::new())) }
    }

    /// Newest first.
    pub fn messages(&self) -> Vec<OutboxMessage> {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.1.iter().rev().cloned().collect()
    }

    /// The newest message to a masked destination, if any.
    pub fn latest_to(&self, to_masked: &str) -> Option<OutboxMessage> {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.1.iter().rev().find(|m| m.to == to_masked).cloned()
    }
}

#[async_trait]
impl Sender for Outbox {
    async fn send(&self, msg: &CodeMessage) -> Result<(), DeliveryError> {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.0 += 1;
        let id = g.0;
        let channel = match msg.channel {
            Channel::Sms => "sms",
            Channel::Email => "email",
        };
        g.1.push_back(OutboxMessage {
            id,
            channel,
            to: msg.to_masked.clone(),
            text: msg.text(),
            code: msg.code.clone(),
        });
        while g.1.len() > self.cap {
            g.1.pop_front();
        }
        tracing::info!(outbox_id = id, channel, to = %msg.to_masked, "outbox: message kept (see /dev/outbox)");
        Ok(())
    }

    fn name(&self) -> &'static str {
        "outbox"
    }
}
