//! Injected time and randomness: production uses the system clock and the OS CSPRNG; tests move a
//! [`ManualClock`] instead of sleeping and may seed a [`SeededRandom`] for reproducible ids.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use sha2::{Digest, Sha256};

/// Unix time in milliseconds (UTC), as the store uses it.
pub type UnixMillis = i64;

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> UnixMillis;
    /// Whole seconds since the Unix epoch.
    fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }
    /// Moves a clock that may be moved (tests, demo mode) forward by `ms`; the wall clock refuses (`false`).
    fn advance_dev_ms(&self, _ms: i64) -> bool {
        false
    }
}

/// The system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> UnixMillis {
        let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
    }
}

/// A clock that only moves when told to (tests).
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock standing at `start_ms`.
    pub fn new(start_ms: UnixMillis) -> Arc<Self> {
        Arc::new(Self(AtomicI64::new(start_ms)))
    }

    /// Moves the clock forward by `ms`.
    pub fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    /// Moves the clock forward by `secs`.
    pub fn advance_secs(&self, secs: i64) {
        self.advance_ms(secs * 1000);
    }

    /// Sets the clock.
    pub fn set_ms(&self, ms: UnixMillis) {
        self.0.store(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> UnixMillis {
        self.0.load(Ordering::SeqCst)
    }
    fn advance_dev_ms(&self, ms: i64) -> bool {
        self.advance_ms(ms);
        true
    }
}

/// Demo mode's clock: the wall clock plus an offset that `POST /dev/clock` moves forward, so end-to-end tests
/// let a code or a session expire in a separate server process without waiting for it.
#[derive(Debug, Default)]
pub struct DevClock(AtomicI64);

impl Clock for DevClock {
    fn now_ms(&self) -> UnixMillis {
        SystemClock.now_ms().saturating_add(self.0.load(Ordering::SeqCst))
    }
    fn advance_dev_ms(&self, ms: i64) -> bool {
        self.0.fetch_add(ms, Ordering::SeqCst);
        true
    }
}

/// A source of cryptographically secure random bytes.
pub trait Random: Send + Sync + std::fmt::Debug {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]);

    /// A uniformly random integer below `bound` (> 0), by rejection sampling (no modulo bias).
    fn below(&self, bound: u32) -> u32 {
        let bound = bound.max(1);
        let zone = u32::MAX - (u32::MAX % bound);
        loop {
            let mut b = [0u8; 4];
            self.fill(&mut b);
            let v = u32::from_le_bytes(b);
            if v < zone {
                return v % bound;
            }
        }
    }

    /// `n` random bytes as unpadded base64url: an unguessable token.
    fn token(&self, n: usize) -> String {
        use base64::Engine as _;
        let mut buf = vec![0u8; n];
        self.fill(&mut buf);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
    }
}

/// The operating system's CSPRNG.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl Random for OsRandom {
    fn fill(&self, buf: &mut [u8]) {
        // getrandom only fails when the OS has no entropy source at all; a server cannot run then.
        if getrandom::fill(buf).is_err() {
            std::process::abort();
        }
    }
}

/// A deterministic generator for tests: SHA-256 in counter mode over a seed. Never use in production.
#[derive(Debug)]
pub struct SeededRandom {
    seed: [u8; 32],
    counter: Mutex<u64>,
}

impl SeededRandom {
    /// A generator whose output is fixed by `seed`.
    pub fn new(seed: u64) -> Arc<Self> {
        let mut s = [0u8; 32];
        s[..8].copy_from_slice(&seed.to_le_bytes());
        Arc::new(Self { seed: s, counter: Mutex::new(0) })
    }
}

impl Random for SeededRandom {
    fn fill(&self, buf: &mut [u8]) {
        let mut counter = self.counter.lock().unwrap_or_else(|e| e.into_inner());
        for chunk in buf.chunks_mut(32) {
            let block = Sha256::new().chain_update(self.seed).chain_update(counter.to_le_bytes()).finalize();
            chunk.copy_from_slice(&block[..chunk.len()]);
            *counter += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(1_000);
        assert_eq!(c.now_ms(), 1_000);
        c.advance_secs(2);
        assert_eq!(c.now_ms(), 3_000);
        assert_eq!(c.now_secs(), 3);
    }

    #[test]
    fn below_is_in_range_and_covers_it() {
        let r = SeededRandom::new(7);
        let mut seen = [false; 10];
        for _ in 0..500 {
            let v = r.below(10);
            assert!(v < 10);
            seen[v as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
        let a = SeededRandom::new(1).token(16);
        let b = SeededRandom::new(1).token(16);
        assert_eq!(a, b);
        assert_ne!(OsRandom.token(16), OsRandom.token(16));
    }
}
