//! Configuration, layered: built-in defaults → TOML file → environment (`REALNAME__SECTION__KEY`) → CLI flags.
//!
//! Secrets are [`Secret`]s whose `Debug` prints `<redacted>`, so a logged config leaks nothing.

use std::path::{Path, PathBuf};

use realname_core::protocol::Method;
use serde::{Deserialize, Serialize};

mod audit;
mod checks;
mod delivery;
mod http;
mod review;
mod sample;

pub use audit::AuditConfig;
pub use checks::{
    AliyunChecks, CHECK_PROVIDERS, CheckPolicy, ChecksConfig, NppaChecks, SiteCheck, TencentChecks, WebhookChecks,
};
pub use delivery::{AliyunConfig, EmailConfig, SmsConfig, SmsWebhookConfig, TencentConfig};
pub use http::HttpConfig;
pub use review::ReviewConfig;
pub use sample::sample_toml;

/// Errors while loading configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The TOML (or an environment override) is invalid.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

/// A secret string: never printed by `Debug`.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The secret value; call only where it is used.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether it is empty (not configured).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() { "<empty>" } else { "<redacted>" })
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// HTTP listener and logging.
    pub server: ServerConfig,
    /// Connection timeouts and caps, HSTS.
    pub http: HttpConfig,
    /// Database.
    pub database: DatabaseConfig,
    /// Key material.
    pub keys: KeysConfig,
    /// Sessions and result tokens.
    pub session: SessionConfig,
    /// One-time codes.
    pub codes: CodeConfig,
    /// Sending limits (anti SMS-bombing).
    pub limits: LimitConfig,
    /// SMS delivery.
    pub sms: SmsConfig,
    /// Email delivery.
    pub email: EmailConfig,
    /// Webhook delivery.
    pub webhooks: WebhookConfig,
    /// The sites allowed to use this server.
    pub sites: Vec<SiteConfig>,
    /// Review queue, complaints, retention, console, metrics (review stream).
    pub review: ReviewConfig,
    /// Signed checkpoints of the audit log.
    pub audit: AuditConfig,
    /// Authoritative checks: timeout and limits.
    pub checks: ChecksConfig,
}

/// Listener and logging.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Listen address.
    pub addr: String,
    /// Public base URL (the `iss` of result tokens).
    pub public_url: String,
    /// `json` (production) or `text`.
    pub log_format: String,
    /// `error`, `warn`, `info`, `debug` or `trace`.
    pub log_level: String,
    /// Maximum request body in bytes.
    pub body_limit: usize,
    /// Take the client IP from `X-Forwarded-For` (only behind a trusted reverse proxy).
    pub trust_forwarded_for: bool,
    /// How many reverse proxies you control stand in front of the server, each appending the address it saw to
    /// `X-Forwarded-For`: the client's address is that many entries from the right (1..=16; default 1). Entries
    /// further left are the client's own words and never used.
    pub trusted_proxy_hops: u32,
    /// Demo mode: the outbox is shown at `/dev/outbox`, `/demo/verify-token` is served.
    pub demo: bool,
    /// A folder served statically at `/` (the demo pages), if any.
    pub www: Option<PathBuf>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            addr: "127.0.0.1:8080".into(),
            public_url: "http://127.0.0.1:8080".into(),
            log_format: "json".into(),
            log_level: "info".into(),
            body_limit: 64 * 1024,
            trust_forwarded_for: false,
            trusted_proxy_hops: 1,
            demo: false,
            www: None,
        }
    }
}

/// Database.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://data/realname.db` or `postgres://…` (may hold a password: redacted in `Debug`).
    pub url: Secret,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self { url: Secret::new("sqlite://data/realname.db") }
    }
}

