//! `cargo xtask bench-e2e`: how fast the first interactive step of the widget appears in headless Chromium,
//! and how many bytes it costs. A benchmark, not a test: it prints a Markdown section for
//! `docs/performance.md` (xtask writes it there).
//!
//! Each of N loads (default 20, `REALNAME_BENCH_LOADS`) navigates to the demo sign-up page served by the real
//! demo server and reads the `realname-ready` performance mark that the page sets on the widget's `ready`
//! event: milliseconds since navigation start. Cold loads run with the HTTP cache disabled; warm loads with it;
//! first visits each start a fresh browser (a new profile: empty HTTP cache, no compiled wasm, no connection) and
//! measure its first navigation, as a person's first visit to the site.
//! The load with the median time is shown file by file (when each request started and ended, its bytes); one
//! more load with DevTools' network log shows what the browser asked for (`Accept-Encoding`) and got
//! (`Content-Encoding`, `Content-Type`). The machine's load average before and after is part of the report:
//! two cores shared with builds make these numbers noisy.

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
  phases: { unload_end: nav.unloadEventEnd, fetch_start: nav.fetchStart, response_start: nav.responseStart,
    response_end: nav.responseEnd, dom_interactive: nav.domInteractive, dom_content_loaded: nav.domContentLoadedEventEnd },
  transfer: all.reduce((s, r) => s + r.transferSize, 0),
  encoded: all.reduce((s, r) => s + r.encodedBodySize, 0),
  decoded: all.reduce((s, r) => s + r.decodedBodySize, 0),
  files: all.map(r => ({ path: new URL(r.name).pathname, transfer: r.transferSize, encoded: r.encodedBodySize,
    decoded: r.decodedBodySize, start: r.startTime, end: r.responseEnd, kind: r.initiatorType })),
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

/// The 1-, 5- and 15-minute load averages of the machine.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// One load with DevTools' network log: for each path, the `Accept-Encoding` the browser sent and the
/// `Content-Encoding` / `Content-Type` it received.
fn negotiation(server: &DemoServer) -> Result<std::collections::BTreeMap<String, (String, String, String)>> {
    let b = Browser::start(&Profile::desktop().with_netlog())?;
    b.cdp("Network.enable", json!({}))?;
    b.cdp("Network.setCacheDisabled", json!({ "cacheDisabled": true }))?;
    load(&b, &server.url("/index.html"))?;
    let header = |h: &Value, name: &str| {
        h.as_object()
            .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
            .and_then(|(_, v)| v.as_str())
            .unwrap_or("")
            .to_string()
    };
    let mut asked = std::collections::HashMap::new();
    let mut out = std::collections::BTreeMap::new();
    for entry in b.log("performance")? {
        let Some(Ok(msg)) = entry["message"].as_str().map(serde_json::from_str::<Value>) else { continue };
        let (m, p) = (&msg["message"]["method"], &msg["message"]["params"]);
        let path = |u: &Value| {
            u.as_str().and_then(|u| u.split_once("//")).and_then(|(_, r)| r.find('/').map(|i| r[i..].to_string()))
        };
        if *m == "Network.requestWillBeSentExtraInfo" {
            asked.insert(p["requestId"].to_string(), header(&p["headers"], "accept-encoding"));
        } else if *m == "Network.responseReceived"
            && let Some(path) = path(&p["response"]["url"])
        {
            let h = &p["response"]["headers"];
            let id = p["requestId"].to_string();
            let got = header(h, "content-encoding");
            out.insert(path, (id, if got.is_empty() { "none".into() } else { got }, header(h, "content-type")));
        }
    }
    Ok(out
        .into_iter()
        .map(|(path, (id, got, ty))| (path, (asked.get(&id).cloned().unwrap_or_default(), got, ty)))
        .collect())
}

/// The navigation's phases of one load, in words.
fn phases(p: &Value) -> String {
    let ms = |k: &str| p[k].as_f64().map(|v| format!("{v:.1}")).unwrap_or_else(|| "?".into());
    format!(
        "previous page unloaded {}, HTML requested {}, first byte {}, last byte {}, DOM interactive {}, \
         DOMContentLoaded {}",
        ms("unload_end"),
        ms("fetch_start"),
        ms("response_start"),
        ms("response_end"),
        ms("dom_interactive"),
        ms("dom_content_loaded")
    )
}

