//! The root component: one `use_reducer` around the flow, the widget-wide [`Ctx`] handed to the step, and the
//! effects that talk to the server.

use std::cell::RefCell;
use std::rc::Rc;

use realname_core::flow::{self, Event, Flow, Method, Step, Submission};
use wasm_bindgen::JsValue;
use yew::prelude::*;

use crate::api::{Api, Secrets};
use crate::components::{
    code::CodeStep, consent::ConsentStep, documents::DocumentsStep, guardian::GuardianStep, identity::IdentityStep,
    method::MethodStep, result::ResultStep, submitting::SubmittingStep,
};
use crate::config::Config;
use crate::ctx::{Ctx, Input, now_secs};
use crate::events::{Emitter, Kind, object};
use crate::i18n::{Key, Locale, Texts};

/// The flow inside Yew's reducer, with the states it went through since the last effect ran: Yew may render twice
/// before running effects, and every step must still be announced to the host, in order.
#[derive(Debug)]
pub struct FlowState {
    /// The current flow.
    pub flow: Flow,
    /// Counts transitions, so the effect runs after each one.
    pub seq: u64,
    trail: Rc<RefCell<Vec<Flow>>>,
}

impl PartialEq for FlowState {
    fn eq(&self, other: &Self) -> bool {
        self.seq == other.seq && self.flow == other.flow
    }
}

impl FlowState {
    fn new(flow: Flow) -> FlowState {
        FlowState { trail: Rc::new(RefCell::new(vec![flow.clone()])), flow, seq: 0 }
    }

    /// The states not yet announced, oldest first.
    fn drain(&self) -> Vec<Flow> {
        std::mem::take(&mut *self.trail.borrow_mut())
    }
}

impl Reducible for FlowState {
    type Action = Event;

    fn reduce(self: Rc<Self>, event: Event) -> Rc<Self> {
        let flow = flow::transition(&self.flow, event);
        if flow == self.flow {
            return self;
        }
        // Only a new step is announced (and may start a request); a narrowed method list keeps the step.
        if flow.step != self.flow.step {
            self.trail.borrow_mut().push(flow.clone());
        }
        Rc::new(FlowState { flow, seq: self.seq + 1, trail: self.trail.clone() })
    }
}

/// Props of the root: fixed at mount except `locale`.
#[derive(Properties, Clone, Debug)]
pub struct AppProps {
    /// The site's options.
    pub config: Rc<Config>,
    /// The current language.
    pub locale: Locale,
    /// Events to the host.
    pub emitter: Emitter,
    /// The API client.
    pub api: Rc<Api>,
}

impl PartialEq for AppProps {
    fn eq(&self, o: &Self) -> bool {
        Rc::ptr_eq(&self.config, &o.config) && self.locale == o.locale && Rc::ptr_eq(&self.api, &o.api)
    }
}

/// Emits `step`, and for final steps `complete` / `cancel` / `error`.
fn announce(emitter: &Emitter, flow: &Flow) {
    let step = &flow.step;
    let method = flow.method.map(|m| JsValue::from_str(m.as_str())).unwrap_or(JsValue::NULL);
    emitter.emit(Kind::Step, object(&[("step", step.name().into()), ("method", method.clone())]));
    match step {
        Step::Verified { token } => emitter.emit(
            Kind::Complete,
            object(&[("status", "verified".into()), ("token", token.into()), ("method", method)]),
        ),
        Step::InReview { due, token } => emitter.emit(
            Kind::Complete,
            object(&[
                ("status", "pending_review".into()),
                ("token", if token.is_empty() { JsValue::NULL } else { token.into() }),
                // After a lost answer the widget learns only that a review is pending, not when it is due.
                ("reviewDue", if due.is_empty() { JsValue::NULL } else { due.into() }),
                ("method", method),
            ]),
        ),
        Step::Failed { reason } => emitter.emit(
            Kind::Complete,
            object(&[
                ("status", "failed".into()),
                ("token", JsValue::NULL),
                ("reason", reason.into()),
                ("method", method),
            ]),
        ),
        Step::Cancelled => emitter.emit(Kind::Cancel, object(&[])),
        Step::Error { code, .. } => emitter.emit(Kind::Error, object(&[("code", code.into())])),
        _ => {}
    }
}

