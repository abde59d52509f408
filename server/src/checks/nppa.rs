//! The `nppa` provider: the national online-game anti-addiction real-name system (网络游戏防沉迷实名认证系统,
//! wlc.nppa.gov.cn), which every game published in China must use for `id_match` (name + resident ID number). Its
//! `check` interface takes the fields AES-128-GCM-encrypted under the operator's secret key
//! (`{"data": base64(iv ‖ ciphertext ‖ tag)}`), every request is signed with SHA-256 over the secret key, the sorted
//! system and query parameters and the body; an answer "in progress" (`status` 1) is polled with the `query`
//! interface until it is final (the [`super::Checker`]'s timeout bounds the wait). Every documented `errcode` and
//! `status` is mapped in [`CODES`]; docs/checks.md shows the same table.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use async_trait::async_trait;
use base64::Engine as _;
use realname_core::protocol::CheckOutcome;
use realname_domain::clock::{Clock, Random};
use realname_domain::config::NppaChecks;
use realname_domain::encoding::{hex_decode, hex_encode};
use sha2::{Digest, Sha256};

use super::{CallError, CheckProvider, CheckRequest};
use crate::delivery::http::HttpClient;

/// The request's content type, as the interface requires.
pub const CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// Every documented `errcode` of the check and query interfaces and every `status` of their result, what it means,
/// and its outcome (`None`: in progress, asked again with `query`). `2001` is the source refusing the number as
/// typed: `no_record`, which the person may correct and the site's policy decides. `status` 2 (认证失败: the name
/// and number do not verify) is `mismatch`. An `errcode` or `status` not listed is `unavailable`.
pub const CODES: &[(&str, i64, Option<CheckOutcome>, &str)] = &[
    ("status", 0, Some(CheckOutcome::Match), "认证成功"),
    ("status", 1, None, "认证中"),
    ("status", 2, Some(CheckOutcome::Mismatch), "认证失败"),
    ("errcode", 1001, Some(CheckOutcome::Unavailable), "SYS ERROR：系统错误"),
    ("errcode", 1002, Some(CheckOutcome::Unavailable), "SYS REQ RESOURCE NOT EXIST：接口请求的资源不存在"),
    ("errcode", 1003, Some(CheckOutcome::Unavailable), "SYS REQ METHOD ERROR：接口请求方式错误"),
    ("errcode", 1004, Some(CheckOutcome::Unavailable), "SYS REQ HEADER MISS ERROR：接口请求核心参数缺失"),
    ("errcode", 1005, Some(CheckOutcome::Unavailable), "SYS REQ IP ERROR：接口请求IP地址非法"),
    ("errcode", 1006, Some(CheckOutcome::Unavailable), "SYS REQ BUSY ERROR：接口请求超出流量限制"),
    ("errcode", 1007, Some(CheckOutcome::Unavailable), "SYS REQ EXPIRE ERROR：接口请求过期"),
    ("errcode", 1008, Some(CheckOutcome::Unavailable), "SYS REQ PARTNER ERROR：接口请求方身份非法"),
    ("errcode", 1009, Some(CheckOutcome::Unavailable), "SYS REQ PARTNER AUTH DISABLE：接口请求方权限未启用"),
    ("errcode", 1010, Some(CheckOutcome::Unavailable), "SYS REQ AUTH ERROR：接口请求方无该接口权限"),
    ("errcode", 1011, Some(CheckOutcome::Unavailable), "SYS REQ PARTNER AUTH ERROR：接口请求方身份核验错误"),
    ("errcode", 1012, Some(CheckOutcome::Unavailable), "SYS REQ PARAM CHECK ERROR：接口请求报文核验失败"),
    ("errcode", 1019, Some(CheckOutcome::Unavailable), "SYS REQ SECRET EXCESS ERROR：密钥数量超过限制"),
    ("errcode", 1020, Some(CheckOutcome::Unavailable), "SYS REQ CONTENT TYPE ERROR：content-type和请求体不匹配"),
    ("errcode", 2001, Some(CheckOutcome::NoRecord), "BUS AUTH IDNUM ILLEGAL：身份证号格式校验失败"),
    ("errcode", 2002, Some(CheckOutcome::Unavailable), "BUS AUTH RESOURCE LIMIT：实名认证条目已达上限"),
    ("errcode", 2003, Some(CheckOutcome::Unavailable), "BUS AUTH CODE NO AUTH RECODE：无该编码提交的实名认证记录"),
    ("errcode", 2004, Some(CheckOutcome::Unavailable), "BUS AUTH CODE ALREADY IN USE：编码已经被占用"),
];

