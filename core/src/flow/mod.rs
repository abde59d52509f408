//! The verification flow as an explicit state machine: `Step`, events, one pure transition function.
//!
//! The widget wraps [`transition`] in a single reducer; components only dispatch [`Event`]s. Personal data never
//! enters this state: the identity form keeps it and tells the flow only what the flow must decide on (for example
//! that the birth date shows a child under 14). An event that is not legal in the current step becomes
//! [`Step::Error`] with [`codes::ILLEGAL_TRANSITION`], never a panic.

/// Stable error codes the flow itself produces (server codes pass through unchanged).
pub mod codes {
    /// An event arrived that the current step does not accept.
    pub const ILLEGAL_TRANSITION: &str = "illegal_transition";
    /// The site enabled no verification method.
    pub const NO_METHOD: &str = "no_method_enabled";
    /// The site enabled only the documents method; it must never be the only choice.
    pub const DOCUMENTS_ONLY: &str = "documents_only_method";
    /// A method was chosen that the site did not enable.
    pub const METHOD_NOT_ENABLED: &str = "method_not_enabled";
    /// The server refused a step because the session is elsewhere: the flow asks where instead of showing it.
    pub const WRONG_STEP: &str = "wrong_step";
    /// A new code was asked for before the server allowed it.
    pub const RESEND_COOLDOWN: &str = "resend_cooldown";

    /// Codes that mean the page is set up wrongly (origin not allowed, wrong publishable key or client secret, site
    /// disabled, methods the site did not enable, no credentials, an unusable method set): no retry can help, so
    /// the error offers none and the site must fix its configuration.
    pub const CONFIGURATION: &[&str] = &[
        "forbidden_origin",
        "unauthorized",
        "site_disabled",
        METHOD_NOT_ENABLED,
        "not_configured",
        NO_METHOD,
        DOCUMENTS_ONLY,
    ];

    /// Whether `code` is one of [`CONFIGURATION`].
    pub fn is_configuration(code: &str) -> bool {
        CONFIGURATION.contains(&code)
    }

    /// Codes that mean the session is over (finished, expired, or a site's session already used): Retry starts
    /// again from the beginning, with a new session.
    pub const ENDED: &[&str] = &["session_ended", "session_expired", "client_secret_expired", "client_secret_used"];
}

/// A way to prove the person controls the identity: the protocol's own methods, with their wire names.
pub use crate::protocol::Method;

/// A check the site runs and its provider, as the server names them: the consent's business.
pub use crate::protocol::CheckNotice;

/// A method as a page names it in the `methods` option: its wire name, or `face`, the deprecated name of
/// `documents` (accepted on input only; events and answers say `documents`).
pub fn method_named(name: &str) -> Option<Method> {
    match name.trim() {
        "face" => Some(Method::Documents),
        name => Method::ALL.into_iter().find(|m| m.as_str() == name),
    }
}

/// What the page is waiting for while [`Step::Submitting`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Submission {
    /// The sealed identity, which makes the server send a code.
    Identity,
    /// The one-time code.
    Code,
    /// A request for a new code.
    Resend,
    /// The sealed identity with the selfie and the document photo (the documents step).
    Documents,
    /// Asking the server where the session is (after an error, or before offering methods it has not confirmed).
    Sync,
}

/// Where the server says the session is (`GET /v1/sessions/{id}/client`): where the flow resumes after [`Event::Synced`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerStep {
    /// Nothing accepted yet (`created`): the identity (or the photos) can be sent.
    Created,
    /// A code step (`code_sent`, or `submitted` when no code went out yet).
    Code {
        /// Tries left for the current code.
        tries_left: u8,
        /// Seconds until a new code may be requested.
        resend_in: u32,
        /// Whether the code can be entered (`Unsent` for `submitted`, `Expired` past the code's lifetime).
        status: CodeStatus,
    },
    /// Waiting for a reviewer (`pending_review`).
    InReview,
}

/// Whether the current one-time code can still be entered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodeStatus {
    /// The code can be entered.
    Active,
    /// The last code entered was wrong; more tries are left.
    Wrong,
    /// The code expired; a new one must be requested.
    Expired,
    /// Too many wrong tries: this session is locked.
    Locked,
    /// The identity was accepted but no code went out (a sending limit or the provider): ask for one.
    Unsent,
}

