//! Tests of the transition function: the legal paths through the flow, illegal events, retries.

use super::*;

/// A flow whose methods the server confirmed.
fn flow(methods: &[Method], step: Step) -> Flow {
    Flow { step, confirmed: true, ..Flow::new(methods) }
}

const ALL: &[Method] = &[Method::Sms, Method::Email, Method::Documents];

fn code(tries_left: u8, status: CodeStatus) -> Step {
    Step::Code { tries_left, resend_in: 60, status }
}

/// One example of every step.
fn steps() -> Vec<Step> {
    vec![
        Step::Consent,
        Step::GuardianConsent,
        Step::ChooseMethod,
        Step::Identity,
        code(5, CodeStatus::Active),
        code(3, CodeStatus::Wrong),
        code(0, CodeStatus::Expired),
        code(0, CodeStatus::Locked),
        code(5, CodeStatus::Unsent),
        Step::Documents,
        Step::Submitting(Submission::Identity),
        Step::Submitting(Submission::Code),
        Step::Submitting(Submission::Resend),
        Step::Submitting(Submission::Documents),
        Step::Submitting(Submission::Sync),
        Step::Verified { token: "t".into() },
        Step::InReview { due: "2026-12-04".into(), token: "t".into() },
        Step::Failed { reason: "mismatch".into() },
        Step::Cancelled,
        Step::Error { code: "network".into(), resume: Some(Box::new(Step::Identity)) },
    ]
}

/// One example of every event.
fn events() -> Vec<Event> {
    vec![
        Event::ConsentGiven { version: "2026-11".into() },
        Event::GuardianConsentGiven,
        Event::MethodChosen(Method::Sms),
        Event::IdentitySubmitted { under_14: false },
        Event::CodeSent { tries_left: 5, resend_in: 60 },
        Event::CodeEntered,
        Event::ResendRequested,
        Event::CodeRejected { tries_left: 2, resend_in: 30 },
        Event::Refused(Refusal::Mismatch(2)),
        Event::CodeExpired,
        Event::CodeLocked,
        Event::DocumentsCaptured,
        Event::Verified { token: "tok".into() },
        Event::InReview { due: "2026-12-04".into(), token: "tok".into() },
        Event::Failed { reason: "mismatch".into() },
        Event::Fail { code: "network".into() },
        Event::Offered(vec![Method::Sms, Method::Email], vec![]),
        Event::Synced { checks: vec![], methods: vec![Method::Sms], at: ServerStep::Created },
        Event::Back,
        Event::Retry,
        Event::Cancel,
    ]
}

fn event_name(e: &Event) -> &'static str {
    match e {
        Event::ConsentGiven { .. } => "ConsentGiven",
        Event::GuardianConsentGiven => "GuardianConsentGiven",
        Event::MethodChosen(_) => "MethodChosen",
        Event::IdentitySubmitted { .. } => "IdentitySubmitted",
        Event::CodeSent { .. } => "CodeSent",
        Event::CodeEntered => "CodeEntered",
        Event::ResendRequested => "ResendRequested",
        Event::CodeRejected { .. } => "CodeRejected",
        Event::Refused(_) => "Refused",
        Event::CodeExpired => "CodeExpired",
        Event::CodeLocked => "CodeLocked",
        Event::DocumentsCaptured => "DocumentsCaptured",
        Event::Verified { .. } => "Verified",
        Event::InReview { .. } => "InReview",
        Event::Failed { .. } => "Failed",
        Event::Fail { .. } => "Fail",
        Event::Offered(..) => "Offered",
        Event::Synced { .. } => "Synced",
        Event::Back => "Back",
        Event::Retry => "Retry",
        Event::Cancel => "Cancel",
    }
}

