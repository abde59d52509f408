//! Verifying a log: [`Verifier`] checks entries in order against the chain keys, the recorded head and the signed
//! checkpoints, and names the first entry that cannot be trusted.

use std::collections::VecDeque;
use std::fmt;

use super::{ChainKey, Entry, GENESIS, Head, canonical_keyed, hash};

/// What is wrong at the first bad entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The entry's contents do not match its link (hash or MAC): it was edited, or written without the chain key.
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
    /// A legacy (unkeyed) entry after the keyed chain began: written without the chain key.
    Unkeyed {
        /// The first keyed entry.
        keyed_from: i64,
    },
    /// The entry names a chain key this server does not hold.
    UnknownKey {
        /// The key id stored with the entry.
        key_id: String,
    },
    /// The entry differs from the one a signed checkpoint recorded: entries up to it were rewritten.
    CheckpointMismatch {
        /// The checkpoint's entry (the one that differs).
        checkpoint_seq: i64,
    },
    /// Entries after this one, up to the entry a signed checkpoint recorded, are missing (the tail was cut off and
    /// the head rewound).
    CheckpointTruncated {
        /// The checkpoint's entry.
        checkpoint_seq: i64,
    },
}

/// The first bad entry found by [`Verifier`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    /// Number of the first bad entry, as stored (for the truncations: the last entry present, 0 if none).
    pub seq: i64,
    /// Its position in the order read, from 1.
    pub position: u64,
    /// What is wrong.
    pub problem: Problem,
    /// The last entry that can still be trusted (0: none); everything after it cannot.
    pub trusted: i64,
}

impl fmt::Display for Break {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (seq, pos) = (self.seq, self.position);
        match &self.problem {
            Problem::Altered => write!(f, "entry {seq} (position {pos}) was altered: its hash does not match")?,
            Problem::Missing { expected } => {
                write!(f, "entry {seq} (position {pos}): entries from {expected} on are missing before it")?
            }
            Problem::OutOfOrder { expected } => {
                write!(f, "entry {seq} (position {pos}) is out of order: expected entry {expected}")?
            }
            Problem::BrokenLink => write!(
                f,
                "entry {seq} (position {pos}) does not link to the entry before it (removed or reordered entries)"
            )?,
            Problem::Truncated { head_seq } => write!(
                f,
                "entries {}..={head_seq} are missing at the end (the recorded head is entry {head_seq})",
                seq + 1
            )?,
            Problem::Unkeyed { keyed_from } => write!(
                f,
                "entry {seq} (position {pos}) has no chain-key MAC, but the keyed chain began at entry {keyed_from}: \
                 it was written without the key"
            )?,
            Problem::UnknownKey { key_id } => write!(
                f,
                "entry {seq} (position {pos}) names chain key {key_id:?}, which this server does not hold (a forged \
                 entry, or the verifier runs with other keys than the server)"
            )?,
            Problem::CheckpointMismatch { checkpoint_seq } => write!(
                f,
                "entry {checkpoint_seq} differs from the signed checkpoint that recorded it: entries after {} up to \
                 it were rewritten",
                self.trusted
            )?,
            Problem::CheckpointTruncated { checkpoint_seq } => write!(
                f,
                "entries {}..={checkpoint_seq} are missing at the end: a signed checkpoint recorded entry \
                 {checkpoint_seq} (the tail was removed and the head rewound)",
                seq + 1
            )?,
        }
        match self.trusted {
            0 => write!(f, "; no entry of the log can be trusted"),
            t => write!(f, "; the log can be trusted up to entry {t} and not after it"),
        }
    }
}

/// What a successful verification covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// Entries checked.
    pub entries: u64,
    /// The last entry checked (0: none).
    pub last: i64,
    /// The first keyed entry, if any.
    pub keyed_from: Option<i64>,
    /// The newest entry a signed checkpoint recorded and the log matched (0: none).
    pub checkpointed: i64,
}

/// Checks entries in the order read, one at a time, so logs of any size verify in constant memory.
#[derive(Debug)]
pub struct Verifier<'k> {
    keys: &'k [ChainKey],
    expected_seq: i64,
    prev_hash: [u8; 32],
    position: u64,
    keyed_from: Option<i64>,
    /// Heads recorded by signed checkpoints, ascending by `seq`, not yet reached.
    checkpoints: VecDeque<Head>,
    /// The last checkpointed entry the log matched.
    checkpointed: i64,
}

impl<'k> Verifier<'k> {
    /// A verifier for a whole log, from entry 1, checking keyed links with `keys`.
    pub fn new(keys: &'k [ChainKey]) -> Self {
        Self {
            keys,
            expected_seq: 1,
            prev_hash: GENESIS,
            position: 0,
            keyed_from: None,
            checkpoints: VecDeque::new(),
            checkpointed: 0,
        }
    }

    /// A verifier for the entries after `head`, which is trusted (e.g. the last signed checkpoint's).
    pub fn after(keys: &'k [ChainKey], head: Head) -> Self {
        Self { expected_seq: head.seq + 1, prev_hash: head.hash, checkpointed: head.seq, ..Self::new(keys) }
    }

