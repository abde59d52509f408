//! The verification session's lifecycle on the server: one pure function, [`next`], decides every status change
//! (like `realname_core::flow` does for the widget's steps). Callers apply it through `Session::apply`, so no
//! status is ever assigned by hand.
//!
//! ```text
//! created ──CheckRefused──▶ created (the person corrects the name or number and tries again)
//!    ├──HandedOff──▶ created (another device redeemed a handoff code and carries the session on)
//!    ├──ChecksExhausted──▶ failed (too many names that do not match the number)
//! created ──IdentityAccepted──▶ submitted ──CodeIssued──▶ code_sent ──CodeConfirmed──────────▶ verified
//!    │                              ▲                        │  ▲ CodeIssued (resend)
//!    │                              └────DeliveryFailed──────┘  │
//!    │                                                          ├──CodeConfirmedForReview──▶ pending_review
//!    └──DocumentsSubmitted──▶ pending_review                    └──AttemptsExhausted───────▶ failed
//! pending_review ──Approved──▶ verified,  ──Rejected──▶ rejected
//! any unfinished ──Canceled──▶ canceled,  ──Expired──▶ expired;  a finished session never changes.
//! ```

use realname_core::protocol::SessionStatus;

/// Something that happens to a session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SessionEvent {
    /// The identity step (SMS or email method) was accepted and stored.
    IdentityAccepted,
    /// An authoritative check refused the identity step (mismatch, no record, or no answer where the site
    /// refuses without one): nothing moves on, the person may correct and try again.
    CheckRefused,
    /// The identity step's checks refused as often as a session allows: the session fails.
    ChecksExhausted,
    /// The session moves to another device (a handoff code is made for it, or redeemed): only before anything
    /// was submitted, so the phone starts at the beginning (docs/protocol.md 4.13).
    HandedOff,
    /// A one-time code was issued (the first one, or a resend).
    CodeIssued,
    /// Delivering the code failed: the session waits for a resend.
    DeliveryFailed,
    /// Face and document photos were submitted: a reviewer decides.
    DocumentsSubmitted,
    /// The right code, and nothing flags the identity.
    CodeConfirmed,
    /// The right code, but the identity goes to a reviewer (under 14, unknown region, account limit).
    CodeConfirmedForReview,
    /// Too many wrong codes.
    AttemptsExhausted,
    /// A reviewer approved.
    Approved,
    /// A reviewer rejected.
    Rejected,
    /// The person or the site canceled.
    Canceled,
    /// The session's time ran out.
    Expired,
}

impl SessionEvent {
    /// Every event.
    pub const ALL: [SessionEvent; 14] = [
        Self::IdentityAccepted,
        Self::CheckRefused,
        Self::ChecksExhausted,
        Self::HandedOff,
        Self::CodeIssued,
        Self::DeliveryFailed,
        Self::DocumentsSubmitted,
        Self::CodeConfirmed,
        Self::CodeConfirmedForReview,
        Self::AttemptsExhausted,
        Self::Approved,
        Self::Rejected,
        Self::Canceled,
        Self::Expired,
    ];
}

/// Why an event does not apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// The session is finished and never changes again.
    #[error("the session is {} and never changes again", .0.as_str())]
    Finished(SessionStatus),
    /// The event does not apply to the session's current status.
    #[error("{event:?} does not apply to a {} session", status.as_str())]
    WrongStep {
        /// The current status.
        status: SessionStatus,
        /// The refused event.
        event: SessionEvent,
    },
}

/// The status after `event` happens to a session in `status`, or why it cannot happen.
pub fn next(status: SessionStatus, event: SessionEvent) -> Result<SessionStatus, Refused> {
    use SessionEvent as E;
    use SessionStatus as S;
    if status.is_terminal() {
        return Err(Refused::Finished(status));
    }
    Ok(match (status, event) {
        (S::Created, E::IdentityAccepted) => S::Submitted,
        (S::Created, E::CheckRefused) => S::Created,
        (S::Created, E::ChecksExhausted) => S::Failed,
        (S::Created, E::HandedOff) => S::Created,
        (S::Submitted | S::CodeSent, E::CodeIssued) => S::CodeSent,
        (S::CodeSent, E::DeliveryFailed) => S::Submitted,
        (S::Created, E::DocumentsSubmitted) => S::PendingReview,
        (S::CodeSent, E::CodeConfirmed) => S::Verified,
        (S::CodeSent, E::CodeConfirmedForReview) => S::PendingReview,
        (S::CodeSent, E::AttemptsExhausted) => S::Failed,
        (S::PendingReview, E::Approved) => S::Verified,
        (S::PendingReview, E::Rejected) => S::Rejected,
        (_, E::Canceled) => S::Canceled,
        (_, E::Expired) => S::Expired,
        _ => return Err(Refused::WrongStep { status, event }),
    })
}

