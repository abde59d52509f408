//! A cross-device handoff (docs/protocol.md 4.13): a single-use code, valid a few minutes, that hands an
//! unfinished session to another device (the phone), which gets a client secret of its own; the device that asked
//! for it keeps only the right to follow the session's status.
//!
//! Two pure decisions, each table-tested: whether the session may be handed off now is the session's lifecycle
//! (`lifecycle::next(status, SessionEvent::HandedOff)`), and whether a code can be redeemed now is [`redeem`].

use crate::clock::{Random, UnixMillis};
use realname_core::protocol::handoff::{CODE_ALPHABET, CODE_LEN};

/// A handoff as stored (the code itself never is: only its keyed hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handoff {
    /// The session it hands over.
    pub session_id: String,
    /// When the code was made.
    pub created_at: UnixMillis,
    /// When the code stops working.
    pub expires_at: UnixMillis,
    /// When a device redeemed it, if one did.
    pub used_at: Option<UnixMillis>,
}

/// Why a code cannot be redeemed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// A device redeemed it already: codes are single use.
    #[error("the handoff code was used")]
    Used,
    /// It is past its lifetime.
    #[error("the handoff code expired")]
    Expired,
}

/// Whether `handoff` can be redeemed at `now`: not yet used (a used code stays used, even past its lifetime) and
/// before its expiry.
pub fn redeem(handoff: &Handoff, now: UnixMillis) -> Result<(), Refused> {
    match handoff.used_at {
        Some(_) => Err(Refused::Used),
        None if now >= handoff.expires_at => Err(Refused::Expired),
        None => Ok(()),
    }
}

/// A fresh code: [`CODE_LEN`] characters drawn uniformly from [`CODE_ALPHABET`] (40 bits).
pub fn new_code(rng: &dyn Random) -> String {
    (0..CODE_LEN).map(|_| char::from(CODE_ALPHABET[rng.below(CODE_ALPHABET.len() as u32) as usize])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SeededRandom;
    use realname_core::protocol::handoff::normalize_code;

    fn at(expires_at: UnixMillis, used_at: Option<UnixMillis>) -> Handoff {
        Handoff { session_id: "ses_1".into(), created_at: 0, expires_at, used_at }
    }

    #[test]
    fn a_code_is_redeemed_once_and_only_before_it_expires() {
        let table: &[(Handoff, UnixMillis, Result<(), Refused>)] = &[
            (at(300_000, None), 0, Ok(())),
            (at(300_000, None), 299_999, Ok(())),
            (at(300_000, None), 300_000, Err(Refused::Expired)),
            (at(300_000, None), 900_000, Err(Refused::Expired)),
            (at(300_000, Some(1_000)), 2_000, Err(Refused::Used)),
            // Used stays used past the expiry: the answer does not change to "expired" for the device that lost.
            (at(300_000, Some(1_000)), 400_000, Err(Refused::Used)),
        ];
        for (h, now, want) in table {
            assert_eq!(redeem(h, *now), *want, "{h:?} at {now}");
        }
    }

    #[test]
    fn codes_are_canonical_and_differ() {
        let rng = SeededRandom::new(7);
        let codes: Vec<String> = (0..64).map(|_| new_code(rng.as_ref())).collect();
        for c in &codes {
            assert_eq!(normalize_code(c).as_deref(), Some(c.as_str()));
        }
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), codes.len());
    }
}
