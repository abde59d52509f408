//! One-time codes (NIST SP 800-63B, OWASP ASVS 6.5–6.6): 6 CSPRNG digits, only an HMAC stored (key outside the
//! database), constant-time comparison; and the sending limits against SMS bombing, counted in the store so
//! every instance shares them.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq as _;

use crate::metrics::Metrics;
use realname_domain::clock::{Random, UnixMillis};
use realname_domain::config::LimitConfig;
use realname_domain::vault::Vault;
use realname_store::rate_window;
use realname_store::{Store, StoreError, WriteTx};

/// Number of digits.
pub const DIGITS: usize = 6;

/// A fresh code: six uniformly random decimal digits.
pub fn generate(rng: &dyn Random) -> String {
    format!("{:06}", rng.below(1_000_000))
}

/// The stored form: HMAC-SHA256(key, session id ‖ 0x00 ‖ code), so equal codes of two sessions differ.
pub fn mac(key: &[u8], session_id: &str, code: &str) -> Vec<u8> {
    let Ok(mut m) = Hmac::<Sha256>::new_from_slice(key) else { return Vec::new() };
    m.update(session_id.as_bytes());
    m.update(&[0]);
    m.update(code.as_bytes());
    m.finalize().into_bytes().to_vec()
}

/// Whether `code` matches the stored HMAC, in constant time.
pub fn matches(key: &[u8], session_id: &str, code: &str, stored: &[u8]) -> bool {
    let candidate = mac(key, session_id, code);
    candidate.len() == stored.len() && bool::from(candidate.ct_eq(stored))
}

/// Normalizes what the person typed: surrounding spaces dropped, full-width digits folded; `None` unless six digits.
pub fn normalize(input: &str) -> Option<String> {
    let s: String = input
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            _ => c,
        })
        .collect();
    (s.len() == DIGITS && s.bytes().all(|b| b.is_ascii_digit())).then_some(s)
}

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// Seconds until the store's window of `window_ms` containing `now` ends (Beijing-aligned, as the store counts).
fn seconds_left_in_window(now: UnixMillis, window_ms: i64) -> u64 {
    let end = rate_window(window_ms, now).map_or(now.saturating_add(window_ms), |(_, end)| end);
    u64::try_from((end - now + 999) / 1000).unwrap_or(1)
}

/// A refusal by a limit (`rate_limited`): how long to wait, and whether it was the session's own maximum of sends
/// (which waiting does not lift).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    /// Seconds until the window that refused ends.
    pub retry_after: u64,
    /// The session sent its maximum of codes: only a new session helps.
    pub per_session: bool,
}

impl Limited {
    fn window(now: UnixMillis, window_ms: i64) -> Self {
        Self { retry_after: seconds_left_in_window(now, window_ms), per_session: false }
    }
}

/// Counts one hit on `key` and refuses when it goes over `limit` (0 = unlimited).
pub async fn hit(
    store: &dyn Store,
    metrics: &Metrics,
    (key, window_ms, limit): (&str, i64, u64),
    now: UnixMillis,
) -> Result<Option<Limited>, StoreError> {
    if limit == 0 {
        return Ok(None);
    }
    let count = store.rate_hit(key, window_ms, now).await?;
    if count > limit {
        // The scope is the key's prefix; what follows it is a keyed hash and never becomes a label.
        metrics.rate_limited(key.split(':').next().unwrap_or("other"));
        return Ok(Some(Limited::window(now, window_ms)));
    }
    Ok(None)
}

/// The counters one send hits: `(key, window, limit)` for each limit in force; and the counter of refused sends
/// for this client address and destination, with its bound. The destination and IP enter them only as keyed
/// hashes; computing those is CPU work, done before the transaction that counts them.
pub struct SendLimits(Vec<(String, i64, u64)>, (String, u64));

impl SendLimits {
    /// The counters of a send to `destination` (normalized phone or email) from `client_ip`.
    pub fn new(vault: &Vault, l: &LimitConfig, destination: &str, client_ip: &str) -> Self {
        let ip = vault.blind_text("rate-ip", client_ip);
        let dest = vault.blind_text("rate-destination", destination);
        // The window comes last, so a destination's three counters sit side by side in the store's key index
        // (one page written per send, not three random ones).
        let windows = [
            (format!("code-ip:{ip}:h"), HOUR, l.per_ip_hour),
            (format!("code-dest:{dest}:m"), MINUTE, l.per_destination_minute),
            (format!("code-dest:{dest}:h"), HOUR, l.per_destination_hour),
            (format!("code-dest:{dest}:d"), DAY, l.per_destination_day),
        ];
        let refusals = (format!("code-refused:{ip}:{dest}:h"), l.refusals_per_client_destination_hour);
        Self(windows.into_iter().filter(|w| w.2 > 0).collect(), refusals)
    }

