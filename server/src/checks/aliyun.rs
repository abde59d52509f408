//! The `aliyun` provider: Aliyun Cloudauth API 2019-03-07, `Id2MetaVerify` (`id_match`: name + resident ID
//! number) and `Mobile3MetaVerify` (`phone_owner`: name + number + phone), with the RPC signature the SMS sender
//! uses (`delivery::aliyun::signature_for`), POSTed as a form so the fields stay out of URLs. Every documented
//! `Code` and `BizCode` is mapped in [`CODES`]; docs/checks.md shows the same table.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use realname_core::protocol::{Check, CheckOutcome};
use realname_domain::clock::{Clock, Random};
use realname_domain::config::AliyunChecks;

use super::{CallError, CheckProvider, CheckRequest};
use crate::delivery::aliyun::{canonical_query, signature_for};
use crate::delivery::http::HttpClient;
use crate::delivery::utc_datetime;
use realname_domain::encoding::percent_encode;

/// The API version of every action.
pub const VERSION: &str = "2019-03-07";
/// The body's content type.
pub const CONTENT_TYPE: &str = "application/x-www-form-urlencoded";

/// Every documented value of the answer's `Code` (whether the call worked) and of `ResultObject.BizCode` (what
/// it found; the same for both actions), what it means, and its outcome. `Code` `401` is the source refusing
/// the name or number as typed: `no_record`, which the person may correct and the site's policy decides. Any
/// other `Code` but `200`, and a value not listed, is no answer (`unavailable`).
pub const CODES: &[(&str, &str, CheckOutcome, &str)] = &[
    ("BizCode", "1", CheckOutcome::Match, "校验一致"),
    ("BizCode", "2", CheckOutcome::Mismatch, "校验不一致"),
    ("BizCode", "3", CheckOutcome::NoRecord, "查无记录"),
    ("Code", "400", CheckOutcome::Unavailable, "参数不能为空"),
    ("Code", "401", CheckOutcome::NoRecord, "参数非法：传入的姓名、身份证号码不符合规则"),
    ("Code", "402", CheckOutcome::Unavailable, "权威源服务异常"),
    ("Code", "403", CheckOutcome::Unavailable, "异常重复调用"),
    ("Code", "410", CheckOutcome::Unavailable, "未开通服务"),
    ("Code", "411", CheckOutcome::Unavailable, "RAM无权限"),
    ("Code", "412", CheckOutcome::Unavailable, "欠费中"),
    ("Code", "500", CheckOutcome::Unavailable, "系统错误"),
];

/// The action that makes `check`.
pub fn action(check: Check) -> &'static str {
    match check {
        Check::IdMatch => "Id2MetaVerify",
        Check::PhoneOwner => "Mobile3MetaVerify",
    }
}

/// A JSON value that may be sent as a string or a number, as text.
fn text(v: &serde_json::Value) -> Option<String> {
    v.as_str().map(str::to_owned).or_else(|| v.as_i64().map(|n| n.to_string()))
}

fn lookup(field: &str, value: &str) -> Option<CheckOutcome> {
    CODES.iter().find(|(f, v, _, _)| *f == field && *v == value).map(|(_, _, o, _)| *o)
}

/// The outcome of an answer (`status`, `body`).
pub fn outcome(status: u16, body: &str) -> Result<CheckOutcome, CallError> {
    if status >= 500 {
        return Err(CallError::Transit(format!("HTTP {status}")));
    }
    let v: serde_json::Value =
        serde_json::from_str(body).map_err(|_| CallError::Answer(format!("HTTP {status}, not JSON")))?;
    let code = text(&v["Code"]).ok_or_else(|| CallError::Answer(format!("HTTP {status}, no Code")))?;
    let short: String = code.chars().take(48).collect();
    if status != 200 {
        return Err(CallError::Answer(format!("HTTP {status} {short}")));
    }
    if code != "200" {
        return match lookup("Code", &code) {
            Some(CheckOutcome::Unavailable) | None => Err(CallError::Answer(format!("Code {short}"))),
            Some(outcome) => Ok(outcome),
        };
    }
    let biz = text(&v["ResultObject"]["BizCode"]).ok_or_else(|| CallError::Answer("no BizCode".into()))?;
    lookup("BizCode", &biz)
        .ok_or_else(|| CallError::Answer(format!("undocumented BizCode {:?}", biz.chars().take(8).collect::<String>())))
}