/// The legal (step, event) pairs, written out independently of `transition`.
fn legal(step: &Step, event: &str) -> bool {
    use CodeStatus::*;
    let live = !step.is_final();
    if event == "Fail" || event == "Offered" || (event == "Cancel" && live) {
        return true;
    }
    match step {
        Step::Consent => event == "ConsentGiven",
        Step::GuardianConsent => matches!(event, "GuardianConsentGiven" | "Back"),
        Step::ChooseMethod => matches!(event, "MethodChosen" | "Back"),
        Step::Identity => matches!(event, "IdentitySubmitted" | "Back"),
        Step::Documents => matches!(event, "DocumentsCaptured" | "Back"),
        Step::Code { status: Active | Wrong, .. } => matches!(event, "CodeEntered" | "ResendRequested" | "Back"),
        Step::Code { status: Expired | Unsent, .. } => matches!(event, "ResendRequested" | "Back"),
        Step::Code { status: Locked, .. } => matches!(event, "Retry" | "Back"),
        Step::Submitting(Submission::Identity) => {
            matches!(event, "CodeSent" | "Refused" | "Verified" | "InReview" | "Failed")
        }
        Step::Submitting(Submission::Resend) => {
            matches!(event, "CodeSent" | "CodeLocked" | "Verified" | "InReview" | "Failed")
        }
        Step::Submitting(Submission::Code) => {
            matches!(event, "CodeRejected" | "CodeExpired" | "CodeLocked" | "Verified" | "InReview" | "Failed")
        }
        Step::Submitting(Submission::Documents) => matches!(event, "Refused" | "Verified" | "InReview" | "Failed"),
        Step::Submitting(Submission::Sync) => event == "Synced",
        Step::Failed { .. } | Step::Cancelled | Step::Error { .. } => event == "Retry",
        Step::Verified { .. } | Step::InReview { .. } => false,
    }
}

#[test]
fn flow_every_illegal_pair_becomes_an_error_that_resumes_where_it_was() {
    let mut illegal = 0;
    for step in steps() {
        for event in events() {
            let before = flow(ALL, step.clone());
            let after = transition(&before, event.clone());
            if legal(&step, event_name(&event)) {
                let is_illegal = matches!(&after.step, Step::Error { code, .. } if code == codes::ILLEGAL_TRANSITION);
                assert!(!is_illegal, "{step:?} + {event:?} should be legal, got {:?}", after.step);
            } else {
                illegal += 1;
                assert_eq!(
                    after.step,
                    Step::Error { code: codes::ILLEGAL_TRANSITION.into(), resume: Some(Box::new(step.clone())) },
                    "{step:?} + {event:?}"
                );
                // Nothing else changes on an illegal event.
                assert_eq!(Flow { step: before.step.clone(), ..after }, before);
            }
        }
    }
    assert!(illegal > 200, "the table covers the illegal pairs ({illegal})");
}

#[test]
fn flow_offered_methods_narrow_the_choice_and_documents_never_stay_alone() {
    // The widget's default set meets a site that enables SMS and documents.
    let f = transition(&flow(ALL, Step::Consent), Event::Offered(vec![Method::Sms, Method::Documents], vec![]));
    assert_eq!((f.step.clone(), f.methods.clone()), (Step::Consent, vec![Method::Sms, Method::Documents]));
    let f = transition(&f, Event::ConsentGiven { version: "v".into() });
    assert_eq!(f.step, Step::ChooseMethod, "two methods left: a choice");
    // A site without documents: documents disappear from the choice.
    let f = transition(&flow(ALL, Step::ChooseMethod), Event::Offered(vec![Method::Sms, Method::Email], vec![]));
    assert_eq!((f.step.clone(), f.methods.clone()), (Step::ChooseMethod, vec![Method::Sms, Method::Email]));
    // Documents alone is refused, wherever the person was.
    let f = transition(&flow(ALL, Step::ChooseMethod), Event::Offered(vec![Method::Documents], vec![]));
    assert_eq!(f.step, Step::Error { code: codes::DOCUMENTS_ONLY.into(), resume: None });
    let f = transition(&flow(ALL, Step::Consent), Event::Offered(vec![], vec![]));
    assert_eq!(f.step, Step::Error { code: codes::NO_METHOD.into(), resume: None });
    // A chosen method the session does not offer cannot be submitted: the choice starts again.
    let chosen = Flow { method: Some(Method::Documents), ..flow(ALL, Step::Identity) };
    let f = transition(&chosen, Event::Offered(vec![Method::Sms, Method::Email], vec![]));
    assert_eq!(f.step, Step::Error { code: codes::METHOD_NOT_ENABLED.into(), resume: None });
    assert_eq!((f.method, f.methods.clone()), (None, vec![Method::Sms, Method::Email]));
    assert_eq!(transition(&f, Event::Retry).step, Step::Consent);
    // Offered never widens what the site configured, and never changes a finished flow.
    let f = transition(&flow(&[Method::Sms, Method::Email], Step::Consent), Event::Offered(ALL.to_vec(), vec![]));
    assert_eq!(f.methods, vec![Method::Sms, Method::Email]);
    let done = flow(ALL, Step::Verified { token: "t".into() });
    assert_eq!(transition(&done, Event::Offered(vec![Method::Sms], vec![])), done);
    // The same step with the same methods: nothing changes (the widget does not announce it again).
    let same = flow(ALL, Step::Identity);
    assert_eq!(transition(&same, Event::Offered(ALL.to_vec(), vec![])), same);
}

