//! The real `realname-server` in demo mode, on a free loopback port with a fresh data folder, serving `www/`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::paths::{self, TempDir};
use crate::{Result, err, free_port, http, wait_for};

/// Options for one demo server.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Extra environment for the server (e.g. SMTP settings pointing at an [`crate::smtp::SmtpSink`]).
    pub env: Vec<(String, String)>,
    /// Extra command-line arguments after the demo ones.
    pub args: Vec<String>,
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
    /// Starts `realname-server demo --www <www> --addr 127.0.0.1:<port> --data <fresh dir>` and waits for
    /// `GET /readyz` to answer 200.
    pub fn start(opts: &Options) -> Result<DemoServer> {
        let bin = paths::server_bin()?;
        let dir = paths::temp_dir("server")?;
        let data = dir.0.join("data");
        let log = dir.0.join("server.log");
        let out = std::fs::File::create(&log)?;
        let port = free_port()?;
        let addr = format!("127.0.0.1:{port}");
        let mut cmd = Command::new(&bin);
        cmd.arg("demo")
            .arg("--www")
            .arg(paths::www()?)
            .args(["--addr", &addr])
            .arg("--data")
            .arg(&data)
            .args(&opts.args)
            .current_dir(&dir.0)
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out);
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().map_err(|e| err!("cannot start {}: {e}", bin.display()))?;
        let mut s = DemoServer { child, base: format!("http://{addr}"), data, log, _dir: dir };
        let ready = format!("{}/readyz", s.base);
        let waited = wait_for(Duration::from_secs(30), "the demo server's /readyz", || {
            if let Some(code) = s.child.try_wait()? {
                return Err(err!("realname-server exited with {code}:\n{}", s.log_text()));
            }
            Ok(http::get(&ready).ok().filter(|r| r.status == 200).map(|_| ()))
        });
        match waited {
            Ok(()) => Ok(s),
            Err(e) => Err(err!("{e}\nserver log:\n{}", s.log_text())),
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
