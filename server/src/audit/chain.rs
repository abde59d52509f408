//! The chainer: moves the pending events of request steps into the hash chain, a batch per transaction.

use std::time::Duration;

use realname_store::audit::{AuditStore, AuditStoreError, CHAIN_BATCH};

/// How often the server's chainer looks for pending events.
pub const CHAIN_PERIOD: Duration = Duration::from_secs(1);

/// Chains every pending event (in batches of [`CHAIN_BATCH`], one head lock each); returns how many.
pub async fn chain_all(store: &dyn AuditStore) -> Result<u64, AuditStoreError> {
    let mut total = 0;
    loop {
        let n = store.audit_chain_pending(CHAIN_BATCH).await?;
        total += n;
        if n < CHAIN_BATCH as u64 {
            return Ok(total);
        }
    }
}

/// Runs [`chain_all`] every [`CHAIN_PERIOD`] until `shutdown` resolves, then once more.
pub async fn run(store: std::sync::Arc<dyn realname_store::Store>, shutdown: impl std::future::Future<Output = ()>) {
    tokio::pin!(shutdown);
    loop {
        if let Err(e) = chain_all(store.as_ref()).await {
            tracing::warn!(error = %e, "audit chaining failed; pending events stay queued");
        }
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tokio::time::sleep(CHAIN_PERIOD) => {}
        }
    }
    if let Err(e) = chain_all(store.as_ref()).await {
        tracing::warn!(error = %e, "audit chaining at shutdown failed; pending events stay queued");
    }
}
