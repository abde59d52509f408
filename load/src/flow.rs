//! One honest verification flow over HTTP, as a site and its widget make it: the site's backend creates the
//! session (secret key), the widget seals the identity to the server's key and sends it, the code arrives at the
//! SMS gateway, the widget seals the code and gets the signed result.

use std::time::Instant;

use realname_core::envelope::{RecipientKey, seal};
use realname_core::protocol::{Consent, DocumentKind, IdentityPayload, Method, Step};

use crate::client::{Client, Resp};
use crate::target::{Codes, ORIGIN, SECRET_KEY};

/// The endpoints a flow calls, in order (the labels of the per-endpoint figures).
pub const ENDPOINTS: [&str; 3] =
    ["POST /v1/sessions", "POST /v1/sessions/{id}/identity", "POST /v1/sessions/{id}/code"];

/// Milliseconds each request of one flow took, in the order of [`ENDPOINTS`].
pub type FlowTimes = [f64; 3];

/// The server's current HPKE key, from `GET /v1/keys` (what the widget seals to).
pub async fn fetch_key(client: &mut Client) -> Result<RecipientKey, String> {
    let r = client.call("GET", "/v1/keys", &[], b"").await?;
    let v = r.json();
    let (Some(kid), Some(pk)) = (v["keys"][0]["kid"].as_str(), v["keys"][0]["public_key"].as_str()) else {
        return Err(format!("GET /v1/keys: {} {}", r.status, r.text()));
    };
    RecipientKey::from_base64(kid, pk).map_err(|e| format!("GET /v1/keys: {e}"))
}

fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// A distinct mainland mobile number for flow `n`.
pub fn phone(n: u64) -> String {
    format!("139{:08}", n % 100_000_000)
}

/// The identity step's sealed body for `session` sending a code to `phone`.
pub fn identity_body(key: &RecipientKey, session: &str, phone: &str) -> Result<Vec<u8>, String> {
    let identity = IdentityPayload {
        method: Method::Sms,
        document_kind: DocumentKind::ResidentId,
        name: "张三".into(),
        number: "11010519491231002X".into(),
        phone: Some(phone.to_owned()),
        email: None,
        consent: Some(Consent { version: "2025-01".into(), accepted_at: now_secs() }),
        guardian_consent: None,
    };
    let plain = serde_json::to_vec(&identity).map_err(|e| e.to_string())?;
    let env = seal(key, session, Step::Identity, &plain).map_err(|e| e.to_string())?;
    Ok(serde_json::json!({ "envelope": env }).to_string().into_bytes())
}

fn expect(r: Resp, what: &str) -> Result<serde_json::Value, String> {
    if (200..300).contains(&r.status) { Ok(r.json()) } else { Err(format!("{what}: {} {}", r.status, r.text())) }
}

/// Runs flow number `n`; the error says which request failed and how (status and body).
pub async fn one_flow(client: &mut Client, key: &RecipientKey, codes: &Codes, n: u64) -> Result<FlowTimes, String> {
    let mut times = [0.0; 3];
    let site = format!("Bearer {SECRET_KEY}");
    let json = ("content-type", "application/json");
    let t = Instant::now();
    let r = client.call("POST", "/v1/sessions", &[("authorization", &site), json], b"{}").await?;
    times[0] = ms(t);
    let s = expect(r, ENDPOINTS[0])?;
    let (Some(id), Some(secret)) = (s["session_id"].as_str(), s["client_secret"].as_str()) else {
        return Err(format!("{}: no session in {s}", ENDPOINTS[0]));
    };
    let widget = format!("Bearer {secret}");
    let headers = [("authorization", widget.as_str()), ("origin", ORIGIN), json];
    let phone = phone(n);
    let body = identity_body(key, id, &phone)?;
    let t = Instant::now();
    let r = client.call("POST", &format!("/v1/sessions/{id}/identity"), &headers, &body).await?;
    times[1] = ms(t);
    expect(r, ENDPOINTS[1])?;
    // The server answers once the gateway took the code.
    let code = codes.take(&phone).ok_or_else(|| format!("no code delivered to {phone}"))?;
    let plain = serde_json::json!({ "code": code }).to_string();
    let env = seal(key, id, Step::Code, plain.as_bytes()).map_err(|e| e.to_string())?;
    let body = serde_json::json!({ "envelope": env }).to_string();
    let t = Instant::now();
    let r = client.call("POST", &format!("/v1/sessions/{id}/code"), &headers, body.as_bytes()).await?;
    times[2] = ms(t);
    let done = expect(r, ENDPOINTS[2])?;
    if done["status"] != "verified" {
        return Err(format!("{}: not verified: {done}", ENDPOINTS[2]));
    }
    Ok(times)
}

/// Milliseconds since `t`.
pub fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}