/// The request signature: hex SHA-256 of the secret key, then every parameter but `sign` (the system parameters
/// `appId`, `bizId`, `timestamps` and any query parameter) as `key` + `value` in key order, then the body.
pub fn sign(secret_key: &str, params: &BTreeMap<&str, &str>, body: &str) -> String {
    let mut h = Sha256::new();
    h.update(secret_key.as_bytes());
    for (k, v) in params {
        h.update(k.as_bytes());
        h.update(v.as_bytes());
    }
    h.update(body.as_bytes());
    hex_encode(&h.finalize())
}

/// The 16-byte AES key a secret key (32 hex characters) stands for.
pub fn key_of(secret_key: &str) -> Option<[u8; 16]> {
    hex_decode(secret_key)?.try_into().ok()
}

/// `base64(iv ‖ ciphertext ‖ tag)` of `plain` under `key` with the 12-byte `iv`.
pub fn encrypt(key: &[u8; 16], iv: [u8; 12], plain: &[u8]) -> Option<String> {
    let ct = Aes128Gcm::new(key.into()).encrypt(&Nonce::from(iv), plain).ok()?;
    let mut out = iv.to_vec();
    out.extend_from_slice(&ct);
    Some(base64::engine::general_purpose::STANDARD.encode(out))
}

/// The plaintext of `data` (`base64(iv ‖ ciphertext ‖ tag)`) under `key`, if it opens.
pub fn decrypt(key: &[u8; 16], data: &str) -> Option<Vec<u8>> {
    let raw = base64::engine::general_purpose::STANDARD.decode(data).ok()?;
    if raw.len() < 12 + 16 {
        return None;
    }
    let (iv, ct) = raw.split_at(12);
    let iv: [u8; 12] = iv.try_into().ok()?;
    Aes128Gcm::new(key.into()).decrypt(&Nonce::from(iv), ct).ok()
}

/// What an answer says: an outcome, or in progress (`None`).
pub fn answer(status: u16, body: &str) -> Result<Option<CheckOutcome>, CallError> {
    if status >= 500 {
        return Err(CallError::Transit(format!("HTTP {status}")));
    }
    if status != 200 {
        return Err(CallError::Answer(format!("HTTP {status}")));
    }
    let v: serde_json::Value = serde_json::from_str(body).map_err(|_| CallError::Answer("not JSON".into()))?;
    let lookup = |field: &str, value: i64| CODES.iter().find(|(f, c, _, _)| *f == field && *c == value);
    match v["errcode"].as_i64() {
        Some(0) => {}
        Some(code) => {
            return match lookup("errcode", code) {
                Some((_, _, Some(o), _)) if *o != CheckOutcome::Unavailable => Ok(Some(*o)),
                _ => Err(CallError::Answer(format!("errcode {code}"))),
            };
        }
        None => return Err(CallError::Answer("no errcode".into())),
    }
    let s = v["data"]["result"]["status"].as_i64().ok_or_else(|| CallError::Answer("no status".into()))?;
    match lookup("status", s) {
        Some((_, _, outcome, _)) => Ok(*outcome),
        None => Err(CallError::Answer(format!("undocumented status {s}"))),
    }
}

/// The NPPA provider.
pub struct Nppa {
    cfg: NppaChecks,
    http: HttpClient,
    clock: Arc<dyn Clock>,
    random: Arc<dyn Random>,
}

impl Nppa {
    /// A provider for `cfg` (its settings checked by configuration validation).
    pub fn new(cfg: NppaChecks, http: HttpClient, clock: Arc<dyn Clock>, random: Arc<dyn Random>) -> Self {
        Self { cfg, http, clock, random }
    }

    /// The headers of a request with `query` parameters and `body`, signed at the clock's time.
    pub fn headers(&self, query: &[(&str, &str)], body: &str) -> Vec<(String, String)> {
        let ts = self.clock.now_ms().to_string();
        let mut params: BTreeMap<&str, &str> = query.iter().copied().collect();
        params.insert("appId", &self.cfg.app_id);
        params.insert("bizId", &self.cfg.biz_id);
        params.insert("timestamps", &ts);
        let sig = sign(self.cfg.secret_key.expose(), &params, body);
        vec![
            ("Content-Type".to_owned(), CONTENT_TYPE.to_owned()),
            ("appId".to_owned(), self.cfg.app_id.clone()),
            ("bizId".to_owned(), self.cfg.biz_id.clone()),
            ("timestamps".to_owned(), ts.clone()),
            ("sign".to_owned(), sig),
        ]
    }

