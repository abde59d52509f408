//! The append-only, hash-chained audit log (seed 第十一条: the whole process is auditable).
//!
//! Every state change and every access to personal data appends one [`Entry`]. Entries never carry personal data:
//! actors, subjects and details are ids, field names, reason codes and counts only.
//!
//! ## Canonical form and chain
//! Entry `n` carries `prev_hash` = the `hash` of entry `n - 1` (32 zero bytes for entry 1). Entries are numbered
//! 1, 2, 3, … without gaps. Two kinds of link exist:
//!
//! - **keyed** (every entry this version writes; `key_id` set): `hash = HMAC-SHA256(K, canonical_v2(entry))`,
//!   where `K` is the chain key ([`ChainKey`], derived from the server's key ring, never in the database) and
//!   `key_id` names it. Without `K` nobody can compute a valid link, so an edited, inserted, renumbered or
//!   appended entry cannot be made to verify.
//! - **legacy** (entries written before the keyed chain began; `key_id` empty): `hash = SHA-256(canonical(entry))`.
//!   They verify as before, but only before the first keyed entry: an unkeyed entry after a keyed one is refused
//!   ([`Problem::Unkeyed`]), and the database refuses to store one (migration 108's trigger).
//!
//! `canonical` is the concatenation of
//!
//! 1. the 17 ASCII bytes `realname.audit.v1` (keyed: `realname.audit.v2` followed by `key_id` as a string),
//! 2. `seq` as 8 bytes big-endian,
//! 3. `at` (Unix milliseconds) as 8 bytes big-endian two's complement,
//! 4. `actor`, `action`, `subject` each as a string, then `site` as one byte 0 (none) or 1 followed by a string,
//! 5. the number of `detail` pairs as 4 bytes big-endian, then each pair's key and value as strings, in ascending
//!    byte order of the keys (keys are unique),
//! 6. `prev_hash` (32 bytes),
//!
//! and a *string* is its UTF-8 length as 4 bytes big-endian followed by its UTF-8 bytes. Length prefixes make the
//! encoding injective, so no two different entries share a canonical form.
//!
//! `audit verify` recomputes every link in order ([`Verifier`]) and names the first entry whose link, number or
//! predecessor is wrong; the head (last `seq` and `hash`, kept in its own row and updated in the same
//! transaction as each append) and the signed checkpoints ([`checkpoint`], kept outside the database) catch
//! entries removed from the end.
//!
//! ## Pending events of the verification flow
//! The flow's state changes (`session.created`, `.identity_submitted`, `.code_sent`/`.code_resent`,
//! `.code_refused`, `.code_delivery_failed`, `.code_failed`, `.failed`, `.verified`, `.canceled`,
//! `.pending_review`, `.expired`; built in [`flow`]) are many and concurrent, so appending each to the chain
//! would make every flow wait for the one head row. A request step instead writes its events as *pending*
//! rows (table `audit_pending`) inside its own transaction, atomic with the change they describe. The chainer
//! (`realname_server::audit::chain`) moves them into the chain, oldest pending `id` first, up to `realname_store::audit::CHAIN_BATCH`
//! per transaction, each holding the head lock once. It runs every second in `serve`, and first in
//! `audit verify` and `audit export`. Sessions that run out of time without a request get `session.expired`
//! (`by` = `ttl`) from the purge sweep, in the same transaction that expires them.
//!
//! Ordering rule: every `realname_store::audit::AuditStore::audit_append` chains all pending events committed
//! before it, in the same transaction, before its own entry; so a pending event never lands in the chain
//! after a directly appended entry that was written later. Among pending events the chain follows `id`
//! order, which on PostgreSQL is the order ids were drawn, not always the commit order: an event committed
//! late is chained in a later batch, so `at` is not strictly increasing along the chain.
//!
//! Until chained (normally within seconds) a pending event is protected only by the database, not by the
//! chain: `audit verify` does not cover it and a table edit could remove it unnoticed. Once chained it is
//! covered like any other entry.

pub mod checkpoint;
pub mod csv;
pub mod flow;
mod key;
mod verify;

pub use key::ChainKey;
pub use verify::{Break, Problem, Verified, Verifier};

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

/// The hash of the (absent) entry before the first one.
pub const GENESIS: [u8; 32] = [0; 32];

const DOMAIN: &[u8] = b"realname.audit.v1";
const DOMAIN_KEYED: &[u8] = b"realname.audit.v2";

/// What an event says, before it gets its number, time and hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Who: `reviewer:<id>`, `site:<id>`, `system`, `person` (the verified person, never named).
    pub actor: String,
    /// What, as a stable dotted code, e.g. `review.case.viewed`.
    pub action: String,
    /// The site the subject belongs to, if any.
    pub site: Option<String>,
    /// On what: `session:<id>`, `case:<id>`, `complaint:<ticket>`, `reviewer:<id>`.
    pub subject: String,
    /// Ids, field names, reason codes, counts: never personal data.
    pub detail: BTreeMap<String, String>,
}

impl Event {
    /// An event with no site and no detail.
    pub fn new(actor: impl Into<String>, action: impl Into<String>, subject: impl Into<String>) -> Self {
        Self {
            actor: actor.into(),
            action: action.into(),
            site: None,
            subject: subject.into(),
            detail: BTreeMap::new(),
        }
    }

    /// The same event for `site`.
    pub fn site(mut self, site: impl Into<String>) -> Self {
        self.site = Some(site.into());
        self
    }

    /// The same event with one more detail.
    pub fn detail(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.detail.insert(key.into(), value.into());
        self
    }
}

