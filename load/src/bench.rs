//! `realname-load bench-http`: complete flows over real loopback HTTP/1.1 keep-alive connections against a
//! release `realname-server serve`, `clients` at once for `secs`; prints flows/s, per-endpoint p50/p99 and the CPU
//! per flow of the server process, of PostgreSQL's processes, of this load generator and of the whole machine.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::client::Client;
use crate::flow::{ENDPOINTS, fetch_key, ms, one_flow};
use crate::stats::{Lat, cpu_secs, loadavg, machine_busy_secs, r2, status_mb, tree_cpu_secs};
use crate::target::{Codes, Options, Server, start_gateway};

/// What the run needs.
pub struct Args {
    /// The server binary.
    pub bin: std::path::PathBuf,
    /// PostgreSQL, or SQLite when `None`.
    pub database_url: Option<String>,
    /// The PostgreSQL postmaster's pid, to count its processes' CPU.
    pub pg_pid: Option<u32>,
    /// Seconds of measured load.
    pub secs: u64,
    /// Concurrent clients, each on its own kept-alive connection.
    pub clients: u64,
}

/// Limits raised so the counters are still written on every send but never refuse the benchmark's flows.
pub const RAISED_LIMITS: &str = "[limits]\nper_destination_minute = 1000000\nper_destination_hour = 1000000\n\
    per_destination_day = 1000000\nper_ip_hour = 1000000000\n";

/// Runs the benchmark; the JSON report, or what failed.
pub async fn run(args: &Args) -> Result<serde_json::Value, String> {
    let codes = Codes::default();
    let gateway = start_gateway(codes.clone()).await?;
    let opts = Options {
        bin: args.bin.clone(),
        database_url: args.database_url.clone(),
        gateway,
        extra: RAISED_LIMITS.into(),
    };
    let mut server = Server::start(&opts).await?;
    let mut warm = Client::new(server.addr, None);
    let key = fetch_key(&mut warm).await?;
    // Warm up the server's pools and caches.
    for n in 0..20 {
        one_flow(&mut warm, &key, &codes, 99_000_000 + n).await?;
    }
    let counter = Arc::new(AtomicU64::new(0));
    let (server_cpu, pg_cpu) = (cpu_secs(server.pid, false), args.pg_pid.map_or(0.0, tree_cpu_secs));
    let (me, machine) = (cpu_secs(std::process::id(), false), machine_busy_secs());
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.secs);
    let mut tasks = Vec::new();
    for _ in 0..args.clients {
        let (key, codes, counter, addr) = (key.clone(), codes.clone(), counter.clone(), server.addr);
        tasks.push(tokio::spawn(async move {
            let mut client = Client::new(addr, None);
            let (mut per, mut flows) = (vec![Lat::default(); ENDPOINTS.len()], Lat::default());
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let t = Instant::now();
                let times = one_flow(&mut client, &key, &codes, n).await?;
                flows.push(ms(t));
                for (l, t) in per.iter_mut().zip(times) {
                    l.push(t);
                }
            }
            Ok::<_, String>((per, flows, client.opened))
        }));
    }
    let (mut per, mut flows, mut opened) = (vec![Lat::default(); ENDPOINTS.len()], Lat::default(), 0);
    let mut failure = None;
    for t in tasks {
        match t.await.map_err(|e| e.to_string()).and_then(|r| r) {
            Ok((p, f, o)) => {
                per.iter_mut().zip(&p).for_each(|(a, b)| a.extend(b));
                flows.extend(&f);
                opened += o;
            }
            Err(e) => failure = failure.or(Some(e)),
        }
    }
    let wall = started.elapsed().as_secs_f64();
    let server_cpu = cpu_secs(server.pid, false) - server_cpu;
    let pg_cpu = args.pg_pid.map_or(0.0, tree_cpu_secs) - pg_cpu;
    let (me, machine) = (cpu_secs(std::process::id(), false) - me, machine_busy_secs() - machine);
    if let Some(e) = failure {
        return Err(format!("a flow failed: {e}\nserver log:\n{}", server.log()));
    }
    if !server.alive() {
        return Err(format!("the server died:\n{}", server.log()));
    }
    let n = flows.0.len().max(1) as f64;
    let per_flow = |cpu: f64| r2(cpu * 1000.0 / n);
    let endpoints: Vec<serde_json::Value> = ENDPOINTS
        .iter()
        .zip(&per)
        .map(|(name, l)| serde_json::json!({ "endpoint": name, "p50_ms": r2(l.pct(0.5)), "p99_ms": r2(l.pct(0.99)) }))
        .collect();
    Ok(serde_json::json!({
        "backend": if args.database_url.is_some() { "postgres" } else { "sqlite" },
        "clients": args.clients,
        "connections_opened": opened,
        "flows": flows.0.len(),
        "secs": r2(wall),
        "flows_per_sec": (flows.0.len() as f64 / wall).round(),
        "flow_p50_ms": r2(flows.pct(0.5)),
        "flow_p99_ms": r2(flows.pct(0.99)),
        "endpoints": endpoints,
        "server_cpu_ms_per_flow": per_flow(server_cpu),
        "postgres_cpu_ms_per_flow": per_flow(pg_cpu),
        "loadgen_cpu_ms_per_flow": per_flow(me),
        "machine_cpu_ms_per_flow": per_flow(machine),
        "server_peak_rss_mb": r2(status_mb(server.pid, "VmHWM:")),
        "loadavg": loadavg(),
    }))
}
