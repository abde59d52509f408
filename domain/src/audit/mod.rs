//! The append-only, hash-chained audit log (seed 第十一条: the whole process is auditable).
//!
//! Every state change and every access to personal data appends one [`Entry`]. Entries never carry personal data:
//! actors, subjects and details are ids, field names, reason codes and counts only.
//!
//! ## Canonical form and chain
//! Entry `n` carries `prev_hash` = the `hash` of entry `n - 1` (32 zero bytes for entry 1) and
//! `hash = SHA-256(canonical(entry))`, where `canonical` is the concatenation of
//!
//! 1. the 17 ASCII bytes `realname.audit.v1`,
//! 2. `seq` as 8 bytes big-endian (entries are numbered 1, 2, 3, … without gaps),
//! 3. `at` (Unix milliseconds) as 8 bytes big-endian two's complement,
//! 4. `actor`, `action`, `subject` each as a string, then `site` as one byte 0 (none) or 1 followed by a string,
//! 5. the number of `detail` pairs as 4 bytes big-endian, then each pair's key and value as strings, in ascending
//!    byte order of the keys (keys are unique),
//! 6. `prev_hash` (32 bytes),
//!
//! and a *string* is its UTF-8 length as 4 bytes big-endian followed by its UTF-8 bytes. Length prefixes make the
//! encoding injective, so no two different entries share a canonical form.
//!
//! `audit verify` recomputes every hash in order and names the first entry whose hash, number or link is wrong;
//! the head (last `seq` and `hash`, kept in its own row and updated in the same transaction as each append)
//! catches entries removed from the end.
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

pub mod csv;
pub mod flow;

use std::collections::BTreeMap;
use std::fmt;

use sha2::{Digest, Sha256};

/// The hash of the (absent) entry before the first one.
pub const GENESIS: [u8; 32] = [0; 32];

const DOMAIN: &[u8] = b"realname.audit.v1";

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
    /// This entry's hash.
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

/// The canonical byte form of an entry (see the module documentation).
pub fn canonical(seq: i64, at: i64, event: &Event, prev_hash: &[u8; 32]) -> Vec<u8> {
    let mut buf = Vec::with_capacity(256);
    buf.extend_from_slice(DOMAIN);
    buf.extend_from_slice(&seq.to_be_bytes());
    buf.extend_from_slice(&at.to_be_bytes());
    put_str(&mut buf, &event.actor);
    put_str(&mut buf, &event.action);
    put_str(&mut buf, &event.subject);
    match &event.site {
        None => buf.push(0),
        Some(site) => {
            buf.push(1);
            put_str(&mut buf, site);
        }
    }
    buf.extend_from_slice(&(event.detail.len() as u32).to_be_bytes());
    for (k, v) in &event.detail {
        put_str(&mut buf, k);
        put_str(&mut buf, v);
    }
    buf.extend_from_slice(prev_hash);
    buf
}

/// The hash of an entry with these contents.
pub fn hash(seq: i64, at: i64, event: &Event, prev_hash: &[u8; 32]) -> [u8; 32] {
    Sha256::digest(canonical(seq, at, event, prev_hash)).into()
}

/// The entry that follows `head` (or starts the log).
pub fn seal(head: Option<Head>, at: i64, event: Event) -> Entry {
    let (seq, prev_hash) = match head {
        Some(h) => (h.seq + 1, h.hash),
        None => (1, GENESIS),
    };
    let hash = hash(seq, at, &event, &prev_hash);
    Entry { seq, at, event, prev_hash, hash }
}

/// What is wrong at the first bad entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The entry's contents do not match its hash: it was edited.
    Altered,
    /// Entries before this one are missing (its number skips ahead, or it does not link to its predecessor).
    Missing {
        /// The number the entry should have had.
        expected: i64,
    },
    /// The entry is out of order (its number goes back or repeats).
    OutOfOrder {
        /// The number the entry should have had.
        expected: i64,
    },
    /// The entry's `prev_hash` is not its predecessor's hash.
    BrokenLink,
    /// Entries after this one, up to the recorded head, are missing.
    Truncated {
        /// The head's number.
        head_seq: i64,
    },
}

/// The first bad entry found by [`Verifier`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    /// Number of the first bad entry, as stored (for [`Problem::Truncated`]: the last entry present, 0 if none).
    pub seq: i64,
    /// Its position in the order read, from 1.
    pub position: u64,
    /// What is wrong.
    pub problem: Problem,
}

impl fmt::Display for Break {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            Problem::Altered => {
                write!(f, "entry {} (position {}) was altered: its hash does not match", self.seq, self.position)
            }
            Problem::Missing { expected } => write!(
                f,
                "entry {} (position {}): entries from {} on are missing before it",
                self.seq, self.position, expected
            ),
            Problem::OutOfOrder { expected } => write!(
                f,
                "entry {} (position {}) is out of order: expected entry {}",
                self.seq, self.position, expected
            ),
            Problem::BrokenLink => write!(
                f,
                "entry {} (position {}) does not link to the entry before it (removed or reordered entries)",
                self.seq, self.position
            ),
            Problem::Truncated { head_seq } => write!(
                f,
                "entries {}..={} are missing at the end (the recorded head is entry {})",
                self.seq + 1,
                head_seq,
                head_seq
            ),
        }
    }
}