/// Key material location and rotation.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeysConfig {
    /// Folder of the key files (created 0700; files 0600).
    pub dir: PathBuf,
    /// How long a replaced HPKE key keeps opening envelopes (and a replaced token key stays in the JWKS), in seconds.
    pub hpke_grace_secs: i64,
    /// Publish, then use: how long after the first instance loaded a key added by a rotation it starts sealing or
    /// signing, in seconds (every instance must load it before; docs/deploy.md).
    pub publish_secs: i64,
    /// How often the key files are read again, in seconds (0: only on `SIGHUP`).
    pub reload_secs: u64,
}

impl Default for KeysConfig {
    fn default() -> Self {
        Self { dir: PathBuf::from("data/keys"), hpke_grace_secs: 7 * 24 * 3600, publish_secs: 3600, reload_secs: 30 }
    }
}

/// Session and token lifetimes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionConfig {
    /// Client secret lifetime, seconds.
    pub client_secret_ttl_secs: i64,
    /// Unfinished session lifetime, seconds.
    pub session_ttl_secs: i64,
    /// Result token lifetime, seconds.
    pub token_ttl_secs: i64,
    /// How long finished sessions are kept, seconds.
    pub retention_secs: i64,
    /// How long a cross-device handoff code works, seconds (never past the session's end).
    pub handoff_ttl_secs: i64,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            client_secret_ttl_secs: 30 * 60,
            session_ttl_secs: 60 * 60,
            token_ttl_secs: 15 * 60,
            retention_secs: 30 * 24 * 3600,
            handoff_ttl_secs: 5 * 60,
        }
    }
}

/// One-time code policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CodeConfig {
    /// Code lifetime, seconds.
    pub ttl_secs: i64,
    /// Wrong tries allowed per code.
    pub max_attempts: u32,
    /// Minimum time between two sends for one session, seconds.
    pub resend_cooldown_secs: i64,
}

impl Default for CodeConfig {
    fn default() -> Self {
        Self { ttl_secs: 300, max_attempts: 5, resend_cooldown_secs: 60 }
    }
}

/// Sending limits; 0 disables a limit.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitConfig {
    /// Codes per phone/email per minute.
    pub per_destination_minute: u64,
    /// Codes per phone/email per hour.
    pub per_destination_hour: u64,
    /// Codes per phone/email per day.
    pub per_destination_day: u64,
    /// Codes per client IP per hour.
    pub per_ip_hour: u64,
    /// Codes per session.
    pub per_session: u32,
    /// Refused sends recorded per client address and destination per hour; past it a refusal writes nothing
    /// (0 = no bound). Refusals never count against the destination's or the address's limits above.
    pub refusals_per_client_destination_hour: u64,
    /// Sessions created per client IP per hour through the publishable key.
    pub widget_sessions_per_ip_hour: u64,
    /// Handoff codes one session may make (docs/protocol.md 4.13).
    pub handoffs_per_session: u32,
    /// Handoff codes made per client IP per hour.
    pub handoffs_per_ip_hour: u64,
    /// Handoff redemption attempts per client IP per hour, right or wrong: what bounds guessing codes.
    pub handoff_redeems_per_ip_hour: u64,
}

impl Default for LimitConfig {
    fn default() -> Self {
        Self {
            per_destination_minute: 1,
            per_destination_hour: 5,
            per_destination_day: 10,
            per_ip_hour: 20,
            per_session: 5,
            refusals_per_client_destination_hour: 10,
            widget_sessions_per_ip_hour: 60,
            handoffs_per_session: 5,
            handoffs_per_ip_hour: 30,
            handoff_redeems_per_ip_hour: 20,
        }
    }
}

/// Webhook delivery.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// Attempts before a delivery is abandoned.
    pub max_attempts: u32,
    /// Per-request timeout, seconds.
    pub timeout_secs: u64,
    /// How often the worker looks for due deliveries, milliseconds.
    pub poll_ms: u64,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self { max_attempts: 8, timeout_secs: 10, poll_ms: 1000 }
    }
}