fn run() -> Result<String> {
    let loads: usize = std::env::var("REALNAME_BENCH_LOADS").ok().and_then(|v| v.parse().ok()).unwrap_or(20);
    let load_before = loadavg();
    let server = DemoServer::start(&Options::default())?;
    let url = server.url("/index.html");
    let b = Browser::start(&Profile::desktop())?;
    b.cdp("Network.enable", json!({}))?;
    let mut out = String::new();
    let mut cold: Vec<Value> = Vec::new();
    for (label, cache_disabled) in [("cold (HTTP cache disabled)", true), ("warm (HTTP cache on)", false)] {
        b.cdp("Network.setCacheDisabled", json!({ "cacheDisabled": cache_disabled }))?;
        load(&b, &url)?; // one unmeasured load: starts Chromium's processes, fills the cache for the warm run
        let (mut ready, mut dcl) = (Vec::new(), Vec::new());
        for _ in 0..loads {
            let v = load(&b, &url)?;
            ready.push(v["ready_ms"].as_f64().ok_or_else(|| err!("no ready_ms in {v}"))?);
            dcl.push(v["dom_content_loaded_ms"].as_f64().unwrap_or(f64::NAN));
            if cache_disabled {
                cold.push(v);
            }
        }
        let (mut sorted, n) = (ready.clone(), ready.len());
        let med = median(&mut sorted);
        let (min, max) = (sorted[0], sorted[n - 1]);
        out.push_str(&format!("| {label} | {n} | {med:.1} | {min:.1} | {max:.1} | {:.1} |\n", median(&mut dcl)));
    }
    drop(b);
    // A true first visit: a fresh profile each time (fewer of them: each starts Chromium). A person's browser is
    // already running when they first visit a site, so the main row opens about:blank first (Chromium's processes
    // and the profile started, nothing of this origin cached or connected); the second row is the first navigation
    // of a browser just started, which also pays Chromium's own start-up.
    for (label, warm_up) in
        [("first visit (fresh profile, browser open)", true), ("first visit (fresh browser start)", false)]
    {
        let (mut first, mut dcl) = (Vec::new(), Vec::new());
        for _ in 0..loads.clamp(1, 10) {
            let fresh = Browser::start(&Profile::desktop())?;
            if warm_up {
                fresh.goto("about:blank")?;
            }
            let v = load(&fresh, &url)?;
            first.push(v["ready_ms"].as_f64().ok_or_else(|| err!("no ready_ms in {v}"))?);
            dcl.push(v["dom_content_loaded_ms"].as_f64().unwrap_or(f64::NAN));
        }
        let n = first.len();
        let med = median(&mut first);
        out.push_str(&format!(
            "| {label} | {n} | {med:.1} | {:.1} | {:.1} | {:.1} |\n",
            first[0],
            first[n - 1],
            median(&mut dcl)
        ));
    }
    let load_after = loadavg();
    let served = negotiation(&server)?;
    // The cold load whose time is the median (the upper one of the middle two).
    cold.sort_by(|a, b| a["ready_ms"].as_f64().unwrap_or(0.0).total_cmp(&b["ready_ms"].as_f64().unwrap_or(0.0)));
    let typical = cold.get(cold.len() / 2).cloned().ok_or_else(|| err!("no measured load"))?;
    let mut files = String::new();
    for f in typical["files"].as_array().cloned().unwrap_or_default() {
        let path = f["path"].as_str().unwrap_or("?");
        let (asked, got, ty) = served.get(path).cloned().unwrap_or_default();
        let ms = |k: &str| f[k].as_f64().map(|v| format!("{v:.1}")).unwrap_or_default();
        files.push_str(&format!(
            "| `{path}` | {} | {} | {} | {} | {} | {} | `{ty}` | {} |\n",
            ms("start"),
            ms("end"),
            f["transfer"],
            f["encoded"],
            f["decoded"],
            if got == "none" { "none".to_string() } else { format!("**{got}**") },
            if asked.is_empty() { "?".into() } else { format!("`{asked}`") },
        ));
    }
    Ok(format!(
        "Load average (1/5/15 min) before the loads: {load_before}; after: {load_after}.\n\n\
         | loads | n | median ms | min ms | max ms | DOMContentLoaded median ms |\n|---|---|---|---|---|---|\n{out}\n\
         Bytes for the first step (the median cold load, everything requested before the `ready` event): \
         **{} transferred** (HTTP headers included), {} encoded bodies, {} decoded; ready at {:.1} ms. \
         Its navigation, in ms since navigation start: {}. \
         Start and end are ms since navigation start; the encodings are from one more load with DevTools' \
         network log.\n\n\
         | file | start ms | end ms | transferred | encoded body | decoded body | Content-Encoding | Content-Type | browser's Accept-Encoding |\n\
         |---|---|---|---|---|---|---|---|---|\n{files}",
        typical["transfer"],
        typical["encoded"],
        typical["decoded"],
        typical["ready_ms"].as_f64().unwrap_or(f64::NAN),
        phases(&typical["phases"]),
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
