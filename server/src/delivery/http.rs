//! A small async face over a blocking HTTP client (ureq, rustls with ring) for provider and webhook calls.

use std::time::Duration;

/// A reply: status, body (truncated to 64 KiB) and its `Realname-Signature` header, if any.
#[derive(Debug, Clone)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body text.
    pub body: String,
    /// The `Realname-Signature` header (the `webhook` check provider's signed answers).
    pub signature: Option<String>,
}

/// HTTP client shared by the senders and the webhook worker.
#[derive(Clone)]
pub struct HttpClient {
    agent: ureq::Agent,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HttpClient")
    }
}

impl HttpClient {
    /// A client with an overall per-request timeout; redirects are not followed.
    pub fn new(timeout: Duration) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .build();
        Self { agent: ureq::Agent::new_with_config(config) }
    }

    /// Sends a request (`GET` when `body` is `None`, else `POST`) with headers.
    pub async fn send(
        &self,
        url: &str,
        headers: Vec<(String, String)>,
        body: Option<Vec<u8>>,
    ) -> Result<Reply, String> {
        let agent = self.agent.clone();
        let url = url.to_owned();
        tokio::task::spawn_blocking(move || {
            let result = match body {
                Some(body) => {
                    let mut req = agent.post(&url);
                    for (k, v) in &headers {
                        req = req.header(k.as_str(), v.as_str());
                    }
                    req.send(&body[..])
                }
                None => {
                    let mut req = agent.get(&url);
                    for (k, v) in &headers {
                        req = req.header(k.as_str(), v.as_str());
                    }
                    req.call()
                }
            };
            let mut resp = result.map_err(|e| e.to_string())?;
            let status = resp.status().as_u16();
            let signature =
                resp.headers().get(realname_domain::signature::HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
            let body = resp.body_mut().with_config().limit(64 * 1024).read_to_string().unwrap_or_default();
            Ok(Reply { status, body, signature })
        })
        .await
        .map_err(|e| e.to_string())?
    }
}