#[test]
fn flow_new_rejects_unusable_method_sets() {
    assert_eq!(Flow::new(&[]).step.name(), "error");
    assert_eq!(Flow::new(&[Method::Documents]).step, Step::Error { code: codes::DOCUMENTS_ONLY.into(), resume: None });
    assert_eq!(Flow::new(&[Method::Documents, Method::Documents]).step.name(), "error");
    let f = Flow::new(&[Method::Documents, Method::Sms]);
    assert_eq!(f.step, Step::Consent);
    assert_eq!(f.methods, vec![Method::Sms, Method::Documents], "display order is fixed");
}

#[test]
fn flow_consent_goes_to_choice_and_records_the_version() {
    let f = transition(&flow(ALL, Step::Consent), Event::ConsentGiven { version: "v3".into() });
    assert_eq!(f.step, Step::ChooseMethod);
    assert_eq!(f.consent_version.as_deref(), Some("v3"));
}

#[test]
fn flow_consent_with_a_blank_version_is_illegal() {
    let f = transition(&Flow::new(ALL), Event::ConsentGiven { version: " ".into() });
    assert!(matches!(f.step, Step::Error { ref code, .. } if code == codes::ILLEGAL_TRANSITION));
    assert_eq!(f.consent_version, None);
}

#[test]
fn flow_single_method_skips_the_choice_and_back_returns_to_consent() {
    let f = transition(&flow(&[Method::Email], Step::Consent), Event::ConsentGiven { version: "v".into() });
    assert_eq!(f.step, Step::Identity);
    assert_eq!(f.method, Some(Method::Email));
    assert_eq!(transition(&f, Event::Back).step, Step::Consent);
}

#[test]
fn flow_choose_method_only_among_enabled() {
    let f = flow(&[Method::Sms, Method::Documents], Step::ChooseMethod);
    let ok = transition(&f, Event::MethodChosen(Method::Documents));
    assert_eq!((ok.step, ok.method), (Step::Identity, Some(Method::Documents)));
    let bad = transition(&f, Event::MethodChosen(Method::Email));
    assert_eq!(
        bad.step,
        Step::Error { code: codes::METHOD_NOT_ENABLED.into(), resume: Some(Box::new(Step::ChooseMethod)) }
    );
    assert_eq!(bad.method, None);
    assert_eq!(transition(&bad, Event::Retry).step, Step::ChooseMethod);
    assert_eq!(transition(&f, Event::Back).step, Step::Consent);
}

#[test]
fn flow_identity_sends_for_codes_and_goes_to_camera_for_documents() {
    let sms = Flow { method: Some(Method::Sms), ..flow(ALL, Step::Identity) };
    assert_eq!(
        transition(&sms, Event::IdentitySubmitted { under_14: false }).step,
        Step::Submitting(Submission::Identity)
    );
    let docs = Flow { method: Some(Method::Documents), ..flow(ALL, Step::Identity) };
    assert_eq!(transition(&docs, Event::IdentitySubmitted { under_14: false }).step, Step::Documents);
    assert_eq!(transition(&sms, Event::Back).step, Step::ChooseMethod);
}

