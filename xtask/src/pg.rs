//! A throw-away local PostgreSQL cluster for the test run (Debian's `postgresql` binaries).

use std::path::PathBuf;
use std::process::Command;

use crate::sh::{self, Res};

/// A running cluster; stopped and deleted on drop.
pub struct TempPostgres {
    dir: PathBuf,
    bin: PathBuf,
    root: bool,
    /// `postgres://…` URL of the cluster's `postgres` database, over TCP on loopback.
    pub url: String,
    /// The same database over the cluster's Unix-domain socket.
    pub socket_url: String,
}

fn as_postgres(root: bool, bin: &std::path::Path, tool: &str) -> Command {
    let exe = bin.join(tool);
    if root {
        // initdb and the server refuse to run as root.
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(exe);
        c
    } else {
        Command::new(exe)
    }
}

fn free_port() -> Res<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}"))?;
    l.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

impl TempPostgres {
    /// Creates and starts a cluster on a free loopback port.
    pub fn start() -> Res<Self> {
        let bin = crate::setup::postgres_bin()?;
        let root = sh::is_root();
        let port = free_port()?;
        let dir = std::env::temp_dir().join(format!("realname-pg-{port}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        if root {
            sh::run(Command::new("chown").arg("postgres:postgres").arg(&dir))?;
        }
        let data = dir.join("data");
        let q = |c: &mut Command| {
            c.stdout(std::process::Stdio::null());
        };
        let mut init = as_postgres(root, &bin, "initdb");
        init.arg("-D").arg(&data).args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"]);
        q(&mut init);
        sh::run(&mut init)?;
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
            dir.display()
        );
        let mut start = as_postgres(root, &bin, "pg_ctl");
        start.arg("-D").arg(&data).args(["-o", &opts, "-l"]).arg(dir.join("log")).args(["-w", "start"]);
        q(&mut start);
        sh::run(&mut start)?;
        let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
        let socket_url = format!("postgres://postgres@localhost:{port}/postgres?host={}", dir.display());
        eprintln!("test: PostgreSQL running at {url}");
        Ok(Self { dir, bin, root, url, socket_url })
    }
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        let mut stop = as_postgres(self.root, &self.bin, "pg_ctl");
        stop.arg("-D").arg(self.dir.join("data")).args(["-m", "immediate", "-w", "stop"]);
        stop.stdout(std::process::Stdio::null());
        let _ = stop.status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
