//! The one-time code: one numeric input (`autocomplete="one-time-code"`), paste of the whole code, WebOTP where
//! the browser has it, resend with a visible countdown, tries left, expired and locked states.

use realname_core::flow::{CodeStatus, Event, Method};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use yew::prelude::*;

use super::consent::target_value;
use super::{Look, button, event_button, heading};
use crate::ctx::Input;
use crate::events::object;
use crate::i18n::{Key, decimal};

/// Digits in a code.
pub const CODE_LEN: usize = 6;

/// The code typed or pasted, reduced to its digits (full-width digits count too), at most six.
pub fn clean_code(raw: &str) -> String {
    raw.chars()
        .filter_map(|c| match c {
            '0'..='9' => Some(c),
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
            _ => None,
        })
        .take(CODE_LEN)
        .collect()
}

/// Props of [`CodeStep`].
#[derive(Properties, PartialEq)]
pub struct CodeProps {
    /// The widget-wide configuration, texts, event emitter and API client (see [`crate::ctx::Ctx`]).
    pub ctx: std::rc::Rc<crate::ctx::Ctx>,
    /// Tries left.
    pub tries_left: u8,
    /// Seconds until resend.
    pub resend_in: u32,
    /// Active, wrong, expired or locked.
    pub status: CodeStatus,
    /// SMS or email.
    pub method: Option<Method>,
    /// Masked destination.
    pub destination: Option<String>,
    /// Called with a complete code.
    pub on_input: Callback<Input>,
    /// Flow events (resend, back, retry, cancel).
    pub on_event: Callback<Event>,
}

/// Asks the browser for the code from the SMS (WebOTP); resolves with the code, or never when unavailable.
async fn web_otp(signal: web_sys::AbortSignal) -> Option<String> {
    let nav: JsValue = web_sys::window()?.navigator().into();
    let creds = js_sys::Reflect::get(&nav, &"credentials".into()).ok().filter(|c| !c.is_undefined())?;
    // Feature test: only browsers with OTPCredential support the `otp` option.
    let window: JsValue = web_sys::window()?.into();
    if js_sys::Reflect::get(&window, &"OTPCredential".into()).ok()?.is_undefined() {
        return None;
    }
    let get: js_sys::Function = js_sys::Reflect::get(&creds, &"get".into()).ok()?.dyn_into().ok()?;
    let transport = js_sys::Array::of1(&"sms".into());
    let opts = object(&[("otp", object(&[("transport", transport.into())])), ("signal", signal.into())]);
    let promise: js_sys::Promise = get.call1(&creds, &opts).ok()?.dyn_into().ok()?;
    let otp = JsFuture::from(promise).await.ok()?;
    js_sys::Reflect::get(&otp, &"code".into()).ok()?.as_string()
}

