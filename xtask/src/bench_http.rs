//! `cargo xtask bench-http [SECS] [CLIENTS]`: the flows of `bench-server`, but from a separate process over real
//! loopback HTTP/1.1 keep-alive connections against a release `realname-server serve`, with SQLite at the
//! server's own settings and PostgreSQL at its durable defaults; the result replaces its section of
//! `docs/performance.md`. The load generator is `load/src/bench.rs`.

use std::process::Command;

use crate::pg::TempPostgres;
use crate::sh::{self, Res};
use crate::{load, setup};

const START: &str = "<!-- bench-http:start -->";
const END: &str = "<!-- bench-http:end -->";

fn row(v: &serde_json::Value, backend: &str, target: &str) -> String {
    let ep = |i: usize| format!("{} / {}", v["endpoints"][i]["p50_ms"], v["endpoints"][i]["p99_ms"]);
    format!(
        "| {backend} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {target} |",
        v["clients"],
        v["flows"],
        v["flows_per_sec"],
        v["flow_p50_ms"],
        v["flow_p99_ms"],
        ep(0),
        ep(1),
        ep(2),
        v["server_cpu_ms_per_flow"],
        v["postgres_cpu_ms_per_flow"],
        v["loadgen_cpu_ms_per_flow"],
        v["machine_cpu_ms_per_flow"],
        v["server_peak_rss_mb"],
    )
}

/// Runs both backends and records them.
pub fn run(args: &[String]) -> Res {
    let secs = args.first().map_or("10", String::as_str).to_owned();
    let clients = args.get(1).map_or("32", String::as_str).to_owned();
    setup::run()?;
    let bins = load::build(true)?;
    let before = load::load_averages();
    let base = ["bench-http", "--secs", &secs, "--clients", &clients];
    let sqlite = load::run(&bins, &base)?;
    let pg = TempPostgres::start_durable()?;
    let pid = pg.postmaster_pid().ok_or("no postmaster.pid")?.to_string();
    let postgres = load::run(&bins, &[&base[..], &["--database-url", &pg.socket_url, "--pg-pid", &pid]].concat())?;
    drop(pg);
    let after = load::load_averages();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let date = sh::output(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"])).unwrap_or_default();
    let head = sh::output(Command::new("git").args(["-C"]).arg(sh::root()).args(["rev-parse", "--short", "HEAD"]))
        .unwrap_or_default();
    let section = format!(
        "{START}\n## Server over HTTP: complete flows from another process (`cargo xtask bench-http`)\n\n\
         Measured {date} on this {cores}-core machine at {head}, command `cargo xtask bench-http {secs} \
         {clients}`: load averages (1/5/15 min) {before} before, {after} after (other work on the machine lowers \
         every figure). The flows of `bench-server` (create session with the secret key → HPKE-sealed identity → code \
         → sealed code → verified, signed result token), but sent by a separate process, `realname-load` \
         (`load/`), over real loopback HTTP/1.1 connections, each of its {clients} clients on its own kept-alive \
         connection, to a release `realname-server serve` started from a configuration file as an operator starts \
         it. The code goes to the SMS `webhook` provider, an HMAC-signed POST to a gateway in the load generator \
         (an operator's own SMS gateway), from which the client reads it: a real outbound delivery on every flow. \
         Sending limits are raised, not disabled; every client sends from 127.0.0.1. **Durability**: SQLite at the \
         server's own settings (WAL, `synchronous=NORMAL`: a commit survives a crash of the process, the last \
         ones may not survive a power cut); PostgreSQL a throw-away local cluster at its durable defaults \
         (`fsync`, `synchronous_commit`, `full_page_writes` on: a commit is on disk before the answer), over its \
         Unix-domain socket. Latency per request as the client sees it (p50 / p99 ms); CPU per flow: the server \
         process, PostgreSQL's processes (postmaster and backends), the load generator, and every process on the \
         machine (other helpers' work included).\n\n\
         | backend | clients | flows | flows/s | flow p50 ms | flow p99 ms | create p50/p99 | identity p50/p99 | \
         code p50/p99 | server CPU ms/flow | PostgreSQL CPU ms/flow | load generator CPU ms/flow | machine CPU \
         ms/flow | server peak RSS MB | target |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n\
         {}\n{}\n\n{END}\n",
        row(&sqlite, "sqlite", "≥ 2000 flows/s, p99 ≤ 50 ms"),
        row(&postgres, "postgres (durable, Unix socket)", "≥ 1000 flows/s, p99 ≤ 50 ms"),
    );
    let path = sh::root().join("docs/performance.md");
    sh::record_section(&path, START, END, &section)?;
    eprint!("{section}");
    eprintln!("bench-http: recorded in {}", path.display());
    Ok(())
}
