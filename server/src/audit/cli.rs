//! `realname-server audit verify [--file EXPORT.csv]` and `realname-server audit export --from DATE --to DATE`.

use std::io::Write;

use ed25519_dalek::VerifyingKey;
use realname_domain::audit::checkpoint::{Checkpoint, CheckpointError};
use realname_domain::audit::{Break, ChainKey, Entry, Head, Verified, Verifier, csv};
use realname_domain::calendar::Date;
use realname_domain::encoding::hex_encode;
use realname_domain::keys::KeyRing;
use realname_store::audit::{AuditStore, AuditStoreError};

use super::checkpoint::{CheckpointFile, CheckpointFileError};

/// Entries read per query: verification and export run in constant memory.
pub const PAGE: i64 = 1000;

/// Usage of the `audit` subcommand.
pub const USAGE: &str = "usage: realname-server audit verify [--checkpoints FILE]\n       \
                         realname-server audit verify --file EXPORT.csv\n       \
                         realname-server audit export --from YYYY-MM-DD --to YYYY-MM-DD [--out FILE.csv]\n\
                         (dates are Beijing dates; --to is inclusive; --out also writes FILE.csv.checkpoints)";

/// Why an `audit` command failed.
#[derive(Debug, thiserror::Error)]
pub enum AuditCliError {
    /// Wrong arguments.
    #[error("{0}\n{USAGE}")]
    Usage(String),
    /// The log is not intact.
    #[error("audit log is NOT intact: {0}")]
    Broken(Break),
    /// Protective triggers are missing, disabled or changed.
    #[error(
        "audit log is NOT protected: the triggers {} are missing, disabled or changed (someone with database access \
         removed them; the entries themselves verified)",
        .0.join(", ")
    )]
    Unguarded(Vec<&'static str>),
    /// The checkpoints cannot be used.
    #[error("audit checkpoints are NOT intact: {0}")]
    Checkpoints(String),
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

impl From<CheckpointFileError> for AuditCliError {
    fn from(e: CheckpointFileError) -> Self {
        AuditCliError::Checkpoints(e.to_string())
    }
}

/// The keys verification needs, from the server's key ring: the chain keys and the checkpoint signers' public keys.
#[derive(Debug, Clone)]
pub struct AuditKeys {
    /// Chain keys; the first seals.
    pub chain: Vec<ChainKey>,
    /// `(kid, public key)` of every key that may have signed a checkpoint: the token signing keys (checkpoints are
    /// signed with the current one) and those pruned from the key file since.
    pub signers: Vec<(String, VerifyingKey)>,
}

impl AuditKeys {
    /// The keys of a key ring.
    pub fn of_ring(ring: &KeyRing) -> Self {
        Self { chain: vec![ChainKey::of_ring(ring)], signers: ring.checkpoint_signers() }
    }

    fn sealing(&self) -> Result<&ChainKey, AuditCliError> {
        self.chain.first().ok_or_else(|| AuditCliError::Io("no audit chain key".into()))
    }
}

/// What a verification of the stored log found.
#[derive(Debug, Clone)]
pub struct Report {
    /// The chain's summary.
    pub verified: Verified,
    /// The recorded head.
    pub head: Option<Head>,
    /// Checkpoints whose signature verified and that the log matched.
    pub checkpoints: usize,
    /// The newest of them.
    pub newest: Option<Checkpoint>,
    /// Checkpoints signed by keys no longer in the key ring (not used).
    pub unknown: usize,
}

/// Checks the signatures: a bad one fails (the checkpoint storage was written by someone else), one by a key no
/// longer in the ring is set aside. Returns the good ones and how many were set aside.
pub fn check_checkpoints(
    all: &[Checkpoint],
    signers: &[(String, VerifyingKey)],
) -> Result<(Vec<Checkpoint>, usize), AuditCliError> {
    let (mut good, mut unknown) = (Vec::new(), 0);
    for cp in all {
        match cp.verify(signers) {
            Ok(()) => good.push(cp.clone()),
            Err(CheckpointError::UnknownKey { .. }) => unknown += 1,
            Err(e) => return Err(AuditCliError::Checkpoints(e.to_string())),
        }
    }
    Ok((good, unknown))
}

/// Chains the pending events, then verifies the whole stored log: every link against the chain keys, every
/// checkpoint (signature, and the entry it recorded), the recorded head, and the protective triggers.
pub async fn verify(
    store: &dyn AuditStore,
    keys: &AuditKeys,
    checkpoints: &[Checkpoint],
) -> Result<Report, AuditCliError> {
    super::chain::chain_all(store, keys.sealing()?).await?;
    let (good, unknown) = check_checkpoints(checkpoints, &keys.signers)?;
    // Read the head first: entries appended while we read are beyond it and are not required.
    let head = store.audit_head().await?;
    let pinned = good.iter().filter_map(Checkpoint::recorded_head).map(|h| h.seq).max().unwrap_or(0);
    let end = head.map_or(0, |h| h.seq).max(pinned);
    let mut v = Verifier::new(&keys.chain).with_checkpoints(good.iter().filter_map(Checkpoint::recorded_head));
    let mut after = 0;
    'pages: loop {
        let page = store.audit_after(after, PAGE).await?;
        for e in &page {
            if e.seq > end {
                break 'pages;
            }
            v.push(e).map_err(AuditCliError::Broken)?;
            after = e.seq;
        }
        if (page.len() as i64) < PAGE {
            break;
        }
    }
    let verified = v.finish(head).map_err(AuditCliError::Broken)?;
    let missing = store.audit_guards_missing().await?;
    if !missing.is_empty() {
        return Err(AuditCliError::Unguarded(missing));
    }
    let newest = good.iter().filter(|c| c.entries <= verified.last).max_by_key(|c| (c.entries, c.at)).cloned();
    Ok(Report { verified, head, checkpoints: good.len(), newest, unknown })
}

