//! Fake Tencent FaceID and Aliyun Cloudauth endpoints on loopback. Each checks every request as the vendor
//! documents it (method, path, content type, host, action, version, timestamp, the exact fields of the action,
//! the signature recomputed with the signing code whose vectors are the vendors' documented examples) and answers
//! what the test's function says for the fields it received; a request that fails the checks is answered as the
//! vendor does (a signature error) and recorded in `problems`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderMap, Method, Uri};
use axum::response::IntoResponse;
use axum::routing::any;
use realname_domain::clock::{Clock, ManualClock};
use realname_server::checks::{nppa, tencent as tc};
use realname_server::delivery::aliyun::signature_for;
use realname_server::delivery::tencent::{Tc3Request, authorization};
use realname_server::delivery::utc_datetime;

/// The test credentials.
pub const TENCENT_ID: &str = "AKIDfaceidTEST";
/// Tencent's secret key.
pub const TENCENT_KEY: &str = "faceid-secret-key";
/// Aliyun's AccessKey id.
pub const ALIYUN_ID: &str = "LTAIcloudauthTEST";
/// Aliyun's AccessKey secret.
pub const ALIYUN_SECRET: &str = "cloudauth-secret";
/// The anti-addiction system's appId, bizId and secret key (the interface specification's example key).
pub const NPPA_APP: &str = "test-appId";
/// bizId.
pub const NPPA_BIZ: &str = "1101999999";
/// Secret key (AES-128 in hex).
pub const NPPA_KEY: &str = "2836e95fcd10e04b0069bb1ee659955b";
/// The operator's check service's secret.
pub const WEBHOOK_SECRET: &str = "whsec_checks_test";

/// One request as the vendor understood it: the action and its own fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// `IdCardVerification`, `Mobile3MetaVerify`, …
    pub action: String,
    /// The action's fields (`IdCard`, `Name`, `Phone` / `IdentifyNum`, `UserName`, `Mobile`, `ParamType`).
    pub fields: BTreeMap<String, String>,
}

/// What the fake answers: status, body, and a delay before it.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body.
    pub body: String,
    /// Wait before answering.
    pub delay: Duration,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
}

impl Reply {
    /// A `200` with `body`.
    pub fn ok(body: impl Into<String>) -> Self {
        Self::status(200, body)
    }
    /// A status with `body`.
    pub fn status(status: u16, body: impl Into<String>) -> Self {
        Self { status, body: body.into(), delay: Duration::ZERO, headers: Vec::new() }
    }
    /// A `200` after `ms`.
    pub fn slow(ms: u64) -> Self {
        Self { delay: Duration::from_millis(ms), ..Self::ok("") }
    }
}

