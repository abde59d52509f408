//! `realname-server audit verify [--file EXPORT.csv]` and `realname-server audit export --from DATE --to DATE`.

use std::io::Write;

use realname_domain::audit::{Break, Entry, Verifier, csv};
use realname_domain::calendar::Date;
use realname_domain::encoding::hex_encode;
use realname_store::audit::{AuditStore, AuditStoreError};

/// Entries read per query: verification and export run in constant memory.
const PAGE: i64 = 1000;

/// Usage of the `audit` subcommand.
pub const USAGE: &str = "usage: realname-server audit verify [--file EXPORT.csv]\n       \
                         realname-server audit export --from YYYY-MM-DD --to YYYY-MM-DD [--out FILE.csv]\n\
                         (dates are Beijing dates; --to is inclusive)";

/// Why an `audit` command failed.
#[derive(Debug, thiserror::Error)]
pub enum AuditCliError {
    /// Wrong arguments.
    #[error("{0}\n{USAGE}")]
    Usage(String),
    /// The log is not intact.
    #[error("audit log is NOT intact: {0}")]
    Broken(Break),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] AuditStoreError),
    /// Reading or writing a file failed.
    #[error("{0}")]
    Io(String),
}

impl From<std::io::Error> for AuditCliError {
    fn from(e: std::io::Error) -> Self {
        AuditCliError::Io(e.to_string())
    }
}

/// Chains the pending events, then verifies the whole stored log against its chain and head; returns the number
/// of entries.
pub async fn verify(store: &dyn AuditStore) -> Result<u64, AuditCliError> {
    super::chain::chain_all(store).await?;
    // Read the head first: entries appended while we read are beyond it and are not required.
    let head = store.audit_head().await?;
    let mut v = Verifier::new();
    let mut after = 0;
    loop {
        let page = store.audit_after(after, PAGE).await?;
        for e in &page {
            if head.is_some_and(|h| e.seq > h.seq) {
                return v.finish(head).map_err(AuditCliError::Broken);
            }
            v.push(e).map_err(AuditCliError::Broken)?;
            after = e.seq;
        }
        if (page.len() as i64) < PAGE {
            return v.finish(head).map_err(AuditCliError::Broken);
        }
    }
}

/// Verifies an exported CSV segment on its own (file order; the first entry is taken as the start).
pub fn verify_file(input: &mut dyn std::io::BufRead) -> Result<(u64, Option<Entry>), AuditCliError> {
    let entries = csv::read_all(input).map_err(|e| AuditCliError::Usage(format!("not an audit export: {e}")))?;
    let Some(first) = entries.first() else {
        return Ok((0, None));
    };
    let mut v = Verifier::segment(first);
    for e in &entries {
        v.push(e).map_err(AuditCliError::Broken)?;
    }
    let n = v.finish(None).map_err(AuditCliError::Broken)?;
    Ok((n, Some(first.clone())))
}

/// Chains the pending events, then writes the entries with `from <= at < to` (Unix ms) as CSV; returns how many.
pub async fn export(store: &dyn AuditStore, from: i64, to: i64, out: &mut dyn Write) -> Result<u64, AuditCliError> {
    super::chain::chain_all(store).await?;
    writeln!(out, "{}", csv::HEADER)?;
    let (mut after, mut n) = (0, 0);
    loop {
        let page = store.audit_between(from, to, after, PAGE).await?;
        for e in &page {
            writeln!(out, "{}", csv::line(e))?;
            after = e.seq;
            n += 1;
        }
        if (page.len() as i64) < PAGE {
            out.flush()?;
            return Ok(n);
        }
    }
}

fn flag<'a>(args: &'a [String], name: &str) -> Result<Option<&'a str>, AuditCliError> {
    match args.iter().position(|a| a == name) {
        None => Ok(None),
        Some(i) => args
            .get(i + 1)
            .map(|s| Some(s.as_str()))
            .ok_or_else(|| AuditCliError::Usage(format!("{name} needs a value"))),
    }
}

fn date(args: &[String], name: &str) -> Result<Date, AuditCliError> {
    let v = flag(args, name)?.ok_or_else(|| AuditCliError::Usage(format!("{name} is required")))?;
    v.parse().map_err(|e: realname_domain::calendar::date::BadDate| AuditCliError::Usage(e.to_string()))
}

