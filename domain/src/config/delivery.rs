//! Where codes go: the SMS providers and email over SMTP.

use serde::{Deserialize, Serialize};

use super::Secret;

/// SMS delivery.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsConfig {
    /// `outbox`, `aliyun`, `tencent` or `webhook`.
    pub provider: String,
    /// Aliyun Dysmsapi.
    pub aliyun: AliyunConfig,
    /// Tencent Cloud SMS.
    pub tencent: TencentConfig,
    /// Generic HTTP webhook.
    pub webhook: SmsWebhookConfig,
}

impl Default for SmsConfig {
    fn default() -> Self {
        Self {
            provider: "outbox".into(),
            aliyun: AliyunConfig::default(),
            tencent: TencentConfig::default(),
            webhook: SmsWebhookConfig::default(),
        }
    }
}

/// Aliyun Dysmsapi `SendSms`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AliyunConfig {
    /// Endpoint base URL.
    pub endpoint: String,
    /// AccessKey id.
    pub access_key_id: String,
    /// AccessKey secret.
    pub access_key_secret: Secret,
    /// Approved SMS signature (签名).
    pub sign_name: String,
    /// Approved template code with a `${code}` parameter.
    pub template_code: String,
    /// Region id.
    pub region_id: String,
}

impl Default for AliyunConfig {
    fn default() -> Self {
        Self {
            endpoint: "https://dysmsapi.aliyuncs.com/".into(),
            access_key_id: String::new(),
            access_key_secret: Secret::default(),
            sign_name: String::new(),
            template_code: String::new(),
            region_id: "cn-hangzhou".into(),
        }
    }
}

/// Tencent Cloud SMS API 3.0 `SendSms`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TencentConfig {
    /// Endpoint base URL.
    pub endpoint: String,
    /// SecretId.
    pub secret_id: String,
    /// SecretKey.
    pub secret_key: Secret,
    /// SmsSdkAppId.
    pub sdk_app_id: String,
    /// Approved signature (签名).
    pub sign_name: String,
    /// Approved template id; its first parameter is the code, the second the lifetime in minutes.
    pub template_id: String,
    /// Region.
    pub region: String,
}

impl Default for TencentConfig {
    fn default() -> Self {
        Self {
            endpoint: "https://sms.tencentcloudapi.com/".into(),
            secret_id: String::new(),
            secret_key: Secret::default(),
            sdk_app_id: String::new(),
            sign_name: String::new(),
            template_id: String::new(),
            region: "ap-guangzhou".into(),
        }
    }
}

/// A generic HTTP SMS gateway receiving HMAC-signed JSON.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsWebhookConfig {
    /// Target URL.
    pub url: String,
    /// HMAC key for the `Realname-Signature` header.
    pub secret: Secret,
}

/// Email delivery.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailConfig {
    /// `outbox` or `smtp`.
    pub provider: String,
    /// SMTP relay host.
    pub host: String,
    /// SMTP port.
    pub port: u16,
    /// `none` (plain, loopback/testing only), `starttls` or `tls`.
    pub tls: String,
    /// SMTP user name (optional).
    pub username: String,
    /// SMTP password.
    pub password: Secret,
    /// Sender address, e.g. `realname <no-reply@example.com>`.
    pub from: String,
    /// Subject line.
    pub subject: String,
}

impl Default for EmailConfig {
    fn default() -> Self {
        Self {
            provider: "outbox".into(),
            host: "localhost".into(),
            port: 587,
            tls: "starttls".into(),
            username: String::new(),
            password: Secret::default(),
            from: "realname <no-reply@localhost>".into(),
            subject: "Your verification code".into(),
        }
    }
}
