//! `cargo xtask bench-js`: the JS validation API against npm `id-validator` (pinned in tools/package.json), on the
//! same inputs, side by side in one Node run. A benchmark, not a test: it prints checks/s and never fails on speed.
//!
//! It benchmarks the module that ships: the validation-only wasm module exactly as `cargo xtask build` makes it
//! (`build_validate::build`), built into `<target>/bench-js/validate` and loaded through its own `index.js`.

use std::process::Command;

use crate::sh::{self, Res};
use crate::{build_validate, setup};

/// Builds the validation module, then runs the side-by-side benchmark script.
pub fn run(_args: &[String]) -> Res {
    let tools = setup::run()?;
    let root = sh::root();
    let dir = sh::target_dir().join("bench-js");
    // Its own cargo target dir: a `cargo xtask build` in another checkout sharing CARGO_TARGET_DIR must not swap
    // the artifact between this build and its use.
    let out = dir.join("validate");
    build_validate::build(&tools, &dir.join("cargo"), &out)?;
    // The module is ESM (as in www/pkg, whose package.json says so).
    std::fs::write(out.join("package.json"), "{ \"type\": \"module\" }\n").map_err(|e| e.to_string())?;
    eprint!("{}", build_validate::size_report(&out, false)?);
    let script = dir.join("bench.mjs");
    std::fs::write(&script, SCRIPT).map_err(|e| format!("cannot write {}: {e}", script.display()))?;
    sh::run(
        Command::new("node")
            .arg(&script)
            .env("REALNAME_VALIDATE", out.join("index.js"))
            .env("REALNAME_VALIDATE_WASM", out.join("validate_wasm_bg.wasm"))
            .env("ID_VALIDATOR", root.join("tools/node_modules/id-validator")),
    )
}

/// The Node side: the same 1024 resident IDs as the native criterion benchmark's mix (nine regions, birth dates
/// 1930–2019, every 8th with a wrong check character), each function timed for ~2 s of CPU time after a warm-up.
const SCRIPT: &str = r#"import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
const require = createRequire(import.meta.url);
const IDValidator = require(process.env.ID_VALIDATOR);
const rn = await import(pathToFileURL(process.env.REALNAME_VALIDATE).href);
await rn.default({ module_or_path: readFileSync(process.env.REALNAME_VALIDATE_WASM) });

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

// Rates are per second of this process's CPU time (user + system), with wall-clock rates beside them: on a
// shared machine other processes stretch wall time but not CPU time, and both sides are measured the same way.
// Each function runs in three rounds of ~1 s CPU, interleaved with the others, and reports its best round.
function round(fn, perPass) {
  let sink = 0;
  let n = 0;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let cpu;
  do {
    if (perPass) perPass();
    for (let i = 0; i < ids.length; i++) sink += fn(ids[i]) ? 1 : 0;
    n += ids.length;
    const c = process.cpuUsage(c0);
    cpu = (c.user + c.system) / 1e6;
  } while (cpu < 1);
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  return { rate: n / cpu, wallRate: n / wall, sink };
}

const agree = ids.filter((id) => rn.isValidId(id) === rn.validateId(id).valid).length;
let cold = new IDValidator();
const warm = new IDValidator();
const cases = [
  { name: 'id-validator isValid (its per-instance cache warm: repeated inputs)', fn: (id) => warm.isValid(id) },
  { name: 'id-validator isValid (cold: a new instance per pass of 1024)', fn: (id) => cold.isValid(id), perPass: () => { cold = new IDValidator(); } },
  { name: 'realname isValidId', fn: (id) => rn.isValidId(id) },
  { name: 'realname validateId (rich object)', fn: (id) => rn.validateId(id).valid },
];
for (const c of cases) {
  // Warm-up: 300 passes, so every function is optimized before it is timed.
  for (let r = 0; r < 300; r++) { if (c.perPass) c.perPass(); for (let i = 0; i < ids.length; i++) c.fn(ids[i]); }
  c.rate = 0;
  c.wallRate = 0;
}
for (let r = 0; r < 3; r++) {
  for (const c of cases) {
    const x = round(c.fn, c.perPass);
    if (x.rate > c.rate) { c.rate = x.rate; c.wallRate = x.wallRate; }
  }
}
const results = cases;
const base = results[0].rate;
console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log(`node ${process.version}, ${ids.length} resident IDs (${ids.filter((id) => warm.isValid(id)).length} valid per id-validator, ` +
  `${ids.filter((id) => rn.isValidId(id)).length} per realname; isValidId and validateId agree on ${agree})`);
for (const r of results) {
  console.log(`${r.name.padEnd(72)} ${(r.rate / 1e6).toFixed(2).padStart(7)} M checks/s  (${(r.rate / base).toFixed(2)}x id-validator warm; ` +
    `wall clock ${(r.wallRate / 1e6).toFixed(2)} M/s)`);
}
"#;