/// One entry of the log as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Position in the log, from 1, without gaps.
    pub seq: i64,
    /// When, Unix milliseconds.
    pub at: i64,
    /// The event.
    pub event: Event,
    /// The previous entry's hash.
    pub prev_hash: [u8; 32],
    /// The id of the chain key whose MAC `hash` is; `None` for a legacy (unkeyed SHA-256) entry.
    pub key_id: Option<String>,
    /// This entry's hash (keyed entries: its MAC).
    pub hash: [u8; 32],
}

/// The last entry's number and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    /// Number of the last entry.
    pub seq: i64,
    /// Hash of the last entry.
    pub hash: [u8; 32],
}

fn put_str(buf: &mut Vec<u8>, s: &str) {
    // Strings longer than 4 GiB cannot occur: entries are built from ids and codes.
    buf.extend_from_slice(&(s.len() as u32).to_be_bytes());
    buf.extend_from_slice(s.as_bytes());
}

/// The canonical byte form of a legacy entry (see the module documentation).
pub fn canonical(seq: i64, at: i64, event: &Event, prev_hash: &[u8; 32]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(256);
    buf.extend_from_slice(DOMAIN);
    put_body(&mut buf, seq, at, event, prev_hash);
    buf
}

/// The canonical byte form of a keyed entry whose chain key is `key_id`.
pub fn canonical_keyed(key_id: &str, seq: i64, at: i64, event: &Event, prev_hash: &[u8; 32]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(256);
    buf.extend_from_slice(DOMAIN_KEYED);
    put_str(&mut buf, key_id);
    put_body(&mut buf, seq, at, event, prev_hash);
    buf
}

fn put_body(buf: &mut Vec<u8>, seq: i64, at: i64, event: &Event, prev_hash: &[u8; 32]) {
    buf.extend_from_slice(&seq.to_be_bytes());
    buf.extend_from_slice(&at.to_be_bytes());
    put_str(buf, &event.actor);
    put_str(buf, &event.action);
    put_str(buf, &event.subject);
    match &event.site {
        None => buf.push(0),
        Some(site) => {
            buf.push(1);
            put_str(buf, site);
        }
    }
    buf.extend_from_slice(&(event.detail.len() as u32).to_be_bytes());
    for (k, v) in &event.detail {
        put_str(buf, k);
        put_str(buf, v);
    }
    buf.extend_from_slice(prev_hash);
}

/// The hash of a legacy entry with these contents.
pub fn hash(seq: i64, at: i64, event: &Event, prev_hash: &[u8; 32]) -> [u8; 32] {
    Sha256::digest(canonical(seq, at, event, prev_hash)).into()
}

/// The entry that follows `head` (or starts the log), its link a MAC under `key`.
pub fn seal(key: &ChainKey, head: Option<Head>, at: i64, event: Event) -> Entry {
    let (seq, prev_hash) = match head {
        Some(h) => (h.seq + 1, h.hash),
        None => (1, GENESIS),
    };
    let hash = key.mac(&canonical_keyed(key.id(), seq, at, &event, &prev_hash));
    Entry { seq, at, event, prev_hash, key_id: Some(key.id().to_owned()), hash }
}

/// A legacy (unkeyed) entry as versions before the keyed chain wrote them: for checking old logs and in tests.
pub fn seal_legacy(head: Option<Head>, at: i64, event: Event) -> Entry {
    let (seq, prev_hash) = match head {
        Some(h) => (h.seq + 1, h.hash),
        None => (1, GENESIS),
    };
    let hash = hash(seq, at, &event, &prev_hash);
    Entry { seq, at, event, prev_hash, key_id: None, hash }
}

impl Entry {
    /// The head this entry makes.
    pub fn head(&self) -> Head {
        Head { seq: self.seq, hash: self.hash }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_form_is_unambiguous() {
        let a = Event::new("ab", "c", "x");
        let b = Event::new("a", "bc", "x");
        assert_ne!(canonical(1, 0, &a, &GENESIS), canonical(1, 0, &b, &GENESIS));
        let c = Event::new("a", "b", "x").site("");
        assert_ne!(canonical(1, 0, &Event::new("a", "b", "x"), &GENESIS), canonical(1, 0, &c, &GENESIS));
        // Pinned vector: changing the canonical form breaks every stored log, so it must be deliberate.
        let e = Event::new("reviewer:1", "review.case.viewed", "case:7").site("demo").detail("fields", "name,number");
        assert_eq!(crate::encoding::hex_encode(&hash(1, 1_767_196_800_000, &e, &GENESIS)), PINNED);
    }

    /// Computed independently from the module documentation (Python `hashlib`, `struct.pack('>q', …)`).
    const PINNED: &str = "e06f645b00e77d8f60b422d0fc7de3bb3420a3e7d11bfaabdd66cf21b3d29806";

    #[test]
    fn keyed_links_are_pinned() {
        // Chain key derived from a code key of 32 bytes 0x07; computed independently with Python `hmac`.
        let key = ChainKey::derive(&[7; 32]);
        assert_eq!(key.id(), PINNED_KEY_ID);
        let e = Event::new("reviewer:1", "review.case.viewed", "case:7").site("demo").detail("fields", "name,number");
        let entry = seal(&key, None, 1_767_196_800_000, e);
        assert_eq!(entry.key_id.as_deref(), Some(PINNED_KEY_ID));
        assert_eq!(crate::encoding::hex_encode(&entry.hash), PINNED_MAC);
    }

    const PINNED_KEY_ID: &str = "ak-be85e732c5eacefd";
    const PINNED_MAC: &str = "76b565d1a60962be31bab4cfbb025bf0d54c177fcb08349562dbe76d6a0e6574";
}
