//! The server under load: a real `realname-server serve` process with its own data folder and configuration,
//! and the SMS gateway it delivers codes to (a webhook receiver in this process, as an operator's own gateway
//! would be), from which the honest clients read their codes.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::Digest as _;
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpListener;

use crate::client::Conn;

/// The site's secret API key (its SHA-256 is in the server's configuration).
pub const SECRET_KEY: &str = "sk_load_site_0123456789abcdef";
/// The site's publishable key (widget sessions).
pub const PUBLISHABLE_KEY: &str = "pk_load";
/// The site's page origin.
pub const ORIGIN: &str = "https://load.example";

/// Codes the server delivered, by phone number (the gateway's `to` without `+86`).
#[derive(Clone, Default)]
pub struct Codes(Arc<Mutex<HashMap<String, String>>>);

impl Codes {
    /// Takes the code delivered to `phone`, if any.
    pub fn take(&self, phone: &str) -> Option<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(phone)
    }

    fn put(&self, phone: String, code: String) {
        let mut m = self.0.lock().unwrap_or_else(|p| p.into_inner());
        // Codes nobody takes (refused-send attackers' victims) must not pile up.
        if m.len() > 100_000 {
            m.clear();
        }
        m.insert(phone, code);
    }
}

/// Starts the SMS gateway: answers every POST with 200 and keeps `{to, code}`; returns its URL.
pub async fn start_gateway(codes: Codes) -> Result<String, String> {
    let listener = TcpListener::bind("127.0.0.1:0").await.map_err(|e| format!("gateway: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let codes = codes.clone();
            tokio::spawn(async move {
                let mut io = BufReader::new(stream);
                loop {
                    let mut line = String::new();
                    let mut len = 0usize;
                    // Request line, then headers.
                    if io.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    loop {
                        line.clear();
                        if io.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        let l = line.trim_end();
                        if l.is_empty() {
                            break;
                        }
                        if let Some((k, v)) = l.split_once(':')
                            && k.trim().eq_ignore_ascii_case("content-length")
                        {
                            len = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0u8; len.min(1 << 20)];
                    if io.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                    if let (Some(to), Some(code)) = (v["to"].as_str(), v["code"].as_str()) {
                        codes.put(to.trim_start_matches("+86").to_owned(), code.to_owned());
                    }
                    let ok = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n";
                    if io.get_mut().write_all(ok).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Ok(format!("http://{addr}/sms"))
}

/// How to start the server.
pub struct Options {
    /// The `realname-server` binary.
    pub bin: PathBuf,
    /// `postgres://…`, or `None` for a SQLite file in the data folder.
    pub database_url: Option<String>,
    /// The SMS gateway's URL.
    pub gateway: String,
    /// More TOML for the configuration (the `[limits]` and `[http]` tables).
    pub extra: String,
}

/// A running server; killed and its folder removed when dropped.
pub struct Server {
    child: Child,
    dir: PathBuf,
    /// Its address.
    pub addr: SocketAddr,
    /// Its process id (for `/proc`).
    pub pid: u32,
}

impl Server {
    /// Writes the configuration and starts `serve`, waiting until `/readyz` answers 200.
    pub async fn start(opts: &Options) -> Result<Server, String> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let dir = std::env::temp_dir().join(format!("realname-load-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let db = opts.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", dir.join("realname.db").display()));
        let hash: String = sha2::Sha256::digest(SECRET_KEY.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
        let q = |p: PathBuf| format!("{:?}", p.display().to_string());
        let toml = format!(
            "[server]\naddr = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}\"\nlog_format = \"text\"\n\
             log_level = \"error\"\n\n[database]\nurl = {db:?}\n\n[keys]\ndir = {keys}\n\n[audit]\ncheckpoint_dir = {audit}\n\n\
             [sms]\nprovider = \"webhook\"\n\n[sms.webhook]\nurl = {gateway:?}\nsecret = \"load-gateway-secret\"\n\n\
             [email]\nprovider = \"smtp\"\nhost = \"127.0.0.1\"\nport = 9\ntls = \"none\"\n\n{extra}\n\n\
             [[sites]]\nid = \"load\"\nname = \"load\"\norigins = [\"{ORIGIN}\"]\nsecret_key_sha256 = \"{hash}\"\n\
             publishable_key = \"{PUBLISHABLE_KEY}\"\nmethods = [\"sms\", \"documents\"]\n",
            keys = q(dir.join("keys")),
            audit = q(dir.join("audit")),
            gateway = opts.gateway,
            extra = opts.extra,
        );
        let config = dir.join("realname.toml");
        std::fs::write(&config, toml).map_err(|e| format!("{}: {e}", config.display()))?;
        let log = std::fs::File::create(dir.join("server.log")).map_err(|e| e.to_string())?;
        let bin = std::fs::canonicalize(&opts.bin).map_err(|e| format!("{}: {e}", opts.bin.display()))?;
        let mut cmd = Command::new(&bin);
        cmd.arg("serve").arg("--config").arg(&config).current_dir(&dir);
        cmd.env_remove("DATABASE_URL").env_remove("REALNAME_SERVER_KEYS").env_remove("REALNAME_VAULT_KEYS");
        cmd.stdin(Stdio::null()).stdout(log.try_clone().map_err(|e| e.to_string())?).stderr(log);
        let child = cmd.spawn().map_err(|e| format!("cannot start {}: {e}", opts.bin.display()))?;
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let mut server = Server { pid: child.id(), child, dir, addr };
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!("realname-server exited with {status}:\n{}", server.log()));
            }
            if let Ok(mut c) = Conn::open(addr, None).await
                && c.request("GET", "/readyz", &[], b"").await.is_ok_and(|r| r.status == 200)
            {
                return Ok(server);
            }
            if started.elapsed() > Duration::from_secs(60) {
                return Err(format!("/readyz did not answer 200 within 60 s:\n{}", server.log()));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// What the server logged so far (its last 4 KB).
    pub fn log(&self) -> String {
        let s = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
        let start = (s.len().saturating_sub(4096)..s.len()).find(|&i| s.is_char_boundary(i)).unwrap_or(s.len());
        s[start..].to_owned()
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
