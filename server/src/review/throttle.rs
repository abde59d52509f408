//! Console logins under attack: failures are limited per account and per client address with a backoff (more
//! failures, longer waits, as Keycloak's brute-force detection does), password hashing runs on a bounded blocking
//! pool so a login flood cannot take the async workers from the API, and the failed logins' audit entries are
//! bounded per hour so a flood cannot fill the disk.
//!
//! The counters are the store's rate-limit counters (shared by every instance), keyed by blind indexes of the
//! username and the address, never the plain values. A login refused by the throttle checks no password and
//! writes nothing.

use std::sync::Arc;

use realname_domain::vault::Vault;
use realname_store::{Store, StoreError};
use tokio::sync::Semaphore;

/// Failures allowed per account (any address) within each window, milliseconds: the waits grow with the
/// failures (5 in a minute: wait out the minute; 10 in 15 minutes; 20 in an hour).
pub const PER_ACCOUNT: [(u64, i64); 3] = [(5, 60_000), (10, 900_000), (20, 3_600_000)];
/// Failures allowed per client address (any account) within each window, milliseconds.
pub const PER_ADDRESS: [(u64, i64); 3] = [(10, 60_000), (40, 3_600_000), (200, 86_400_000)];
/// Failed logins written to the audit log one by one per hour; after that only the 2^n-th failure of the hour
/// is written (with the count), so a flood adds a handful of entries an hour.
pub const AUDITED_PER_HOUR: u64 = 20;
const HOUR_MS: i64 = 3_600_000;

/// The counters of one login attempt: a key per limit (a key names one window), with the failures it allows.
pub struct LoginKeys(Vec<(String, u64, i64)>);

impl LoginKeys {
    /// The counters of `username` from `address` (blind indexes: the store never sees either).
    pub fn new(vault: &Vault, username: &str, address: &str) -> Self {
        let account = vault.blind_text("console-account", &username.to_lowercase());
        let address = vault.blind_text("console-address", address);
        let keys = PER_ACCOUNT.iter().map(|&(n, w)| (format!("console-account:{w}:{account}"), n, w));
        Self(keys.chain(PER_ADDRESS.iter().map(|&(n, w)| (format!("console-address:{w}:{address}"), n, w))).collect())
    }

    fn pairs(&self) -> impl Iterator<Item = (&str, u64, i64)> {
        self.0.iter().map(|(k, n, w)| (k.as_str(), *n, *w))
    }
}

/// Seconds until a login with these keys may be tried again, or `None` when it may be tried now.
pub async fn wait(store: &dyn Store, keys: &LoginKeys, now: i64) -> Result<Option<u64>, StoreError> {
    let mut wait_ms = 0i64;
    for (key, allowed, window) in keys.pairs() {
        if store.rate_count(key, window, now).await? >= allowed {
            wait_ms = wait_ms.max(window - now.rem_euclid(window));
        }
    }
    Ok((wait_ms > 0).then(|| (wait_ms as u64).div_ceil(1000)))
}

/// Counts a failed login; returns whether to write its audit entry, and the failures of this hour so far.
pub async fn failed(store: &dyn Store, keys: &LoginKeys, now: i64) -> Result<(bool, u64), StoreError> {
    let mut hits: Vec<(&str, i64)> = keys.pairs().map(|(k, _, w)| (k, w)).collect();
    hits.push(("console-failures", HOUR_MS));
    let counts = store.rate_hits(&hits, now).await?;
    let this_hour = counts.last().copied().unwrap_or(0);
    Ok((this_hour <= AUDITED_PER_HOUR || this_hour.is_power_of_two(), this_hour))
}

/// The pool password hashes run on: `spawn_blocking` behind a semaphore of a few permits, and a bounded queue in
/// front of it (a login beyond the queue is refused at once instead of waiting).
#[derive(Debug)]
pub struct Hashing {
    running: Arc<Semaphore>,
    queued: Arc<Semaphore>,
}

/// The pool is full: refuse the login for now.
#[derive(Debug, thiserror::Error)]
#[error("password hashing is busy")]
pub struct Busy;

impl Hashing {
    /// At most `running` hashes at once (at least one), and `queued` more waiting.
    pub fn new(running: usize, queued: usize) -> Self {
        Self { running: Arc::new(Semaphore::new(running.max(1))), queued: Arc::new(Semaphore::new(queued)) }
    }

    /// Half the cores run hashes, the other half stay with the API; 32 more may wait.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::new(cores / 2, 32)
    }

    /// Runs `f` (a password hash or check) on the blocking pool once a permit is free.
    pub async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, Busy> {
        let queued = self.queued.clone().try_acquire_owned().map_err(|_| Busy)?;
        let permit = self.running.clone().acquire_owned().await.map_err(|_| Busy)?;
        drop(queued);
        tokio::task::spawn_blocking(move || {
            let out = f();
            drop(permit);
            out
        })
        .await
        .map_err(|_| Busy)
    }
}

impl Default for Hashing {
    fn default() -> Self {
        Self::for_this_machine()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn until(f: impl Fn() -> bool) {
        while !f() {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_pool_runs_a_bounded_number_and_refuses_beyond_its_queue() {
        let pool = Arc::new(Hashing::new(1, 1));
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let p = pool.clone();
        let running = tokio::spawn(async move { p.run(move || rx.recv().is_ok()).await });
        until(|| pool.running.available_permits() == 0).await;
        let p = pool.clone();
        let queued = tokio::spawn(async move { p.run(|| true).await });
        until(|| pool.queued.available_permits() == 0).await;
        // One running, one waiting: the next is refused at once instead of waiting.
        assert!(pool.run(|| true).await.is_err());
        tx.send(()).unwrap();
        assert!(running.await.unwrap().unwrap());
        assert!(queued.await.unwrap().unwrap());
        assert!(pool.run(|| true).await.unwrap(), "the pool is free again");
    }
}
