//! Where the harness finds its parts. `cargo xtask test` sets every variable; the defaults suit a checkout
//! where `cargo xtask setup` and `cargo xtask build` have run.

use std::path::PathBuf;

use crate::{Result, err};

/// The workspace root (parent of this crate).
pub fn root() -> PathBuf {
    let here = crate_dir(std::env::var_os("CARGO_MANIFEST_DIR"), env!("CARGO_MANIFEST_DIR"));
    here.parent().map(PathBuf::from).unwrap_or(here)
}

/// This crate's folder: the one cargo names when it runs the tests, else the one it was compiled in. Cargo
/// does not rebuild a path crate whose checkout moved (a target dir copied to another worktree), so the
/// compiled-in path can be another checkout's, whose docs and pages the tests would then read.
fn crate_dir(at_run: Option<std::ffi::OsString>, compiled: &str) -> PathBuf {
    at_run.map(PathBuf::from).unwrap_or_else(|| PathBuf::from(compiled))
}

fn var_or(name: &str, default: PathBuf) -> PathBuf {
    std::env::var_os(name).map(PathBuf::from).unwrap_or(default)
}

fn existing(p: PathBuf, what: &str, hint: &str) -> Result<PathBuf> {
    if p.exists() { Ok(p) } else { Err(err!("{what} not found at {} — {hint}", p.display())) }
}

/// The `realname-server` binary (`REALNAME_SERVER_BIN`, set by `cargo xtask test` after building it).
pub fn server_bin() -> Result<PathBuf> {
    let p = std::env::var_os("REALNAME_SERVER_BIN").map(PathBuf::from).ok_or_else(|| {
        err!(
            "REALNAME_SERVER_BIN is not set: run the end-to-end tests with `cargo xtask test` (or build \
              `realname-server` and point REALNAME_SERVER_BIN at it)"
        )
    })?;
    existing(p, "realname-server binary", "build it with `cargo build -p realname-server`")
}

/// chromedriver (`CHROMEDRIVER`, default Debian's).
pub fn chromedriver() -> Result<PathBuf> {
    existing(var_or("CHROMEDRIVER", "/usr/bin/chromedriver".into()), "chromedriver", "run `cargo xtask setup`")
}

/// Chromium (`REALNAME_CHROMIUM`, default Debian's).
pub fn chromium() -> Result<PathBuf> {
    existing(var_or("REALNAME_CHROMIUM", "/usr/bin/chromium".into()), "chromium", "run `cargo xtask setup`")
}

/// The folder served as the demo site (`REALNAME_WWW`, default `www/`).
pub fn www() -> Result<PathBuf> {
    existing(var_or("REALNAME_WWW", root().join("www")), "www folder", "it is part of the repository")
}

/// The built widget package (`www/pkg/realname.js` and its wasm), made by `cargo xtask build`.
pub fn widget_pkg() -> Result<PathBuf> {
    let pkg = www()?.join("pkg");
    existing(pkg.join("realname.js"), "built widget", "run `cargo xtask build`")?;
    Ok(pkg)
}

/// axe-core's browser bundle (`REALNAME_AXE`, default from `tools/node_modules`, installed by `cargo xtask setup`).
pub fn axe_js() -> Result<PathBuf> {
    let default = root().join("tools/node_modules/axe-core/axe.min.js");
    existing(var_or("REALNAME_AXE", default), "axe-core", "run `cargo xtask setup` (npm ci in tools/)")
}

/// The project's Chromium settings for WebDriver tests.
pub fn webdriver_json() -> Result<PathBuf> {
    existing(root().join("webdriver.json"), "webdriver.json", "it is part of the repository")
}

/// Cargo's target dir at run time (`CARGO_TARGET_DIR`, else `target/`).
pub fn target_dir() -> PathBuf {
    var_or("CARGO_TARGET_DIR", root().join("target"))
}

/// Where screenshots go (`REALNAME_E2E_SHOTS`, default `<target>/e2e-screenshots`).
pub fn shots_dir() -> PathBuf {
    var_or("REALNAME_E2E_SHOTS", target_dir().join("e2e-screenshots"))
}

/// A fresh, empty scratch folder for one test (database, logs); removed by [`TempDir`]'s drop.
pub fn temp_dir(tag: &str) -> Result<TempDir> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let p = target_dir().join("e2e-tmp").join(format!("{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    std::fs::create_dir_all(&p)?;
    Ok(TempDir(p))
}

/// A scratch folder removed when dropped, unless `REALNAME_E2E_KEEP=1` (for looking at a failure).
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var("REALNAME_E2E_KEEP").as_deref() != Ok("1") {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// The consumer apps built from the packed package (`REALNAME_CONSUMER_APPS`, set by `cargo xtask test`, which
/// builds them into `<target>/consumers/dist/`): `<dir>/<app>/index.html`.
pub fn consumer_app(app: &str) -> Result<PathBuf> {
    let dir = var_or("REALNAME_CONSUMER_APPS", target_dir().join("consumers/dist"));
    existing(
        dir.join(app).join("index.html"),
        "consumer app",
        "run `cargo xtask test` (it packs www/pkg and builds the apps)",
    )?;
    Ok(dir.join(app))
}

/// The project's pinned npm tools (`tools/node_modules`, installed by `cargo xtask setup`).
pub fn tools_node_modules() -> Result<PathBuf> {
    existing(root().join("tools/node_modules"), "tools/node_modules", "run `cargo xtask setup` (npm ci in tools/)")
}

/// The Python with PyJWT and cryptography (`REALNAME_PYTHON`, set by `cargo xtask test`; default Debian's, where
/// `cargo xtask setup` installs `python3-jwt`).
pub fn python() -> Result<PathBuf> {
    existing(var_or("REALNAME_PYTHON", "/usr/bin/python3".into()), "python3", "run `cargo xtask setup`")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checkout_cargo_runs_the_tests_in_wins_over_the_compiled_in_one() {
        assert_eq!(crate_dir(Some("/here/e2e".into()), "/elsewhere/e2e"), PathBuf::from("/here/e2e"));
        assert_eq!(crate_dir(None, "/elsewhere/e2e"), PathBuf::from("/elsewhere/e2e"));
    }
}
