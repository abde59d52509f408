//! Signed checkpoints of the audit log, as transparency logs publish them (Certificate Transparency's signed tree
//! heads, Sigstore Rekor's checkpoints): at a moment, the log had `entries` entries and its last entry's hash was
//! `head`, signed with an Ed25519 key of the server's key ring (the result-token signing key, whose public half is
//! in `/v1/jwks.json`, and stays in the key file after the key is pruned: `KeyRing::checkpoint_signers`).
//!
//! The server appends one to a file outside the database (`[audit] checkpoint_dir`) on an interval and at shutdown.
//! A database writer who cannot write that file can then neither cut entries off the end (the log would end before
//! a checkpoint) nor rewrite entries a checkpoint covers (the hash at the checkpoint would differ), even where the
//! MAC alone would not tell (legacy entries, a removed tail).
//!
//! ## Form
//! One JSON object per line: `{"n", "entries", "head", "at", "time_utc", "kid", "sig"}`: `n` the checkpoint's number
//! in its file (from 1), `entries` the number of entries (entries are numbered from 1 without gaps, so it is also
//! the last entry's number), `head` its hash (64 hex digits; 64 zeros for an empty log), `at` Unix milliseconds,
//! `time_utc` the same for people (not signed), `kid` the signing key's id, `sig` the Ed25519 signature (unpadded
//! base64url) of the UTF-8 text
//!
//! ```text
//! realname audit checkpoint v1
//! n <n>
//! entries <entries>
//! head <head>
//! at <at>
//! kid <kid>
//! ```
//!
//! with a line feed after each line. The first line keeps the signature from meaning anything else: a result token's
//! signing input is base64url text and dots, never a line feed.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::{GENESIS, Head};
use crate::encoding::{hex_decode_32, hex_encode};

/// The file the server appends checkpoints to, inside `[audit] checkpoint_dir`.
pub const FILE: &str = "audit-checkpoints.jsonl";

/// A signed statement of the log's size and last hash at a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// Number of the checkpoint in its file, from 1.
    pub n: u64,
    /// Entries in the log (the last entry's number).
    pub entries: i64,
    /// The last entry's hash (zeros for an empty log).
    pub head: [u8; 32],
    /// When, Unix milliseconds.
    pub at: i64,
    /// The signing key's id.
    pub kid: String,
    /// Ed25519 signature of [`Checkpoint::signed_text`].
    pub sig: [u8; 64],
}

/// Why a checkpoint is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// A line is not a checkpoint.
    #[error("line {line}: not a checkpoint: {why}")]
    Malformed {
        /// Line number, from 1.
        line: usize,
        /// What is wrong.
        why: String,
    },
    /// Signed by a key the verifier does not hold.
    #[error("checkpoint {n} is signed by key {kid:?}, which is not in the key ring")]
    UnknownKey {
        /// The checkpoint.
        n: u64,
        /// Its key id.
        kid: String,
    },
    /// The signature does not verify: the checkpoint was edited or forged.
    #[error("checkpoint {n} has a bad signature: it was edited or forged")]
    BadSignature {
        /// The checkpoint.
        n: u64,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    n: u64,
    entries: i64,
    head: String,
    at: i64,
    time_utc: String,
    kid: String,
    sig: String,
}

impl Checkpoint {
    /// Signs the checkpoint number `n` of the log whose head is `head` (`None`: empty) at `at`.
    pub fn sign(n: u64, head: Option<Head>, at: i64, kid: &str, key: &SigningKey) -> Self {
        let (entries, head) = head.map_or((0, GENESIS), |h| (h.seq, h.hash));
        let mut cp = Self { n, entries, head, at, kid: kid.to_owned(), sig: [0; 64] };
        cp.sig = key.sign(cp.signed_text().as_bytes()).to_bytes();
        cp
    }

    /// The text the signature covers (see the module documentation).
    pub fn signed_text(&self) -> String {
        format!(
            "realname audit checkpoint v1\nn {}\nentries {}\nhead {}\nat {}\nkid {}\n",
            self.n,
            self.entries,
            hex_encode(&self.head),
            self.at,
            self.kid
        )
    }

