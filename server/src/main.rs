//! The `realname-server` binary: dispatches to the subcommands in `realname_server::cli`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use realname_domain::clock::{Clock, DevClock, OsRandom, SystemClock};
use realname_domain::config::Config;
use realname_server::cli::serve::{self, StartError};

/// mimalloc instead of glibc's allocator: requests allocate many small, short-lived buffers on two runtime
/// threads, and glibc's malloc/free took ~8 % of the server's CPU in the flow benchmark.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "usage:
  realname-server serve [--config FILE] [--addr ADDR]
  realname-server demo [--www DIR] [--addr 127.0.0.1:8080] [--data DIR]
  realname-server init [--dir DIR]
  realname-server rotate-keys [--key hpke|token|vault] [--config FILE]
  realname-server validate-id [--strict] [--stdin] [ID ...]
  realname-server audit verify [--checkpoints FILE] [--config FILE]
  realname-server audit verify --file EXPORT.csv [--config FILE]
  realname-server audit export --from YYYY-MM-DD --to YYYY-MM-DD [--out FILE] [--config FILE]
  realname-server report --month YYYY-MM [--config FILE]
  realname-server reviewer add --username NAME --role reviewer|admin [--site SITE] [--config FILE]";

/// `--name value` pairs after the subcommand.
fn flags(args: &[String], allowed: &[&str]) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if !allowed.contains(&a.as_str()) {
            return Err(format!("unknown argument {a}"));
        }
        let v = it.next().ok_or_else(|| format!("{a} needs a value"))?;
        out.push((a.clone(), v.clone()));
    }
    Ok(out)
}

fn flag(flags: &[(String, String)], name: &str) -> Option<String> {
    flags.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone())
}

fn load_config(flags: &[(String, String)]) -> Result<Config, StartError> {
    let file = flag(flags, "--config").map(PathBuf::from).or_else(|| {
        let default = PathBuf::from("realname.toml");
        default.exists().then_some(default)
    });
    let mut cfg = Config::load(file.as_deref(), std::env::vars())?;
    if let Some(addr) = flag(flags, "--addr") {
        cfg.server.addr = addr;
    }
    Ok(cfg)
}

/// The wall clock; in demo mode one that `POST /dev/clock` may move forward (end-to-end tests).
fn clock_for(cfg: &realname_domain::config::Config) -> Arc<dyn Clock> {
    if cfg.server.demo { Arc::new(DevClock::default()) } else { Arc::new(SystemClock) }
}

fn runtime() -> Result<tokio::runtime::Runtime, StartError> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| StartError::Io(e.to_string()))
}

fn run(args: &[String]) -> Result<(), StartError> {
    let rest = args.get(1..).unwrap_or_default();
    match args.first().map(String::as_str) {
        Some("serve") => {
            let f = flags(rest, &["--config", "--addr"]).map_err(StartError::Io)?;
            let cfg = load_config(&f)?;
            serve::init_logging(&cfg);
            let clock = clock_for(&cfg);
            runtime()?.block_on(async {
                let state = serve::build_state(cfg, clock, Arc::new(OsRandom)).await?;
                serve::serve(state).await
            })
        }
        Some("demo") => {
            let f = flags(rest, &["--www", "--addr", "--data"]).map_err(StartError::Io)?;
            let addr = flag(&f, "--addr").unwrap_or_else(|| "127.0.0.1:8080".into());
            let data = PathBuf::from(flag(&f, "--data").unwrap_or_else(|| "data".into()));
            let (cfg, secret) = serve::demo_config(&addr, &data, flag(&f, "--www").map(PathBuf::from), &OsRandom);
            serve::init_logging(&cfg);
            let clock = clock_for(&cfg);
            println!(
                "realname demo on http://{addr}/  (SQLite in {}, codes at http://{addr}/dev/outbox)",
                data.display()
            );
            println!("demo site: publishable key {}, secret API key {secret}", serve::DEMO_PUBLISHABLE_KEY);
            runtime()?.block_on(async {
                let state = serve::build_state(cfg, clock, Arc::new(OsRandom)).await?;
                serve::serve(state).await
            })
        }
        Some("init") => {
            let f = flags(rest, &["--dir"]).map_err(StartError::Io)?;
            let dir = PathBuf::from(flag(&f, "--dir").unwrap_or_else(|| ".".into()));
            serve::init(&dir, &mut std::io::stdout().lock())
        }
        Some("rotate-keys") => {
            let f = flags(rest, &["--config", "--key"]).map_err(StartError::Io)?;
            let key = flag(&f, "--key").unwrap_or_else(|| "hpke".into());
            let which = serve::Rotated::parse(&key)
                .ok_or_else(|| StartError::Io(format!("rotate-keys: --key {key}: expected hpke, token or vault")))?;
            serve::rotate_keys(&load_config(&f)?, which, SystemClock.now_ms(), &mut std::io::stdout().lock())
        }
        _ => Err(StartError::Io(USAGE.into())),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("validate-id") {
        let rest = args.get(1..).unwrap_or_default();
        return match realname_server::cli::validate_id::run(
            rest,
            &mut std::io::stdin().lock(),
            &mut std::io::stdout().lock(),
        ) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("realname-server validate-id: {e}");
                ExitCode::from(e.exit_code())
            }
        };
    }
    match args.first().map(String::as_str) {
        Some("audit") => return realname_server::audit::cli::main(args.get(1..).unwrap_or_default()),
        Some("report") => return realname_server::report::main(args.get(1..).unwrap_or_default()),
        Some("reviewer") => return realname_server::review::cli::main(args.get(1..).unwrap_or_default()),
        _ => {}
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("realname-server: {e}");
            ExitCode::from(2)
        }
    }
}
