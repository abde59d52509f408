//! The `[audit]` section: where and how often the audit log's signed checkpoints are written.

/// Signed checkpoints of the audit log (`realname_domain::audit::checkpoint`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// Folder of the append-only checkpoint file (`audit-checkpoints.jsonl`, created 0600 in a 0700 folder). It
    /// proves something only where whoever can write the database cannot write it: another disk or host, a
    /// write-once mount, another owner (docs/review.md).
    pub checkpoint_dir: std::path::PathBuf,
    /// Seconds between checkpoints (one is written only when the log grew), and one at shutdown. Tail entries
    /// newer than the last checkpoint are protected by their MACs only: a cut-off tail within this window is not
    /// detected.
    pub checkpoint_secs: u64,
    /// Optional external copy: each checkpoint is also POSTed (`application/json`, its line) to this URL, e.g. a
    /// log collector with write-once storage that the database's users cannot reach; one not taken (no 2xx) is
    /// sent again with the next.
    pub checkpoint_url: Option<String>,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self { checkpoint_dir: std::path::PathBuf::from("data/audit"), checkpoint_secs: 60, checkpoint_url: None }
    }
}
