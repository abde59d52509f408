//! Writing the audit log's signed checkpoints (`realname_domain::audit::checkpoint`): the append-only file in
//! `[audit] checkpoint_dir`, the optional external [`Sink`], and the [`Checkpointer`] the chainer runs on an interval
//! and at shutdown.

use std::collections::VecDeque;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ed25519_dalek::SigningKey;
use realname_domain::audit::checkpoint::{self, Checkpoint, CheckpointError};
use realname_domain::audit::{Break, ChainKey, Head, Problem, Verifier};
use realname_store::audit::{AuditStore, AuditStoreError};

/// Why a checkpoint could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointFileError {
    /// The file or its folder failed.
    #[error("checkpoint file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A line of the file is not a checkpoint.
    #[error("checkpoint file {path}: {source}")]
    Bad {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: CheckpointError,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] AuditStoreError),
    /// The entries since the last checkpoint do not verify: no checkpoint is signed over them.
    #[error("the audit log does not verify since the last checkpoint, so no checkpoint was signed: {0}")]
    Tampered(Break),
    /// The key ring has no token signing key.
    #[error("no token signing key to sign the audit checkpoint with")]
    NoSigner,
}

/// Gives the checkpoint signing key `(kid, key)` as it stands at each checkpoint: the key ring's current token
/// signing key, so a rotated key signs from its activation on (and the checkpoints stay verifiable with the keys
/// `/v1/jwks.json` lists).
pub type Signer = Arc<dyn Fn() -> Option<(String, SigningKey)> + Send + Sync>;

/// The append-only checkpoint file.
#[derive(Debug, Clone)]
pub struct CheckpointFile {
    path: PathBuf,
}

impl CheckpointFile {
    /// The checkpoint file in `dir` (`[audit] checkpoint_dir`).
    pub fn in_dir(dir: &Path) -> Self {
        Self { path: dir.join(checkpoint::FILE) }
    }

    /// A checkpoint file at `path`.
    pub fn at(path: &Path) -> Self {
        Self { path: path.to_owned() }
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every checkpoint in the file, oldest first (none if it does not exist).
    pub fn read(&self) -> Result<Vec<Checkpoint>, CheckpointFileError> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => Checkpoint::parse_all(&text)
                .map_err(|source| CheckpointFileError::Bad { path: self.path.clone(), source }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(source) => Err(CheckpointFileError::Io { path: self.path.clone(), source }),
        }
    }

    /// Appends one checkpoint and waits until it is on disk (file 0600, folder 0700, created if missing).
    pub fn append(&self, cp: &Checkpoint) -> Result<(), CheckpointFileError> {
        let io = |source| CheckpointFileError::Io { path: self.path.clone(), source };
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty() && !d.exists()) {
            std::fs::create_dir_all(dir).map_err(io)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
            }
        }
        let mut opts = std::fs::OpenOptions::new();
        opts.append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            opts.mode(0o600);
        }
        let mut f = opts.open(&self.path).map_err(io)?;
        f.write_all(format!("{}\n", cp.to_line()).as_bytes()).map_err(io)?;
        f.sync_data().map_err(io)
    }
}

/// Signs and appends a checkpoint when the log grew and the interval passed; first verifies the entries since the
/// previous checkpoint, so it never signs over entries that do not verify.
pub struct Checkpointer {
    file: CheckpointFile,
    key: ChainKey,
    signer: Signer,
    interval_ms: i64,
    /// The newest checkpoint written (or found in the file).
    last: Option<Checkpoint>,
    /// When the last attempt was made (a failing folder is retried on the interval, not every round).
    tried_at: Option<i64>,
    /// The external copy, if configured.
    sink: Option<Sink>,
}

/// Checkpoints kept for the sink while it does not take them; beyond this the oldest are dropped (the file has them).
pub const SINK_BACKLOG: usize = 1_000;

/// An external copy of the checkpoints (`[audit] checkpoint_url`): each is POSTed as its JSON line, in order; one the
/// sink does not take (no 2xx) is sent again before the next checkpoint.
pub struct Sink {
    http: crate::delivery::http::HttpClient,
    url: String,
    backlog: VecDeque<Checkpoint>,
}

impl Sink {
    /// A sink POSTing to `url`.
    pub fn new(http: crate::delivery::http::HttpClient, url: String) -> Self {
        Self { http, url, backlog: VecDeque::new() }
    }

    /// Checkpoints not yet taken by the sink.
    pub fn backlog(&self) -> usize {
        self.backlog.len()
    }

