//! Key fingerprints: what lets an instance find out at start that its keys are not the ones the database was
//! initialised with (another instance's `server-keys.json` or `vault.keys` missing, so it made its own).
//!
//! Each key gets a fingerprint: HMAC-SHA256 keyed with the key itself over a fixed label, its set and its id,
//! cut to 128 bits. Without the key it cannot be computed, and it reveals nothing about the key; with the key it
//! is the same on every instance. The database records the fingerprint of every key an accepted instance holds
//! (`key_prints`, never deleted). An instance matches when, for every key set the database has records of,
//! - no key it holds has a recorded id with another fingerprint (e.g. two `vault.keys` that both say `key 1`,
//!   or two different code HMAC keys), and
//! - it holds at least one recorded key of that set (an HPKE or token key set made anew shares none).
//!
//! Rotation adds keys: an instance holding a new key next to a recorded one is accepted and records the new key;
//! old keys may then leave the files, since matching needs one recorded key only. So during a rolling rotation
//! instances with the old files and instances with the new ones are all accepted.
//!
//! The records also say when a key was published (first held by an instance), which decides when it may seal or
//! sign ([`Activation`]): publish, then use, so every instance loads a key before any instance uses it. See
//! docs/deploy.md.

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::clock::UnixMillis;
use crate::encoding::hex_encode;

/// A group of keys every instance must share.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeySet {
    /// HPKE key pairs that open the widget's envelopes (`server-keys.json`).
    Hpke,
    /// Ed25519 result-token signing keys (`server-keys.json`).
    Token,
    /// The HMAC key of one-time codes (`server-keys.json`).
    CodeHmac,
    /// The HMAC key of sending-limit counters (`server-keys.json`).
    LimitHmac,
    /// The vault's field encryption keys (`vault.keys`).
    Vault,
    /// The vault's blind-index key (`vault.keys`).
    VaultIndex,
}

impl KeySet {
    /// Every set, in the order errors name them.
    pub const ALL: [KeySet; 6] =
        [KeySet::Hpke, KeySet::Token, KeySet::CodeHmac, KeySet::LimitHmac, KeySet::Vault, KeySet::VaultIndex];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hpke => "hpke",
            Self::Token => "token",
            Self::CodeHmac => "code_hmac",
            Self::LimitHmac => "limit_hmac",
            Self::Vault => "vault",
            Self::VaultIndex => "vault_index",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// What an operator reads: the keys and where they come from.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Hpke => "HPKE key set (server-keys.json / REALNAME_SERVER_KEYS)",
            Self::Token => "result-token signing keys (server-keys.json / REALNAME_SERVER_KEYS)",
            Self::CodeHmac => "code HMAC key (server-keys.json / REALNAME_SERVER_KEYS)",
            Self::LimitHmac => "sending-limit HMAC key (server-keys.json / REALNAME_SERVER_KEYS)",
            Self::Vault => "vault keys (vault.keys / REALNAME_VAULT_KEYS)",
            Self::VaultIndex => "vault blind-index key (vault.keys / REALNAME_VAULT_KEYS)",
        }
    }
}

/// One key's fingerprint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPrint {
    /// Its set.
    pub set: KeySet,
    /// Its id within the set (HPKE and token kid, vault key number; `-` for single keys).
    pub kid: String,
    /// 32 hex digits.
    pub print: String,
}

impl KeyPrint {
    /// The fingerprint of `secret`, known as `kid` in `set`.
    pub fn of(set: KeySet, kid: &str, secret: &[u8]) -> Self {
        let print = match <Hmac<Sha256> as Mac>::new_from_slice(secret) {
            Ok(mut mac) => {
                mac.update(b"realname key fingerprint v1\0");
                mac.update(set.as_str().as_bytes());
                mac.update(b"\0");
                mac.update(kid.as_bytes());
                hex_encode(&mac.finalize().into_bytes()[..16])
            }
            // HMAC takes keys of any length; unreachable, and an empty print matches nothing recorded.
            Err(_) => String::new(),
        };
        Self { set, kid: kid.to_owned(), print }
    }
}

/// A recorded fingerprint and when it was first recorded (when an instance first held the key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedPrint {
    /// The fingerprint.
    pub print: KeyPrint,
    /// When it was recorded.
    pub recorded_at: UnixMillis,
}

/// When each recorded key may start sealing or signing (publish, then use). The keys recorded first in their set
/// (when the database was initialised) may at once; a key recorded later (added by a rotation) `publish_ms` after
/// it was recorded, so that every instance has loaded it before any instance seals to it or signs with it. A key
/// not recorded never may. It is the same on every instance: it depends only on the records.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Activation(BTreeMap<(KeySet, String), UnixMillis>);

impl Activation {
    /// From the records and the publish delay in milliseconds.
    pub fn new(recorded: &[RecordedPrint], publish_ms: i64) -> Self {
        let mut first: BTreeMap<KeySet, UnixMillis> = BTreeMap::new();
        for r in recorded {
            let at = first.entry(r.print.set).or_insert(r.recorded_at);
            *at = (*at).min(r.recorded_at);
        }
        let from = |r: &RecordedPrint| {
            if first.get(&r.print.set) == Some(&r.recorded_at) {
                UnixMillis::MIN
            } else {
                r.recorded_at.saturating_add(publish_ms)
            }
        };
        Self(recorded.iter().map(|r| ((r.print.set, r.print.kid.clone()), from(r))).collect())
    }

    /// From when `kid` of `set` may seal or sign (`UnixMillis::MAX`, never, when it is not recorded).
    pub fn from(&self, set: KeySet, kid: &str) -> UnixMillis {
        self.0.get(&(set, kid.to_owned())).copied().unwrap_or(UnixMillis::MAX)
    }
}