/// Why the server's identity checks refused the identity (docs/protocol.md 4.5.1). The session stays `created`:
/// the identity form comes back, still filled in, saying why and what to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// `identity_mismatch`: the name and number do not match the records; the corrections left.
    Mismatch(u8),
    /// `identity_no_record`: the records hold no such number; the corrections left.
    NoRecord(u8),
    /// `check_limit`: the number was checked too often today; seconds until it can be again.
    Limit(u32),
    /// `check_unavailable`: the check had no answer; the same step may be sent again shortly.
    Unavailable,
}

impl Refusal {
    /// The refusal a server error stands for, with its `attempts_left` and `retry_after`; `None` for other codes.
    pub fn from_code(code: &str, attempts_left: Option<u32>, retry_after: Option<u32>) -> Option<Refusal> {
        let left = attempts_left.unwrap_or(0).min(255) as u8;
        Some(match code {
            "identity_mismatch" => Refusal::Mismatch(left),
            "identity_no_record" => Refusal::NoRecord(left),
            "check_limit" => Refusal::Limit(retry_after.unwrap_or(0)),
            "check_unavailable" => Refusal::Unavailable,
            _ => return None,
        })
    }
}

/// One step of the flow; each has one screen in the widget.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Separate consent for processing sensitive personal information (PIPL art. 29).
    Consent,
    /// A guardian's consent, because the birth date shows a child under 14 (PIPL art. 31).
    GuardianConsent,
    /// Choose among the enabled methods.
    ChooseMethod,
    /// Document kind, name, number, phone or email.
    Identity,
    /// Enter the one-time code.
    Code {
        /// Tries left before the session locks.
        tries_left: u8,
        /// Seconds until a new code may be requested.
        resend_in: u32,
        /// Whether the code can still be entered.
        status: CodeStatus,
    },
    /// Selfie and document photo (with the separate face consent): the documents method.
    Documents,
    /// Waiting for the server.
    Submitting(Submission),
    /// Verified; the site receives the result token.
    Verified {
        /// The signed result token for the site.
        token: String,
    },
    /// A person reviews the submission; the answer is due on `due` (ISO date, 5 working days).
    InReview {
        /// Expected decision date, `YYYY-MM-DD`.
        due: String,
        /// The result token (status "in review") for the site.
        token: String,
    },
    /// Verification failed; the person may retry or file a complaint.
    Failed {
        /// Stable reason code from the server.
        reason: String,
    },
    /// The person cancelled or withdrew consent.
    Cancelled,
    /// Something went wrong; `resume` is where Retry goes.
    Error {
        /// Stable error code.
        code: String,
        /// The step to go back to on Retry, if any.
        resume: Option<Box<Step>>,
    },
}

impl Step {
    /// The stable name of the step, as reported in `step` events.
    pub fn name(&self) -> &'static str {
        match self {
            Step::Consent => "consent",
            Step::GuardianConsent => "guardian_consent",
            Step::ChooseMethod => "method",
            Step::Identity => "identity",
            Step::Code { .. } => "code",
            Step::Documents => "documents",
            Step::Submitting(_) => "submitting",
            Step::Verified { .. } => "verified",
            Step::InReview { .. } => "in_review",
            Step::Failed { .. } => "failed",
            Step::Cancelled => "cancelled",
            Step::Error { .. } => "error",
        }
    }

    /// Whether the flow has ended (a result, cancellation or error is shown).
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Step::Verified { .. } | Step::InReview { .. } | Step::Failed { .. } | Step::Cancelled | Step::Error { .. }
        )
    }
}

