//! `cargo xtask setup`: installs only what is missing, and says what it does.

use std::path::PathBuf;
use std::process::Command;

use crate::sh::{self, Res};

/// How to drive cargo for the wasm32 target on this machine.
pub struct WasmToolchain {
    /// The cargo binary to run.
    pub cargo: PathBuf,
    /// Environment variables for that cargo.
    pub env: Vec<(String, String)>,
    /// Extra arguments after the subcommand (e.g. `-Z build-std`).
    pub args: Vec<String>,
    /// Where its build output goes; separate from the native target dir so the two never thrash.
    pub target_dir: PathBuf,
}

impl WasmToolchain {
    /// A `cargo <sub>` command for the wasm32 target, ready for more arguments.
    pub fn command(&self, sub: &str) -> Command {
        let mut c = Command::new(&self.cargo);
        c.current_dir(sh::root()).arg(sub).args(&self.args);
        c.arg("--target").arg("wasm32-unknown-unknown");
        c.arg("--target-dir").arg(&self.target_dir);
        // rustup's environment would otherwise pick rustup's rustc for the Debian cargo.
        c.env_remove("RUSTUP_TOOLCHAIN");
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }
}

/// Everything the other commands need, found or installed.
pub struct Tools {
    /// The wasm32 cargo for the widget's tests.
    pub wasm: WasmToolchain,
    /// The wasm32 cargo for the shipped, size-optimised widget (`cargo xtask build`): std rebuilt for size.
    pub wasm_size: WasmToolchain,
    /// `wasm-bindgen` at the lockfile's version.
    pub wasm_bindgen: PathBuf,
    /// `wasm-bindgen-test-runner` from the same install.
    pub test_runner: PathBuf,
    /// `wasm-opt` from npm's binaryen.
    pub wasm_opt: PathBuf,
    /// `esbuild` from npm: bundles and minifies the widget's JS.
    pub esbuild: PathBuf,
    /// chromedriver for WebDriver tests.
    pub chromedriver: PathBuf,
    /// Debian's Python with PyJWT and cryptography (the docs' backend example runs in the tests).
    pub python: PathBuf,
}

/// Finds or installs every tool.
pub fn run() -> Res<Tools> {
    let wasm = wasm_toolchain()?;
    let wasm_size = size_toolchain()?;
    let (wasm_bindgen, test_runner) = wasm_bindgen_cli()?;
    let wasm_opt = wasm_opt()?;
    let esbuild = sh::root().join("tools/node_modules/.bin/esbuild");
    let chromedriver = chromium()?;
    postgres_bin()?;
    let python = python_jwt()?;
    crate::face::ensure()?;
    eprintln!("setup: all tools present");
    Ok(Tools { wasm, wasm_size, wasm_bindgen, test_runner, wasm_opt, esbuild, chromedriver, python })
}

const DEBIAN_WASM_PKGS: [&str; 4] = ["rustc-web", "cargo-web", "rust-web-src", "lld-22"];

fn rustup_has_wasm() -> bool {
    sh::output(Command::new("rustup").args(["target", "list", "--installed"]))
        .is_some_and(|s| s.lines().any(|l| l.trim() == "wasm32-unknown-unknown"))
}

fn debian_wasm_present() -> bool {
    let rustc_ok = sh::output(Command::new("/usr/bin/rustc").arg("--version")).is_some();
    rustc_ok
        && PathBuf::from("/usr/bin/cargo").is_file()
        && PathBuf::from("/usr/bin/rust-lld").is_file()
        && PathBuf::from("/usr/lib/rustlib/src/rust/library/std").is_dir()
}

fn rustup_toolchain() -> WasmToolchain {
    WasmToolchain {
        cargo: std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()).into(),
        env: vec![],
        args: vec![],
        target_dir: sh::target_dir().join("wasm"),
    }
}

fn debian_toolchain() -> WasmToolchain {
    let env = [
        ("RUSTC", "/usr/bin/rustc"),
        ("RUSTDOC", "/usr/bin/rustdoc"),
        ("RUSTC_BOOTSTRAP", "1"),
        ("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER", "rust-lld"),
    ];
    WasmToolchain {
        cargo: "/usr/bin/cargo".into(),
        env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        args: vec!["-Z".into(), "build-std=std,panic_abort".into()],
        target_dir: sh::target_dir().join("wasm-debian"),
    }
}