    /// The head it records (`None` for an empty log).
    pub fn recorded_head(&self) -> Option<Head> {
        (self.entries > 0).then_some(Head { seq: self.entries, hash: self.head })
    }

    /// Checks the signature with the public keys `(kid, key)` of the key ring.
    pub fn verify(&self, keys: &[(String, VerifyingKey)]) -> Result<(), CheckpointError> {
        let Some((_, key)) = keys.iter().find(|(kid, _)| *kid == self.kid) else {
            return Err(CheckpointError::UnknownKey { n: self.n, kid: self.kid.clone() });
        };
        key.verify(self.signed_text().as_bytes(), &Signature::from_bytes(&self.sig))
            .map_err(|_| CheckpointError::BadSignature { n: self.n })
    }

    /// Its line in the checkpoint file (without the line feed).
    pub fn to_line(&self) -> String {
        let line = Line {
            n: self.n,
            entries: self.entries,
            head: hex_encode(&self.head),
            at: self.at,
            time_utc: super::csv::utc(self.at),
            kid: self.kid.clone(),
            sig: URL_SAFE_NO_PAD.encode(self.sig),
        };
        serde_json::to_string(&line).unwrap_or_default()
    }

    /// Parses one line of a checkpoint file (`line`: its number, for the error).
    pub fn parse_line(text: &str, line: usize) -> Result<Self, CheckpointError> {
        let bad = |why: &str| CheckpointError::Malformed { line, why: why.to_owned() };
        let l: Line = serde_json::from_str(text).map_err(|e| bad(&e.to_string()))?;
        let head = hex_decode_32(&l.head).ok_or_else(|| bad("head is not 64 hex digits"))?;
        let sig = URL_SAFE_NO_PAD.decode(&l.sig).map_err(|_| bad("sig is not base64url"))?;
        let sig = <[u8; 64]>::try_from(sig.as_slice()).map_err(|_| bad("sig is not 64 bytes"))?;
        if l.entries < 0 {
            return Err(bad("entries is negative"));
        }
        Ok(Self { n: l.n, entries: l.entries, head, at: l.at, kid: l.kid, sig })
    }

    /// Parses a whole checkpoint file (empty lines are skipped).
    pub fn parse_all(text: &str) -> Result<Vec<Self>, CheckpointError> {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| Self::parse_line(l, i + 1))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_round_trips_and_refuses_edits_and_other_keys() {
        let key = SigningKey::from_bytes(&[5; 32]);
        let keys = vec![("rt-a".to_owned(), key.verifying_key())];
        let cp = Checkpoint::sign(3, Some(Head { seq: 42, hash: [1; 32] }), 1_767_196_800_000, "rt-a", &key);
        assert_eq!(cp.verify(&keys), Ok(()));
        let line = cp.to_line();
        assert!(line.contains("\"time_utc\":\"2025-12-31T16:00:00.000Z\""), "{line}");
        let text = format!("{line}\n\n{}\n", Checkpoint::sign(4, None, 5, "rt-a", &key).to_line());
        let all = Checkpoint::parse_all(&text).unwrap();
        assert_eq!(all[0], cp);
        assert_eq!((all[1].entries, all[1].recorded_head()), (0, None));
        assert_eq!(cp.recorded_head(), Some(Head { seq: 42, hash: [1; 32] }));

        let mut edited = cp.clone();
        edited.entries = 41;
        assert_eq!(edited.verify(&keys), Err(CheckpointError::BadSignature { n: 3 }));
        let other = vec![("rt-a".to_owned(), SigningKey::from_bytes(&[6; 32]).verifying_key())];
        assert_eq!(cp.verify(&other), Err(CheckpointError::BadSignature { n: 3 }));
        assert!(matches!(cp.verify(&[]), Err(CheckpointError::UnknownKey { .. })));
        let err = Checkpoint::parse_all(&format!("{line}\nnot json\n")).unwrap_err();
        assert!(matches!(err, CheckpointError::Malformed { line: 2, .. }), "{err}");
    }
}