/// Tencent's answer with `Result` `code`.
pub fn tencent_result(code: &str) -> Reply {
    Reply::ok(format!(r#"{{"Response":{{"Result":"{code}","Description":"d","Isp":"","RequestId":"r-1"}}}}"#))
}

/// Aliyun's success answer with `BizCode` `code`.
pub fn aliyun_biz(code: &str) -> Reply {
    Reply::ok(format!(
        r#"{{"RequestId":"r-1","Code":"200","Message":"success","ResultObject":{{"BizCode":"{code}","SubCode":"101"}}}}"#
    ))
}

/// Aliyun's answer with `Code` `code` (no result).
pub fn aliyun_code(code: &str) -> Reply {
    Reply::ok(format!(r#"{{"RequestId":"r-1","Code":"{code}","Message":"m"}}"#))
}

/// How the fake answers a request it accepted.
pub type Answer = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

/// A running fake.
#[derive(Clone)]
pub struct Fake {
    /// Its endpoint URL.
    pub url: String,
    /// Every accepted request.
    pub seen: Arc<Mutex<Vec<Seen>>>,
    /// What was wrong with refused requests.
    pub problems: Arc<Mutex<Vec<String>>>,
}

impl Fake {
    /// How many requests arrived (accepted or not).
    pub fn calls(&self) -> usize {
        self.seen.lock().unwrap().len() + self.problems.lock().unwrap().len()
    }

    /// Asserts no request failed the vendor's checks.
    pub fn assert_clean(&self) {
        let problems = self.problems.lock().unwrap();
        assert!(problems.is_empty(), "requests the vendor would refuse: {problems:?}");
    }
}

type Check = fn(&Method, &HeaderMap, &Uri, &str, i64) -> Result<Seen, String>;

async fn serve(check: Check, refusal: Reply, clock: Arc<ManualClock>, answer: Answer) -> Fake {
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let problems: Arc<Mutex<Vec<String>>> = Arc::default();
    let (s, p) = (seen.clone(), problems.clone());
    let app = Router::new().fallback(any(move |method: Method, headers: HeaderMap, uri: Uri, body: String| {
        let (seen, problems, clock, answer, refusal) =
            (s.clone(), p.clone(), clock.clone(), answer.clone(), refusal.clone());
        async move {
            let reply = match check(&method, &headers, &uri, &body, clock.now_secs()) {
                Ok(request) => {
                    let reply = answer(&request);
                    seen.lock().unwrap().push(request);
                    reply
                }
                Err(problem) => {
                    problems.lock().unwrap().push(problem);
                    refusal
                }
            };
            tokio::time::sleep(reply.delay).await;
            let status = axum::http::StatusCode::from_u16(reply.status).unwrap();
            let mut resp = (status, [("content-type", "application/json")], reply.body).into_response();
            for (k, v) in reply.headers {
                let name = axum::http::HeaderName::try_from(k).unwrap();
                resp.headers_mut().insert(name, v.parse().unwrap());
            }
            resp
        }
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Fake { url: format!("http://{addr}/"), seen, problems }
}

fn header<'a>(h: &'a HeaderMap, k: &str) -> Result<&'a str, String> {
    h.get(k).and_then(|v| v.to_str().ok()).ok_or_else(|| format!("no {k} header"))
}

fn expect(what: &str, got: &str, want: &str) -> Result<(), String> {
    if got == want { Ok(()) } else { Err(format!("{what}: {got:?}, expected {want:?}")) }
}

/// Checks a FaceID request as Tencent's API 3.0 does (signature v3, TC3-HMAC-SHA256).
fn tencent_check(m: &Method, h: &HeaderMap, uri: &Uri, body: &str, now: i64) -> Result<Seen, String> {
    expect("method", m.as_str(), "POST")?;
    expect("path", uri.path(), "/")?;
    if uri.query().is_some() {
        return Err("a query string".into());
    }
    let ct = header(h, "content-type")?;
    expect("content-type", ct, tc::CONTENT_TYPE)?;
    let host = header(h, "host")?;
    let action = header(h, "x-tc-action")?.to_owned();
    expect("x-tc-version", header(h, "x-tc-version")?, "2018-03-01")?;
    let ts: i64 = header(h, "x-tc-timestamp")?.parse().map_err(|_| "x-tc-timestamp is not a number")?;
    if (ts - now).abs() > 300 {
        return Err(format!("x-tc-timestamp {ts} is more than 5 minutes from {now}"));
    }
    let req = Tc3Request { service: "faceid", host, content_type: ct, timestamp: ts, payload: body };
    let (_, auth) = authorization(&req, TENCENT_ID, TENCENT_KEY);
    expect("authorization", header(h, "authorization")?, &auth)?;
    let v: serde_json::Value = serde_json::from_str(body).map_err(|_| "the body is not JSON")?;
    let obj = v.as_object().ok_or("the body is not an object")?;
    let keys: &[&str] = match action.as_str() {
        "IdCardVerification" => &["IdCard", "Name"],
        "PhoneVerification" => &["IdCard", "Name", "Phone"],
        other => return Err(format!("unknown action {other}")),
    };
    let got: Vec<&str> = obj.keys().map(String::as_str).collect();
    if got.len() != keys.len() || keys.iter().any(|k| !got.contains(k)) {
        return Err(format!("{action} fields {got:?}, expected {keys:?}"));
    }
    let fields = obj
        .iter()
        .map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())).ok_or(format!("{k} is not a string")))
        .collect::<Result<_, _>>()?;
    Ok(Seen { action, fields })
}

fn percent_decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3).ok_or("bad escape")?;
                out.push(u8::from_str_radix(hex, 16).map_err(|_| "bad escape")?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| "not UTF-8".into())
}