/// Flags for the shipped widget's std and crates: no unwinding or panic messages, no source locations and no
/// `Debug` formatting in the binary, sha2's rolled-up (not unrolled) SHA-256 rounds, and no reference types or
/// multi-value (wasm-bindgen then keeps JS objects in a JS-side table instead of generating externref shims:
/// −2.4 KB gzip of wasm for +0.2 KB of JS) (docs/performance.md, "Widget size").
const SIZE_RUSTFLAGS: &str = "-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none \
    --cfg sha2_backend_soft=\"compact\" -Ctarget-feature=-reference-types,-multivalue";

/// The toolchain for the shipped widget: Debian's `rustc-web` rebuilding std with `optimize_for_size` and the
/// flags above (std must be built from source for them, which rustup's prebuilt wasm32 std cannot do).
fn size_toolchain() -> Res<WasmToolchain> {
    if !debian_wasm_present() {
        sh::apt_install(&DEBIAN_WASM_PKGS)?;
    }
    if !debian_wasm_present() {
        return Err(format!("Debian wasm toolchain still incomplete after installing {DEBIAN_WASM_PKGS:?}"));
    }
    let mut t = debian_toolchain();
    t.env.push(("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS".into(), SIZE_RUSTFLAGS.into()));
    t.args.extend(["-Z".into(), "build-std-features=optimize_for_size".into()]);
    t.target_dir = sh::target_dir().join("wasm-size");
    Ok(t)
}

/// Picks the wasm32 toolchain: rustup's target where it exists or can be added, else Debian's `rustc-web`.
/// `REALNAME_WASM_TOOLCHAIN=rustup|debian` forces one.
fn wasm_toolchain() -> Res<WasmToolchain> {
    let forced = std::env::var("REALNAME_WASM_TOOLCHAIN").unwrap_or_default();
    if forced != "debian" {
        if rustup_has_wasm() {
            eprintln!("setup: wasm32 toolchain: rustup target wasm32-unknown-unknown");
            return Ok(rustup_toolchain());
        }
        if forced == "rustup" || (sh::which("rustup").is_some() && !debian_wasm_present()) {
            eprintln!("setup: trying `rustup target add wasm32-unknown-unknown`");
            let added =
                sh::run(Command::new("timeout").args(["180", "rustup", "target", "add", "wasm32-unknown-unknown"]));
            if added.is_ok() && rustup_has_wasm() {
                return Ok(rustup_toolchain());
            }
            if forced == "rustup" {
                return Err("rustup cannot add the wasm32-unknown-unknown target".into());
            }
            eprintln!("setup: rustup cannot add wasm32 here; using Debian's rustc-web instead");
        }
    }
    if !debian_wasm_present() {
        sh::apt_install(&DEBIAN_WASM_PKGS)?;
    }
    if !debian_wasm_present() {
        return Err(format!("Debian wasm toolchain still incomplete after installing {DEBIAN_WASM_PKGS:?}"));
    }
    eprintln!("setup: wasm32 toolchain: Debian rustc-web with -Z build-std");
    Ok(debian_toolchain())
}

/// The `wasm-bindgen` version pinned in Cargo.lock; the CLI must match it exactly.
fn locked_wasm_bindgen_version() -> Res<String> {
    let lock = std::fs::read_to_string(sh::root().join("Cargo.lock"))
        .map_err(|e| format!("cannot read Cargo.lock (run a cargo build first): {e}"))?;
    let mut lines = lock.lines();
    while let Some(l) = lines.next() {
        if l.trim() == "name = \"wasm-bindgen\""
            && let Some(v) = lines.next().and_then(|v| v.trim().strip_prefix("version = \""))
        {
            return Ok(v.trim_end_matches('"').to_string());
        }
    }
    Err("wasm-bindgen is not in Cargo.lock".into())
}

fn cargo_bin_dir() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
        .join("bin")
}