/// Verifies an exported CSV segment on its own (file order; the first entry is taken as the start), against the
/// checkpoints exported with it.
pub fn verify_file(
    input: &mut dyn std::io::BufRead,
    keys: &AuditKeys,
    checkpoints: &[Checkpoint],
) -> Result<(Verified, Option<Entry>), AuditCliError> {
    let entries = csv::read_all(input).map_err(|e| AuditCliError::Usage(format!("not an audit export: {e}")))?;
    let (good, _) = check_checkpoints(checkpoints, &keys.signers)?;
    let Some(first) = entries.first() else {
        return Ok((Verifier::new(&keys.chain).finish(None).map_err(AuditCliError::Broken)?, None));
    };
    // Every checkpoint exported with it lies within it: one past its end means entries were cut off.
    let heads = good.iter().filter_map(Checkpoint::recorded_head);
    let mut v = Verifier::segment(&keys.chain, first).with_checkpoints(heads);
    for e in &entries {
        v.push(e).map_err(AuditCliError::Broken)?;
    }
    let verified = v.finish(None).map_err(AuditCliError::Broken)?;
    Ok((verified, Some(first.clone())))
}

/// What [`export`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Exported {
    /// Entries written.
    pub entries: u64,
    /// The first and last entry written.
    pub range: Option<(i64, i64)>,
}

/// Chains the pending events, then writes the entries with `from <= at < to` (Unix ms) as CSV.
pub async fn export(
    store: &dyn AuditStore,
    keys: &AuditKeys,
    from: i64,
    to: i64,
    out: &mut dyn Write,
) -> Result<Exported, AuditCliError> {
    super::chain::chain_all(store, keys.sealing()?).await?;
    writeln!(out, "{}", csv::HEADER)?;
    let (mut after, mut done) = (0, Exported::default());
    loop {
        let page = store.audit_between(from, to, after, PAGE).await?;
        for e in &page {
            writeln!(out, "{}", csv::line(e))?;
            after = e.seq;
            done.entries += 1;
            done.range = Some((done.range.map_or(e.seq, |r| r.0), e.seq));
        }
        if (page.len() as i64) < PAGE {
            out.flush()?;
            return Ok(done);
        }
    }
}