/// Checks a Cloudauth request as Aliyun's RPC gateway does (signature version 1.0, HMAC-SHA1, the form body).
fn aliyun_check(m: &Method, h: &HeaderMap, uri: &Uri, body: &str, now: i64) -> Result<Seen, String> {
    expect("method", m.as_str(), "POST")?;
    expect("path", uri.path(), "/")?;
    if uri.query().is_some() {
        return Err("a query string: the fields belong in the form body".into());
    }
    expect("content-type", header(h, "content-type")?, "application/x-www-form-urlencoded")?;
    let mut params = BTreeMap::new();
    for pair in body.split('&') {
        let (k, v) = pair.split_once('=').ok_or("a pair without =")?;
        if params.insert(percent_decode(k)?, percent_decode(v)?).is_some() {
            return Err(format!("{k} twice"));
        }
    }
    let signature = params.remove("Signature").ok_or("no Signature")?;
    let p = |k: &str| params.get(k).cloned().ok_or(format!("no {k}"));
    expect("AccessKeyId", &p("AccessKeyId")?, ALIYUN_ID)?;
    expect("Format", &p("Format")?, "JSON")?;
    expect("Version", &p("Version")?, "2019-03-07")?;
    expect("SignatureMethod", &p("SignatureMethod")?, "HMAC-SHA1")?;
    expect("SignatureVersion", &p("SignatureVersion")?, "1.0")?;
    if p("SignatureNonce")?.is_empty() {
        return Err("an empty SignatureNonce".into());
    }
    expect("Timestamp", &p("Timestamp")?, &utc_datetime(now).0)?;
    expect("Signature", &signature, &signature_for("POST", &params, ALIYUN_SECRET))?;
    let action = p("Action")?;
    let own: &[&str] = match action.as_str() {
        "Id2MetaVerify" => &["IdentifyNum", "ParamType", "UserName"],
        "Mobile3MetaVerify" => &["IdentifyNum", "Mobile", "ParamType", "UserName"],
        other => return Err(format!("unknown action {other}")),
    };
    const COMMON: &[&str] = &[
        "AccessKeyId",
        "Action",
        "Format",
        "SignatureMethod",
        "SignatureNonce",
        "SignatureVersion",
        "Timestamp",
        "Version",
    ];
    let fields: BTreeMap<String, String> =
        params.iter().filter(|(k, _)| !COMMON.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
    let got: Vec<&str> = fields.keys().map(String::as_str).collect();
    if got != own {
        return Err(format!("{action} fields {got:?}, expected {own:?}"));
    }
    expect("ParamType", &fields["ParamType"], "normal")?;
    Ok(Seen { action, fields })
}

/// A fake FaceID endpoint answering with `answer`.
pub async fn tencent(clock: Arc<ManualClock>, answer: Answer) -> Fake {
    let refusal = Reply::ok(
        r#"{"Response":{"Error":{"Code":"AuthFailure.SignatureFailure","Message":"The provided credentials could not be validated."},"RequestId":"r-0"}}"#,
    );
    serve(tencent_check, refusal, clock, answer).await
}

/// A fake Cloudauth endpoint answering with `answer`.
pub async fn aliyun(clock: Arc<ManualClock>, answer: Answer) -> Fake {
    let refusal = Reply::status(
        400,
        r#"{"RequestId":"r-0","Code":"SignatureDoesNotMatch","Message":"Specified signature is not matched with our calculation."}"#,
    );
    serve(aliyun_check, refusal, clock, answer).await
}

/// The keys of a JSON object, sorted.
fn keys_of(v: &serde_json::Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    k.sort();
    k
}

/// Checks an anti-addiction request as the interface specification says: the system parameters in the headers,
/// the SHA-256 signature over the key, the sorted parameters (the query's too) and the body; `check` (POST
/// `/check`) with the AES-128-GCM body that opens under the key to exactly `ai` (32 characters), `name` and
/// `idNum`; `query` (GET `/query?ai=…`) without a body.
fn nppa_check(m: &Method, h: &HeaderMap, uri: &Uri, body: &str, now: i64) -> Result<Seen, String> {
    expect("appId", header(h, "appId")?, NPPA_APP)?;
    expect("bizId", header(h, "bizId")?, NPPA_BIZ)?;
    let ts = header(h, "timestamps")?;
    let ms: i64 = ts.parse().map_err(|_| "timestamps is not a number")?;
    if (ms - now * 1000).abs() > 300_000 {
        return Err(format!("timestamps {ms} is more than 5 minutes from {now} s"));
    }
    let mut params: BTreeMap<String, String> = BTreeMap::new();
    for pair in uri.query().unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').ok_or("a query pair without =")?;
        params.insert(percent_decode(k)?, percent_decode(v)?);
    }
    let query = params.clone();
    params.insert("appId".into(), NPPA_APP.into());
    params.insert("bizId".into(), NPPA_BIZ.into());
    params.insert("timestamps".into(), ts.into());
    let signed: BTreeMap<&str, &str> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    expect("sign", header(h, "sign")?, &nppa::sign(NPPA_KEY, &signed, body))?;
    match (m.as_str(), uri.path()) {
        ("POST", "/check") => {
            expect("content-type", header(h, "content-type")?, nppa::CONTENT_TYPE)?;
            if !query.is_empty() {
                return Err("check takes no query".into());
            }
            let v: serde_json::Value = serde_json::from_str(body).map_err(|_| "the body is not JSON")?;
            if keys_of(&v) != ["data"] {
                return Err(format!("body keys {:?}", keys_of(&v)));
            }
            let key = nppa::key_of(NPPA_KEY).ok_or("key")?;
            let plain = nppa::decrypt(&key, v["data"].as_str().ok_or("data is not a string")?)
                .ok_or("the data does not open under the key")?;
            let p: serde_json::Value = serde_json::from_slice(&plain).map_err(|_| "the plaintext is not JSON")?;
            if keys_of(&p) != ["ai", "idNum", "name"] {
                return Err(format!("plaintext keys {:?}", keys_of(&p)));
            }
            let fields: BTreeMap<String, String> = ["ai", "idNum", "name"]
                .iter()
                .map(|k| (k.to_string(), p[*k].as_str().unwrap_or_default().to_owned()))
                .collect();
            if fields["ai"].len() != 32 {
                return Err(format!("ai of {} characters", fields["ai"].len()));
            }
            Ok(Seen { action: "check".into(), fields })
        }
        ("GET", "/query") => {
            if !body.is_empty() || query.keys().map(String::as_str).collect::<Vec<_>>() != ["ai"] {
                return Err(format!("query with {query:?} and a body of {} bytes", body.len()));
            }
            Ok(Seen { action: "query".into(), fields: query })
        }
        (m, p) => Err(format!("{m} {p}")),
    }
}