/// The instance's keys do not match the database's records.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "this instance's keys differ from the ones the database was initialised with: {}; give every instance the same \
     server-keys.json and vault.keys (docs/deploy.md)",
    .sets.iter().map(|s| s.describe()).collect::<Vec<_>>().join(", ")
)]
pub struct KeyMismatch {
    /// The sets that differ, in [`KeySet::ALL`] order.
    pub sets: Vec<KeySet>,
}

/// Compares the keys an instance holds with the recorded ones (the rule in the module documentation).
pub fn compare(held: &[KeyPrint], recorded: &[KeyPrint]) -> Result<(), KeyMismatch> {
    let sets: Vec<KeySet> = KeySet::ALL
        .into_iter()
        .filter(|&set| {
            let rec: Vec<&KeyPrint> = recorded.iter().filter(|r| r.set == set).collect();
            if rec.is_empty() {
                return false;
            }
            let mine = held.iter().filter(|h| h.set == set);
            let conflict = mine.clone().any(|h| rec.iter().any(|r| r.kid == h.kid && r.print != h.print));
            let shared = mine.clone().any(|h| rec.contains(&h));
            conflict || !shared
        })
        .collect();
    if sets.is_empty() { Ok(()) } else { Err(KeyMismatch { sets }) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(set: KeySet, kid: &str, secret: u8) -> KeyPrint {
        KeyPrint::of(set, kid, &[secret; 32])
    }

    #[test]
    fn prints_depend_on_key_set_and_id_and_hide_the_key() {
        let a = p(KeySet::Vault, "1", 7);
        assert_eq!(a, p(KeySet::Vault, "1", 7));
        assert_eq!(a.print.len(), 32);
        assert_ne!(a.print, p(KeySet::Vault, "1", 8).print);
        assert_ne!(a.print, p(KeySet::Vault, "2", 7).print);
        assert_ne!(a.print, p(KeySet::VaultIndex, "1", 7).print);
        assert!(!a.print.contains(&hex_encode(&[7u8; 4])));
    }

    #[test]
    fn compare_table() {
        use KeySet::*;
        let base = vec![p(Hpke, "k1", 1), p(Token, "rt-1", 2), p(CodeHmac, "-", 3), p(Vault, "1", 4)];
        let with = |extra: Vec<KeyPrint>, drop: &[KeySet]| -> Vec<KeyPrint> {
            base.iter().filter(|k| !drop.contains(&k.set)).cloned().chain(extra).collect()
        };
        // (case, recorded, held, sets that differ)
        type Case = (&'static str, Vec<KeyPrint>, Vec<KeyPrint>, Vec<KeySet>);
        let cases: Vec<Case> = vec![
            ("nothing recorded", vec![], base.clone(), vec![]),
            ("same keys", base.clone(), base.clone(), vec![]),
            ("a key added to a set", base.clone(), with(vec![p(Hpke, "k2", 9)], &[]), vec![]),
            (
                "old key gone, new one recorded",
                with(vec![p(Hpke, "k2", 9)], &[]),
                with(vec![p(Hpke, "k2", 9)], &[Hpke]),
                vec![],
            ),
            ("HPKE set made anew", base.clone(), with(vec![p(Hpke, "k7", 7)], &[Hpke]), vec![Hpke]),
            ("same vault id, other key", base.clone(), with(vec![p(Vault, "1", 5)], &[Vault]), vec![Vault]),
            ("vault key added with a taken id", base.clone(), with(vec![p(Vault, "1", 5)], &[]), vec![Vault]),
            ("other HMAC key", base.clone(), with(vec![p(CodeHmac, "-", 8)], &[CodeHmac]), vec![CodeHmac]),
            (
                "everything anew",
                base.clone(),
                vec![p(Hpke, "k8", 8), p(Token, "rt-8", 8), p(CodeHmac, "-", 8), p(Vault, "1", 8)],
                vec![Hpke, Token, CodeHmac, Vault],
            ),
            ("a set not recorded yet", with(vec![], &[Token]), base.clone(), vec![]),
        ];
        for (name, recorded, held, want) in cases {
            let got = compare(&held, &recorded).err().map(|e| e.sets).unwrap_or_default();
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn initial_keys_are_active_at_once_and_added_ones_after_the_publish_delay() {
        let rec = |set, kid: &str, at| RecordedPrint { print: p(set, kid, 1), recorded_at: at };
        let records = [
            rec(KeySet::Hpke, "k1", 100),
            rec(KeySet::Vault, "1", 100),
            rec(KeySet::Hpke, "k2", 5_000),
            rec(KeySet::Vault, "2", 7_000),
            rec(KeySet::Token, "rt-1", 9_000),
        ];
        let a = Activation::new(&records, 1_000);
        assert_eq!(a.from(KeySet::Hpke, "k1"), UnixMillis::MIN);
        assert_eq!(a.from(KeySet::Vault, "1"), UnixMillis::MIN);
        assert_eq!(a.from(KeySet::Hpke, "k2"), 6_000);
        assert_eq!(a.from(KeySet::Vault, "2"), 8_000);
        assert_eq!(a.from(KeySet::Token, "rt-1"), UnixMillis::MIN, "the first of its set");
        assert_eq!(a.from(KeySet::Hpke, "k3"), UnixMillis::MAX, "not recorded: never");
    }

    #[test]
    fn the_error_names_what_differs() {
        let e = KeyMismatch { sets: vec![KeySet::Hpke, KeySet::Vault] }.to_string();
        assert!(e.contains("HPKE key set") && e.contains("vault keys") && !e.contains("code HMAC"), "{e}");
    }
}