/// The widget.
#[component]
pub fn App(props: &AppProps) -> Html {
    let config = props.config.clone();
    let flow = use_reducer(|| FlowState::new(Flow::new(&config.methods)));
    // Personal data between the step that collects it and the request that seals it; dropped on every final
    // step and when the widget is destroyed.
    let secrets = use_mut_ref(Secrets::default);
    let root = use_node_ref();
    let first = use_mut_ref(|| true);
    let ctx = Rc::new(Ctx {
        config: props.config.clone(),
        texts: Texts::new(props.locale, props.config.strings.clone()),
        emitter: props.emitter.clone(),
        api: props.api.clone(),
    });

    {
        // Once, after the first render: `ready`, then the configuration is checked by opening the session: its
        // methods narrow the offer (documents shows only where the site enabled it), and a misconfigured page
        // (origin, key, client secret, site) becomes an error at once. A network failure says nothing yet: the flow
        // asks the server again before it offers a method.
        let emitter = props.emitter.clone();
        let locale = props.locale;
        let (api, dispatcher) = (props.api.clone(), flow.dispatcher());
        use_effect_with((), move |_| {
            emitter.emit(
                Kind::Ready,
                object(&[("version", env!("CARGO_PKG_VERSION").into()), ("locale", locale.tag().into())]),
            );
            wasm_bindgen_futures::spawn_local(async move {
                match api.check().await {
                    Ok((methods, checks)) => dispatcher.dispatch(Event::Offered(methods, checks)),
                    Err(code)
                        if flow::codes::is_configuration(&code) || flow::codes::ENDED.contains(&code.as_str()) =>
                    {
                        dispatcher.dispatch(Event::Fail { code })
                    }
                    Err(_) => {}
                }
            });
        });
    }

    {
        let api = props.api.clone();
        let secrets = secrets.clone();
        let state = flow.clone();
        let emitter = props.emitter.clone();
        let dispatcher = flow.dispatcher();
        let root = root.clone();
        let first = first.clone();
        use_effect_with(flow.seq, move |_| {
            let passed = state.drain();
            if passed.is_empty() {
                return;
            }
            for passed in passed {
                announce(&emitter, &passed);
            }
            let step = &state.flow.step;
            // A result or a cancellation ends the need for the personal data; an error keeps it for the retry
            // (still only in memory, and dropped by `destroy()`).
            if step.is_final() && !matches!(step, Step::Error { .. }) {
                *secrets.borrow_mut() = Secrets::default();
            }
            // A session that cannot go on is dropped: the next attempt opens a new one.
            if matches!(
                step,
                Step::Failed { .. }
                    | Step::Code { status: flow::CodeStatus::Locked, .. }
                    | Step::Error { resume: None, .. }
            ) {
                api.forget_session();
            }
            if matches!(step, Step::Cancelled) {
                let api = api.clone();
                wasm_bindgen_futures::spawn_local(async move { api.cancel().await });
            }
            if let Step::Submitting(what) = step {
                submit(*what, state.flow.method.unwrap_or(Method::Sms), api, secrets, dispatcher);
            }
            // Focus follows the flow, but never on first render: that would steal focus from the host page.
            if !std::mem::replace(&mut *first.borrow_mut(), false) {
                focus_heading(&root);
            }
        });
    }
    // Two callbacks for every step (each closure costs its own vtable and drop glue in the wasm). Flow events:
    // the consent's and the guardian's times and the consent's version travel with the identity (protocol
    // `consent`, `guardian_consent`), so they are kept.
    let dispatch = {
        let (secrets, flow, api) = (secrets.clone(), flow.clone(), props.api.clone());
        Callback::from(move |e: Event| {
            match &e {
                // Back from the code step: the server keeps the identity it accepted, so changing it needs a new
                // session. The widget cancels this one; the corrected identity opens the next (the code step
                // offers Back only where the widget can open sessions itself, see `Api::can_restart`).
                Event::Back if matches!(flow.flow.step, Step::Code { .. }) => {
                    let api = api.clone();
                    wasm_bindgen_futures::spawn_local(async move { api.cancel().await });
                }
                Event::ConsentGiven { version } => {
                    let mut s = secrets.borrow_mut();
                    s.consent_at = Some(now_secs());
                    s.consent_version = Some(version.clone());
                }
                Event::GuardianConsentGiven => secrets.borrow_mut().guardian_at = Some(now_secs()),
                _ => {}
            }
            flow.dispatch(e);
        })
    };
    // Personal data, kept in memory for the request that seals it.
    let on_input = {
        let (secrets, flow) = (secrets.clone(), flow.clone());
        Callback::from(move |input: Input| {
            let mut s = secrets.borrow_mut();
            let event = match input {
                Input::Identity(identity, under_14) => {
                    s.identity = Some(identity);
                    Event::IdentitySubmitted { under_14 }
                }
                Input::Code(code) => {
                    s.code = Some(code);
                    Event::CodeEntered
                }
                Input::Documents(photos) => {
                    s.documents = Some(photos);
                    Event::DocumentsCaptured
                }
            };
            drop(s);
            flow.dispatch(event);
        })
    };

    let f = &flow.flow;
    let body = match &f.step {
        Step::Consent => {
            html! { <ConsentStep ctx={ctx.clone()} checks={f.checks.clone()} on_event={dispatch.clone()} /> }
        }
        Step::GuardianConsent => html! { <GuardianStep ctx={ctx.clone()} on_event={dispatch.clone()} /> },
        Step::ChooseMethod => {
            html! { <MethodStep ctx={ctx.clone()} methods={f.methods.clone()} on_event={dispatch.clone()} /> }
        }
        Step::Identity => html! {
            <IdentityStep ctx={ctx.clone()} method={f.method} on_input={on_input.clone()} on_event={dispatch.clone()}
                initial={secrets.borrow().identity.clone()} refusal={f.refusal} />
        },
        Step::Code { tries_left, resend_in, status } => html! {
            <CodeStep ctx={ctx.clone()} tries_left={*tries_left} resend_in={*resend_in} status={*status} method={f.method}
                destination={props.api.destination()} on_input={on_input.clone()} on_event={dispatch.clone()} />
        },
        Step::Documents => {
            html! { <DocumentsStep ctx={ctx.clone()} on_input={on_input} on_event={dispatch.clone()} /> }
        }
        Step::Submitting(what) => {
            let text = if *what == Submission::Sync { Key::Connecting } else { Key::Submitting };
            html! { <SubmittingStep ctx={ctx.clone()} text={text} /> }
        }
        step => html! { <ResultStep ctx={ctx.clone()} step={step.clone()} on_event={dispatch.clone()} /> },
    };
    html! {
        <section class="rn" part="container" lang={props.locale.tag()} ref={root} data-step={f.step.name()}>
            <p class="rn-title" part="title">{ ctx.t(Key::Title) }</p>
            { body }
        </section>
    }
}

fn focus_heading(root: &NodeRef) {
    if let Some(h) = root
        .cast::<web_sys::Element>()
        .and_then(|r| r.query_selector("h2").ok().flatten())
        .and_then(|h| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(h).ok())
    {
        let _ = h.focus();
    }
}

/// Runs the request for `what` and feeds the answer back into the flow.
fn submit(
    what: Submission,
    method: Method,
    api: Rc<Api>,
    secrets: Rc<RefCell<Secrets>>,
    dispatcher: UseReducerDispatcher<FlowState>,
) {
    wasm_bindgen_futures::spawn_local(async move {
        let event = match what {
            Submission::Identity => {
                let s = secrets.borrow().clone();
                api.submit_identity(&s, method).await
            }
            Submission::Code => {
                let code = secrets.borrow_mut().code.take().unwrap_or_default();
                api.submit_code(&code).await
            }
            Submission::Resend => api.resend().await,
            Submission::Sync => api.sync().await,
            Submission::Documents => {
                let s = secrets.borrow().clone();
                api.submit_documents(&s).await
            }
        };
        dispatcher.dispatch(event);
    });
}
