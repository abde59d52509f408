//! Small helpers for running commands and finding the workspace.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Result type of every xtask step: a human-readable error.
pub type Res<T = ()> = Result<T, String>;

/// The workspace root (the folder holding the top-level Cargo.toml).
///
/// Found from the working directory first: with a shared `CARGO_TARGET_DIR`, one xtask binary serves every git
/// worktree (cargo sees the same package and reuses the artifact), so the path it was compiled in may be another
/// checkout's. `cargo xtask` runs in the invoking directory, which is inside the right checkout.
pub fn root() -> PathBuf {
    if let Ok(mut dir) = std::env::current_dir() {
        loop {
            let is_root = std::fs::read_to_string(dir.join("Cargo.toml")).is_ok_and(|s| s.contains("[workspace]"))
                && dir.join("xtask").is_dir();
            if is_root {
                return dir;
            }
            if !dir.pop() {
                break;
            }
        }
    }
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(Path::to_path_buf).unwrap_or(here)
}

/// Cargo's target dir: `CARGO_TARGET_DIR` when set (shared between checkouts), else `target/` in the workspace.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"))
}

/// Runs a command, echoing it, and fails when it exits non-zero.
pub fn run(cmd: &mut Command) -> Res {
    eprintln!("+ {}", describe(cmd));
    let status = cmd.status().map_err(|e| format!("cannot start {}: {e}", describe(cmd)))?;
    if status.success() { Ok(()) } else { Err(format!("`{}` failed with {status}", describe(cmd))) }
}

/// Runs a command quietly and returns its trimmed stdout, or None when it cannot run or fails.
pub fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The command line, for logs.
pub fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Whether an executable is on PATH (or is an existing path).
pub fn which(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        let p = PathBuf::from(name);
        return p.is_file().then_some(p);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

/// `cargo` as the one that runs xtask (rustup's on a normal machine).
pub fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

/// Runs a native cargo command in the workspace.
pub fn cargo_native(args: &[&str]) -> Res {
    run(cargo().args(args))
}

/// Whether this process runs as root (then apt-get needs no sudo, and PostgreSQL must run as `postgres`).
pub fn is_root() -> bool {
    output(Command::new("id").arg("-u")).as_deref() == Some("0")
}

/// `apt-get install` of Debian packages, with `sudo` when not root; runs `apt-get update` first.
pub fn apt_install(pkgs: &[&str]) -> Res {
    eprintln!("setup: installing Debian packages: {}", pkgs.join(" "));
    let sudo = !is_root();
    let mk = |args: &[&str]| {
        let mut c = if sudo { Command::new("sudo") } else { Command::new("apt-get") };
        if sudo {
            c.arg("apt-get");
        }
        c.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        c
    };
    run(&mut mk(&["update", "-qq"]))?;
    let mut install = mk(&["install", "-y", "-qq"]);
    install.args(pkgs);
    run(&mut install)
}

/// Replaces the part of the file at `path` between the `start` and `end` markers with `section` (which holds
/// them), or appends `section` when the markers are missing; the rest of the file (hand-written) stays.
pub fn record_section(path: &Path, start: &str, end: &str, section: &str) -> Res {
    let old = std::fs::read_to_string(path).unwrap_or_default();
    let new = match (old.find(start), old.find(end)) {
        (Some(a), Some(b)) if a < b => {
            format!("{}{section}{}", &old[..a], old[b + end.len()..].trim_start_matches('\n'))
        }
        _ => format!("{}\n\n{section}", old.trim_end()),
    };
    std::fs::write(path, new).map_err(|e| format!("{}: {e}", path.display()))
}