/// The checkpoints written beside an export `FILE.csv`: `FILE.csv.checkpoints`.
pub fn checkpoints_beside(export: &str) -> CheckpointFile {
    CheckpointFile::at(std::path::Path::new(&format!("{export}.checkpoints")))
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

/// Runs `audit …` (`args` after the word `audit`) with the server's keys and its checkpoint file; messages go to
/// `out`.
pub async fn run(
    args: &[String],
    store: &dyn AuditStore,
    keys: &AuditKeys,
    checkpoints: &CheckpointFile,
    out: &mut dyn Write,
) -> Result<(), AuditCliError> {
    match args.first().map(String::as_str) {
        Some("verify") => {
            let rest = &args[1..];
            check_flags(rest, &["--file", "--checkpoints"])?;
            let explicit = flag(rest, "--checkpoints")?.map(|p| CheckpointFile::at(std::path::Path::new(p)));
            if let Some(path) = flag(rest, "--file")? {
                if explicit.is_some() {
                    return Err(AuditCliError::Usage(
                        "--file reads the checkpoints exported beside it (FILE.checkpoints); --checkpoints is for \
                         the stored log"
                            .into(),
                    ));
                }
                let f = std::fs::File::open(path).map_err(|e| AuditCliError::Io(format!("{path}: {e}")))?;
                let cps = checkpoints_beside(path).read()?;
                let (v, first) = verify_file(&mut std::io::BufReader::new(f), keys, &cps)?;
                match first {
                    Some(f) => writeln!(
                        out,
                        "export intact: {} entries from entry {} (it links to {}; compare with the log); {}",
                        v.entries,
                        f.seq,
                        hex_encode(&f.prev_hash),
                        match v.checkpointed {
                            0 => "no signed checkpoint within it".to_owned(),
                            n => format!("signed checkpoints match it up to entry {n}"),
                        }
                    )?,
                    None => writeln!(out, "export intact: no entries")?,
                }
                return Ok(());
            }
            let file = explicit.as_ref().unwrap_or(checkpoints);
            let r = verify(store, keys, &file.read()?).await?;
            match r.head {
                Some(h) => writeln!(
                    out,
                    "audit log intact: {} entries, head entry {} hash {}",
                    r.verified.entries,
                    h.seq,
                    hex_encode(&h.hash)
                )?,
                None => writeln!(out, "audit log intact: empty")?,
            }
            match r.verified.keyed_from {
                Some(1) => writeln!(out, "every entry is keyed (MAC under chain key {})", keys.sealing()?.id())?,
                Some(k) => writeln!(
                    out,
                    "entries from {k} on are keyed (MAC under chain key {}); entries 1..={} are legacy, linked by \
                     SHA-256 only, and pinned only by the checkpoints that cover them",
                    keys.sealing()?.id(),
                    k - 1
                )?,
                None if r.verified.entries > 0 => {
                    writeln!(out, "no keyed entry yet: every entry is legacy, linked by SHA-256 only")?
                }
                None => {}
            }
            match &r.newest {
                Some(c) => writeln!(
                    out,
                    "matches {} signed checkpoints of {}; the newest records entry {} at {}: a removal of later \
                     entries would not be detected",
                    r.checkpoints,
                    file.path().display(),
                    c.entries,
                    csv::utc(c.at)
                )?,
                None => writeln!(
                    out,
                    "WARNING: no signed checkpoint in {}: a removal of entries at the end would not be detected",
                    file.path().display()
                )?,
            }
            if r.unknown > 0 {
                writeln!(out, "{} checkpoints signed by keys no longer in the key ring were not used", r.unknown)?;
            }
            writeln!(out, "protective triggers in place")?;
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
                    let done = export(store, keys, from_ms, to_ms, &mut std::io::BufWriter::new(f)).await?;
                    // The checkpoints that fall within the export, so it can be checked against them offline.
                    let beside = checkpoints_beside(path);
                    let _ = std::fs::remove_file(beside.path());
                    let mut n = 0;
                    if let Some((first, last)) = done.range {
                        for cp in checkpoints.read()?.iter().filter(|c| c.entries >= first && c.entries <= last) {
                            beside.append(cp)?;
                            n += 1;
                        }
                    }
                    writeln!(
                        out,
                        "exported {} entries to {path} and {n} signed checkpoints to {}",
                        done.entries,
                        beside.path().display()
                    )?;
                }
                None => {
                    export(store, keys, from_ms, to_ms, out).await?;
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

/// The server's key ring as `serve` reads it (`REALNAME_SERVER_KEYS`, else `server-keys.json` in `keys.dir`),
/// never creating one: without the server's keys nothing can be verified or sealed.
pub fn load_ring(cfg: &realname_domain::config::Config) -> Result<KeyRing, String> {
    if let Ok(json) = std::env::var("REALNAME_SERVER_KEYS") {
        return KeyRing::from_json(json.as_bytes()).map_err(|e| e.to_string());
    }
    KeyRing::load(&cfg.keys.dir).map_err(|e| {
        format!("{e}; these commands need the server's keys (--config naming its keys.dir, or REALNAME_SERVER_KEYS)")
    })
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
        let opened = open_store(args).await.and_then(|(store, cfg, rest)| Ok((store, load_ring(&cfg)?, cfg, rest)));
        let (store, ring, cfg, rest) = match opened {
            Ok(x) => x,
            Err(e) => {
                eprintln!("realname-server audit: {e}");
                return std::process::ExitCode::from(1);
            }
        };
        let keys = AuditKeys::of_ring(&ring);
        let checkpoints = CheckpointFile::in_dir(&cfg.audit.checkpoint_dir);
        let mut out = std::io::stdout().lock();
        match run(&rest, store.as_ref(), &keys, &checkpoints, &mut out).await {
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