#[test]
fn flow_child_under_14_needs_a_guardian_once() {
    let f = Flow { method: Some(Method::Sms), ..flow(ALL, Step::Identity) };
    let g = transition(&f, Event::IdentitySubmitted { under_14: true });
    assert_eq!(g.step, Step::GuardianConsent);
    assert_eq!(transition(&g, Event::Back).step, Step::Identity);
    let s = transition(&g, Event::GuardianConsentGiven);
    assert_eq!(s.step, Step::Submitting(Submission::Identity));
    assert!(s.guardian_consent);
    // Once given (e.g. after a network error), the guardian is not asked again.
    let again = transition(&s.with(Step::Identity), Event::IdentitySubmitted { under_14: true });
    assert_eq!(again.step, Step::Submitting(Submission::Identity));
    // A child choosing documents goes to the camera after the guardian.
    let docs = Flow { method: Some(Method::Documents), ..g };
    assert_eq!(transition(&docs, Event::GuardianConsentGiven).step, Step::Documents);
}

#[test]
fn flow_code_sent_and_resend() {
    let f = flow(ALL, Step::Submitting(Submission::Identity));
    let c = transition(&f, Event::CodeSent { tries_left: 5, resend_in: 60 });
    assert_eq!(c.step, Step::Code { tries_left: 5, resend_in: 60, status: CodeStatus::Active });
    let r = transition(&c, Event::ResendRequested);
    assert_eq!(r.step, Step::Submitting(Submission::Resend));
    assert_eq!(transition(&r, Event::CodeSent { tries_left: 4, resend_in: 90 }).step, code4(90));
    assert_eq!(
        transition(&r, Event::CodeLocked).step,
        Step::Code { tries_left: 0, resend_in: 0, status: CodeStatus::Locked }
    );
    assert_eq!(transition(&c, Event::Back).step, Step::Identity);
    fn code4(r: u32) -> Step {
        Step::Code { tries_left: 4, resend_in: r, status: CodeStatus::Active }
    }
}

#[test]
fn flow_code_wrong_expired_locked() {
    let s = flow(ALL, Step::Submitting(Submission::Code));
    // A wrong code keeps the resend countdown where it was (the widget counts it down from the server's duration).
    assert_eq!(
        transition(&s, Event::CodeRejected { tries_left: 2, resend_in: 41 }).step,
        Step::Code { tries_left: 2, resend_in: 41, status: CodeStatus::Wrong }
    );
    assert_eq!(
        transition(&s, Event::CodeRejected { tries_left: 0, resend_in: 41 }).step,
        Step::Code { tries_left: 0, resend_in: 0, status: CodeStatus::Locked }
    );
    let expired = transition(&s, Event::CodeExpired);
    assert_eq!(expired.step, Step::Code { tries_left: 0, resend_in: 0, status: CodeStatus::Expired });
    assert_eq!(transition(&expired, Event::ResendRequested).step, Step::Submitting(Submission::Resend));
    let locked = transition(&s, Event::CodeLocked);
    assert_eq!(transition(&locked, Event::Retry).step, Step::Identity);
    assert_eq!(transition(&locked, Event::Back).step, Step::Identity);
    let wrong = flow(ALL, code(3, CodeStatus::Wrong));
    assert_eq!(transition(&wrong, Event::CodeEntered).step, Step::Submitting(Submission::Code));
}

#[test]
fn flow_code_with_no_tries_left_cannot_be_entered() {
    let f = flow(ALL, code(0, CodeStatus::Wrong));
    assert!(
        matches!(transition(&f, Event::CodeEntered).step, Step::Error { ref code, .. } if code == codes::ILLEGAL_TRANSITION)
    );
}

#[test]
fn flow_results_from_every_submission() {
    for what in [Submission::Identity, Submission::Code, Submission::Resend, Submission::Documents] {
        let s = flow(ALL, Step::Submitting(what));
        assert_eq!(transition(&s, Event::Verified { token: "a".into() }).step, Step::Verified { token: "a".into() });
        assert_eq!(
            transition(&s, Event::InReview { due: "2026-12-04".into(), token: "b".into() }).step,
            Step::InReview { due: "2026-12-04".into(), token: "b".into() }
        );
        assert_eq!(transition(&s, Event::Failed { reason: "r".into() }).step, Step::Failed { reason: "r".into() });
    }
}

