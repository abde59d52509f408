//! The real `realname-server` in demo mode, on a free loopback port with a fresh data folder, serving `www/`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::paths::{self, TempDir};
use crate::{Result, err, free_port, http};

/// Options for one demo server.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Extra environment for the server (`REALNAME__SECTION__KEY` overrides apply with [`Options::config`]).
    pub env: Vec<(String, String)>,
    /// `None`: `realname-server demo` exactly as `cargo xtask demo` runs it. `Some(toml)`: `realname-server
    /// serve --config` with the same demo site, demo mode and `www/`, plus these TOML tables (e.g. `[codes]`
    /// with a short lifetime, `[email]` pointing at an SMTP sink) — for what `demo` does not let one set.
    pub config: Option<String>,
    /// The demo site's methods as a TOML array (with [`Options::config`]; default `["sms", "email"]`).
    pub site_methods: Option<String>,
    /// More origins the demo site's pages may call the API from (with [`Options::config`]), e.g. a site's own
    /// page server that embeds the widget.
    pub origins: Vec<String>,
}

impl Options {
    /// The demo, with extra configuration tables (see [`Options::config`]).
    pub fn with_config(toml: &str) -> Options {
        Options { config: Some(toml.to_string()), ..Options::default() }
    }
}

/// The demo site as `realname-server demo` sets it up (publishable key `pk_demo`, this origin), for
/// `serve --config`. Nobody holds the secret key whose hash is given: the tests use the publishable key.
fn demo_toml(
    addr: &str,
    www: &std::path::Path,
    data: &std::path::Path,
    extra: &str,
    methods: &str,
    origins: &[String],
) -> String {
    let q = |p: &std::path::Path| format!("{:?}", p.display().to_string());
    let more: String = origins.iter().map(|o| format!(", {o:?}")).collect();
    format!(
        "[server]\naddr = \"{addr}\"\npublic_url = \"http://{addr}\"\nlog_format = \"text\"\ndemo = true\nwww = {www}\n\n\
         [database]\nurl = \"sqlite://{db}\"\n\n[keys]\ndir = {keys}\n\n{extra}\n\n\
         [[sites]]\nid = \"demo\"\nname = \"realname demo\"\norigins = [\"http://{addr}\"{more}]\n\
         secret_key_sha256 = \"{zero}\"\npublishable_key = \"pk_demo\"\nmethods = {methods}\n",
        www = q(www),
        db = data.join("realname.db").display(),
        keys = q(&data.join("keys")),
        zero = "0".repeat(64),
    )
}

/// A running demo server; stopped (and its data folder removed) when dropped.
pub struct DemoServer {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The data folder (SQLite database, keys).
    pub data: PathBuf,
    /// The file holding the server's stdout and stderr.
    pub log: PathBuf,
    // Dropped after the child is stopped.
    _dir: TempDir,
}

impl DemoServer {
    /// Starts `realname-server demo --www <www> --addr 127.0.0.1:<port> --data <fresh dir>` (or `serve --config`
    /// with the same demo site, see [`Options::config`]) and waits for `GET /readyz` to answer 200.
    pub fn start(opts: &Options) -> Result<DemoServer> {
        let bin = paths::server_bin()?;
        let dir = paths::temp_dir("server")?;
        let data = dir.0.join("data");
        let log = dir.0.join("server.log");
        let out = std::fs::File::create(&log)?;
        let port = free_port()?;
        let addr = format!("127.0.0.1:{port}");
        let mut cmd = Command::new(&bin);
        match &opts.config {
            None => {
                cmd.arg("demo").arg("--www").arg(paths::www()?).args(["--addr", &addr]).arg("--data").arg(&data);
            }
            Some(extra) => {
                std::fs::create_dir_all(&data)?;
                let file = dir.0.join("realname.toml");
                let methods = opts.site_methods.as_deref().unwrap_or(r#"["sms", "email"]"#);
                std::fs::write(&file, demo_toml(&addr, &paths::www()?, &data, extra, methods, &opts.origins))?;
                cmd.arg("serve").arg("--config").arg(&file);
            }
        }
        cmd.current_dir(&dir.0).stdin(Stdio::null()).stdout(out.try_clone()?).stderr(out);
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().map_err(|e| err!("cannot start {}: {e}", bin.display()))?;
        let mut s = DemoServer { child, base: format!("http://{addr}"), data, log, _dir: dir };
        let ready = format!("{}/readyz", s.base);
        let started = std::time::Instant::now();
        loop {
            if let Some(code) = s.child.try_wait()? {
                return Err(err!("realname-server exited with {code}:\n{}", s.log_text()));
            }
            if http::get(&ready).is_ok_and(|r| r.status == 200) {
                return Ok(s);
            }
            if started.elapsed() > Duration::from_secs(30) {
                return Err(err!(
                    "the demo server's /readyz did not answer 200 within 30 s\nserver log:\n{}",
                    s.log_text()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `base` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Everything the server logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for DemoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