    /// The counters as `(key, window_ms)`, for [`WriteTx::rate_refunds`].
    pub fn windows(&self) -> Vec<(&str, i64)> {
        self.0.iter().map(|(key, window, _)| (key.as_str(), *window)).collect()
    }

    /// The counters as `(key, window_ms, limit)`, for [`WriteTx::commit_within_limits`].
    pub fn counters(&self) -> Vec<(&str, i64, u64)> {
        self.0.iter().map(|(key, window, limit)| (key.as_str(), *window, *limit)).collect()
    }
}

/// The per-session limit on sends (`per_session`, 0 = none), in the transaction that will store the code:
/// `Ok(Some(refusal))` when the session sent its maximum already.
pub async fn check_session_limit(
    metrics: &Metrics,
    per_session: u32,
    tx: &mut dyn WriteTx,
    session_id: &str,
) -> Result<Option<Limited>, StoreError> {
    if per_session > 0 && tx.codes_sent(session_id).await? >= per_session {
        metrics.rate_limited("code-session");
        return Ok(Some(Limited { retry_after: 3600, per_session: true }));
    }
    Ok(None)
}

/// What counting first decided (after counting last was refused: see `sessions::send::Counting`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstCount {
    /// Under every limit (a window rolled over meanwhile): the send is counted and goes out.
    Send,
    /// Refused: the refusal is counted against this client address and destination only, and recorded.
    Refused(Limited),
    /// Refused, and this client address and destination are past their bound of refusals for the hour: nothing
    /// is written for it.
    RefusedQuietly(Limited),
}

/// Applies every sending limit, in the transaction that will store the code or record the refusal, after the
/// step counting last was refused. The counters are read, not hit: a refused send spends no one's quota (a
/// stranger asking for codes to someone's phone must not lock that phone out), so only sent codes count against
/// a destination or an address. A refusal is counted against the pair of client address and destination that
/// asked, whose bound keeps a flood of refusals from writing without end.
pub async fn check_send_limits(
    store: &dyn Store,
    metrics: &Metrics,
    per_session: u32,
    tx: &mut dyn WriteTx,
    session_id: &str,
    limits: &SendLimits,
    now: UnixMillis,
) -> Result<FirstCount, StoreError> {
    let refused = match check_session_limit(metrics, per_session, tx, session_id).await? {
        Some(refused) => Some(refused),
        None => {
            let mut wait = None;
            for (key, window, limit) in &limits.0 {
                if store.rate_count(key, *window, now).await? >= *limit {
                    metrics.rate_limited(key.split(':').next().unwrap_or("other"));
                    wait = wait.max(Some(seconds_left_in_window(now, *window)));
                }
            }
            wait.map(|retry_after| Limited { retry_after, per_session: false })
        }
    };
    let Some(refused) = refused else {
        tx.rate_hits(&limits.windows(), now).await?;
        return Ok(FirstCount::Send);
    };
    let (key, bound) = (&limits.1.0, limits.1.1);
    if bound == 0 {
        return Ok(FirstCount::Refused(refused));
    }
    let refusals = tx.rate_hits(&[(key.as_str(), HOUR)], now).await?;
    Ok(if refusals.first().is_some_and(|n| *n > bound) {
        FirstCount::RefusedQuietly(refused)
    } else {
        FirstCount::Refused(refused)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use realname_domain::clock::SeededRandom;

    #[test]
    fn codes_are_six_digits_and_checked_by_hmac() {
        let rng = SeededRandom::new(9);
        for _ in 0..100 {
            let c = generate(rng.as_ref());
            assert_eq!(c.len(), 6);
            assert!(c.bytes().all(|b| b.is_ascii_digit()));
        }
        let stored = mac(b"k", "ses_1", "012345");
        assert!(matches(b"k", "ses_1", "012345", &stored));
        assert!(!matches(b"k", "ses_1", "012346", &stored));
        assert!(!matches(b"k", "ses_2", "012345", &stored));
        assert!(!matches(b"other", "ses_1", "012345", &stored));
        assert!(!stored.windows(6).any(|w| w == b"012345"));
    }

    #[test]
    fn normalizes_typed_codes() {
        assert_eq!(normalize(" 012345 "), Some("012345".into()));
        assert_eq!(normalize("０１２３４５"), Some("012345".into()));
        assert_eq!(normalize("12345"), None);
        assert_eq!(normalize("12345a"), None);
        assert_eq!(normalize("1234567"), None);
        assert_eq!(seconds_left_in_window(90_000, MINUTE), 30);
    }
}