    /// A verifier for a segment whose first entry is trusted as its own start (an export of unknown context).
    pub fn segment(keys: &'k [ChainKey], first: &Entry) -> Self {
        Self { expected_seq: first.seq, prev_hash: first.prev_hash, ..Self::new(keys) }
    }

    /// Also checks the log against these heads, recorded by signed checkpoints (already verified) outside the
    /// database: each recorded entry must be present with the recorded hash. Heads before the start are ignored.
    pub fn with_checkpoints(mut self, heads: impl IntoIterator<Item = Head>) -> Self {
        let mut heads: Vec<Head> = heads.into_iter().filter(|h| h.seq >= self.expected_seq).collect();
        heads.sort_by_key(|h| h.seq);
        self.checkpoints = heads.into();
        self
    }

    fn link_of(&self, e: &Entry) -> Result<[u8; 32], Problem> {
        match &e.key_id {
            None => match self.keyed_from {
                Some(keyed_from) => Err(Problem::Unkeyed { keyed_from }),
                None => Ok(hash(e.seq, e.at, &e.event, &e.prev_hash)),
            },
            Some(id) => match self.keys.iter().find(|k| k.id() == id) {
                Some(k) => Ok(k.mac(&canonical_keyed(id, e.seq, e.at, &e.event, &e.prev_hash))),
                None => Err(Problem::UnknownKey { key_id: id.clone() }),
            },
        }
    }