/// Something that happened: a person's action or the server's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// The consent box was ticked and confirmed; `version` is the consent text's version.
    ConsentGiven {
        /// Version of the consent text the person saw.
        version: String,
    },
    /// A guardian consented for the child.
    GuardianConsentGiven,
    /// A method was chosen.
    MethodChosen(Method),
    /// The identity form was submitted (valid); `under_14` comes from the birth date in the number.
    IdentitySubmitted {
        /// Whether the birth date shows a person under 14 today.
        under_14: bool,
    },
    /// The server sent a code.
    CodeSent {
        /// Tries allowed.
        tries_left: u8,
        /// Seconds until resend is allowed.
        resend_in: u32,
    },
    /// A code was entered and submitted.
    CodeEntered,
    /// A new code was requested.
    ResendRequested,
    /// The server's identity checks refused the identity or documents step: back to the form, filled in.
    Refused(Refusal),
    /// The server said the code was wrong.
    CodeRejected {
        /// Tries left.
        tries_left: u8,
        /// Seconds still to wait before a new code may be requested (the countdown goes on through wrong codes).
        resend_in: u32,
    },
    /// The server said the code expired.
    CodeExpired,
    /// The server locked the session after too many tries.
    CodeLocked,
    /// The selfie and the document photo were taken, with the face consent.
    DocumentsCaptured,
    /// The server verified the identity.
    Verified {
        /// The result token.
        token: String,
    },
    /// The server queued the submission for a person to review.
    InReview {
        /// Expected decision date.
        due: String,
        /// The result token.
        token: String,
    },
    /// The server could not verify the identity.
    Failed {
        /// Stable reason code.
        reason: String,
    },
    /// A failure outside the flow's rules (network, server error, camera…).
    Fail {
        /// Stable error code.
        code: String,
    },
    /// The server said which methods the session offers (the site's enabled set; the flow keeps only those) and
    /// which identity checks the site runs (the consent names them). Legal in every step: it may arrive while the
    /// person is already on their way.
    Offered(Vec<Method>, Vec<CheckNotice>),
    /// The server said where the session is ([`Submission::Sync`]): its methods, checks and step.
    Synced {
        /// The methods the session offers.
        methods: Vec<Method>,
        /// The identity checks the site runs.
        checks: Vec<CheckNotice>,
        /// The session's step on the server.
        at: ServerStep,
    },
    /// Go back one step.
    Back,
    /// Try again from a final or locked step.
    Retry,
    /// The person cancelled or withdrew consent.
    Cancel,
}

/// The flow's whole state: the current step and the choices made so far. Holds no personal data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flow {
    /// The current step.
    pub step: Step,
    /// Methods the site enabled, in display order.
    pub methods: Vec<Method>,
    /// The chosen method.
    pub method: Option<Method>,
    /// Version of the consent text the person agreed to.
    pub consent_version: Option<String>,
    /// Whether a guardian consented (needed when the person is under 14).
    pub guardian_consent: bool,
    /// Whether the server confirmed `methods` ([`Event::Offered`] or [`Event::Synced`]): until it did, the flow
    /// asks it ([`Submission::Sync`]) instead of offering a method.
    pub confirmed: bool,
    /// The identity checks the site runs, as the server named them ([`Event::Offered`], [`Event::Synced`]): the
    /// consent names them and the party that makes them (PIPL art. 23).
    pub checks: Vec<CheckNotice>,
    /// Whether the consent was given before the server named its checks: once it does, and names any, the
    /// consent is asked again, naming them.
    pub consented_early: bool,
    /// Why the identity checks refused the identity just sent, while the form shows it again ([`Event::Refused`]);
    /// every other step clears it.
    pub refusal: Option<Refusal>,
}

impl Flow {
    /// A new flow at [`Step::Consent`] for the enabled methods; an [`Step::Error`] when the set is unusable
    /// (empty, or documents alone — never the only method offered).
    pub fn new(enabled: &[Method]) -> Flow {
        let mut methods: Vec<Method> = Method::ALL.into_iter().filter(|m| enabled.contains(m)).collect();
        methods.dedup();
        let step = match methods.as_slice() {
            [] => error(codes::NO_METHOD, None),
            [Method::Documents] => error(codes::DOCUMENTS_ONLY, None),
            _ => Step::Consent,
        };
        Flow {
            step,
            methods,
            method: None,
            consent_version: None,
            guardian_consent: false,
            confirmed: false,
            checks: Vec::new(),
            consented_early: false,
            refusal: None,
        }
    }

    /// The single method when only one is enabled, which skips the choice.
    fn only_method(&self) -> Option<Method> {
        match self.methods.as_slice() {
            [m] => Some(*m),
            _ => None,
        }
    }

    fn narrowed(self, methods: Vec<Method>) -> Flow {
        Flow { methods, ..self }
    }

    /// The flow at `step`; a refusal shown on the identity form does not outlive it.
    fn with(&self, step: Step) -> Flow {
        Flow { step, refusal: None, ..self.clone() }
    }

