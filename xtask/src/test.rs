//! `cargo xtask test`: every test of the project. It fails, never skips, when a part cannot run.

use crate::pg::TempPostgres;
use crate::sh::{self, Res};
use crate::{build, consumers, load, setup};

/// Runs native tests (with a real PostgreSQL), the wasm tests in headless Chromium, and the size budget.
/// `cargo xtask test e2e [FILTER]` runs only the end-to-end part (widget build, server build, e2e tests).
pub fn run(args: &[String]) -> Res {
    let tools = setup::run()?;
    if args.first().map(String::as_str) == Some("e2e") {
        build::build(&tools)?;
        let apps = consumers::run()?;
        let mut e2e = e2e_command(&tools, false)?;
        e2e.env("REALNAME_CONSUMER_APPS", &apps);
        e2e.args(["test", "-p", "realname-e2e"]);
        if let Some(filter) = args.get(1) {
            e2e.args(["--", filter]);
        }
        sh::run(&mut e2e)?;
        eprintln!("xtask test e2e: passed");
        return Ok(());
    }
    lint(&tools)?;
    let pg = TempPostgres::start()?;

    // Native: unit, integration, property tests; the storage suite runs against SQLite and this PostgreSQL.
    let mut native = sh::cargo();
    native.args(["test"]).env("DATABASE_URL", &pg.url).env("DATABASE_URL_TLS", &pg.tls_url);
    native.env("REALNAME_REQUIRE_POSTGRES", "1");
    sh::run(&mut native)?;
    drop(pg);

    // The widget's DOM and JS API tests, in a real headless Chromium through chromedriver. wasm-bindgen's runner
    // kills its chromedriver, which then leaves each browser's profile (~11 MB) in TMPDIR: keep them in a folder
    // of the target dir emptied on every run instead of /tmp.
    let browser_tmp = sh::target_dir().join("browser-tmp");
    let _ = std::fs::remove_dir_all(&browser_tmp);
    std::fs::create_dir_all(&browser_tmp).map_err(|e| format!("{}: {e}", browser_tmp.display()))?;
    let mut wasm = tools.wasm.command("test");
    wasm.env("TMPDIR", &browser_tmp);
    wasm.args(["-p", "realname-widget"])
        .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", &tools.test_runner)
        .env("CHROMEDRIVER", &tools.chromedriver)
        .env("WASM_BINDGEN_TEST_TIMEOUT", "180");
    sh::run(&mut wasm)?;

    build::build(&tools)?;

    // The package as sites consume it: packed, installed into a Node project and into the Vite/webpack apps.
    let apps = consumers::run()?;

    // End to end: the real server binary and the widget just built into www/pkg, in headless Chromium (with the
    // consumer apps just built).
    let mut e2e = e2e_command(&tools, false)?;
    e2e.env("REALNAME_CONSUMER_APPS", &apps);
    e2e.args(["test", "-p", "realname-e2e"]);
    sh::run(&mut e2e)?;

    // The load commands still work: a few seconds of each against the debug server (figures meaningless).
    smoke_load()?;

    eprintln!("xtask test: all parts passed");
    Ok(())
}

/// `bench-http` for two seconds on SQLite (every flow completes over real sockets; the report counts them) and
/// the soak's 20-second smoke form (no honest failure, memory and file descriptors back at the end).
fn smoke_load() -> Res {
    let bins = load::build(false)?;
    let r = load::run(&bins, &["bench-http", "--secs", "2", "--clients", "4"])?;
    if r["flows"].as_u64().unwrap_or(0) == 0 {
        return Err(format!("bench-http smoke: no flow completed: {r}"));
    }
    let r = load::run(&bins, &["soak", "--secs", "20", "--smoke"])?;
    if r["verdict"] != "pass" {
        return Err(format!("soak smoke failed: {}", r["problems"]));
    }
    Ok(())
}

/// The habits CI holds every change to: rustfmt's layout (`rustfmt.toml`) and clippy without warnings, on the
/// native crates and on the two wasm crates built for wasm32 (their `cfg(target_arch = "wasm32")` code only
/// compiles there).
fn lint(tools: &setup::Tools) -> Res {
    sh::run(sh::cargo().args(["fmt", "--all", "--", "--check"]))?;
    sh::run(sh::cargo().args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))?;
    let mut wasm = tools.wasm.command("clippy");
    wasm.args(["-p", "realname-widget", "-p", "realname-validate", "--all-targets", "--", "-D", "warnings"]);
    sh::run(&mut wasm)
}

/// Builds the server binary (debug, or release for benchmarks) and returns a `cargo` command with the
/// environment the e2e harness reads (see `e2e/src/paths.rs`): the server binary, chromedriver, the www root,
/// axe-core and the screenshot folder.
pub fn e2e_command(tools: &setup::Tools, release: bool) -> sh::Res<std::process::Command> {
    let mut build = sh::cargo();
    build.args(["build", "-p", "realname-server"]);
    if release {
        build.arg("--release");
    }
    sh::run(&mut build)?;
    let built = sh::target_dir().join(if release { "release" } else { "debug" }).join("realname-server");
    // A copy for this checkout: with a target dir shared between checkouts, another build may replace the
    // original while the tests run.
    let checkout = sh::root().file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let bin = sh::target_dir().join("e2e-bin").join(format!("realname-server-{checkout}"));
    std::fs::create_dir_all(bin.parent().unwrap_or(&bin)).map_err(|e| e.to_string())?;
    std::fs::copy(&built, &bin)
        .map_err(|e| format!("copy {} after `cargo build -p realname-server`: {e}", built.display()))?;
    let mut c = sh::cargo();
    c.env("REALNAME_SERVER_BIN", &bin)
        .env("CHROMEDRIVER", &tools.chromedriver)
        .env("REALNAME_WWW", sh::root().join("www"))
        .env("REALNAME_AXE", sh::root().join("tools/node_modules/axe-core/axe.min.js"))
        .env("REALNAME_PYTHON", &tools.python)
        .env("REALNAME_E2E_SHOTS", sh::target_dir().join("e2e-screenshots"));
    Ok(c)
}