/// The Cloudauth provider.
pub struct Aliyun {
    cfg: AliyunChecks,
    http: HttpClient,
    clock: Arc<dyn Clock>,
    random: Arc<dyn Random>,
}

impl Aliyun {
    /// A provider calling `cfg.endpoint` (credentials checked by configuration validation).
    pub fn new(cfg: AliyunChecks, http: HttpClient, clock: Arc<dyn Clock>, random: Arc<dyn Random>) -> Self {
        Self { cfg, http, clock, random }
    }

    /// The signed form body of a request: the common parameters, the action's own (only the fields it
    /// needs) and `Signature`.
    pub fn form(&self, req: &CheckRequest<'_>) -> String {
        let mut p = BTreeMap::new();
        let mut put = |k: &str, v: &str| {
            p.insert(k.to_owned(), v.to_owned());
        };
        put("AccessKeyId", &self.cfg.access_key_id);
        put("Action", action(req.check));
        put("Format", "JSON");
        put("SignatureMethod", "HMAC-SHA1");
        put("SignatureNonce", &self.random.token(16));
        put("SignatureVersion", "1.0");
        put("Timestamp", &utc_datetime(self.clock.now_secs()).0);
        put("Version", VERSION);
        put("ParamType", "normal");
        put("IdentifyNum", req.number);
        put("UserName", req.name);
        if req.check == Check::PhoneOwner {
            put("Mobile", req.phone.unwrap_or_default());
        }
        let sig = signature_for("POST", &p, self.cfg.access_key_secret.expose());
        format!("Signature={}&{}", percent_encode(&sig), canonical_query(&p))
    }
}

#[async_trait]
impl CheckProvider for Aliyun {
    fn name(&self) -> &'static str {
        "aliyun"
    }

    async fn check(&self, req: &CheckRequest<'_>) -> Result<CheckOutcome, CallError> {
        let headers = vec![("Content-Type".to_owned(), CONTENT_TYPE.to_owned())];
        let body = self.form(req).into_bytes();
        let reply = self.http.send(&self.cfg.endpoint, headers, Some(body)).await.map_err(CallError::Transit)?;
        outcome(reply.status, &reply.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_code_has_one_outcome_and_the_rest_are_no_answer() {
        for (field, code, expected, _) in CODES {
            let answer = if *field == "BizCode" {
                format!(r#"{{"RequestId":"r","Code":"200","Message":"success","ResultObject":{{"BizCode":"{code}"}}}}"#)
            } else {
                format!(r#"{{"RequestId":"r","Code":"{code}","Message":"x"}}"#)
            };
            let got = outcome(200, &answer);
            match expected {
                CheckOutcome::Unavailable => assert!(matches!(got, Err(CallError::Answer(_))), "{code}: {got:?}"),
                _ => assert_eq!(got, Ok(*expected), "{code}"),
            }
            assert_eq!(CODES.iter().filter(|(f, c, _, _)| f == field && c == code).count(), 1);
        }
        // The documentation's own example answers with numbers.
        let numeric = r#"{"RequestId":"r","Code":200,"Message":"success","ResultObject":{"BizCode":1}}"#;
        assert_eq!(outcome(200, numeric), Ok(CheckOutcome::Match));
        let undocumented = r#"{"Code":"200","ResultObject":{"BizCode":"9"}}"#;
        assert!(matches!(outcome(200, undocumented), Err(CallError::Answer(_))));
        let gateway = r#"{"Code":"SignatureDoesNotMatch","Message":"x"}"#;
        assert_eq!(outcome(400, gateway), Err(CallError::Answer("HTTP 400 SignatureDoesNotMatch".into())));
        assert!(matches!(outcome(503, ""), Err(CallError::Transit(_))));
        assert!(matches!(outcome(200, "<xml/>"), Err(CallError::Answer(_))));
    }
}
