//! The network log (Chrome's performance log, i.e. DevTools `Network.*` events): which requests a page sent,
//! with their bodies, so a test can prove that no request carries plaintext personal data.

use base64::Engine as _;
use serde_json::{Value, json};

use crate::webdriver::Session;
use crate::{Result, err};

/// One request the page sent.
#[derive(Debug, Clone)]
pub struct Request {
    /// DevTools request id.
    pub id: String,
    /// HTTP method.
    pub method: String,
    /// Full URL.
    pub url: String,
    /// Request headers as JSON text.
    pub headers: String,
    /// The body as text (lossy UTF-8), empty when there is none.
    pub body: String,
}

/// Collects the requests logged since the last call (needs a [`crate::browser::Profile::with_netlog`] browser).
/// A body that the log left out (large uploads) is fetched with `Network.getRequestPostData`; if that fails
/// too, this fails rather than letting an unseen body pass the check.
pub fn requests(s: &Session) -> Result<Vec<Request>> {
    let mut out = Vec::new();
    for entry in s.log("performance")? {
        let msg: Value = match entry["message"].as_str().map(serde_json::from_str) {
            Some(Ok(v)) => v,
            _ => continue,
        };
        let m = &msg["message"];
        if m["method"] != "Network.requestWillBeSent" {
            continue;
        }
        let p = &m["params"];
        let r = &p["request"];
        let id = p["requestId"].as_str().unwrap_or_default().to_string();
        let mut body = r["postData"].as_str().map(str::to_string);
        if body.is_none()
            && let Some(entries) = r["postDataEntries"].as_array()
        {
            let mut bytes = Vec::new();
            for e in entries {
                if let Some(b) = e["bytes"].as_str() {
                    bytes.extend(base64::engine::general_purpose::STANDARD.decode(b).unwrap_or_default());
                }
            }
            body = Some(String::from_utf8_lossy(&bytes).into_owned());
        }
        if body.is_none() && r["hasPostData"] == true {
            let v = s
                .cdp("Network.getRequestPostData", json!({ "requestId": id }))
                .map_err(|e| err!("cannot read the body of {} {}: {e}", r["method"], r["url"]))?;
            body = v["postData"].as_str().map(str::to_string);
        }
        out.push(Request {
            id,
            method: r["method"].as_str().unwrap_or_default().to_string(),
            url: r["url"].as_str().unwrap_or_default().to_string(),
            headers: r["headers"].to_string(),
            body: body.unwrap_or_default(),
        });
    }
    Ok(out)
}

/// The ways a value could appear in a request: as is, JSON `\u` escapes (both cases) and percent-encoded.
pub fn encodings(value: &str) -> Vec<String> {
    let mut v = vec![value.to_string()];
    if !value.is_ascii() {
        let esc = |upper: bool| {
            value
                .encode_utf16()
                .map(|u| {
                    if u < 0x80 {
                        char::from(u as u8).to_string()
                    } else if upper {
                        format!("\\u{u:04X}")
                    } else {
                        format!("\\u{u:04x}")
                    }
                })
                .collect::<String>()
        };
        v.push(esc(false));
        v.push(esc(true));
    }
    let pct: String = value
        .bytes()
        .map(|b| {
            // encodeURIComponent's unreserved set.
            if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    if pct != value {
        v.push(pct.clone());
        v.push(pct.to_lowercase());
    }
    v
}

/// Every (request, secret) pair where a secret appears in a request's URL, headers or body, in any of
/// [`encodings`]. Empty means nothing leaked.
pub fn leaks(requests: &[Request], secrets: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    for r in requests {
        for s in secrets.iter().filter(|s| !s.is_empty()) {
            let hit =
                encodings(s).into_iter().find(|e| r.url.contains(e) || r.headers.contains(e) || r.body.contains(e));
            if let Some(e) = hit {
                found.push(format!("{} {} carries {s:?} (as {e:?})", r.method, r.url));
            }
        }
    }
    found
}

/// The requests to the server's sealed-step endpoints (`/v1/sessions/{id}/identity|code|documents`) whose body
/// is not exactly `{"envelope": {"kid", "enc", "ct"}}`, described. Empty means every such body is an envelope.
pub fn unsealed_steps(requests: &[Request]) -> Vec<String> {
    let sealed_path = |u: &str| {
        let path = u.split('?').next().unwrap_or(u);
        path.contains("/v1/sessions/") && ["/identity", "/code", "/documents"].iter().any(|s| path.ends_with(s))
    };
    let mut bad = Vec::new();
    for r in requests.iter().filter(|r| r.method == "POST" && sealed_path(&r.url)) {
        let ok = serde_json::from_str::<Value>(&r.body).ok().is_some_and(|v| {
            let top = v.as_object().is_some_and(|o| o.len() == 1);
            let e = &v["envelope"];
            let fields = e.as_object().is_some_and(|o| o.keys().all(|k| ["kid", "enc", "ct"].contains(&k.as_str())));
            top && fields && ["kid", "enc", "ct"].iter().all(|k| e[*k].as_str().is_some_and(|s| !s.is_empty()))
        });
        if !ok {
            bad.push(format!("{} {}: {}", r.method, r.url, r.body.chars().take(200).collect::<String>()));
        }
    }
    bad
}
