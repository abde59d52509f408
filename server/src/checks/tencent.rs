//! The `tencent` provider: Tencent Cloud FaceID (慧眼) API 2018-03-01, `IdCardVerification` (`id_match`: name +
//! resident ID number) and `PhoneVerification` (`phone_owner`: name + number + phone), POSTed as JSON and signed
//! with TC3-HMAC-SHA256 by the code the SMS sender uses (`delivery::tencent::authorization`). Every documented
//! `Result` code is mapped in [`RESULTS`]; docs/checks.md shows the same table.

use std::sync::Arc;

use async_trait::async_trait;
use realname_core::protocol::{Check, CheckOutcome};
use realname_domain::clock::Clock;
use realname_domain::config::TencentChecks;

use super::{CallError, CheckProvider, CheckRequest};
use crate::delivery::http::HttpClient;
use crate::delivery::tencent::{Tc3Request, authorization, host_of};

/// The API version of every action.
pub const VERSION: &str = "2018-03-01";
/// The service name in the signature's scope.
pub const SERVICE: &str = "faceid";
/// The body's content type, exactly as signed.
pub const CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// Every `Result` code the API documents for each action, what it means there, and its outcome. A code the
/// source gives for input it refuses (an ID number or name it calls invalid, a phone it does not know) is
/// `no_record`: the person may correct it, and the site's policy decides (review or refuse). Codes for a
/// source that is down, upgrading or over its daily quota are `unavailable`. A code not listed is
/// `unavailable` too.
pub const RESULTS: &[(Check, &str, CheckOutcome, &str)] = &[
    (Check::IdMatch, "0", CheckOutcome::Match, "姓名和身份证号一致"),
    (Check::IdMatch, "-1", CheckOutcome::Mismatch, "姓名和身份证号不一致"),
    (Check::IdMatch, "-2", CheckOutcome::NoRecord, "非法身份证号（长度、校验位等不正确）"),
    (Check::IdMatch, "-3", CheckOutcome::NoRecord, "非法姓名（长度、格式等不正确）"),
    (Check::IdMatch, "-4", CheckOutcome::Unavailable, "证件库服务异常"),
    (Check::IdMatch, "-5", CheckOutcome::NoRecord, "证件库中无此身份证记录"),
    (Check::IdMatch, "-6", CheckOutcome::Unavailable, "权威比对系统升级中，请稍后再试"),
    (Check::IdMatch, "-7", CheckOutcome::Unavailable, "认证次数超过当日限制"),
    (Check::PhoneOwner, "0", CheckOutcome::Match, "三要素信息一致"),
    (Check::PhoneOwner, "-4", CheckOutcome::Mismatch, "三要素信息不一致"),
    (Check::PhoneOwner, "-6", CheckOutcome::NoRecord, "手机号码不合法"),
    (Check::PhoneOwner, "-7", CheckOutcome::NoRecord, "身份证号码有误"),
    (Check::PhoneOwner, "-8", CheckOutcome::NoRecord, "姓名校验不通过"),
    (Check::PhoneOwner, "-9", CheckOutcome::NoRecord, "没有记录"),
    (Check::PhoneOwner, "-11", CheckOutcome::Unavailable, "验证中心服务繁忙"),
];

/// The action that makes `check`.
pub fn action(check: Check) -> &'static str {
    match check {
        Check::IdMatch => "IdCardVerification",
        Check::PhoneOwner => "PhoneVerification",
    }
}

/// The JSON body of a request, exactly as sent and signed: only the fields the action needs.
pub fn body(req: &CheckRequest<'_>) -> String {
    match req.check {
        Check::IdMatch => serde_json::json!({ "IdCard": req.number, "Name": req.name }),
        Check::PhoneOwner => {
            serde_json::json!({ "IdCard": req.number, "Name": req.name, "Phone": req.phone.unwrap_or_default() })
        }
    }
    .to_string()
}

/// The outcome of an answer (`status`, `body`) to `check`.
pub fn outcome(check: Check, status: u16, body: &str) -> Result<CheckOutcome, CallError> {
    if status >= 500 {
        return Err(CallError::Transit(format!("HTTP {status}")));
    }
    let v: serde_json::Value =
        serde_json::from_str(body).map_err(|_| CallError::Answer(format!("HTTP {status}, not JSON")))?;
    let resp = &v["Response"];
    if let Some(code) = resp["Error"]["Code"].as_str() {
        // Only the code: a vendor's message may repeat what was sent.
        return Err(CallError::Answer(format!("error {code}")));
    }
    if status != 200 {
        return Err(CallError::Answer(format!("HTTP {status}")));
    }
    let result = resp["Result"].as_str().ok_or_else(|| CallError::Answer("no Result".into()))?;
    RESULTS.iter().find(|(c, code, _, _)| *c == check && *code == result).map(|(_, _, outcome, _)| *outcome).ok_or_else(
        || CallError::Answer(format!("undocumented Result {:?}", result.chars().take(8).collect::<String>())),
    )
}