    /// Queues `cp` and sends what is queued, oldest first, until the sink refuses one.
    async fn send(&mut self, cp: Checkpoint) {
        self.backlog.push_back(cp);
        if self.backlog.len() > SINK_BACKLOG {
            self.backlog.pop_front();
            tracing::warn!("audit checkpoint sink: backlog full, the oldest checkpoint is only in the file");
        }
        while let Some(c) = self.backlog.front() {
            let headers = vec![("content-type".to_owned(), "application/json".to_owned())];
            match self.http.send(&self.url, headers, Some(c.to_line().into_bytes())).await {
                Ok(r) if (200..300).contains(&r.status) => {
                    self.backlog.pop_front();
                }
                Ok(r) => {
                    tracing::warn!(
                        status = r.status,
                        n = c.n,
                        "audit checkpoint sink refused it; sent again next time"
                    );
                    break;
                }
                Err(e) => {
                    tracing::warn!(error = %e, n = c.n, "audit checkpoint sink unreachable; sent again next time");
                    break;
                }
            }
        }
    }
}

impl std::fmt::Debug for Checkpointer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpointer")
            .field("file", &self.file)
            .field("last", &self.last.as_ref().map(|c| c.n))
            .finish()
    }
}

impl Checkpointer {
    /// A checkpointer appending to `file`, signing with the key `signer` gives, at most every `interval_ms`,
    /// verifying with the chain `key`; continues the numbering of the checkpoints already in the file.
    pub fn new(
        file: CheckpointFile,
        key: ChainKey,
        signer: Signer,
        interval_ms: i64,
    ) -> Result<Self, CheckpointFileError> {
        let last = file.read()?.pop();
        Ok(Self { file, key, signer, interval_ms: interval_ms.max(1), last, tried_at: None, sink: None })
    }

    /// The same checkpointer, also sending each checkpoint to `sink`.
    pub fn with_sink(mut self, sink: Sink) -> Self {
        self.sink = Some(sink);
        self
    }

    /// The external sink, if any.
    pub fn sink(&self) -> Option<&Sink> {
        self.sink.as_ref()
    }

    /// The newest checkpoint written.
    pub fn last(&self) -> Option<&Checkpoint> {
        self.last.as_ref()
    }

    /// At `now`: writes a checkpoint if the log grew since the last one and the interval passed (`force`: at
    /// shutdown, whatever the interval). Returns the checkpoint written.
    pub async fn tick(
        &mut self,
        store: &dyn AuditStore,
        now: i64,
        force: bool,
    ) -> Result<Option<Checkpoint>, CheckpointFileError> {
        if !force && self.tried_at.is_some_and(|t| now < t.saturating_add(self.interval_ms)) {
            return Ok(None);
        }
        self.tried_at = Some(now);
        let head = store.audit_head().await?;
        let previous = self.last.as_ref().and_then(Checkpoint::recorded_head);
        if self.last.is_some() && head == previous {
            return Ok(None);
        }
        self.check_since(store, previous, head).await?;
        let n = self.last.as_ref().map_or(1, |l| l.n + 1);
        let (kid, signing) = (self.signer)().ok_or(CheckpointFileError::NoSigner)?;
        let cp = Checkpoint::sign(n, head, now, &kid, &signing);
        self.file.append(&cp)?;
        self.last = Some(cp.clone());
        if let Some(sink) = self.sink.as_mut() {
            sink.send(cp.clone()).await;
        }
        Ok(Some(cp))
    }

    /// Verifies the entries from `previous` (the last checkpoint's entry, which must still be there, unchanged
    /// and with a valid link) up to `head`.
    async fn check_since(
        &self,
        store: &dyn AuditStore,
        previous: Option<Head>,
        head: Option<Head>,
    ) -> Result<(), CheckpointFileError> {
        let keys = std::slice::from_ref(&self.key);
        let tampered = CheckpointFileError::Tampered;
        let (mut after, end) = (previous.map_or(0, |p| p.seq - 1), head.map_or(0, |h| h.seq));
        let mut v = match previous {
            None => Verifier::new(keys),
            Some(p) => {
                let first = store.audit_after(after, 1).await?;
                match first.first() {
                    Some(e) if e.seq == p.seq => Verifier::segment(keys, e).with_checkpoints([p]),
                    _ => {
                        let problem = Problem::CheckpointTruncated { checkpoint_seq: p.seq };
                        let trusted = p.seq - 1;
                        return Err(tampered(Break { seq: trusted, position: 0, problem, trusted }));
                    }
                }
            }
        };
        while after < end {
            let page = store.audit_after(after, super::cli::PAGE.min(end - after)).await?;
            if page.is_empty() {
                break;
            }
            for e in &page {
                v.push(e).map_err(tampered)?;
                after = e.seq;
            }
        }
        v.finish(head).map(|_| ()).map_err(CheckpointFileError::Tampered)
    }
}
