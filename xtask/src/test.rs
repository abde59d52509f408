//! `cargo xtask test`: every test of the project. It fails, never skips, when a part cannot run.

use crate::pg::TempPostgres;
use crate::sh::{self, Res};
use crate::{build, setup};

/// Runs native tests (with a real PostgreSQL), the wasm tests in headless Chromium, and the size budget.
pub fn run(_args: &[String]) -> Res {
    let tools = setup::run()?;
    let pg = TempPostgres::start()?;

    // Native: unit, integration, property tests; the storage suite runs against SQLite and this PostgreSQL.
    let mut native = sh::cargo();
    native.args(["test"]).env("DATABASE_URL", &pg.url).env("REALNAME_REQUIRE_POSTGRES", "1");
    sh::run(&mut native)?;
    drop(pg);

    // The widget's DOM and JS API tests, in a real headless Chromium through chromedriver.
    let mut wasm = tools.wasm.command("test");
    wasm.args(["-p", "realname-widget"])
        .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", &tools.test_runner)
        .env("CHROMEDRIVER", &tools.chromedriver)
        .env("WASM_BINDGEN_TEST_TIMEOUT", "180");
    sh::run(&mut wasm)?;

    build::build(&tools)?;
    eprintln!("xtask test: all parts passed");
    Ok(())
}