    /// Where the flow goes after consent, or after Retry: the choice, or identity when there is no choice; first
    /// the server's confirmation of the methods when it has not come yet.
    fn start(&self) -> Flow {
        if !self.confirmed {
            return self.with(Step::Submitting(Submission::Sync));
        }
        match self.only_method() {
            Some(m) => Flow { step: Step::Identity, method: Some(m), ..self.clone() },
            None => self.with(Step::ChooseMethod),
        }
    }

    /// The methods the server offers applied: narrowed (never widened) and confirmed; an error when nothing usable
    /// is left, or when the chosen method is gone.
    fn offered(&self, offered: &[Method]) -> Flow {
        let narrowed: Vec<Method> = self.methods.iter().copied().filter(|m| offered.contains(m)).collect();
        if narrowed == self.methods {
            return Flow { confirmed: true, ..self.clone() };
        }
        let fresh = Flow::new(&narrowed);
        match (&fresh.step, self.method) {
            // Nothing usable is left (or documents alone): the error replaces wherever the person was.
            (Step::Error { .. }, _) => Flow { consent_version: self.consent_version.clone(), ..fresh },
            (_, Some(m)) if !narrowed.contains(&m) => {
                Flow { method: None, confirmed: true, ..self.with(error(codes::METHOD_NOT_ENABLED, None)) }
                    .narrowed(narrowed)
            }
            _ => Flow { methods: narrowed, confirmed: true, ..self.clone() },
        }
    }

    /// Where the server's step puts the flow: the form for a session that accepted nothing yet (the camera when
    /// the photos failed to arrive), the code step, the review notice.
    fn resume(&self, at: ServerStep) -> Flow {
        match at {
            ServerStep::Created => match self.method {
                Some(Method::Documents) => self.with(Step::Documents),
                Some(_) => self.with(Step::Identity),
                None if self.consent_version.is_some() => self.start(),
                None => self.with(Step::Consent),
            },
            ServerStep::Code { tries_left, resend_in, status } => {
                let status = if tries_left == 0 { CodeStatus::Locked } else { status };
                self.with(code_step(tries_left, resend_in, status))
            }
            ServerStep::InReview => self.with(Step::InReview { due: String::new(), token: String::new() }),
        }
    }

    /// After identity (and guardian consent if needed): the camera for documents, else send the identity.
    fn after_identity(&self) -> Flow {
        match self.method {
            Some(Method::Documents) => self.with(Step::Documents),
            _ => self.with(Step::Submitting(Submission::Identity)),
        }
    }
}

fn error(code: &str, resume: Option<Step>) -> Step {
    Step::Error { code: code.to_string(), resume: resume.map(Box::new) }
}

fn code_step(tries_left: u8, resend_in: u32, status: CodeStatus) -> Step {
    Step::Code { tries_left, resend_in, status }
}