/// One site (a customer of this server).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    /// Stable id (`aud` of result tokens).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Allowed browser origins (`https://shop.example.com`).
    #[serde(default)]
    pub origins: Vec<String>,
    /// Hex SHA-256 of the secret API key (`realname-server init` prints the key once).
    #[serde(default)]
    pub secret_key_sha256: String,
    /// Publishable key for browser-created sessions (demo); none disables that endpoint for the site.
    #[serde(default)]
    pub publishable_key: Option<String>,
    /// Webhook URL.
    #[serde(default)]
    pub webhook_url: Option<String>,
    /// Webhook signing secret.
    #[serde(default)]
    pub webhook_secret: Secret,
    /// Methods enabled.
    #[serde(default = "default_methods")]
    pub methods: Vec<Method>,
    /// How many accounts one identity may verify on this site (0 = unlimited).
    #[serde(default)]
    pub max_accounts_per_identity: u32,
    /// The authoritative checks the identity step runs (`[[sites.checks]]`), in order.
    #[serde(default)]
    pub checks: Vec<SiteCheck>,
    /// Checks that must `match` for a session to be verified: without it the identity step is refused.
    #[serde(default)]
    pub required_checks: Vec<realname_core::protocol::Check>,
    /// Whether the site may create sessions.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The site's phone page for the cross-device handoff (a page with the widget in `redeem` mode, at one of the
    /// site's origins); none: the site offers no handoff.
    #[serde(default)]
    pub handoff_url: Option<String>,
}

fn default_methods() -> Vec<Method> {
    vec![Method::Sms, Method::Email]
}

fn yes() -> bool {
    true
}

impl Config {
    /// Loads defaults, then `file` (if given), then `REALNAME__…` variables from `env`.
    pub fn load(file: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> Result<Self, ConfigError> {
        let mut tree = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
                toml::from_str::<toml::Table>(&text).map_err(|e| ConfigError::Invalid(e.to_string()))?
            }
            None => toml::Table::new(),
        };
        for (k, v) in env {
            if k == "DATABASE_URL" {
                set_path(&mut tree, &["database", "url"], toml::Value::String(v))?;
            } else if let Some(rest) = k.strip_prefix("REALNAME__") {
                let path: Vec<String> = rest.split("__").map(|s| s.to_ascii_lowercase()).collect();
                let refs: Vec<&str> = path.iter().map(String::as_str).collect();
                set_path(&mut tree, &refs, env_value(&v))?;
            }
        }
        toml::Value::Table(tree).try_into::<Config>().map_err(|e| ConfigError::Invalid(e.to_string()))
    }

    /// Checks cross-field rules the types cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |m: String| Err(ConfigError::Invalid(m));
        if self.codes.max_attempts == 0 || self.codes.ttl_secs <= 0 {
            return bad("codes.max_attempts and codes.ttl_secs must be positive".into());
        }
        if !(1..=16).contains(&self.server.trusted_proxy_hops) {
            return bad("server.trusted_proxy_hops must be 1 to 16".into());
        }
        let h = &self.http;
        if h.header_timeout_ms == 0 || h.body_timeout_ms == 0 || h.idle_timeout_ms == 0 || h.max_connections == 0 {
            return bad("http: the timeouts and max_connections must be positive".into());
        }
        // A replaced key must keep opening envelopes, and verifying tokens, well after its successor is in use.
        let k = &self.keys;
        if k.publish_secs < 0 || k.hpke_grace_secs <= k.publish_secs.saturating_add(self.session.token_ttl_secs) {
            return bad(
                "keys.publish_secs must be 0 or more, and keys.hpke_grace_secs longer than keys.publish_secs plus \
                 session.token_ttl_secs"
                    .into(),
            );
        }
        if self.checks.corrections_per_session == 0 || self.checks.timeout_ms == 0 {
            return bad("checks.corrections_per_session and checks.timeout_ms must be positive".into());
        }
        let mut ids = std::collections::HashSet::new();
        for site in &self.sites {
            if !ids.insert(site.id.as_str()) {
                return bad(format!("duplicate site id {}", site.id));
            }
            if site.secret_key_sha256.len() != 64 || crate::encoding::hex_decode(&site.secret_key_sha256).is_none() {
                return bad(format!("site {}: secret_key_sha256 must be 64 hex characters", site.id));
            }
            for o in &site.origins {
                if o == "*"
                    || o == "null"
                    || !(o.starts_with("https://") || o.starts_with("http://"))
                    || o.ends_with('/')
                {
                    return bad(format!(
                        "site {}: origin {o:?} must be scheme://host[:port] (no wildcard, no null)",
                        site.id
                    ));
                }
            }
            if let Some(url) = &site.handoff_url
                && !site.origins.iter().any(|o| url.strip_prefix(o.as_str()).is_some_and(|rest| rest.starts_with('/')))
            {
                return bad(format!(
                    "site {}: handoff_url {url:?} must be a page at one of the site's origins (the phone page redeems \
                     the code from there)",
                    site.id
                ));
            }
            for c in &site.checks {
                if !CHECK_PROVIDERS.contains(&c.provider.as_str()) {
                    return bad(format!(
                        "site {}: check {} names provider {:?}; known: {}",
                        site.id,
                        c.check.as_str(),
                        c.provider,
                        CHECK_PROVIDERS.join(", ")
                    ));
                }
                if !ChecksConfig::supports(&c.provider, c.check) {
                    return bad(format!("site {}: provider {} cannot check {}", site.id, c.provider, c.check.as_str()));
                }
                if !self.checks.configured(&c.provider) {
                    return bad(format!(
                        "site {}: check {} uses provider {}, whose credentials [checks.{}] are not set",
                        site.id,
                        c.check.as_str(),
                        c.provider,
                        c.provider
                    ));
                }
            }
            for r in &site.required_checks {
                if site.checks.iter().all(|c| c.check != *r) {
                    return bad(format!("site {}: required check {} is not in its checks", site.id, r.as_str()));
                }
            }
            if site.webhook_url.is_some() && site.webhook_secret.is_empty() {
                return bad(format!("site {}: a webhook_url needs a webhook_secret", site.id));
            }
        }
        Ok(())
    }
}