#[test]
fn flow_a_refused_identity_comes_back_to_the_form_saying_why_until_it_is_sent_again() {
    let r = Refusal::from_code;
    assert_eq!(r("identity_mismatch", Some(2), None), Some(Refusal::Mismatch(2)));
    assert_eq!(r("identity_no_record", Some(1), None), Some(Refusal::NoRecord(1)));
    assert_eq!(r("check_limit", None, Some(3600)), Some(Refusal::Limit(3600)));
    assert_eq!(r("check_unavailable", None, Some(30)), Some(Refusal::Unavailable));
    assert_eq!(r("identity_mismatch", Some(9000), None), Some(Refusal::Mismatch(255)), "clamped, never wrapped");
    for other in ["identity_mismatch_locked", "code_invalid", "network", "validation_failed"] {
        assert_eq!(r(other, Some(2), Some(30)), None, "{other}");
    }
    for (method, what) in [(Method::Sms, Submission::Identity), (Method::Documents, Submission::Documents)] {
        let sent = Flow { method: Some(method), ..flow(ALL, Step::Submitting(what)) };
        let back = transition(&sent, Event::Refused(Refusal::Mismatch(2)));
        assert_eq!((back.step.clone(), back.refusal), (Step::Identity, Some(Refusal::Mismatch(2))));
        // Still refused while the person corrects; a method list from the server changes nothing of it.
        let offered = transition(&back, Event::Offered(vec![Method::Sms, Method::Documents], vec![]));
        assert_eq!(offered.refusal, Some(Refusal::Mismatch(2)));
        // Sent again, the message goes: the next answer says what holds now.
        let again = transition(&back, Event::IdentitySubmitted { under_14: false });
        assert_eq!(again.refusal, None);
        // (The documents method takes the photos again on its way.)
        let again = if what == Submission::Documents { transition(&again, Event::DocumentsCaptured) } else { again };
        assert_eq!(transition(&again, Event::Refused(Refusal::Unavailable)).refusal, Some(Refusal::Unavailable));
        assert_eq!(transition(&back, Event::Back).refusal, None);
        assert_eq!(transition(&back, Event::Cancel).refusal, None);
    }
    // Only an identity or documents submission can be refused so.
    for what in [Submission::Code, Submission::Resend, Submission::Sync] {
        let f = transition(&flow(ALL, Step::Submitting(what)), Event::Refused(Refusal::Limit(60)));
        assert!(matches!(f.step, Step::Error { ref code, .. } if code == codes::ILLEGAL_TRANSITION), "{what:?}");
        assert_eq!(f.refusal, None);
    }
}

#[test]
fn flow_documents_capture_submits() {
    let f = flow(ALL, Step::Documents);
    assert_eq!(transition(&f, Event::DocumentsCaptured).step, Step::Submitting(Submission::Documents));
    assert_eq!(transition(&f, Event::Back).step, Step::Identity);
}