fn wasm_bindgen_cli() -> Res<(PathBuf, PathBuf)> {
    let version = locked_wasm_bindgen_version()?;
    let bin = cargo_bin_dir();
    let (wb, runner) = (bin.join("wasm-bindgen"), bin.join("wasm-bindgen-test-runner"));
    let have = sh::output(Command::new(&wb).arg("--version")).unwrap_or_default();
    if have != format!("wasm-bindgen {version}") || !runner.is_file() {
        eprintln!("setup: installing wasm-bindgen-cli {version} (found: {have:?})");
        // Not --locked: the CLI's own lockfile names a yanked crate version.
        sh::run(sh::cargo().args(["install", "wasm-bindgen-cli", "--version", &version, "--force"]))?;
    } else {
        eprintln!("setup: wasm-bindgen-cli {version} present");
    }
    Ok((wb, runner))
}

fn wasm_opt() -> Res<PathBuf> {
    let tools = sh::root().join("tools");
    let bin = tools.join("node_modules/.bin/wasm-opt");
    if !bin.is_file() || !npm_tools_match(&tools) {
        if sh::which("npm").is_none() {
            sh::apt_install(&["nodejs", "npm"])?;
        }
        eprintln!("setup: installing the npm tools pinned in tools/package-lock.json (binaryen, esbuild, Vite, …)");
        // --prefer-offline: tarballs already in npm's cache are used without asking the registry again.
        sh::run(Command::new("npm").args(["ci", "--prefer-offline", "--no-audit", "--no-fund"]).current_dir(&tools))?;
    } else {
        eprintln!("setup: wasm-opt present");
    }
    Ok(bin)
}

/// Whether every devDependency of tools/package.json is installed at its pinned version.
fn npm_tools_match(tools: &std::path::Path) -> bool {
    let read =
        |p: PathBuf| -> Option<serde_json::Value> { serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok() };
    let Some(pkg) = read(tools.join("package.json")) else { return false };
    let Some(deps) = pkg["devDependencies"].as_object() else { return true };
    deps.iter().all(|(name, want)| {
        read(tools.join("node_modules").join(name).join("package.json")).is_some_and(|m| &m["version"] == want)
    })
}

/// Chromium and its driver from Debian; returns chromedriver's path.
fn chromium() -> Res<PathBuf> {
    let (c, d) = (PathBuf::from("/usr/bin/chromium"), PathBuf::from("/usr/bin/chromedriver"));
    // The CJK font matters for screenshots a person reviews; Chromium draws boxes without one.
    let cjk = PathBuf::from("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc");
    if !c.is_file() || !d.is_file() || !cjk.is_file() {
        sh::apt_install(&["chromium", "chromium-driver", "fonts-wqy-zenhei"])?;
    } else {
        eprintln!("setup: chromium and chromedriver present");
    }
    Ok(d)
}

/// Debian's `python3` with PyJWT and cryptography (`python3-jwt`, `python3-cryptography`), for the docs' Python
/// backend example; Debian's, not whichever `python3` comes first on PATH, so the packages are the ones installed.
fn python_jwt() -> Res<PathBuf> {
    let python = PathBuf::from("/usr/bin/python3");
    let ok = || sh::output(Command::new(&python).args(["-c", "import jwt, cryptography"])).is_some();
    if !ok() {
        sh::apt_install(&["python3", "python3-jwt", "python3-cryptography"])?;
    }
    if !ok() {
        return Err("python3 cannot import jwt and cryptography after installing python3-jwt".into());
    }
    eprintln!("setup: Python with PyJWT present");
    Ok(python)
}

/// The folder with PostgreSQL's server binaries (`initdb`, `pg_ctl`), installing Debian's `postgresql` if needed.
pub fn postgres_bin() -> Res<PathBuf> {
    let find = || {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
            .filter(|p| p.join("pg_ctl").is_file())
            .collect();
        dirs.sort();
        dirs.pop()
    };
    if let Some(d) = find() {
        eprintln!("setup: PostgreSQL present ({})", d.display());
        return Ok(d);
    }
    sh::apt_install(&["postgresql"])?;
    find().ok_or_else(|| "PostgreSQL binaries not found after install".into())
}