    /// The `check` request's body for `req` under the member id `ai`.
    pub fn body(&self, ai: &str, req: &CheckRequest<'_>) -> Result<String, CallError> {
        let key = key_of(self.cfg.secret_key.expose()).ok_or_else(|| CallError::Answer("bad secret key".into()))?;
        let content = serde_json::json!({ "ai": ai, "name": req.name, "idNum": req.number }).to_string();
        let mut iv = [0u8; 12];
        self.random.fill(&mut iv);
        let data = encrypt(&key, iv, content.as_bytes()).ok_or_else(|| CallError::Answer("encryption".into()))?;
        Ok(serde_json::json!({ "data": data }).to_string())
    }
}

#[async_trait]
impl CheckProvider for Nppa {
    fn name(&self) -> &'static str {
        "nppa"
    }

    async fn check(&self, req: &CheckRequest<'_>) -> Result<CheckOutcome, CallError> {
        // A fresh member id per call: a retry is a new request, never one "already in use" (2004).
        let mut id = [0u8; 16];
        self.random.fill(&mut id);
        let ai = hex_encode(&id);
        let body = self.body(&ai, req)?;
        let headers = self.headers(&[], &body);
        let reply =
            self.http.send(&self.cfg.check_url, headers, Some(body.into_bytes())).await.map_err(CallError::Transit)?;
        let mut found = answer(reply.status, &reply.body)?;
        while found.is_none() {
            tokio::time::sleep(Duration::from_millis(self.cfg.poll_ms)).await;
            let url = format!("{}?ai={ai}", self.cfg.query_url);
            let reply =
                self.http.send(&url, self.headers(&[("ai", &ai)], ""), None).await.map_err(CallError::Transit)?;
            found = answer(reply.status, &reply.body)?;
        }
        found.ok_or_else(|| CallError::Answer("no outcome".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The interface specification's worked example (参考附件代码样例 EncryptSignDemo): its key, its encrypted
    /// body, the parameters it signs and its published signature.
    const KEY: &str = "2836e95fcd10e04b0069bb1ee659955b";
    const DATA: &str = "CqT/33f3jyoiYqT8MtxEFk3x2rlfhmgzhxpHqWosSj4d3hq2EbrtVyx2aLj565ZQNTcPrcDipnvpq/D/vQDaLKW70O83Q42zvR0//OfnYLcIjTPMnqa+SOhsjQrSdu66ySSORCAo";

    #[test]
    fn signs_the_documented_example() {
        let params: BTreeMap<&str, &str> = [
            ("appId", "test-appId"),
            ("bizId", "test-bizId"),
            ("id", "test-id"),
            ("name", "test-name"),
            ("timestamps", "1584949895758"),
        ]
        .into_iter()
        .collect();
        let body = format!(r#"{{"data":"{DATA}"}}"#);
        assert_eq!(sign(KEY, &params, &body), "386c03b776a28c06b8032a958fbd89337424ef45c62d0422706cca633d8ad5fd");
    }

    #[test]
    fn opens_the_documented_example_and_round_trips() {
        let key = key_of(KEY).unwrap_or_default();
        let plain = decrypt(&key, DATA).unwrap_or_default();
        assert_eq!(
            String::from_utf8_lossy(&plain),
            r#"{"ai":"test-accountId","name":"用户姓名","idNum":"371321199012310912"}"#
        );
        let sealed = encrypt(&key, [7; 12], b"{}").unwrap_or_default();
        assert_eq!(decrypt(&key, &sealed).as_deref(), Some(&b"{}"[..]));
        assert_eq!(decrypt(&[1; 16], &sealed), None, "another key");
        assert_eq!(key_of("2836e95f"), None);
    }

    #[test]
    fn every_documented_code_has_one_outcome() {
        for (field, code, expected, _) in CODES {
            let body = if *field == "status" {
                format!(r#"{{"errcode":0,"errmsg":"OK","data":{{"result":{{"status":{code},"pi":null}}}}}}"#)
            } else {
                format!(r#"{{"errcode":{code},"errmsg":"x"}}"#)
            };
            match expected {
                Some(CheckOutcome::Unavailable) => assert!(matches!(answer(200, &body), Err(CallError::Answer(_)))),
                _ => assert_eq!(answer(200, &body), Ok(*expected), "{field} {code}"),
            }
        }
        assert!(matches!(answer(200, r#"{"errcode":0,"data":{"result":{"status":7}}}"#), Err(CallError::Answer(_))));
        assert!(matches!(answer(200, r#"{"errcode":9999}"#), Err(CallError::Answer(_))));
        assert!(matches!(answer(502, ""), Err(CallError::Transit(_))));
        assert!(matches!(answer(200, "garbage"), Err(CallError::Answer(_))));
    }
}