/// Whether a session in `status` ends as `expired` when its lifetime has passed: the unfinished statuses before a
/// review. A session waiting for a reviewer keeps waiting (its due date is the reviewer's). The store's purge
/// sweep expires the same statuses (`expirable_statuses!`), [`Session::as_of`](crate::session::Session::as_of)
/// shows them expired at once.
pub fn expires(status: SessionStatus) -> bool {
    matches!(status, SessionStatus::Created | SessionStatus::Submitted | SessionStatus::CodeSent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use SessionEvent as E;
    use SessionStatus as S;

    /// Every legal transition; every other (status, event) pair is refused.
    const LEGAL: &[(S, E, S)] = &[
        (S::Created, E::IdentityAccepted, S::Submitted),
        (S::Created, E::CheckRefused, S::Created),
        (S::Created, E::ChecksExhausted, S::Failed),
        (S::Created, E::HandedOff, S::Created),
        (S::Created, E::DocumentsSubmitted, S::PendingReview),
        (S::Created, E::Canceled, S::Canceled),
        (S::Created, E::Expired, S::Expired),
        (S::Submitted, E::CodeIssued, S::CodeSent),
        (S::Submitted, E::Canceled, S::Canceled),
        (S::Submitted, E::Expired, S::Expired),
        (S::CodeSent, E::CodeIssued, S::CodeSent),
        (S::CodeSent, E::DeliveryFailed, S::Submitted),
        (S::CodeSent, E::CodeConfirmed, S::Verified),
        (S::CodeSent, E::CodeConfirmedForReview, S::PendingReview),
        (S::CodeSent, E::AttemptsExhausted, S::Failed),
        (S::CodeSent, E::Canceled, S::Canceled),
        (S::CodeSent, E::Expired, S::Expired),
        (S::PendingReview, E::Approved, S::Verified),
        (S::PendingReview, E::Rejected, S::Rejected),
        (S::PendingReview, E::Canceled, S::Canceled),
        (S::PendingReview, E::Expired, S::Expired),
    ];

    #[test]
    fn every_status_and_event_pair() {
        let mut legal = 0;
        for status in S::ALL {
            for event in E::ALL {
                let got = next(status, event);
                match LEGAL.iter().find(|(s, e, _)| *s == status && *e == event) {
                    Some((_, _, to)) => {
                        legal += 1;
                        assert_eq!(got, Ok(*to), "{status:?} + {event:?}");
                    }
                    None if status.is_terminal() => assert_eq!(got, Err(Refused::Finished(status))),
                    None => assert_eq!(got, Err(Refused::WrongStep { status, event }), "{status:?} + {event:?}"),
                }
            }
        }
        assert_eq!(legal, LEGAL.len(), "a row of LEGAL names a pair twice");
        assert_eq!(S::ALL.len() * E::ALL.len(), 126);
    }

    #[test]
    fn the_lifetime_ends_exactly_the_unfinished_statuses_before_a_review() {
        let ending: Vec<S> = S::ALL.into_iter().filter(|s| expires(*s)).collect();
        assert_eq!(ending, [S::Created, S::Submitted, S::CodeSent]);
        for s in ending {
            assert_eq!(next(s, E::Expired), Ok(S::Expired), "{s:?}");
        }
    }

    #[test]
    fn refusals_name_the_status() {
        assert_eq!(
            next(S::Verified, E::Canceled).map_err(|r| r.to_string()),
            Err("the session is verified and never changes again".to_owned())
        );
        assert!(next(S::Created, E::CodeConfirmed).is_err_and(|r| r.to_string().contains("created")));
    }
}