#[test]
fn flow_failed_requests_resume_where_the_server_says() {
    // After a failed request the server may or may not have acted on it: Retry asks it (never a step it refuses).
    let sync = Step::Submitting(Submission::Sync);
    for what in [Submission::Identity, Submission::Documents, Submission::Code, Submission::Resend, Submission::Sync] {
        let e = transition(&flow(ALL, Step::Submitting(what)), Event::Fail { code: "network".into() });
        assert_eq!(e.step, Step::Error { code: "network".into(), resume: Some(Box::new(sync.clone())) });
        assert_eq!(transition(&e, Event::Retry).step, sync);
        // A refusal that only says the session is elsewhere goes straight to asking, without an error screen.
        for code in [codes::WRONG_STEP, codes::RESEND_COOLDOWN] {
            assert_eq!(transition(&flow(ALL, Step::Submitting(what)), Event::Fail { code: code.into() }).step, sync);
        }
    }
    let at = |method: Option<Method>, server: ServerStep| {
        let f = Flow { method, consent_version: Some("v".into()), ..flow(ALL, sync.clone()) };
        transition(&f, Event::Synced { checks: vec![], methods: ALL.to_vec(), at: server }).step
    };
    // The network blip at the code step: the server has the code pending, so the code step comes back (not the
    // identity form, whose submit the server would refuse with wrong_step), with its tries and countdown.
    let pending = ServerStep::Code { tries_left: 3, resend_in: 17, status: CodeStatus::Active };
    assert_eq!(at(Some(Method::Sms), pending), Step::Code { tries_left: 3, resend_in: 17, status: CodeStatus::Active });
    let unsent = ServerStep::Code { tries_left: 5, resend_in: 0, status: CodeStatus::Unsent };
    assert_eq!(at(Some(Method::Sms), unsent), Step::Code { tries_left: 5, resend_in: 0, status: CodeStatus::Unsent });
    let none_left = ServerStep::Code { tries_left: 0, resend_in: 0, status: CodeStatus::Active };
    assert_eq!(at(Some(Method::Sms), none_left).name(), "code");
    assert_eq!(at(Some(Method::Sms), ServerStep::Created), Step::Identity);
    assert_eq!(at(Some(Method::Documents), ServerStep::Created), Step::Documents, "the photos are sent again");
    assert_eq!(at(None, ServerStep::Created), Step::ChooseMethod);
    assert_eq!(at(Some(Method::Documents), ServerStep::InReview).name(), "in_review");
    // The server's methods narrow the flow's on the way.
    let f = Flow { method: Some(Method::Sms), ..flow(ALL, sync.clone()) };
    let f = transition(
        &f,
        Event::Synced { checks: vec![], methods: vec![Method::Sms, Method::Email], at: ServerStep::Created },
    );
    assert_eq!((f.step, f.methods, f.confirmed), (Step::Identity, vec![Method::Sms, Method::Email], true));
    // A failure outside a request resumes where it happened.
    let e = transition(&flow(ALL, Step::Consent), Event::Fail { code: "camera".into() });
    assert_eq!(transition(&e, Event::Retry).step, Step::Consent);
    // A failure while showing an error replaces it and restarts on Retry.
    let e2 = transition(&e, Event::Fail { code: "again".into() });
    assert_eq!(e2.step, Step::Error { code: "again".into(), resume: None });
    assert_eq!(transition(&e2, Event::Retry).step, Step::Consent);
}

#[test]
fn flow_retry_after_failure_and_cancel() {
    let f = Flow {
        method: Some(Method::Sms),
        consent_version: Some("v".into()),
        ..flow(ALL, Step::Failed { reason: "r".into() })
    };
    let r = transition(&f, Event::Retry);
    assert_eq!((r.step, r.method), (Step::Identity, Some(Method::Sms)));
    let c = transition(&f.with(Step::Code { tries_left: 1, resend_in: 0, status: CodeStatus::Active }), Event::Cancel);
    assert_eq!(c.step, Step::Cancelled);
    assert_eq!(c.consent_version, None, "cancelling withdraws consent");
    let again = transition(&c, Event::Retry);
    assert_eq!((again.step, again.method), (Step::Consent, None));
}

#[test]
fn flow_cancel_from_every_live_step_and_never_from_a_final_one() {
    for step in steps() {
        let after = transition(&flow(ALL, step.clone()), Event::Cancel);
        if step.is_final() {
            assert_eq!(after.step.name(), "error", "{step:?}");
        } else {
            assert_eq!(after.step, Step::Cancelled, "{step:?}");
        }
    }
}

#[test]
fn flow_methods_are_offered_only_once_the_server_confirmed_them() {
    // Consent before the server answered: the flow asks it instead of offering the configured methods.
    let f = transition(&Flow::new(ALL), Event::ConsentGiven { version: "v".into() });
    assert_eq!(f.step, Step::Submitting(Submission::Sync));
    let f = transition(
        &f,
        Event::Synced { checks: vec![], methods: vec![Method::Sms, Method::Email], at: ServerStep::Created },
    );
    assert_eq!((f.step.clone(), f.methods.clone()), (Step::ChooseMethod, vec![Method::Sms, Method::Email]));
    // Confirmed at mount (Offered, even with nothing to narrow): consent goes straight to the choice.
    let f = transition(&Flow::new(ALL), Event::Offered(ALL.to_vec(), vec![]));
    assert!(f.confirmed);
    assert_eq!(transition(&f, Event::ConsentGiven { version: "v".into() }).step, Step::ChooseMethod);
}

