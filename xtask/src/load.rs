//! The load generator `realname-load` (crate `load/`) against a release `realname-server serve`: built and run
//! for `cargo xtask bench-http` and `cargo xtask soak`, and in a few seconds' form by `cargo xtask test`.

use std::path::PathBuf;

use crate::sh::{self, Res};

/// The two binaries, built with `profile` (`release` for figures, `dev` for the smoke runs of the tests).
pub struct Binaries {
    /// `realname-server`.
    pub server: PathBuf,
    /// `realname-load`.
    pub load: PathBuf,
}

/// Builds both (separately: built together, cargo would unify their features of `realname-core` and rebuild
/// the server).
pub fn build(release: bool) -> Res<Binaries> {
    for package in ["realname-server", "realname-load"] {
        let mut c = sh::cargo();
        c.args(["build", "-q", "-p", package]);
        if release {
            c.arg("--release");
        }
        sh::run(&mut c)?;
    }
    let dir = sh::target_dir().join(if release { "release" } else { "debug" });
    Ok(Binaries { server: dir.join("realname-server"), load: dir.join("realname-load") })
}

/// Runs `realname-load <args> --server-bin …` and returns its JSON report; its stderr passes through.
pub fn run(bins: &Binaries, args: &[&str]) -> Res<serde_json::Value> {
    let mut c = std::process::Command::new(&bins.load);
    c.args(args).arg("--server-bin").arg(&bins.server).stderr(std::process::Stdio::inherit());
    eprintln!("+ {}", sh::describe(&c));
    let out = c.output().map_err(|e| format!("cannot run {}: {e}", bins.load.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report = stdout.lines().rev().find(|l| l.starts_with('{'));
    let report: Option<serde_json::Value> = report.and_then(|l| serde_json::from_str(l).ok());
    match report {
        Some(r) if out.status.success() => Ok(r),
        // A soak that failed its bounds still reports what it saw.
        Some(r) if r.get("verdict").is_some() => Ok(r),
        _ => Err(format!("`{}` failed with {}", sh::describe(&c), out.status)),
    }
}

/// `uptime`'s load averages, for the record.
pub fn load_averages() -> String {
    let l = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    l.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}
