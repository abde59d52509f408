//! The `[http]` section: how long a connection may take to send its request, how long it may stay idle, and how
//! many connections the server holds at once (in total and per client address), plus the optional HSTS header.

/// Connection limits and timeouts of the HTTP listener (docs/deploy.md, "Connections").
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// How long a client may take to send a request's head once it started it, milliseconds.
    pub header_timeout_ms: u64,
    /// How long a client may take to send a request's body after its head, milliseconds.
    pub body_timeout_ms: u64,
    /// How long a kept-alive connection may wait for its next request, milliseconds.
    pub idle_timeout_ms: u64,
    /// Connections held at once; more are refused at once (keep it below the open-file limit).
    pub max_connections: usize,
    /// Connections held at once per client address (the socket's peer); 0 = no per-address cap.
    pub max_connections_per_ip: usize,
    /// Bytes of documents bodies (up to 12 MiB each) all uploads in flight may hold; more get 503 `overloaded`.
    pub upload_memory_bytes: usize,
    /// How long `/readyz` waits for the database before it answers 503, milliseconds.
    pub ready_timeout_ms: u64,
    /// `max-age` of the `Strict-Transport-Security` header, seconds; 0 sends no header.
    pub hsts_max_age_secs: u64,
    /// Whether the HSTS header adds `includeSubDomains`.
    pub hsts_include_subdomains: bool,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            header_timeout_ms: 10_000,
            body_timeout_ms: 30_000,
            idle_timeout_ms: 60_000,
            max_connections: 4096,
            max_connections_per_ip: 256,
            upload_memory_bytes: 64 << 20,
            ready_timeout_ms: 2_000,
            hsts_max_age_secs: 0,
            hsts_include_subdomains: false,
        }
    }
}