fn check_flags(args: &[String], allowed: &[&str]) -> Result<(), AuditCliError> {
    let mut i = 0;
    while i < args.len() {
        if !allowed.contains(&args[i].as_str()) {
            return Err(AuditCliError::Usage(format!("unknown argument {:?}", args[i])));
        }
        i += 2;
    }
    Ok(())
}

/// Runs `audit …` (`args` after the word `audit`); messages go to `out`.
pub async fn run(args: &[String], store: &dyn AuditStore, out: &mut dyn Write) -> Result<(), AuditCliError> {
    match args.first().map(String::as_str) {
        Some("verify") => {
            let rest = &args[1..];
            check_flags(rest, &["--file"])?;
            if let Some(path) = flag(rest, "--file")? {
                let f = std::fs::File::open(path).map_err(|e| AuditCliError::Io(format!("{path}: {e}")))?;
                let (n, first) = verify_file(&mut std::io::BufReader::new(f))?;
                match first {
                    Some(f) => writeln!(
                        out,
                        "export intact: {n} entries from entry {} (it links to {}; compare with the log)",
                        f.seq,
                        hex_encode(&f.prev_hash)
                    )?,
                    None => writeln!(out, "export intact: no entries")?,
                }
                return Ok(());
            }
            let n = verify(store).await?;
            match store.audit_head().await? {
                Some(h) => {
                    writeln!(out, "audit log intact: {n} entries, head entry {} hash {}", h.seq, hex_encode(&h.hash))?
                }
                None => writeln!(out, "audit log intact: empty")?,
            }
            Ok(())
        }
        Some("export") => {
            let rest = &args[1..];
            check_flags(rest, &["--from", "--to", "--out"])?;
            let (from, to) = (date(rest, "--from")?, date(rest, "--to")?);
            if to < from {
                return Err(AuditCliError::Usage("--to is before --from".into()));
            }
            let (from_ms, to_ms) = (from.beijing_midnight_unix() * 1000, to.succ().beijing_midnight_unix() * 1000);
            match flag(rest, "--out")? {
                Some(path) => {
                    let f = std::fs::File::create(path).map_err(|e| AuditCliError::Io(format!("{path}: {e}")))?;
                    let n = export(store, from_ms, to_ms, &mut std::io::BufWriter::new(f)).await?;
                    writeln!(out, "exported {n} entries to {path}")?;
                }
                None => {
                    export(store, from_ms, to_ms, out).await?;
                }
            }
            Ok(())
        }
        _ => Err(AuditCliError::Usage("audit needs verify or export".into())),
    }
}

/// Splits `--config FILE` off `args`, loads the configuration (file, then `REALNAME__…`/`DATABASE_URL`) and opens
/// the store it names (migrating it).
pub async fn open_store(
    args: &[String],
) -> Result<(std::sync::Arc<dyn realname_store::Store>, realname_domain::config::Config, Vec<String>), String> {
    let mut rest = Vec::new();
    let mut file = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if a == "--config" {
            file = Some(std::path::PathBuf::from(it.next().ok_or("--config needs a file")?));
        } else {
            rest.push(a.clone());
        }
    }
    let config = realname_domain::config::Config::load(file.as_deref(), std::env::vars()).map_err(|e| e.to_string())?;
    let store = realname_store::open(config.database.url.expose()).await.map_err(|e| e.to_string())?;
    Ok((store, config, rest))
}

/// `realname-server audit …` (`args` after `audit`): exit 0 when intact/exported, 1 when the log is broken or
/// the store fails, 2 on usage errors.
pub fn main(args: &[String]) -> std::process::ExitCode {
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("realname-server audit: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    rt.block_on(async {
        let (store, _, rest) = match open_store(args).await {
            Ok(x) => x,
            Err(e) => {
                eprintln!("realname-server audit: {e}");
                return std::process::ExitCode::from(1);
            }
        };
        let mut out = std::io::stdout().lock();
        match run(&rest, store.as_ref(), &mut out).await {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e @ AuditCliError::Usage(_)) => {
                eprintln!("realname-server audit: {e}");
                std::process::ExitCode::from(2)
            }
            Err(e) => {
                eprintln!("realname-server audit: {e}");
                std::process::ExitCode::from(1)
            }
        }
    })
}
