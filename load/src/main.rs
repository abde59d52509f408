//! `realname-load`: load from a separate process against a real `realname-server serve` on loopback, over real
//! sockets. `cargo xtask bench-http` and `cargo xtask soak` build and run it (docs/performance.md,
//! docs/reliability.md).
//!
//! ```text
//! realname-load bench-http --server-bin PATH [--database-url URL --pg-pid PID] [--secs N] [--clients N]
//! realname-load soak --server-bin PATH [--database-url URL] [--secs N] [--smoke]
//! ```
//! Each prints one JSON line (its report) on stdout; a failure is a message on stderr and a non-zero exit (a
//! soak that ran but passed one of its bounds prints its report too).

mod bench;
mod client;
mod flow;
mod hostile;
mod soak;
mod stats;
mod target;

use std::collections::HashMap;
use std::process::ExitCode;

fn parse(args: &[String]) -> Result<HashMap<String, String>, String> {
    let mut m = HashMap::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let k = a.strip_prefix("--").ok_or_else(|| format!("unexpected argument {a}"))?;
        if k == "smoke" {
            m.insert(k.to_owned(), String::new());
            continue;
        }
        let v = it.next().ok_or_else(|| format!("--{k} needs a value"))?;
        m.insert(k.to_owned(), v.clone());
    }
    Ok(m)
}

fn num(m: &HashMap<String, String>, k: &str, default: u64) -> Result<u64, String> {
    m.get(k).map_or(Ok(default), |v| v.parse().map_err(|_| format!("--{k}: not a number: {v}")))
}

async fn run(args: &[String]) -> Result<serde_json::Value, String> {
    let cmd = args.first().map(String::as_str).unwrap_or("");
    let m = parse(args.get(1..).unwrap_or_default())?;
    let bin = m.get("server-bin").ok_or("--server-bin is required")?.into();
    let database_url = m.get("database-url").cloned();
    match cmd {
        "bench-http" => {
            let pg_pid = m.get("pg-pid").map(|p| p.parse().map_err(|_| "--pg-pid: not a number")).transpose()?;
            let args =
                bench::Args { bin, database_url, pg_pid, secs: num(&m, "secs", 10)?, clients: num(&m, "clients", 32)? };
            bench::run(&args).await
        }
        "soak" => {
            let args = soak::Args { bin, database_url, secs: num(&m, "secs", 300)?, smoke: m.contains_key("smoke") };
            soak::run(&args).await
        }
        _ => Err(format!("unknown command {cmd:?} (bench-http | soak)")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("realname-load: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(&args)) {
        Ok(report) => {
            println!("{report}");
            // A soak that ran but passed a bound: its report, and the reasons on stderr.
            if report["verdict"] == "fail" {
                eprintln!("realname-load: the soak failed: {}", report["problems"]);
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("realname-load: {e}");
            ExitCode::FAILURE
        }
    }
}
