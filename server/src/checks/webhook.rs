//! The `webhook` provider: the check as an HMAC-signed JSON POST to the operator's own service (an in-house
//! gateway to an authoritative source, or a vendor this server has no provider for), which answers with a signed
//! outcome. Both directions carry `Realname-Signature` (`domain::signature`, as site webhooks do) under the
//! configured secret; the answer must echo the request's id, so an old or forged answer is no answer. The request
//! and answer are specified in docs/checks.md.

use std::sync::Arc;

use async_trait::async_trait;
use realname_core::protocol::{Check, CheckOutcome};
use realname_domain::clock::{Clock, Random};
use realname_domain::config::WebhookChecks;
use realname_domain::signature;

use super::{CallError, CheckProvider, CheckRequest};
use crate::delivery::http::HttpClient;

/// How far an answer's signature time may be from the server's clock, seconds.
pub const TOLERANCE_SECS: i64 = 300;

/// The request body, exactly as sent and signed: the request id, the check and only the fields it needs.
pub fn body(request_id: &str, req: &CheckRequest<'_>) -> String {
    let mut v = serde_json::json!({
        "request_id": request_id,
        "check": req.check.as_str(),
        "document_kind": req.kind,
        "name": req.name,
        "number": req.number,
    });
    if req.check == Check::PhoneOwner {
        v["phone"] = serde_json::json!(req.phone.unwrap_or_default());
    }
    v.to_string()
}

/// The outcome of an answer to request `request_id`: a 2xx whose body `{"request_id", "outcome"}` carries a valid
/// signature under `secret` (within [`TOLERANCE_SECS`] of `now_secs`) and the same id.
pub fn outcome(
    secret: &[u8],
    request_id: &str,
    reply: &crate::delivery::http::Reply,
    now_secs: i64,
) -> Result<CheckOutcome, CallError> {
    if reply.status >= 500 {
        return Err(CallError::Transit(format!("HTTP {}", reply.status)));
    }
    if !(200..300).contains(&reply.status) {
        return Err(CallError::Answer(format!("HTTP {}", reply.status)));
    }
    let header = reply.signature.as_deref().ok_or_else(|| CallError::Answer("unsigned answer".into()))?;
    if !signature::verify(secret, header, reply.body.as_bytes(), now_secs, TOLERANCE_SECS) {
        return Err(CallError::Answer("the answer's signature does not verify".into()));
    }
    let v: serde_json::Value =
        serde_json::from_str(&reply.body).map_err(|_| CallError::Answer("the answer is not JSON".into()))?;
    if v["request_id"].as_str() != Some(request_id) {
        return Err(CallError::Answer("the answer is for another request".into()));
    }
    match v["outcome"].as_str().and_then(CheckOutcome::parse) {
        Some(CheckOutcome::NotApplicable) | None => Err(CallError::Answer("no outcome".into())),
        Some(outcome) => Ok(outcome),
    }
}

/// The webhook provider.
pub struct Webhook {
    cfg: WebhookChecks,
    http: HttpClient,
    clock: Arc<dyn Clock>,
    random: Arc<dyn Random>,
}

impl Webhook {
    /// A provider posting to `cfg.url` (its settings checked by configuration validation).
    pub fn new(cfg: WebhookChecks, http: HttpClient, clock: Arc<dyn Clock>, random: Arc<dyn Random>) -> Self {
        Self { cfg, http, clock, random }
    }
}

#[async_trait]
impl CheckProvider for Webhook {
    fn name(&self) -> &'static str {
        "webhook"
    }

    async fn check(&self, req: &CheckRequest<'_>) -> Result<CheckOutcome, CallError> {
        let request_id = format!("chk_{}", self.random.token(16));
        let payload = body(&request_id, req);
        let secret = self.cfg.secret.expose().as_bytes();
        let headers = vec![
            ("Content-Type".to_owned(), "application/json".to_owned()),
            (signature::HEADER.to_owned(), signature::sign(secret, self.clock.now_secs(), payload.as_bytes())),
        ];
        let reply =
            self.http.send(&self.cfg.url, headers, Some(payload.into_bytes())).await.map_err(CallError::Transit)?;
        outcome(secret, &request_id, &reply, self.clock.now_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delivery::http::Reply;
    use realname_core::protocol::DocumentKind;

    fn reply(status: u16, body: &str, signed_with: Option<(&[u8], i64)>) -> Reply {
        let signature = signed_with.map(|(k, t)| signature::sign(k, t, body.as_bytes()));
        Reply { status, body: body.into(), signature }
    }

    #[test]
    fn the_body_holds_the_check_and_only_the_fields_it_needs() {
        let mut req = CheckRequest {
            check: Check::IdMatch,
            name: "张三",
            number: "11010519491231002X",
            phone: Some("13800138000"),
            kind: DocumentKind::ResidentId,
        };
        assert_eq!(
            body("chk_1", &req),
            r#"{"check":"id_match","document_kind":"resident_id","name":"张三","number":"11010519491231002X","request_id":"chk_1"}"#
        );
        req.check = Check::PhoneOwner;
        assert!(body("chk_1", &req).contains(r#""phone":"13800138000""#));
    }

    #[test]
    fn only_a_signed_answer_to_this_request_counts() {
        let k: &[u8] = b"checks-secret";
        let ok = r#"{"request_id":"chk_1","outcome":"mismatch"}"#;
        assert_eq!(outcome(k, "chk_1", &reply(200, ok, Some((k, 1000))), 1100), Ok(CheckOutcome::Mismatch));
        for (why, r, now) in [
            ("unsigned", reply(200, ok, None), 1000),
            ("another key", reply(200, ok, Some((b"other", 1000))), 1000),
            ("too old", reply(200, ok, Some((k, 1000))), 1000 + TOLERANCE_SECS + 1),
            ("another request", reply(200, r#"{"request_id":"chk_2","outcome":"match"}"#, Some((k, 1000))), 1000),
            (
                "not_applicable",
                reply(200, r#"{"request_id":"chk_1","outcome":"not_applicable"}"#, Some((k, 1000))),
                1000,
            ),
            ("unknown outcome", reply(200, r#"{"request_id":"chk_1","outcome":"maybe"}"#, Some((k, 1000))), 1000),
            ("garbage", reply(200, "<html>", Some((k, 1000))), 1000),
            ("4xx", reply(403, ok, Some((k, 1000))), 1000),
        ] {
            assert!(matches!(outcome(k, "chk_1", &r, now), Err(CallError::Answer(_))), "{why}");
        }
        assert!(matches!(outcome(k, "chk_1", &reply(502, "", None), 1000), Err(CallError::Transit(_))));
    }
}