fn env_value(v: &str) -> toml::Value {
    // Numbers and booleans keep their type; everything else (including secrets) is a string.
    if let Ok(i) = v.parse::<i64>() {
        return toml::Value::Integer(i);
    }
    match v {
        "true" => toml::Value::Boolean(true),
        "false" => toml::Value::Boolean(false),
        _ => toml::Value::String(v.to_owned()),
    }
}

fn set_path(tree: &mut toml::Table, path: &[&str], value: toml::Value) -> Result<(), ConfigError> {
    let Some((last, parents)) = path.split_last() else {
        return Err(ConfigError::Invalid("empty environment override".into()));
    };
    let mut cur = tree;
    for p in parents {
        let entry = cur.entry((*p).to_owned()).or_insert_with(|| toml::Value::Table(toml::Table::new()));
        cur = match entry {
            toml::Value::Table(t) => t,
            _ => return Err(ConfigError::Invalid(format!("environment override {p} is not a section"))),
        };
    }
    cur.insert((*last).to_owned(), value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_apply_in_order() {
        let dir = std::env::temp_dir().join(format!("realname-cfg-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let file = dir.join("realname.toml");
        let hash = "00".repeat(32);
        std::fs::write(&file, sample_toml(&hash, "whsec")).unwrap_or_default();
        let cfg = Config::load(
            Some(&file),
            [
                ("REALNAME__SERVER__ADDR".to_owned(), "0.0.0.0:9000".to_owned()),
                ("REALNAME__CODES__TTL_SECS".to_owned(), "120".to_owned()),
                ("DATABASE_URL".to_owned(), "postgres://u:hunter2@h/db".to_owned()),
                ("UNRELATED".to_owned(), "x".to_owned()),
            ],
        );
        let cfg = match cfg {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(cfg.server.addr, "0.0.0.0:9000");
        assert_eq!(cfg.codes.ttl_secs, 120);
        assert_eq!(cfg.codes.max_attempts, 5);
        assert_eq!(cfg.sites.len(), 1);
        assert!(cfg.validate().is_ok());
        let debug = format!("{cfg:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains("whsec"));
        assert_eq!(cfg.database.url.expose(), "postgres://u:hunter2@h/db");
    }

    #[test]
    fn bad_config_is_refused() {
        let unknown = Config::load(None, [("REALNAME__SERVER__NOPE".to_owned(), "1".to_owned())]);
        assert!(unknown.is_err());
        let mut cfg = Config::default();
        cfg.sites.push(SiteConfig {
            id: "a".into(),
            name: "A".into(),
            origins: vec!["*".into()],
            secret_key_sha256: "00".repeat(32),
            publishable_key: None,
            webhook_url: None,
            webhook_secret: Secret::default(),
            methods: default_methods(),
            max_accounts_per_identity: 0,
            checks: Vec::new(),
            required_checks: Vec::new(),
            enabled: true,
            handoff_url: None,
        });
        assert!(cfg.validate().is_err());
        // A check names a provider this server has; a required check is one the site runs.
        cfg.sites[0].origins = vec!["https://a.example".into()];
        assert!(cfg.validate().is_ok());
        // The phone page of the handoff is a page of the site's own origins.
        for (url, ok) in
            [("https://a.example/phone", true), ("https://a.example.evil/phone", false), ("https://a.example", false)]
        {
            cfg.sites[0].handoff_url = Some(url.into());
            assert_eq!(cfg.validate().is_ok(), ok, "{url}");
        }
        cfg.sites[0].handoff_url = None;
        let check = |provider: &str| SiteCheck {
            check: realname_core::protocol::Check::IdMatch,
            provider: provider.into(),
            unavailable: CheckPolicy::Review,
        };
        cfg.sites[0].required_checks = vec![realname_core::protocol::Check::IdMatch];
        assert!(cfg.validate().is_err());
        cfg.sites[0].checks = vec![check("nowhere")];
        assert!(cfg.validate().is_err());
        cfg.sites[0].checks = vec![check("demo")];
        assert!(cfg.validate().is_ok());
        // A vendor needs its credentials.
        cfg.sites[0].checks = vec![check("tencent")];
        assert!(cfg.validate().is_err());
        cfg.checks.tencent.secret_id = "AKID".into();
        cfg.checks.tencent.secret_key = Secret::new("key");
        assert!(cfg.validate().is_ok());
        cfg.sites[0].checks = vec![check("aliyun")];
        assert!(cfg.validate().is_err());
        cfg.checks.aliyun.access_key_id = "id".into();
        cfg.checks.aliyun.access_key_secret = Secret::new("secret");
        assert!(cfg.validate().is_ok());
        cfg.sites[0].checks = vec![check("nppa")];
        cfg.checks.nppa.app_id = "app".into();
        cfg.checks.nppa.biz_id = "biz".into();
        cfg.checks.nppa.secret_key = Secret::new("2836e95f");
        assert!(cfg.validate().is_err(), "the key is 16 bytes in hex");
        cfg.checks.nppa.secret_key = Secret::new("2836e95fcd10e04b0069bb1ee659955b");
        assert!(cfg.validate().is_ok());
        cfg.sites[0].checks[0].check = realname_core::protocol::Check::PhoneOwner;
        cfg.sites[0].required_checks.clear();
        assert!(cfg.validate().is_err(), "nppa checks names and numbers only");
        cfg.sites[0].checks = vec![check("webhook")];
        assert!(cfg.validate().is_err());
        cfg.checks.webhook.url = "https://checks.example/".into();
        cfg.checks.webhook.secret = Secret::new("whsec");
        assert!(cfg.validate().is_ok());
    }
}
