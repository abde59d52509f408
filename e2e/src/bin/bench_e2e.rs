//! `cargo xtask bench-e2e`: how fast the first interactive step of the widget appears in headless Chromium,
//! and how many bytes it costs. A benchmark, not a test: it prints a Markdown section for
//! `docs/performance.md` (xtask writes it there).
//!
//! Each of N loads (default 20, `REALNAME_BENCH_LOADS`) navigates to the demo sign-up page served by the real
//! demo server and reads the `realname-ready` performance mark that the page sets on the widget's `ready`
//! event: milliseconds since navigation start. Cold loads run with the HTTP cache disabled; warm loads with it.

use std::process::ExitCode;
use std::time::Duration;

use realname_e2e::browser::{Browser, Profile};
use realname_e2e::server::{DemoServer, Options};
use realname_e2e::{Result, err, wait_for};
use serde_json::{Value, json};

const MEASURE: &str = r#"
const ready = performance.getEntriesByName('realname-ready')[0];
if (!ready) return null;
const nav = performance.getEntriesByType('navigation')[0];
const res = performance.getEntriesByType('resource').filter(r => r.startTime <= ready.startTime);
const all = [nav, ...res];
return {
  ready_ms: ready.startTime,
  dom_content_loaded_ms: nav.domContentLoadedEventEnd,
  transfer: all.reduce((s, r) => s + r.transferSize, 0),
  encoded: all.reduce((s, r) => s + r.encodedBodySize, 0),
  decoded: all.reduce((s, r) => s + r.decodedBodySize, 0),
  files: all.map(r => [new URL(r.name).pathname, r.transferSize, r.encodedBodySize, r.decodedBodySize]),
};
"#;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 { v[n / 2] } else { (v[n / 2 - 1] + v[n / 2]) / 2.0 }
}

fn load(b: &Browser, url: &str) -> Result<Value> {
    b.goto(url)?;
    wait_for(Duration::from_secs(30), "the widget's ready mark", || {
        let v = b.execute(MEASURE, vec![])?;
        Ok((!v.is_null()).then_some(v))
    })
}

fn run() -> Result<String> {
    let loads: usize = std::env::var("REALNAME_BENCH_LOADS").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    let server = DemoServer::start(&Options::default())?;
    let url = server.url("/index.html");
    let b = Browser::start(&Profile::desktop())?;
    b.cdp("Network.enable", json!({}))?;
    let mut out = String::new();
    let mut first: Option<Value> = None;
    for (label, cache_disabled) in [("cold (HTTP cache disabled)", true), ("warm (HTTP cache on)", false)] {
        b.cdp("Network.setCacheDisabled", json!({ "cacheDisabled": cache_disabled }))?;
        load(&b, &url)?; // one unmeasured load: starts Chromium's processes, fills the cache for the warm run
        let (mut ready, mut dcl) = (Vec::new(), Vec::new());
        for _ in 0..loads {
            let v = load(&b, &url)?;
            ready.push(v["ready_ms"].as_f64().ok_or_else(|| err!("no ready_ms in {v}"))?);
            dcl.push(v["dom_content_loaded_ms"].as_f64().unwrap_or(f64::NAN));
            if cache_disabled && first.is_none() {
                first = Some(v);
            }
        }
        let (mut sorted, n) = (ready.clone(), ready.len());
        let med = median(&mut sorted);
        let (min, max) = (sorted[0], sorted[n - 1]);
        out.push_str(&format!(
            "| {label} | {n} | {med:.1} | {min:.1} | {max:.1} | {:.1} |\n",
            median(&mut dcl)
        ));
    }
    let first = first.ok_or_else(|| err!("no measured load"))?;
    let mut files = String::new();
    for f in first["files"].as_array().cloned().unwrap_or_default() {
        files.push_str(&format!("| `{}` | {} | {} | {} |\n", f[0].as_str().unwrap_or("?"), f[1], f[2], f[3]));
    }
    Ok(format!(
        "| loads | n | median ms | min ms | max ms | DOMContentLoaded median ms |\n|---|---|---|---|---|---|\n{out}\n\
         Bytes for the first step (cold load, everything requested before the `ready` event): \
         **{} transferred** (HTTP headers included), {} encoded bodies, {} decoded.\n\n\
         | file | transferred | encoded body | decoded body |\n|---|---|---|---|\n{files}",
        first["transfer"], first["encoded"], first["decoded"]
    ))
}

fn main() -> ExitCode {
    match run() {
        Ok(report) => {
            print!("{report}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench-e2e: {e}");
            ExitCode::FAILURE
        }
    }
}
