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
        // Only a hash that has to wait takes a queue slot: one that runs at once must not hold a slot (and so
        // refuse another login) while it starts, nor be refused when the queue has no slots at all.
        let permit = match self.running.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                let queued = self.queued.clone().try_acquire_owned().map_err(|_| Busy)?;
                let permit = self.running.clone().acquire_owned().await.map_err(|_| Busy)?;
                drop(queued);
                permit
            }
        };
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
    use std::future::{Future, poll_fn};
    use std::pin::Pin;
    use std::task::Poll;
    use std::time::Duration;

    /// Polls `fut` once where it is (no task, no waiting): what it does up to its first wait is done on return.
    async fn poll_once<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
        poll_fn(|cx| Poll::Ready(Pin::new(&mut *fut).poll(cx))).await
    }

    /// Awaits `fut`, failing the test instead of hanging when it does not finish.
    async fn within<F: Future>(what: &str, fut: F) -> F::Output {
        match tokio::time::timeout(Duration::from_secs(30), fut).await {
            Ok(out) => out,
            Err(_) => panic!("{what} did not finish within 30 s"),
        }
    }

    // Deterministic: each `run` is polled in place, so the pool's state is known between the steps (the test once
    // waited on the semaphores' counts from another task, saw a count that was only passing, and hung).
    #[tokio::test]
    async fn the_pool_runs_a_bounded_number_and_refuses_beyond_its_queue() {
        let pool = Hashing::new(1, 1);
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let mut running = Box::pin(pool.run(move || rx.recv().is_ok()));
        assert!(poll_once(&mut running).await.is_pending(), "the first hash runs until it is released");
        assert_eq!(pool.running.available_permits(), 0);
        assert_eq!(pool.queued.available_permits(), 1, "a running hash holds no queue slot");
        let mut queued = Box::pin(pool.run(|| true));
        assert!(poll_once(&mut queued).await.is_pending(), "the second waits for the runner");
        assert_eq!(pool.queued.available_permits(), 0, "the waiting hash holds the queue slot");
        // One running, one waiting: the next is refused at once instead of waiting.
        let third = poll_once(&mut Box::pin(pool.run(|| true))).await;
        assert!(matches!(third, Poll::Ready(Err(Busy))), "beyond the queue a hash is refused at once");
        tx.send(()).expect("the running hash waits for this");
        assert!(within("the running hash", running).await.expect("it ran"));
        assert!(within("the queued hash", queued).await.expect("it ran after the first"));
        assert!(within("a hash on the free pool", pool.run(|| true)).await.expect("the pool is free again"));
        assert_eq!((pool.running.available_permits(), pool.queued.available_permits()), (1, 1));
    }

    #[tokio::test]
    async fn a_pool_without_a_queue_still_runs_when_a_runner_is_free() {
        let pool = Hashing::new(1, 0);
        assert!(within("a hash on the free pool", pool.run(|| true)).await.expect("a free runner takes it"));
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let mut running = Box::pin(pool.run(move || rx.recv().is_ok()));
        assert!(poll_once(&mut running).await.is_pending());
        let second = poll_once(&mut Box::pin(pool.run(|| true))).await;
        assert!(matches!(second, Poll::Ready(Err(Busy))), "no runner free and no queue: refused at once");
        tx.send(()).expect("the running hash waits for this");
        assert!(within("the running hash", running).await.expect("it ran"));
    }
}