/// The code step.
#[component]
pub fn CodeStep(props: &CodeProps) -> Html {
    let ctx = &props.ctx;
    let code = use_state(String::new);
    let countdown = use_state(|| props.resend_in);
    let locked = props.status == CodeStatus::Locked;
    // No code to enter: it expired, or none went out yet; resend is the way on.
    let expired = matches!(props.status, CodeStatus::Expired | CodeStatus::Unsent);
    let can_enter = !locked && !expired && props.tries_left > 0;

    {
        // A visible countdown to resend, one tick a second.
        let countdown = countdown.clone();
        use_effect_with(*countdown, move |left| {
            let timer = (*left > 0).then(|| {
                let next = *left - 1;
                gloo_timers::callback::Timeout::new(1_000, move || countdown.set(next))
            });
            move || drop(timer)
        });
    }
    {
        // WebOTP: the browser offers the code from the SMS; aborted when the step goes away.
        let on_input = props.on_input.clone();
        let code = code.clone();
        let sms = props.method == Some(Method::Sms) && can_enter;
        use_effect_with(sms, move |sms| {
            let ctrl = web_sys::AbortController::new().ok();
            if let (true, Some(c)) = (*sms, &ctrl) {
                let signal = c.signal();
                wasm_bindgen_futures::spawn_local(async move {
                    if let Some(otp) = web_otp(signal).await {
                        let otp = clean_code(&otp);
                        if otp.len() == CODE_LEN {
                            code.set(otp.clone());
                            on_input.emit(Input::Code(otp));
                        }
                    }
                });
            }
            move || {
                if let Some(c) = ctrl {
                    c.abort();
                }
            }
        });
    }

    let oninput = {
        let (code, on_input) = (code.clone(), props.on_input.clone());
        Callback::from(move |e: InputEvent| {
            let raw = target_value(&e.clone().into());
            let v = clean_code(&raw);
            // A pasted or autofilled whole code submits at once; typing the sixth digit does too.
            if v.len() == CODE_LEN && v != *code {
                on_input.emit(Input::Code(v.clone()));
            }
            if let Some(input) = e.target_dyn_into::<web_sys::HtmlInputElement>()
                && input.value() != v
            {
                input.set_value(&v);
            }
            code.set(v);
        })
    };
    let onsubmit = {
        let (code, on_input) = (code.clone(), props.on_input.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if code.len() == CODE_LEN {
                on_input.emit(Input::Code((*code).clone()));
            }
        })
    };
    let sent_to = props.destination.clone().map(|to| match props.method {
        Some(Method::Email) => ctx.tf(Key::CodeSentEmail, &[("to", &to)]),
        _ => ctx.tf(Key::CodeSentSms, &[("to", &to)]),
    });
    let status = match props.status {
        CodeStatus::Active => None,
        CodeStatus::Wrong => Some(ctx.t(Key::CodeWrong)),
        CodeStatus::Expired => Some(ctx.t(Key::CodeExpired)),
        CodeStatus::Locked => Some(ctx.t(Key::CodeLocked)),
        CodeStatus::Unsent => Some(ctx.t(Key::CodeUnsent)),
    };
    let tries = match props.tries_left {
        1 => ctx.t(Key::CodeTriesOne),
        n => ctx.tf(Key::CodeTries, &[("n", &decimal(n.into()))]),
    };
    let resend = {
        let on_event = props.on_event.clone();
        Callback::from(move |_: MouseEvent| on_event.emit(Event::ResendRequested))
    };
    let resend_text = if *countdown > 0 {
        ctx.tf(Key::CodeResendIn, &[("seconds", &decimal(*countdown))])
    } else {
        ctx.t(Key::CodeResend)
    };
    html! {
        <form part="step step-code" novalidate=true onsubmit={onsubmit}>
            { heading(ctx, Key::CodeHeading) }
            if let Some(s) = sent_to { <p>{ s }</p> }
            <div class="rn-field" part="field">
                <label for="rn-code" part="label">{ ctx.t(Key::CodeLabel) }</label>
                <input id="rn-code" class="rn-code" part="input input-code" type="text" inputmode="numeric"
                    autocomplete="one-time-code" pattern="[0-9]*" maxlength="12" value={(*code).clone()}
                    disabled={!can_enter} aria-invalid={if props.status == CodeStatus::Wrong { "true" } else { "false" }}
                    aria-describedby="rn-code-status" oninput={oninput} />
                <div id="rn-code-status" aria-live="polite" role="status">
                    // Wrong, expired and locked are all errors the person must act on: one error tone for all.
                    if let Some(s) = status { <p class="rn-error" part="error">{ s }</p> }
                    if can_enter { <p class="rn-hint" part="hint">{ tries }</p> }
                </div>
            </div>
            <div class="rn-actions">
                if locked {
                    { event_button(ctx, Look::Primary, Key::Restart, &props.on_event, Event::Retry) }
                } else {
                    // An expired code: resend is the only way on, so it takes the primary place of a submit that
                    // cannot work.
                    if !expired { { button(Look::Primary, "submit", ctx.t(Key::CodeSubmit), !can_enter || code.len() != CODE_LEN, None) } }
                    { button(if expired { Look::Primary } else { Look::Secondary }, "button", resend_text, *countdown > 0, Some(resend)) }
                }
                // Back leads to the identity form, whose change needs a new session: only where the widget can open one.
                if ctx.api.can_restart() { { event_button(ctx, Look::Secondary, Key::Back, &props.on_event, Event::Back) } }
            </div>
        </form>
    }
}
