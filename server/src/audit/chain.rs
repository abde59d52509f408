//! The chainer: moves the pending events of request steps into the keyed chain, a batch per transaction, and
//! writes the signed checkpoints on their interval and at shutdown.

use std::sync::Arc;
use std::time::Duration;

use realname_domain::audit::ChainKey;
use realname_domain::clock::Clock;
use realname_store::audit::{AuditStore, AuditStoreError, CHAIN_BATCH};

use super::checkpoint::Checkpointer;

/// How often the server's chainer looks for pending events.
pub const CHAIN_PERIOD: Duration = Duration::from_secs(1);

/// Chains every pending event with `key` (in batches of [`CHAIN_BATCH`], one head lock each); returns how many.
pub async fn chain_all(store: &dyn AuditStore, key: &ChainKey) -> Result<u64, AuditStoreError> {
    let mut total = 0;
    loop {
        let n = store.audit_chain_pending(key, CHAIN_BATCH).await?;
        total += n;
        if n < CHAIN_BATCH as u64 {
            return Ok(total);
        }
    }
}

/// What the chainer needs: the store, the chain key, the clock checkpoints are timed by, and the checkpointer
/// (`None`: no checkpoints, e.g. tests of other things).
pub struct Chainer {
    /// The store.
    pub store: Arc<dyn realname_store::Store>,
    /// The chain key.
    pub key: ChainKey,
    /// Time (checkpoint intervals and times).
    pub clock: Arc<dyn Clock>,
    /// Signs and writes checkpoints.
    pub checkpointer: Option<Checkpointer>,
}

impl Chainer {
    /// One round: chains the pending events, then writes a checkpoint if one is due (`last`: at shutdown, due
    /// whatever the interval). Failures are logged: pending events stay queued, a checkpoint is tried next round.
    pub async fn round(&mut self, last: bool) {
        if let Err(e) = chain_all(self.store.as_ref(), &self.key).await {
            tracing::warn!(error = %e, "audit chaining failed; pending events stay queued");
        }
        let now = self.clock.now_ms();
        if let Some(cp) = self.checkpointer.as_mut() {
            match cp.tick(self.store.as_ref(), now, last).await {
                Ok(Some(c)) => tracing::debug!(n = c.n, entries = c.entries, "audit checkpoint written"),
                Ok(None) => {}
                Err(e) => tracing::error!(error = %e, "audit checkpoint not written"),
            }
        }
    }

    /// Runs a round every [`CHAIN_PERIOD`] until `shutdown` resolves, then a last one (chaining everything
    /// pending and checkpointing the final head).
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            self.round(false).await;
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tokio::time::sleep(CHAIN_PERIOD) => {}
            }
        }
        self.round(true).await;
    }
}
