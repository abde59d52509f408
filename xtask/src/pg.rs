//! A throw-away local PostgreSQL cluster for the test run (Debian's `postgresql` binaries).

use std::path::{Path, PathBuf};
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
    /// The same database over TLS, verifying the server's certificate (`sslmode=verify-full`) against the
    /// throw-away CA that signed it (`sslrootcert`).
    pub tls_url: String,
}

/// Makes a throw-away CA and a server certificate for `localhost` / 127.0.0.1 signed by it, in `dir`
/// (`ca.crt`, `server.crt`, `server.key`), with Debian's `openssl` (installed with `postgresql`).
fn make_certificates(dir: &Path) -> Res {
    if sh::output(Command::new("openssl").arg("version")).is_none() {
        sh::apt_install(&["openssl"])?;
    }
    let ext = dir.join("server.ext");
    std::fs::write(
        &ext,
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=critical,CA:FALSE\n\
         keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .map_err(|e| format!("cannot write {}: {e}", ext.display()))?;
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    let openssl = |args: &[&str]| {
        let mut c = Command::new("openssl");
        c.current_dir(dir).args(args).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
        sh::run(&mut c)
    };
    openssl(
        &[
            &["req", "-x509", "-new"][..],
            &ec,
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.crt",
                "-days",
                "2",
                "-subj",
                "/CN=realname throw-away test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign",
            ],
        ]
        .concat(),
    )?;
    openssl(
        &[&["req", "-new"][..], &ec, &["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"]]
            .concat(),
    )?;
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ])?;
    // PostgreSQL refuses a key that others may read.
    std::fs::set_permissions(dir.join("server.key"), std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .map_err(|e| format!("cannot restrict server.key: {e}"))
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
    /// Creates and starts a cluster on a free loopback port, with durability off (fsync, synchronous_commit and
    /// full_page_writes): the tests and the in-process benchmark measure the server, not the disk.
    pub fn start() -> Res<Self> {
        Self::start_with(false)
    }

    /// The same with PostgreSQL's durable defaults (fsync, synchronous_commit, full_page_writes on), as an
    /// operator runs it: `cargo xtask bench-http` and `soak`.
    pub fn start_durable() -> Res<Self> {
        Self::start_with(true)
    }

    /// The postmaster's process id (from `postmaster.pid`), to count the cluster's CPU time.
    pub fn postmaster_pid(&self) -> Option<u32> {
        let pid = std::fs::read_to_string(self.dir.join("data/postmaster.pid")).ok()?;
        pid.lines().next()?.trim().parse().ok()
    }

    fn start_with(durable: bool) -> Res<Self> {
        let bin = crate::setup::postgres_bin()?;
        let root = sh::is_root();
        let port = free_port()?;
        let dir = std::env::temp_dir().join(format!("realname-pg-{port}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;

        let tls = dir.join("tls");
        std::fs::create_dir_all(&tls).map_err(|e| format!("cannot create {}: {e}", tls.display()))?;
        make_certificates(&tls)?;
        if root {
            sh::run(Command::new("chown").args(["-R", "postgres:postgres"]).arg(&dir))?;
        }
        let data = dir.join("data");
        let q = |c: &mut Command| {
            c.stdout(std::process::Stdio::null());
        };
        let mut init = as_postgres(root, &bin, "initdb");
        init.arg("-D").arg(&data).args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"]);
        q(&mut init);
        sh::run(&mut init)?;
        let fast = if durable { "" } else { "-c fsync=off -c synchronous_commit=off -c full_page_writes=off " };
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 {fast}-c max_connections=200 \
             -c ssl=on -c ssl_cert_file={} -c ssl_key_file={}",
            dir.display(),
            tls.join("server.crt").display(),
            tls.join("server.key").display()
        );
        let mut start = as_postgres(root, &bin, "pg_ctl");
        start.arg("-D").arg(&data).args(["-o", &opts, "-l"]).arg(dir.join("log")).args(["-w", "start"]);
        q(&mut start);
        sh::run(&mut start)?;
        // TCP without TLS unless asked for: the tests and the benchmark measure the server, not the handshake.
        let url = format!("postgres://postgres@127.0.0.1:{port}/postgres?sslmode=disable");
        let socket_url = format!("postgres://postgres@localhost:{port}/postgres?host={}", dir.display());
        let tls_url = format!(
            "postgres://postgres@localhost:{port}/postgres?sslmode=verify-full&sslrootcert={}",
            tls.join("ca.crt").display()
        );
        eprintln!("test: PostgreSQL running at {url}");
        Ok(Self { dir, bin, root, url, socket_url, tls_url })
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
