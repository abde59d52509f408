//! Tencent Cloud SMS API 3.0 `SendSms` signed with TC3-HMAC-SHA256 (the signing is shared with the FaceID
//! checks, `checks/tencent.rs`).

use std::sync::Arc;

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::http::HttpClient;
use super::{CodeMessage, DeliveryError, Sender, utc_datetime};
use realname_domain::clock::Clock;
use realname_domain::config::TencentConfig;
use realname_domain::encoding::hex_encode;

fn hmac256(key: &[u8], msg: &str) -> Vec<u8> {
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut m) => {
            m.update(msg.as_bytes());
            m.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// What goes into one TC3 signature.
#[derive(Debug, Clone)]
pub struct Tc3Request<'a> {
    /// Service name (`sms`, `cvm`).
    pub service: &'a str,
    /// Host header.
    pub host: &'a str,
    /// Content-Type header, exactly as sent.
    pub content_type: &'a str,
    /// Unix seconds (`X-TC-Timestamp`).
    pub timestamp: i64,
    /// The JSON body, exactly as sent.
    pub payload: &'a str,
}

/// Returns `(signature hex, Authorization header)` for a POST with signed headers `content-type;host`.
pub fn authorization(req: &Tc3Request<'_>, secret_id: &str, secret_key: &str) -> (String, String) {
    let canonical_request = format!(
        "POST\n/\n\ncontent-type:{}\nhost:{}\n\ncontent-type;host\n{}",
        req.content_type,
        req.host,
        hex_encode(&Sha256::digest(req.payload.as_bytes()))
    );
    let date = utc_datetime(req.timestamp).1;
    let scope = format!("{date}/{}/tc3_request", req.service);
    let string_to_sign = format!(
        "TC3-HMAC-SHA256\n{}\n{scope}\n{}",
        req.timestamp,
        hex_encode(&Sha256::digest(canonical_request.as_bytes()))
    );
    let k_date = hmac256(format!("TC3{secret_key}").as_bytes(), &date);
    let k_service = hmac256(&k_date, req.service);
    let k_signing = hmac256(&k_service, "tc3_request");
    let sig = hex_encode(&hmac256(&k_signing, &string_to_sign));
    let auth =
        format!("TC3-HMAC-SHA256 Credential={secret_id}/{scope}, SignedHeaders=content-type;host, Signature={sig}");
    (sig, auth)
}

/// The Tencent SMS sender.
pub struct Tencent {
    cfg: TencentConfig,
    http: HttpClient,
    clock: Arc<dyn Clock>,
}

impl Tencent {
    /// Checks the configuration is complete.
    pub fn new(cfg: TencentConfig, http: HttpClient, clock: Arc<dyn Clock>) -> Result<Self, DeliveryError> {
        if cfg.secret_id.is_empty()
            || cfg.secret_key.is_empty()
            || cfg.sdk_app_id.is_empty()
            || cfg.template_id.is_empty()
        {
            return Err(DeliveryError::NotConfigured("sms.tencent (secret_id, secret_key, sdk_app_id, template_id)"));
        }
        Ok(Self { cfg, http, clock })
    }
}

/// The `Host` of an endpoint URL (`https://sms.tencentcloudapi.com/` → `sms.tencentcloudapi.com`), as signed.
pub fn host_of(endpoint: &str) -> String {
    let rest = endpoint.split("://").nth(1).unwrap_or(endpoint);
    rest.split('/').next().unwrap_or(rest).to_owned()
}

#[async_trait]
impl Sender for Tencent {
    async fn send(&self, msg: &CodeMessage) -> Result<(), DeliveryError> {
        let payload = serde_json::json!({
            "PhoneNumberSet": [format!("+86{}", msg.to)],
            "SmsSdkAppId": self.cfg.sdk_app_id,
            "SignName": self.cfg.sign_name,
            "TemplateId": self.cfg.template_id,
            "TemplateParamSet": [msg.code, msg.ttl_minutes.to_string()],
        })
        .to_string();
        let host = host_of(&self.cfg.endpoint);
        let ct = "application/json; charset=utf-8";
        let ts = self.clock.now_secs();
        let req = Tc3Request { service: "sms", host: &host, content_type: ct, timestamp: ts, payload: &payload };
        let (_, auth) = authorization(&req, &self.cfg.secret_id, self.cfg.secret_key.expose());
        let headers = vec![
            ("Authorization".to_owned(), auth),
            ("Content-Type".to_owned(), ct.to_owned()),
            ("Host".to_owned(), host.clone()),
            ("X-TC-Action".to_owned(), "SendSms".to_owned()),
            ("X-TC-Version".to_owned(), "2021-01-11".to_owned()),
            ("X-TC-Timestamp".to_owned(), ts.to_string()),
            ("X-TC-Region".to_owned(), self.cfg.region.clone()),
        ];
        let reply = self
            .http
            .send(&self.cfg.endpoint, headers, Some(payload.into_bytes()))
            .await
            .map_err(DeliveryError::Transport)?;
        let v: serde_json::Value = serde_json::from_str(&reply.body).unwrap_or_default();
        let resp = &v["Response"];
        if let Some(code) = resp["Error"]["Code"].as_str() {
            return Err(DeliveryError::Refused(format!("tencent {code}")));
        }
        match resp["SendStatusSet"][0]["Code"].as_str() {
            Some("Ok") if reply.status == 200 => Ok(()),
            Some(code) => Err(DeliveryError::Refused(format!("tencent {code}"))),
            None => Err(DeliveryError::Refused(format!("tencent HTTP {}", reply.status))),
        }
    }

    fn name(&self) -> &'static str {
        "tencent"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of Tencent Cloud's "Signature v3" documentation (CVM DescribeInstances).
    #[test]
    fn matches_the_documented_example() {
        let payload = r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;
        assert_eq!(
            hex_encode(&Sha256::digest(payload.as_bytes())),
            "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        let req = Tc3Request {
            service: "cvm",
            host: "cvm.tencentcloudapi.com",
            content_type: "application/json; charset=utf-8",
            timestamp: 1_551_113_065,
            payload,
        };
        let (sig, auth) =
            authorization(&req, "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE");
        assert_eq!(sig, "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168");
        assert!(auth.starts_with("TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=72e4"));
    }
}