/// Checks entries in the order read, one at a time, so logs of any size verify in constant memory.
#[derive(Debug)]
pub struct Verifier {
    expected_seq: i64,
    prev_hash: [u8; 32],
    position: u64,
}

impl Verifier {
    /// A verifier for a whole log, from entry 1.
    pub fn new() -> Self {
        Self { expected_seq: 1, prev_hash: GENESIS, position: 0 }
    }

    /// A verifier for a segment that starts after `head` (e.g. an export from a date).
    pub fn after(head: Head) -> Self {
        Self { expected_seq: head.seq + 1, prev_hash: head.hash, position: 0 }
    }

    /// A verifier for a segment whose first entry is trusted as its own start (an export of unknown context).
    pub fn segment(first: &Entry) -> Self {
        Self { expected_seq: first.seq, prev_hash: first.prev_hash, position: 0 }
    }

    /// Checks the next entry.
    pub fn push(&mut self, e: &Entry) -> Result<(), Break> {
        self.position += 1;
        let bad = |problem| Break { seq: e.seq, position: self.position, problem };
        if hash(e.seq, e.at, &e.event, &e.prev_hash) != e.hash {
            return Err(bad(Problem::Altered));
        }
        if e.seq > self.expected_seq {
            return Err(bad(Problem::Missing { expected: self.expected_seq }));
        }
        if e.seq < self.expected_seq {
            return Err(bad(Problem::OutOfOrder { expected: self.expected_seq }));
        }
        if e.prev_hash != self.prev_hash {
            return Err(bad(Problem::BrokenLink));
        }
        self.expected_seq += 1;
        self.prev_hash = e.hash;
        Ok(())
    }

    /// Checks the end of the log against its recorded head; returns the number of entries checked.
    pub fn finish(self, head: Option<Head>) -> Result<u64, Break> {
        let last = self.expected_seq - 1;
        if let Some(h) = head {
            if h.seq > last {
                return Err(Break {
                    seq: last,
                    position: self.position,
                    problem: Problem::Truncated { head_seq: h.seq },
                });
            }
            if h.seq < last || h.hash != self.prev_hash {
                // The head row itself was changed; report the entry it should describe.
                return Err(Break { seq: last, position: self.position, problem: Problem::BrokenLink });
            }
        }
        Ok(self.position)
    }
}

impl Default for Verifier {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(n: usize) -> Vec<Entry> {
        let mut out: Vec<Entry> = Vec::new();
        for i in 0..n {
            let head = out.last().map(|e| Head { seq: e.seq, hash: e.hash });
            let ev = Event::new("system", "test.event", format!("case:{i}")).detail("n", i.to_string());
            out.push(seal(head, 1_000 + i as i64, ev));
        }
        out
    }

    fn check(entries: &[Entry], head: Option<Head>) -> Result<u64, Break> {
        let mut v = Verifier::new();
        for e in entries {
            v.push(e)?;
        }
        v.finish(head)
    }

    #[test]
    fn intact_log_verifies() {
        let l = log(5);
        let head = Head { seq: 5, hash: l[4].hash };
        assert_eq!(check(&l, Some(head)), Ok(5));
        assert_eq!(check(&[], None), Ok(0));
    }

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
    fn detects_edit_delete_reorder_truncate() {
        let l = log(6);
        let head = Some(Head { seq: 6, hash: l[5].hash });

        let mut edited = l.clone();
        edited[2].event.subject = "case:99".into();
        assert_eq!(check(&edited, head).unwrap_err().problem, Problem::Altered);
        assert_eq!(check(&edited, head).unwrap_err().seq, 3);

        let mut deleted = l.clone();
        deleted.remove(3);
        let b = check(&deleted, head).unwrap_err();
        assert_eq!((b.seq, b.problem), (5, Problem::Missing { expected: 4 }));

        let mut reordered = l.clone();
        reordered.swap(1, 2);
        let b = check(&reordered, head).unwrap_err();
        assert_eq!((b.seq, b.position, b.problem), (3, 2, Problem::Missing { expected: 2 }));

        // Renumbered and re-hashed after a deletion: the link to the predecessor gives it away.
        let mut forged = l.clone();
        forged.remove(3);
        for e in forged.iter_mut().skip(3) {
            e.seq -= 1;
            e.hash = hash(e.seq, e.at, &e.event, &e.prev_hash);
        }
        let b = check(&forged, head).unwrap_err();
        assert_eq!((b.seq, b.problem), (4, Problem::BrokenLink));

        let truncated = &l[..4];
        let b = check(truncated, head).unwrap_err();
        assert_eq!((b.seq, b.problem.clone()), (4, Problem::Truncated { head_seq: 6 }));
        assert!(b.to_string().contains("entries 5..=6 are missing"));
    }
}