#[test]
fn flow_the_consent_names_the_checks_and_is_asked_again_when_they_came_after_it() {
    let id_match = || vec![CheckNotice { check: crate::protocol::Check::IdMatch, provider: "demo".into() }];
    let v = || Event::ConsentGiven { version: "v".into() };
    let synced = |f: &Flow, checks: Vec<CheckNotice>| {
        transition(f, Event::Synced { methods: ALL.to_vec(), checks, at: ServerStep::Created })
    };
    // Named at mount: the consent step shows them, and consenting goes on.
    let f = transition(&Flow::new(ALL), Event::Offered(ALL.to_vec(), id_match()));
    assert_eq!((f.step.clone(), f.checks.clone()), (Step::Consent, id_match()));
    assert_eq!(transition(&f, v()).step, Step::ChooseMethod);
    // Consent before the server answered: once it names checks, the consent is asked again, naming them.
    let early = transition(&Flow::new(ALL), v());
    assert!(early.consented_early);
    let again = synced(&early, id_match());
    assert_eq!((again.step.clone(), again.consent_version.clone()), (Step::Consent, None));
    assert_eq!(again.checks, id_match());
    let f = transition(&again, v());
    assert_eq!(
        (f.step.clone(), f.consented_early, f.consent_version.as_deref()),
        (Step::ChooseMethod, false, Some("v"))
    );
    // Also when the mount's answer arrives while the flow asks: it confirms, but the consent came before it.
    let offered = transition(&early, Event::Offered(ALL.to_vec(), id_match()));
    assert_eq!((offered.step.clone(), offered.confirmed), (Step::Submitting(Submission::Sync), true));
    assert_eq!(synced(&offered, id_match()).step, Step::Consent);
    // No checks: nothing more to tell, the early consent stands.
    assert_eq!(synced(&early, vec![]).step, Step::ChooseMethod);
    // A later sync (after an error) never asks again.
    let later = Flow { method: Some(Method::Sms), ..f.with(Step::Submitting(Submission::Sync)) };
    assert_eq!(synced(&later, id_match()).step, Step::Identity);
}

#[test]
fn flow_a_misconfigured_page_is_an_error_without_retry_wherever_it_shows() {
    for code in codes::CONFIGURATION {
        for step in
            [Step::Consent, Step::Identity, Step::Submitting(Submission::Sync), Step::Submitting(Submission::Identity)]
        {
            let f = transition(&flow(ALL, step), Event::Fail { code: (*code).into() });
            assert_eq!(f.step, Step::Error { code: (*code).into(), resume: None });
        }
    }
    assert!(!codes::is_configuration("network") && codes::is_configuration("forbidden_origin"));
    // A session that is over: Retry starts again (a new session) instead of resuming one the server refuses.
    for code in codes::ENDED {
        let f = transition(&flow(ALL, Step::Submitting(Submission::Sync)), Event::Fail { code: (*code).into() });
        assert_eq!(f.step, Step::Error { code: (*code).into(), resume: None });
        assert_eq!(transition(&f, Event::Retry).step, Step::Consent);
    }
}

#[test]
fn flow_error_retry_without_resume_starts_over() {
    let f = flow(ALL, Step::Error { code: "x".into(), resume: None });
    assert_eq!(transition(&f, Event::Retry).step, Step::Consent);
    let documents_only = Flow::new(&[Method::Documents]);
    assert_eq!(transition(&documents_only, Event::Retry).step.name(), "error", "a bad configuration stays an error");
}

#[test]
fn flow_names_are_stable() {
    let names: Vec<_> = steps().iter().map(Step::name).collect();
    for n in [
        "consent",
        "guardian_consent",
        "method",
        "identity",
        "code",
        "documents",
        "submitting",
        "verified",
        "in_review",
        "failed",
        "cancelled",
        "error",
    ] {
        assert!(names.contains(&n), "{n}");
    }
    for m in Method::ALL {
        assert_eq!(method_named(m.as_str()), Some(m));
    }
    assert_eq!(Method::Documents.as_str(), "documents");
    // `face` is the deprecated name of the documents method: still understood, never said.
    assert_eq!(method_named(" face"), Some(Method::Documents));
    assert_eq!(method_named("fax"), None);
    assert_eq!(method_named("document"), None);
}