/// The one transition function: the next state for `event` in `state`. Pure; never panics.
pub fn transition(state: &Flow, event: Event) -> Flow {
    use Event as E;
    use Step as S;
    let illegal = || state.with(error(codes::ILLEGAL_TRANSITION, Some(state.step.clone())));
    match (&state.step, event) {
        // Cancelling is possible wherever the flow has not ended; a failure from outside can happen anywhere.
        (s, E::Cancel) if !s.is_final() => {
            Flow { consent_version: None, guardian_consent: false, ..state.with(S::Cancelled) }
        }
        // A misconfigured page (nothing to retry) or a session that is over (Retry starts again), wherever it shows.
        (_, E::Fail { code }) if codes::is_configuration(&code) || codes::ENDED.contains(&code.as_str()) => {
            state.with(error(&code, None))
        }
        (S::Error { .. }, E::Fail { code }) => state.with(error(&code, None)),
        // The session is elsewhere on the server: ask where, without an error screen in between.
        // (A resend refused as too early is the same: the code step's countdown then says how long to wait.)
        (S::Submitting(_), E::Fail { code }) if code == codes::WRONG_STEP || code == codes::RESEND_COOLDOWN => {
            state.with(S::Submitting(Submission::Sync))
        }
        // After a failed request the server may or may not have acted on it: Retry asks it where the session is,
        // never guessing a step it would refuse.
        (S::Submitting(_), E::Fail { code }) => state.with(error(&code, Some(S::Submitting(Submission::Sync)))),
        (s, E::Fail { code }) => state.with(error(&code, Some(s.clone()))),
        (s, E::Offered(..)) if s.is_final() => state.clone(),
        (_, E::Offered(offered, checks)) => Flow { checks, ..state.offered(&offered) },
        (S::Submitting(Submission::Sync), E::Synced { methods, checks, at }) => {
            let f = Flow { checks, ..state.offered(&methods) };
            if f.step != state.step {
                f
            } else if state.consented_early && !f.checks.is_empty() {
                // A consent given before the server named its checks does not cover them: ask again, naming them.
                Flow { consent_version: None, consented_early: false, ..f.with(S::Consent) }
            } else {
                f.resume(at)
            }
        }

        (S::Consent, E::ConsentGiven { version }) if !version.trim().is_empty() => {
            Flow { consent_version: Some(version), consented_early: !state.confirmed, ..state.clone() }.start()
        }
        (S::ChooseMethod, E::MethodChosen(m)) => {
            if state.methods.contains(&m) {
                Flow { method: Some(m), ..state.with(S::Identity) }
            } else {
                state.with(error(codes::METHOD_NOT_ENABLED, Some(S::ChooseMethod)))
            }
        }
        (S::ChooseMethod, E::Back) => state.with(S::Consent),
        (S::Identity, E::IdentitySubmitted { under_14 }) => {
            if under_14 && !state.guardian_consent {
                state.with(S::GuardianConsent)
            } else {
                state.after_identity()
            }
        }
        (S::Identity, E::Back) => match state.only_method() {
            Some(_) => state.with(S::Consent),
            None => state.with(S::ChooseMethod),
        },
        (S::GuardianConsent, E::GuardianConsentGiven) => {
            Flow { guardian_consent: true, ..state.clone() }.after_identity()
        }
        (S::GuardianConsent, E::Back) => state.with(S::Identity),
        (S::Documents, E::DocumentsCaptured) => state.with(S::Submitting(Submission::Documents)),
        (S::Documents, E::Back) => state.with(S::Identity),

        // The identity checks refused what was sent (the session stays `created`): the form again, saying why.
        (S::Submitting(Submission::Identity | Submission::Documents), E::Refused(r)) => {
            Flow { refusal: Some(r), ..state.with(S::Identity) }
        }
        (S::Submitting(Submission::Identity | Submission::Resend), E::CodeSent { tries_left, resend_in }) => {
            state.with(code_step(tries_left, resend_in, CodeStatus::Active))
        }
        (S::Submitting(Submission::Code), E::CodeRejected { tries_left, resend_in }) => {
            let status = if tries_left == 0 { CodeStatus::Locked } else { CodeStatus::Wrong };
            state.with(code_step(tries_left, if tries_left == 0 { 0 } else { resend_in }, status))
        }
        (S::Submitting(Submission::Code), E::CodeExpired) => state.with(code_step(0, 0, CodeStatus::Expired)),
        (S::Submitting(Submission::Code | Submission::Resend), E::CodeLocked) => {
            state.with(code_step(0, 0, CodeStatus::Locked))
        }
        // Results answer a submission; asking where the session is (`Sync`) answers `Synced` only.
        (S::Submitting(w), E::Verified { token }) if *w != Submission::Sync => state.with(S::Verified { token }),
        (S::Submitting(w), E::InReview { due, token }) if *w != Submission::Sync => {
            state.with(S::InReview { due, token })
        }
        (S::Submitting(w), E::Failed { reason }) if *w != Submission::Sync => state.with(S::Failed { reason }),

        (S::Code { status: CodeStatus::Active | CodeStatus::Wrong, tries_left, .. }, E::CodeEntered)
            if *tries_left > 0 =>
        {
            state.with(S::Submitting(Submission::Code))
        }
        (S::Code { status, .. }, E::ResendRequested) if *status != CodeStatus::Locked => {
            state.with(S::Submitting(Submission::Resend))
        }
        (S::Code { .. }, E::Back) => state.with(S::Identity),
        (S::Code { status: CodeStatus::Locked, .. }, E::Retry) => state.with(S::Identity),

        (S::Failed { .. }, E::Retry) => state.with(S::Identity),
        (S::Cancelled, E::Retry) => Flow { method: None, ..state.with(S::Consent) },
        (S::Error { resume, .. }, E::Retry) => match resume {
            Some(step) => state.with((**step).clone()),
            None => Flow::new(&state.methods),
        },
        _ => illegal(),
    }
}

#[cfg(test)]
mod tests;
