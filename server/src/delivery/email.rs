//! Email codes over SMTP (lettre): `tls = "starttls"` (default), `"tls"` (implicit TLS) or `"none"`
//! (plain; for a relay on loopback and tests).

use async_trait::async_trait;
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor};

use super::{CodeMessage, DeliveryError, Sender};
use realname_domain::config::EmailConfig;

/// The SMTP sender.
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    subject: String,
}

impl Smtp {
    /// Builds the transport from configuration (no connection is made yet).
    pub fn new(cfg: &EmailConfig) -> Result<Self, DeliveryError> {
        let from: Mailbox = cfg.from.parse().map_err(|_| DeliveryError::NotConfigured("email.from"))?;
        let mut builder = match cfg.tls.as_str() {
            "none" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&cfg.host),
            "starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&cfg.host)
                .map_err(|e| DeliveryError::Transport(e.to_string()))?,
            "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(&cfg.host)
                .map_err(|e| DeliveryError::Transport(e.to_string()))?,
            _ => return Err(DeliveryError::NotConfigured("email.tls (none, starttls, tls)")),
        };
        builder = builder.port(cfg.port).timeout(Some(std::time::Duration::from_secs(10)));
        if !cfg.username.is_empty() {
            builder = builder.credentials(Credentials::new(cfg.username.clone(), cfg.password.expose().to_owned()));
        }
        Ok(Self { transport: builder.build(), from, subject: cfg.subject.clone() })
    }
}

#[async_trait]
impl Sender for Smtp {
    async fn send(&self, msg: &CodeMessage) -> Result<(), DeliveryError> {
        let to: Mailbox = msg.to.parse().map_err(|_| DeliveryError::Refused("invalid recipient".into()))?;
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&self.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(msg.text())
            .map_err(|e| DeliveryError::Refused(e.to_string()))?;
        // The server's reply text may quote the recipient: keep only the status code.
        self.transport.send(email).await.map(|_| ()).map_err(|e| {
            DeliveryError::Transport(format!(
                "smtp {}",
                e.status().map_or_else(|| "connection failed".to_owned(), |c| c.to_string())
            ))
        })
    }

    fn name(&self) -> &'static str {
        "smtp"
    }
}
