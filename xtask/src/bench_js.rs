//! `cargo xtask bench-js`: the JS validation API against npm `id-validator` (pinned in tools/package.json), on the
//! same inputs, side by side in one Node run. A benchmark, not a test: it prints checks/s and never fails on speed.
//!
//! The widget is built exactly as shipped (`--profile wasm`, `wasm-opt -Oz`) but bound with
//! `wasm-bindgen --target nodejs` into `<target>/bench-js/pkg`.

use std::process::Command;

use crate::setup;
use crate::sh::{self, Res};

/// Features rustc enables by default for wasm32 that wasm-opt must accept (as in `cargo xtask build`).
const WASM_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
];

/// Builds the widget for Node, then runs the side-by-side benchmark script.
pub fn run(_args: &[String]) -> Res {
    let tools = setup::run()?;
    let root = sh::root();
    let dir = sh::target_dir().join("bench-js");
    // Its own cargo target dir: `cargo xtask build` in another checkout sharing CARGO_TARGET_DIR must not swap the
    // artifact between this build and its use.
    let cargo_dir = dir.join("cargo");
    let wasm = setup::WasmToolchain {
        cargo: tools.wasm.cargo.clone(),
        env: tools.wasm.env.clone(),
        args: tools.wasm.args.clone(),
        target_dir: cargo_dir.clone(),
    };
    sh::run(wasm.command("build").args(["--profile", "wasm", "-p", "realname-widget", "--lib"]))?;
    let wasm_in = cargo_dir.join("wasm32-unknown-unknown/wasm/realname_widget.wasm");
    let pkg = dir.join("pkg");
    std::fs::create_dir_all(&pkg).map_err(|e| format!("cannot create {}: {e}", pkg.display()))?;
    sh::run(
        Command::new(&tools.wasm_bindgen)
            .arg(&wasm_in)
            .args(["--target", "nodejs", "--out-name", "realname", "--out-dir"])
            .arg(&pkg),
    )?;
    let wasm = pkg.join("realname_bg.wasm");
    sh::run(
        Command::new(&tools.wasm_opt)
            .args(["-Oz", "--strip-debug", "--strip-producers"])
            .args(WASM_FEATURES)
            .arg(&wasm)
            .arg("-o")
            .arg(&wasm),
    )?;
    let script = dir.join("bench.cjs");
    std::fs::write(&script, SCRIPT).map_err(|e| format!("cannot write {}: {e}", script.display()))?;
    sh::run(
        Command::new("node")
            .arg(&script)
            .env("REALNAME_PKG", pkg.join("realname.js"))
            .env("ID_VALIDATOR", root.join("tools/node_modules/id-validator")),
    )
}

/// The Node side: the same 1024 resident IDs as the native criterion benchmark's mix (nine regions, birth dates
/// 1930–2019, every 8th with a wrong check character), each function timed for ~2 s after a warm-up.
const SCRIPT: &str = r#"'use strict';
const IDValidator = require(process.env.ID_VALIDATOR);
const rn = require(process.env.REALNAME_PKG);

const W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = '10X98765432';
const regions = ['110105', '110103', '310115', '440305', '440524', '510104', '650102', '330106', '810000'];
let seed = 0x2545f491;
const next = () => { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0; return seed; };
const pad = (n, w) => String(n).padStart(w, '0');
const ids = [];
for (let i = 0; i < 1024; i++) {
  const region = regions[next() % regions.length];
  const body = region + pad(1930 + next() % 90, 4) + pad(1 + next() % 12, 2) + pad(1 + next() % 28, 2) + pad(next() % 1000, 3);
  let sum = 0;
  for (let j = 0; j < 17; j++) sum += (body.charCodeAt(j) - 48) * W[j];
  let c = CHECK[sum % 11];
  if (i % 8 === 7) c = c === '0' ? '1' : '0';
  ids.push(body + c);
}

function bench(name, fn, perPass) {
  let sink = 0;
  for (let r = 0; r < 300; r++) { if (perPass) perPass(); for (let i = 0; i < ids.length; i++) sink += fn(ids[i]) ? 1 : 0; }
  let n = 0;
  const t0 = process.hrtime.bigint();
  let dt;
  do {
    if (perPass) perPass();
    for (let i = 0; i < ids.length; i++) sink += fn(ids[i]) ? 1 : 0;
    n += ids.length;
    dt = process.hrtime.bigint() - t0;
  } while (dt < 2000000000n);
  const rate = n / (Number(dt) / 1e9);
  return { name, rate, valid: sink };
}

const agree = ids.filter((id) => rn.isValidId(id) === rn.validateId(id).valid).length;
let cold = new IDValidator();
const warm = new IDValidator();
const results = [
  bench('id-validator isValid (its per-instance cache warm: repeated inputs)', (id) => warm.isValid(id)),
  bench('id-validator isValid (cold: a new instance per pass of 1024)', (id) => cold.isValid(id), () => { cold = new IDValidator(); }),
  bench('realname isValidId', (id) => rn.isValidId(id)),
  bench('realname validateId (rich object)', (id) => rn.validateId(id).valid),
];
const base = results[0].rate;
console.log(`node ${process.version}, ${ids.length} resident IDs (${ids.filter((id) => warm.isValid(id)).length} valid per id-validator, ` +
  `${ids.filter((id) => rn.isValidId(id)).length} per realname; isValidId and validateId agree on ${agree})`);
for (const r of results) {
  console.log(`${r.name.padEnd(72)} ${(r.rate / 1e6).toFixed(2).padStart(7)} M checks/s  (${(r.rate / base).toFixed(2)}x id-validator warm)`);
}
"#;