    /// Checks the next entry.
    pub fn push(&mut self, e: &Entry) -> Result<(), Break> {
        self.position += 1;
        let trusted = self.expected_seq - 1;
        let bad = |problem| Break { seq: e.seq, position: self.position, problem, trusted };
        match self.link_of(e) {
            Ok(link) if link == e.hash => {}
            Ok(_) => return Err(bad(Problem::Altered)),
            Err(p) => return Err(bad(p)),
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
        while let Some(cp) = self.checkpoints.front().copied().filter(|cp| cp.seq == e.seq) {
            if cp.hash != e.hash {
                let problem = Problem::CheckpointMismatch { checkpoint_seq: cp.seq };
                return Err(Break { seq: e.seq, position: self.position, problem, trusted: self.checkpointed });
            }
            self.checkpointed = cp.seq;
            self.checkpoints.pop_front();
        }
        if e.key_id.is_some() && self.keyed_from.is_none() {
            self.keyed_from = Some(e.seq);
        }
        self.expected_seq += 1;
        self.prev_hash = e.hash;
        Ok(())
    }

    /// Checks the end of the log against the signed checkpoints and its recorded head (`None`: not checked).
    pub fn finish(self, head: Option<Head>) -> Result<Verified, Break> {
        let last = self.expected_seq - 1;
        let end = |problem| Break { seq: last, position: self.position, problem, trusted: last };
        if let Some(cp) = self.checkpoints.back() {
            return Err(end(Problem::CheckpointTruncated { checkpoint_seq: cp.seq }));
        }
        if let Some(h) = head {
            if h.seq > last {
                return Err(end(Problem::Truncated { head_seq: h.seq }));
            }
            if h.seq < last || h.hash != self.prev_hash {
                // The head row itself was changed; report the entry it should describe.
                return Err(end(Problem::BrokenLink));
            }
        }
        Ok(Verified { entries: self.position, last, keyed_from: self.keyed_from, checkpointed: self.checkpointed })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Event, seal, seal_legacy};
    use super::*;

    fn key() -> ChainKey {
        ChainKey::from_secret([9; 32])
    }

    /// `legacy` unkeyed entries, then `keyed` ones.
    fn log(legacy: usize, keyed: usize) -> Vec<Entry> {
        let k = key();
        let mut out: Vec<Entry> = Vec::new();
        for i in 0..legacy + keyed {
            let head = out.last().map(Entry::head);
            let ev = Event::new("system", "test.event", format!("case:{i}")).detail("n", i.to_string());
            out.push(if i < legacy { seal_legacy(head, 1_000 + i as i64, ev) } else { seal(&k, head, 1_000, ev) });
        }
        out
    }

    fn check_with(entries: &[Entry], head: Option<Head>, cps: &[Head]) -> Result<Verified, Break> {
        let keys = [key()];
        let mut v = Verifier::new(&keys).with_checkpoints(cps.iter().copied());
        for e in entries {
            v.push(e)?;
        }
        v.finish(head)
    }

    fn check(entries: &[Entry], head: Option<Head>) -> Result<u64, Break> {
        check_with(entries, head, &[]).map(|v| v.entries)
    }

    #[test]
    fn intact_logs_verify_legacy_then_keyed() {
        for (legacy, keyed) in [(5, 0), (0, 5), (3, 4)] {
            let l = log(legacy, keyed);
            let head = l.last().map(Entry::head);
            let v = check_with(&l, head, &[l[1].head(), l[4].head()]).unwrap();
            assert_eq!((v.entries, v.checkpointed), (l.len() as u64, 5));
            assert_eq!(v.keyed_from, (keyed > 0).then_some(legacy as i64 + 1));
        }
        assert_eq!(check(&[], None), Ok(0));
    }

    #[test]
    fn detects_edit_delete_reorder_truncate() {
        for legacy in [6, 0] {
            let l = log(legacy, 6 - legacy);
            let head = Some(l[5].head());

            let mut edited = l.clone();
            edited[2].event.subject = "case:99".into();
            let b = check(&edited, head).unwrap_err();
            assert_eq!((b.seq, b.problem, b.trusted), (3, Problem::Altered, 2));

            let mut deleted = l.clone();
            deleted.remove(3);
            let b = check(&deleted, head).unwrap_err();
            assert_eq!((b.seq, b.problem), (5, Problem::Missing { expected: 4 }));

            let mut reordered = l.clone();
            reordered.swap(1, 2);
            let b = check(&reordered, head).unwrap_err();
            assert_eq!((b.seq, b.position, b.problem), (3, 2, Problem::Missing { expected: 2 }));

            let truncated = &l[..4];
            let b = check(truncated, head).unwrap_err();
            assert_eq!((b.seq, b.problem.clone()), (4, Problem::Truncated { head_seq: 6 }));
            assert!(b.to_string().contains("entries 5..=6 are missing"), "{b}");
            assert!(b.to_string().contains("trusted up to entry 4"), "{b}");
        }
    }

    /// What a writer without the chain key can do to a keyed log, each caught.
    #[test]
    fn a_keyed_log_refuses_what_a_writer_without_the_key_forges() {
        let l = log(2, 6);
        let head = Some(l[7].head());
        // Edited and every later link recomputed, legacy style (the only hash the writer can compute).
        let mut rehashed = l.clone();
        rehashed[4].event.subject = "case:99".into();
        for i in 4..rehashed.len() {
            rehashed[i].prev_hash = rehashed[i - 1].hash;
            let e = &rehashed[i];
            rehashed[i].hash = hash(e.seq, e.at, &e.event, &e.prev_hash);
        }
        let b = check(&rehashed, Some(rehashed[7].head())).unwrap_err();
        assert_eq!((b.seq, b.problem.clone(), b.trusted), (5, Problem::Altered, 4), "{b}");
        // The same, declared legacy: refused after the keyed start.
        for e in rehashed.iter_mut().skip(4) {
            e.key_id = None;
        }
        let b = check(&rehashed, Some(rehashed[7].head())).unwrap_err();
        assert_eq!((b.seq, b.problem), (5, Problem::Unkeyed { keyed_from: 3 }));
        // Renumbered after a deletion.
        let mut renumbered = l.clone();
        renumbered.remove(4);
        for i in 4..renumbered.len() {
            renumbered[i].seq -= 1;
            renumbered[i].prev_hash = renumbered[i - 1].hash;
        }
        let b = check(&renumbered, Some(renumbered[6].head())).unwrap_err();
        assert_eq!((b.seq, b.problem), (5, Problem::Altered));
        // An appended entry under a made-up key.
        let mut appended = l.clone();
        let mut forged = seal(&ChainKey::from_secret([1; 32]), head, 2_000, Event::new("system", "x", "y"));
        appended.push(forged.clone());
        let b = check(&appended, Some(forged.head())).unwrap_err();
        assert_eq!((b.seq, b.trusted), (9, 8));
        assert!(matches!(b.problem, Problem::UnknownKey { .. }), "{b}");
        // … or under the real key id with a link it cannot compute.
        forged.key_id = Some(key().id().to_owned());
        appended[8] = forged.clone();
        let b = check(&appended, Some(forged.head())).unwrap_err();
        assert_eq!((b.seq, b.problem), (9, Problem::Altered));
    }

    #[test]
    fn checkpoints_catch_a_cut_tail_and_rewritten_legacy_entries() {
        let l = log(6, 0);
        let cps = [l[2].head(), l[4].head()];
        // The tail cut after entry 3 and the head rewound: the checkpoint of entry 5 is not reached.
        let b = check_with(&l[..3], Some(l[2].head()), &cps).unwrap_err();
        assert_eq!((b.seq, b.problem.clone(), b.trusted), (3, Problem::CheckpointTruncated { checkpoint_seq: 5 }, 3));
        assert!(b.to_string().contains("entries 4..=5 are missing"), "{b}");
        // Legacy entries rewritten consistently (hashes recomputed): the checkpoint's hash differs.
        let mut rewritten = l.clone();
        rewritten[3].event.subject = "case:99".into();
        for i in 3..rewritten.len() {
            rewritten[i].prev_hash = rewritten[i - 1].hash;
            let e = &rewritten[i];
            rewritten[i].hash = hash(e.seq, e.at, &e.event, &e.prev_hash);
        }
        let b = check_with(&rewritten, Some(rewritten[5].head()), &cps).unwrap_err();
        assert_eq!((b.seq, b.problem.clone(), b.trusted), (5, Problem::CheckpointMismatch { checkpoint_seq: 5 }, 3));
        assert!(b.to_string().contains("trusted up to entry 3"), "{b}");
    }
}