/// The FaceID provider.
pub struct Tencent {
    cfg: TencentChecks,
    http: HttpClient,
    clock: Arc<dyn Clock>,
}

impl Tencent {
    /// A provider calling `cfg.endpoint` (credentials checked by configuration validation).
    pub fn new(cfg: TencentChecks, http: HttpClient, clock: Arc<dyn Clock>) -> Self {
        Self { cfg, http, clock }
    }

    /// The headers of a request with `payload` at Unix second `ts`, signature included.
    pub fn headers(&self, check: Check, payload: &str, ts: i64) -> Vec<(String, String)> {
        let host = host_of(&self.cfg.endpoint);
        let req = Tc3Request { service: SERVICE, host: &host, content_type: CONTENT_TYPE, timestamp: ts, payload };
        let (_, auth) = authorization(&req, &self.cfg.secret_id, self.cfg.secret_key.expose());
        let mut headers = vec![
            ("Authorization".to_owned(), auth),
            ("Content-Type".to_owned(), CONTENT_TYPE.to_owned()),
            ("Host".to_owned(), host),
            ("X-TC-Action".to_owned(), action(check).to_owned()),
            ("X-TC-Version".to_owned(), VERSION.to_owned()),
            ("X-TC-Timestamp".to_owned(), ts.to_string()),
        ];
        if !self.cfg.region.is_empty() {
            headers.push(("X-TC-Region".to_owned(), self.cfg.region.clone()));
        }
        headers
    }
}

#[async_trait]
impl CheckProvider for Tencent {
    fn name(&self) -> &'static str {
        "tencent"
    }

    async fn check(&self, req: &CheckRequest<'_>) -> Result<CheckOutcome, CallError> {
        let payload = body(req);
        let headers = self.headers(req.check, &payload, self.clock.now_secs());
        let reply = self
            .http
            .send(&self.cfg.endpoint, headers, Some(payload.into_bytes()))
            .await
            .map_err(CallError::Transit)?;
        outcome(req.check, reply.status, &reply.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use realname_core::protocol::DocumentKind;

    fn req(check: Check) -> CheckRequest<'static> {
        CheckRequest {
            check,
            name: "张三",
            number: "11010519491231002X",
            phone: Some("13800138000"),
            kind: DocumentKind::ResidentId,
        }
    }

    #[test]
    fn the_body_holds_only_what_the_action_needs() {
        assert_eq!(body(&req(Check::IdMatch)), r#"{"IdCard":"11010519491231002X","Name":"张三"}"#);
        assert_eq!(
            body(&req(Check::PhoneOwner)),
            r#"{"IdCard":"11010519491231002X","Name":"张三","Phone":"13800138000"}"#
        );
    }

    #[test]
    fn every_documented_code_has_one_outcome_and_the_rest_are_no_answer() {
        for (check, code, expected, _) in RESULTS {
            let answer = format!(r#"{{"Response":{{"Result":"{code}","Description":"x","RequestId":"r"}}}}"#);
            assert_eq!(outcome(*check, 200, &answer), Ok(*expected), "{code}");
            assert_eq!(RESULTS.iter().filter(|(c, k, _, _)| c == check && k == code).count(), 1);
        }
        let answer = r#"{"Response":{"Result":"-99","RequestId":"r"}}"#;
        assert!(matches!(outcome(Check::IdMatch, 200, answer), Err(CallError::Answer(_))));
        let error =
            r#"{"Response":{"Error":{"Code":"AuthFailure.SignatureFailure","Message":"张三"},"RequestId":"r"}}"#;
        assert_eq!(
            outcome(Check::IdMatch, 200, error),
            Err(CallError::Answer("error AuthFailure.SignatureFailure".into()))
        );
        assert!(matches!(outcome(Check::IdMatch, 502, "<html>"), Err(CallError::Transit(_))));
        assert!(matches!(outcome(Check::IdMatch, 200, "garbage"), Err(CallError::Answer(_))));
        assert!(matches!(outcome(Check::IdMatch, 404, "{}"), Err(CallError::Answer(_))));
    }
}
