//! Aliyun Dysmsapi `SendSms` with the RPC signature (HMAC-SHA1, SignatureVersion 1.0).
//!
//! StringToSign = `GET&%2F&` + percentEncode(canonicalized query), where the canonicalized query is the
//! sorted `percentEncode(k)=percentEncode(v)` pairs joined by `&`; the key is `AccessKeySecret + "&"`.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use hmac::{Hmac, Mac};

use super::http::HttpClient;
use realname_domain::encoding::percent_encode;

use super::{CodeMessage, DeliveryError, Sender, utc_datetime};
use realname_domain::clock::{Clock, Random};
use realname_domain::config::AliyunConfig;

/// Computes the RPC `Signature` for `params` (without `Signature`) and method `GET`.
pub fn signature(params: &BTreeMap<String, String>, access_key_secret: &str) -> String {
    signature_for("GET", params, access_key_secret)
}

/// The canonicalized query: the sorted `percentEncode(k)=percentEncode(v)` pairs joined by `&` (also the form
/// body of a POST).
pub fn canonical_query(params: &BTreeMap<String, String>) -> String {
    params.iter().map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v))).collect::<Vec<_>>().join("&")
}

/// Computes the RPC `Signature` for `params` (without `Signature`) sent with HTTP `method` (`GET`, or `POST`
/// with the parameters as a form body: the Cloudauth checks, whose parameters stay out of URLs and their logs).
pub fn signature_for(method: &str, params: &BTreeMap<String, String>, access_key_secret: &str) -> String {
    let canonical = canonical_query(params);
    let string_to_sign = format!("{method}&{}&{}", percent_encode("/"), percent_encode(&canonical));
    let mut mac = match Hmac::<sha1::Sha1>::new_from_slice(format!("{access_key_secret}&").as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(string_to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The Aliyun SMS sender.
pub struct Aliyun {
    cfg: AliyunConfig,
    http: HttpClient,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn Random>,
}

impl Aliyun {
    /// Checks the configuration is complete.
    pub fn new(
        cfg: AliyunConfig,
        http: HttpClient,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Random>,
    ) -> Result<Self, DeliveryError> {
        if cfg.access_key_id.is_empty()
            || cfg.access_key_secret.is_empty()
            || cfg.sign_name.is_empty()
            || cfg.template_code.is_empty()
        {
            return Err(DeliveryError::NotConfigured(
                "sms.aliyun (access_key_id, access_key_secret, sign_name, template_code)",
            ));
        }
        Ok(Self { cfg, http, clock, rng })
    }

    /// The full request URL for a message (signed).
    pub fn request_url(&self, msg: &CodeMessage) -> String {
        let mut p = BTreeMap::new();
        let mut put = |k: &str, v: String| {
            p.insert(k.to_owned(), v);
        };
        put("AccessKeyId", self.cfg.access_key_id.clone());
        put("Action", "SendSms".into());
        put("Format", "JSON".into());
        put("PhoneNumbers", msg.to.clone());
        put("RegionId", self.cfg.region_id.clone());
        put("SignName", self.cfg.sign_name.clone());
        put("SignatureMethod", "HMAC-SHA1".into());
        put("SignatureNonce", self.rng.token(16));
        put("SignatureVersion", "1.0".into());
        put("TemplateCode", self.cfg.template_code.clone());
        put("TemplateParam", serde_json::json!({ "code": msg.code }).to_string());
        put("Timestamp", utc_datetime(self.clock.now_secs()).0);
        put("Version", "2017-05-25".into());
        let sig = signature(&p, self.cfg.access_key_secret.expose());
        let query = canonical_query(&p);
        format!("{}?Signature={}&{query}", self.cfg.endpoint, percent_encode(&sig))
    }
}

#[async_trait]
impl Sender for Aliyun {
    async fn send(&self, msg: &CodeMessage) -> Result<(), DeliveryError> {
        let reply = self.http.send(&self.request_url(msg), Vec::new(), None).await.map_err(DeliveryError::Transport)?;
        let v: serde_json::Value = serde_json::from_str(&reply.body).unwrap_or_default();
        match v.get("Code").and_then(|c| c.as_str()) {
            Some("OK") if reply.status == 200 => Ok(()),
            Some(code) => Err(DeliveryError::Refused(format!("aliyun {code}"))),
            None => Err(DeliveryError::Refused(format!("aliyun HTTP {}", reply.status))),
        }
    }

    fn name(&self) -> &'static str {
        "aliyun"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of Aliyun's SMS API signature documentation (签名机制).
    #[test]
    fn matches_the_documented_example() {
        let pairs = [
            ("AccessKeyId", "testId"),
            ("Action", "SendSms"),
            ("Format", "XML"),
            ("OutId", "123"),
            ("PhoneNumbers", "15300000001"),
            ("RegionId", "cn-hangzhou"),
            ("SignName", "阿里云短信测试专用"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466"),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", "SMS_71390007"),
            ("TemplateParam", "{\"customer\":\"test\"}"),
            ("Timestamp", "2017-07-12T02:42:19Z"),
            ("Version", "2017-05-25"),
        ];
        let params: BTreeMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        assert_eq!(signature(&params, "testSecret"), "zJDF+Lrzhj/ThnlvIToysFRq6t4=");
        assert_eq!(percent_encode("zJDF+Lrzhj/ThnlvIToysFRq6t4="), "zJDF%2BLrzhj%2FThnlvIToysFRq6t4%3D");
    }
}
