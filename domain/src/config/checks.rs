//! Authoritative checks (issue 17): the `[checks]` section (timeout, retries, circuit breaker, result cache, the
//! limits against enumeration and the vendors' credentials) and a site's `[[sites.checks]]` entries (which check,
//! which provider, what to do without an answer).

use realname_core::protocol::Check;
use serde::{Deserialize, Serialize};

use super::Secret;

/// The providers this server implements (`server/src/checks/`); a site's `provider` must name one.
pub const CHECK_PROVIDERS: &[&str] = &["demo", "tencent", "aliyun", "nppa", "webhook"];

/// Timeout, retries, breaker, cache and limits of every check, and the vendors' settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChecksConfig {
    /// How long one check may take, retries included, before its outcome is `unavailable`, milliseconds.
    pub timeout_ms: u64,
    /// Further attempts after a call failed in transit (network error, 5xx), within `timeout_ms`.
    pub retries: u32,
    /// The first retry waits a random time below this, the next below twice this, …, milliseconds.
    pub retry_backoff_ms: u64,
    /// Consecutive `unavailable` outcomes of one provider that open its circuit breaker (0: never).
    pub breaker_failures: u32,
    /// How long an open breaker answers `unavailable` without calling, before one call tries again, ms.
    pub breaker_open_ms: u64,
    /// How long an answer (`match`, `mismatch`, `no_record`) is reused for the same identity, seconds (0: no
    /// cache, the default). Keyed by the number's blind index and keyed hashes of the name and phone.
    pub cache_ttl_secs: u64,
    /// Most answers the cache holds.
    pub cache_entries: usize,
    /// Refusals (mismatch, no record) one session allows; the last one fails the session.
    pub corrections_per_session: u32,
    /// Mismatches one ID number may collect per UTC day, over every site, before it is not checked again that
    /// day (keyed by its blind index: nobody can try names against a number).
    pub mismatches_per_identity_day: u64,
    /// Tencent Cloud FaceID (慧眼).
    pub tencent: TencentChecks,
    /// Aliyun Cloudauth (实人认证 / 信息核验).
    pub aliyun: AliyunChecks,
    /// The national online-game anti-addiction real-name system (网络游戏防沉迷实名认证系统).
    pub nppa: NppaChecks,
    /// The operator's own service.
    pub webhook: WebhookChecks,
}

impl Default for ChecksConfig {
    fn default() -> Self {
        Self {
            timeout_ms: 3000,
            retries: 2,
            retry_backoff_ms: 100,
            breaker_failures: 5,
            breaker_open_ms: 30_000,
            cache_ttl_secs: 0,
            cache_entries: 100_000,
            corrections_per_session: 3,
            mismatches_per_identity_day: 5,
            tencent: TencentChecks::default(),
            aliyun: AliyunChecks::default(),
            nppa: NppaChecks::default(),
            webhook: WebhookChecks::default(),
        }
    }
}

/// Tencent Cloud FaceID API 2018-03-01, signed with TC3-HMAC-SHA256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TencentChecks {
    /// Endpoint URL.
    pub endpoint: String,
    /// SecretId.
    pub secret_id: String,
    /// SecretKey.
    pub secret_key: Secret,
    /// `X-TC-Region`; empty: not sent (these actions take none).
    pub region: String,
}

impl Default for TencentChecks {
    fn default() -> Self {
        Self {
            endpoint: "https://faceid.tencentcloudapi.com/".into(),
            secret_id: String::new(),
            secret_key: Secret::default(),
            region: String::new(),
        }
    }
}

/// Aliyun Cloudauth API 2019-03-07, RPC signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AliyunChecks {
    /// Endpoint URL.
    pub endpoint: String,
    /// AccessKey id.
    pub access_key_id: String,
    /// AccessKey secret.
    pub access_key_secret: Secret,
}

impl Default for AliyunChecks {
    fn default() -> Self {
        Self {
            endpoint: "https://cloudauth.aliyuncs.com/".into(),
            access_key_id: String::new(),
            access_key_secret: Secret::default(),
        }
    }
}

/// The national online-game anti-addiction real-name system's `check` and `query` interfaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NppaChecks {
    /// The `check` interface's URL.
    pub check_url: String,
    /// The `query` interface's URL.
    pub query_url: String,
    /// `appId` (接口调用唯一凭证).
    pub app_id: String,
    /// `bizId` (业务权限标识).
    pub biz_id: String,
    /// The secret key: 32 hex characters (the AES-128 key and the signing secret).
    pub secret_key: Secret,
    /// How long to wait before asking `query` again while the answer is "in progress", ms.
    pub poll_ms: u64,
}

impl Default for NppaChecks {
    fn default() -> Self {
        Self {
            check_url: "https://api.wlc.nppa.gov.cn/idcard/authentication/check".into(),
            query_url: "http://api2.wlc.nppa.gov.cn/idcard/authentication/query".into(),
            app_id: String::new(),
            biz_id: String::new(),
            secret_key: Secret::default(),
            poll_ms: 1000,
        }
    }
}

/// The operator's own check service (docs/checks.md: its request and answer).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookChecks {
    /// Its URL.
    pub url: String,
    /// The secret both directions are signed with (`Realname-Signature`).
    pub secret: Secret,
}

impl ChecksConfig {
    /// Whether `provider` has what it needs to be called (the demo needs nothing).
    pub fn configured(&self, provider: &str) -> bool {
        match provider {
            "demo" => true,
            "tencent" => !self.tencent.secret_id.is_empty() && !self.tencent.secret_key.is_empty(),
            "aliyun" => !self.aliyun.access_key_id.is_empty() && !self.aliyun.access_key_secret.is_empty(),
            "nppa" => {
                let key = crate::encoding::hex_decode(self.nppa.secret_key.expose());
                !self.nppa.app_id.is_empty() && !self.nppa.biz_id.is_empty() && key.is_some_and(|k| k.len() == 16)
            }
            "webhook" => !self.webhook.url.is_empty() && !self.webhook.secret.is_empty(),
            _ => false,
        }
    }

    /// Whether `provider` can make `check` (the anti-addiction system checks the name and number only).
    pub fn supports(provider: &str, check: Check) -> bool {
        provider != "nppa" || check == Check::IdMatch
    }
}

/// What the flow does when a check has no answer (`no_record`, `unavailable`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckPolicy {
    /// Refuse the identity step (`identity_no_record`, or `check_unavailable` to retry later).
    Refuse,
    /// Go on and send the session to the review queue (reason `check_unavailable`).
    #[default]
    Review,
}

/// One check a site runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteCheck {
    /// The check.
    pub check: Check,
    /// The provider that answers it (one of [`CHECK_PROVIDERS`]).
    pub provider: String,
    /// What to do with `no_record` or `unavailable`.
    #[serde(default)]
    pub unavailable: CheckPolicy,
}