/// A fake anti-addiction system (`{url}check`, `{url}query`) answering with `answer`.
pub async fn nppa(clock: Arc<ManualClock>, answer: Answer) -> Fake {
    serve(nppa_check, Reply::ok(r#"{"errcode":1011,"errmsg":"SYS REQ PARTNER AUTH ERROR"}"#), clock, answer).await
}

/// The anti-addiction system's answer with `status` (0 success, 1 in progress, 2 failed).
pub fn nppa_status(status: i64) -> Reply {
    let pi = if status == 0 { r#""1fffbjzos82bs9cnyj1dna7d6d29zg4esnh99u""# } else { "null" };
    Reply::ok(format!(r#"{{"errcode":0,"errmsg":"OK","data":{{"result":{{"status":{status},"pi":{pi}}}}}}}"#))
}

/// Checks a request to the operator's check service as docs/checks.md specifies it.
fn webhook_check(m: &Method, h: &HeaderMap, uri: &Uri, body: &str, now: i64) -> Result<Seen, String> {
    expect("method", m.as_str(), "POST")?;
    expect("path", uri.path(), "/")?;
    expect("content-type", header(h, "content-type")?, "application/json")?;
    let sig = header(h, "realname-signature")?;
    if !realname_domain::signature::verify(WEBHOOK_SECRET.as_bytes(), sig, body.as_bytes(), now, 300) {
        return Err("the Realname-Signature does not verify".into());
    }
    let v: serde_json::Value = serde_json::from_str(body).map_err(|_| "the body is not JSON")?;
    let check = v["check"].as_str().unwrap_or_default().to_owned();
    let want: &[&str] = if check == "phone_owner" {
        &["check", "document_kind", "name", "number", "phone", "request_id"]
    } else {
        &["check", "document_kind", "name", "number", "request_id"]
    };
    if keys_of(&v) != want {
        return Err(format!("body keys {:?}, expected {want:?}", keys_of(&v)));
    }
    let fields = v
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, x)| (k.clone(), x.as_str().unwrap_or_default().to_owned()))
        .collect();
    Ok(Seen { action: check, fields })
}

/// A fake operator's check service answering with `answer`.
pub async fn webhook(clock: Arc<ManualClock>, answer: Answer) -> Fake {
    serve(webhook_check, Reply::status(401, "bad signature"), clock, answer).await
}

/// The operator's signed answer to `seen` with `outcome`, signed at `now` with `secret`.
pub fn webhook_answer(seen: &Seen, outcome: &str, secret: &str, now: i64) -> Reply {
    let body = serde_json::json!({ "request_id": seen.fields["request_id"], "outcome": outcome }).to_string();
    let sig = realname_domain::signature::sign(secret.as_bytes(), now, body.as_bytes());
    Reply { headers: vec![("Realname-Signature".into(), sig)], ..Reply::ok(body) }
}
