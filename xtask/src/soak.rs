//! `cargo xtask soak [--minutes N]`: N minutes (default 5) each on SQLite and on PostgreSQL at its durable
//! defaults of honest traffic beside hostile clients, against a release `realname-server serve` (the load
//! generator's `load/src/soak.rs` says what runs when and what fails it). The result replaces its section of
//! `docs/reliability.md`; the command fails when a run failed its bounds (after recording it).

use std::process::Command;

use crate::pg::TempPostgres;
use crate::sh::{self, Res};
use crate::{load, setup};

const START: &str = "<!-- soak:start -->";
const END: &str = "<!-- soak:end -->";

fn num(v: &serde_json::Value) -> String {
    v.as_f64().map_or_else(|| v.to_string(), |x| format!("{x:.1}"))
}

/// The record of one backend's run.
fn describe(r: &serde_json::Value, backend: &str) -> String {
    let mut s = format!("### {backend}: **{}**\n\n", r["verdict"].as_str().unwrap_or("?"));
    for p in r["problems"].as_array().into_iter().flatten() {
        s.push_str(&format!("- problem: {}\n", p.as_str().unwrap_or("")));
    }
    let h = &r["honest"];
    s.push_str(&format!(
        "Honest: {} requests from {} flow clients and {} key clients, {} failed. Latency of the honest requests \
         per phase (ms):\n\n| phase | `GET /v1/keys` n | p50 | p95 | p99 | flows n | flow p50 | flow p95 | flow p99 |\n\
         |---|---|---|---|---|---|---|---|---|\n",
        h["requests"], h["flow_clients"], h["key_clients"], h["failures"]
    ));
    for w in r["windows"].as_array().into_iter().flatten() {
        s.push_str(&format!(
            "| {} ({}–{} s) | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            w["window"].as_str().unwrap_or(""),
            num(&w["from_s"]),
            num(&w["to_s"]),
            w["keys_n"],
            num(&w["keys_p50_ms"]),
            num(&w["keys_p95_ms"]),
            num(&w["keys_p99_ms"]),
            w["flows_n"],
            num(&w["flow_p50_ms"]),
            num(&w["flow_p95_ms"]),
            num(&w["flow_p99_ms"]),
        ));
    }
    s.push_str("\nUpload bursts (server RSS, MB):\n\n| at s | uploads | took s | before | peak | after |\n|---|---|---|---|---|---|\n");
    for b in r["bursts"].as_array().into_iter().flatten() {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} ({} s later) |\n",
            num(&b["at_s"]),
            b["uploads"],
            num(&b["took_s"]),
            num(&b["rss_before_mb"]),
            num(&b["rss_peak_mb"]),
            num(&b["rss_after_mb"]),
            num(&b["after_s"])
        ));
    }
    s.push_str(&format!(
        "\nServer RSS: {} MB after the quiet phase, {} MB at most, {} MB at the end; open fds: {} in the quiet \
         phase, {} at most, {} at the end.\n\nRSS MB / open fds over the run: ",
        num(&r["rss_mb"]["quiet"]),
        num(&r["rss_mb"]["max"]),
        num(&r["rss_mb"]["end"]),
        r["fds"]["quiet"],
        r["fds"]["max"],
        r["fds"]["end"]
    ));
    let points: Vec<String> = r["series_t_rss_fds"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| format!("{} s {} / {}", num(&p[0]), num(&p[1]), p[2]))
        .collect();
    s.push_str(&points.join(" · "));
    s.push_str("\n\nWhat the hostile clients got (attack, answer: count): ");
    let outcomes: Vec<String> =
        r["outcomes"].as_object().into_iter().flatten().map(|(k, v)| format!("{k}: {v}")).collect();
    s.push_str(&outcomes.join("; "));
    s.push_str(".\n\n");
    s
}

/// Runs the soak on both backends and records it.
pub fn run(args: &[String]) -> Res {
    let minutes: f64 = match args {
        [] => 5.0,
        [flag, n] if flag == "--minutes" => n.parse().map_err(|_| format!("--minutes: not a number: {n}"))?,
        _ => return Err("usage: cargo xtask soak [--minutes N]".into()),
    };
    let secs = ((minutes * 60.0).round() as u64).max(20).to_string();
    setup::run()?;
    let bins = load::build(true)?;
    let before = load::load_averages();
    let sqlite = load::run(&bins, &["soak", "--secs", &secs])?;
    let pg = TempPostgres::start_durable()?;
    let postgres = load::run(&bins, &["soak", "--secs", &secs, "--database-url", &pg.socket_url])?;
    drop(pg);
    let after = load::load_averages();
    let date = sh::output(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"])).unwrap_or_default();
    let head = sh::output(Command::new("git").arg("-C").arg(sh::root()).args(["rev-parse", "--short", "HEAD"]))
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let arg = if args.is_empty() { String::new() } else { format!(" --minutes {minutes}") };
    let section = format!(
        "{START}\n## Recorded run (`cargo xtask soak{arg}`)\n\n{date}, {cores}-core machine, at commit {head}, {secs} s \
         per backend; load averages (1/5/15 min) {before} before, {after} after (other work on the machine \
         counts in every latency).\n\n{}{}{END}\n",
        describe(&sqlite, "SQLite"),
        describe(&postgres, "PostgreSQL (durable defaults, Unix socket)"),
    );
    let path = sh::root().join("docs/reliability.md");
    sh::record_section(&path, START, END, &section)?;
    eprint!("{section}");
    eprintln!("soak: recorded in {}", path.display());
    for (name, r) in [("SQLite", &sqlite), ("PostgreSQL", &postgres)] {
        if r["verdict"] != "pass" {
            return Err(format!("the soak failed on {name}: {}", r["problems"]));
        }
    }
    Ok(())
}
