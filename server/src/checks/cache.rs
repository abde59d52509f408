//! The optional result cache (`[checks] cache_ttl_secs`, off by default): a provider's answer for the same
//! identity is reused for a while, to save the site's per-call fees when a person starts again. In memory, per
//! server instance; keyed by the check, the provider and the caller's key (the number's blind index and keyed
//! hashes of the name and phone: nothing readable). Only answers are kept (`match`, `mismatch`, `no_record`),
//! never `unavailable`.

use std::collections::HashMap;
use std::sync::Mutex;

use realname_core::protocol::{Check, CheckOutcome};

/// Answers by key, with their expiry time.
#[derive(Debug)]
pub struct Cache {
    ttl_ms: i64,
    max: usize,
    map: Mutex<HashMap<Vec<u8>, (CheckOutcome, i64)>>,
}

fn entry_key(check: Check, provider: &str, key: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(key.len() + 32);
    k.extend_from_slice(check.as_str().as_bytes());
    k.push(0);
    k.extend_from_slice(provider.as_bytes());
    k.push(0);
    k.extend_from_slice(key);
    k
}

impl Cache {
    /// A cache keeping answers `ttl_ms`, at most `max` of them.
    pub fn new(ttl_ms: i64, max: usize) -> Self {
        Self { ttl_ms, max, map: Mutex::default() }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, (CheckOutcome, i64)>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The answer kept for `key` at `now`, if any.
    pub fn get(&self, check: Check, provider: &str, key: &[u8], now: i64) -> Option<CheckOutcome> {
        let k = entry_key(check, provider, key);
        let mut map = self.map();
        match map.get(&k) {
            Some((outcome, until)) if now < *until => Some(*outcome),
            Some(_) => {
                map.remove(&k);
                None
            }
            None => None,
        }
    }

    /// Keeps an answer (other outcomes are ignored). When full, expired entries go first; if none has, the
    /// answer is not kept.
    pub fn put(&self, check: Check, provider: &str, key: &[u8], outcome: CheckOutcome, now: i64) {
        if !matches!(outcome, CheckOutcome::Match | CheckOutcome::Mismatch | CheckOutcome::NoRecord) {
            return;
        }
        let mut map = self.map();
        if map.len() >= self.max {
            map.retain(|_, (_, until)| now < *until);
            if map.len() >= self.max {
                return;
            }
        }
        map.insert(entry_key(check, provider, key), (outcome, now.saturating_add(self.ttl_ms)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_kept_for_their_time_per_check_and_provider() {
        let c = Cache::new(1_000, 2);
        c.put(Check::IdMatch, "tencent", b"k1", CheckOutcome::Match, 0);
        c.put(Check::IdMatch, "tencent", b"k2", CheckOutcome::Unavailable, 0);
        assert_eq!(c.get(Check::IdMatch, "tencent", b"k1", 999), Some(CheckOutcome::Match));
        assert_eq!(c.get(Check::IdMatch, "tencent", b"k2", 0), None, "no answer is not kept");
        assert_eq!(c.get(Check::PhoneOwner, "tencent", b"k1", 0), None);
        assert_eq!(c.get(Check::IdMatch, "aliyun", b"k1", 0), None);
        assert_eq!(c.get(Check::IdMatch, "tencent", b"k1", 1_000), None, "expired");
        // Full: expired entries make room; live ones are not pushed out.
        c.put(Check::IdMatch, "tencent", b"a", CheckOutcome::Mismatch, 2_000);
        c.put(Check::IdMatch, "tencent", b"b", CheckOutcome::NoRecord, 2_000);
        c.put(Check::IdMatch, "tencent", b"c", CheckOutcome::Match, 2_500);
        assert_eq!(c.get(Check::IdMatch, "tencent", b"c", 2_500), None);
        assert_eq!(c.get(Check::IdMatch, "tencent", b"a", 2_500), Some(CheckOutcome::Mismatch));
        c.put(Check::IdMatch, "tencent", b"c", CheckOutcome::Match, 3_000);
        assert_eq!(c.get(Check::IdMatch, "tencent", b"c", 3_000), Some(CheckOutcome::Match));
    }
}
