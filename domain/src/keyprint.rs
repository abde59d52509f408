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
//! old keys may then leave the files, since matching needs one recorded key only. The rule never needs a record removed, so rolling rotation (publish, then use) can later
//! add states to records without changing it. See docs/deploy.md.

use hmac::{Hmac, Mac};
use sha2::Sha256;

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
    fn the_error_names_what_differs() {
        let e = KeyMismatch { sets: vec![KeySet::Hpke, KeySet::Vault] }.to_string();
        assert!(e.contains("HPKE key set") && e.contains("vault keys") && !e.contains("code HMAC"), "{e}");
    }
}
