//! Identity: document kind, name, number, phone or email. Validated as you type and on blur by
//! `realname_core::validate`; submit stays disabled until everything is valid.

use realname_core::flow::{Event, Method, Refusal};
use realname_core::validate::{self, Date, DocumentKind, Options};
use yew::prelude::*;

use super::consent::target_value;
use super::{Look, button, event_button, heading};
use crate::api::IdentityInput;
use crate::ctx::Input;
use crate::i18n::{Key, decimal};
use crate::messages::{Moment, contact_message, id_message, name_message};

/// The kinds a person can pick, in form order; passports are one choice (Chinese or foreign is detected).
pub const KINDS: [(DocumentKind, Key); 7] = [
    (DocumentKind::ResidentId, Key::KindResident),
    (DocumentKind::HkMoTwResidencePermit, Key::KindResidencePermit),
    (DocumentKind::ForeignPermanentResidentId, Key::KindForeignPermanent),
    (DocumentKind::Passport, Key::KindPassport),
    (DocumentKind::HkMoTravelPermit, Key::KindHkMacaoPass),
    (DocumentKind::TwTravelPermit, Key::KindTaiwanPass),
    (DocumentKind::DrivingLicence, Key::KindDrivingLicence),
];

/// Today in the person's time zone (the validators take "today" injected).
pub fn today() -> Date {
    let offset_ms = js_sys::Date::new_0().get_timezone_offset() * 60_000.0;
    Date::from_unix_millis(js_sys::Date::now() - offset_ms)
}

/// Props of [`IdentityStep`].
#[derive(Properties, PartialEq)]
pub struct IdentityProps {
    /// The widget-wide configuration, texts, event emitter and API client (see [`crate::ctx::Ctx`]).
    pub ctx: std::rc::Rc<crate::ctx::Ctx>,
    /// The chosen method (which contact field to ask for).
    pub method: Option<Method>,
    /// Called with the validated identity and whether the person is under 14.
    pub on_input: Callback<Input>,
    /// Flow events (back, cancel).
    pub on_event: Callback<Event>,
    /// Values to start from (when coming back to the form).
    #[prop_or_default]
    pub initial: Option<IdentityInput>,
    /// Why the identity checks refused the identity just sent, if they did.
    #[prop_or_default]
    pub refusal: Option<Refusal>,
}

/// What to tell about a refusal by the identity checks: what is wrong and what to do, with the tries left.
fn refusal_text(ctx: &crate::ctx::Ctx, r: Refusal) -> String {
    let (key, left) = match r {
        Refusal::Mismatch(n) => (Key::CheckMismatch, n),
        Refusal::NoRecord(n) => (Key::CheckNoRecord, n),
        // Whole hours, rounded up: the daily limit ends at midnight UTC.
        Refusal::Limit(secs) => return ctx.tf(Key::CheckLimit, &[("hours", &decimal(secs.div_ceil(3600).max(1)))]),
        Refusal::Unavailable => return ctx.t(Key::CheckUnavailable),
    };
    let tries =
        if left == 1 { ctx.t(Key::CodeTriesOne) } else { ctx.tf(Key::CodeTries, &[("n", &decimal(left.into()))]) };
    // Chinese sentences run on without a space after their full stop.
    let sep = if ctx.texts.locale == crate::i18n::Locale::En { " " } else { "" };
    ctx.t(key) + sep + &tries
}

/// The fields the person has left (or the form was submitted), as bits of a `u32`: the same state type as the
/// code step's countdown, so Yew's state hook is compiled once for both (each distinct type costs its own copy).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field {
    Name = 1,
    Number = 2,
    Contact = 4,
}

/// Every field's bit.
const ALL_FIELDS: u32 = 7;

/// One text field.
struct Field_ {
    id: &'static str,
    label: String,
    value: String,
    hint: Option<String>,
    error: Option<String>,
    warnings: Vec<String>,
    kind: &'static str,
    inputmode: Option<&'static str>,
    autocomplete: &'static str,
    oninput: Callback<InputEvent>,
    onblur: Callback<FocusEvent>,
}

/// A labelled input whose hint and error are tied to it with `aria-describedby`.
fn text_field(p: Field_) -> Html {
    let hint_id = format!("{}-hint", p.id);
    let err_id = format!("{}-error", p.id);
    let mut described = Vec::new();
    if p.hint.is_some() {
        described.push(hint_id.clone());
    }
    if p.error.is_some() || !p.warnings.is_empty() {
        described.push(err_id.clone());
    }
    html! {
        <div class="rn-field" part="field">
            <label for={p.id} part="label">{ &p.label }</label>
            if let Some(h) = &p.hint { <p class="rn-hint" id={hint_id}>{ h }</p> }
            <input id={p.id} type={p.kind} value={p.value} part="input"
                inputmode={p.inputmode} autocomplete={p.autocomplete}
                spellcheck="false" autocapitalize="off" required=true
                aria-invalid={if p.error.is_some() { "true" } else { "false" }}
                aria-describedby={if described.is_empty() { None } else { Some(described.join(" ")) }}
                oninput={p.oninput} onblur={p.onblur} />
            <div id={err_id} aria-live="polite">
                if let Some(e) = &p.error { <p class="rn-error" part="error">{ e }</p> }
                { for p.warnings.iter().map(|w| html! { <p class="rn-hint" part="warning">{ w }</p> }) }
            </div>
        </div>
    }
}

/// The identity form.
#[component]
pub fn IdentityStep(props: &IdentityProps) -> Html {
    let ctx = &props.ctx;
    let init = props.initial.clone();
    // The chosen kind as its index in KINDS (a `u32`, for the reason given at `Field`).
    let kind_index = use_state(|| {
        let kind = init.as_ref().map_or(DocumentKind::ResidentId, |i| i.kind);
        let kind = if kind == DocumentKind::ChinesePassport { DocumentKind::Passport } else { kind };
        KINDS.iter().position(|(k, _)| *k == kind).unwrap_or(0) as u32
    });
    let kind = KINDS.get(*kind_index as usize).map_or(DocumentKind::ResidentId, |(k, _)| *k);
    let name = use_state(|| init.as_ref().map(|i| i.name.clone()).unwrap_or_default());
    let number = use_state(|| init.as_ref().map(|i| i.number.clone()).unwrap_or_default());
    let contact =
        use_state(|| init.as_ref().and_then(|i| i.phone.clone().or_else(|| i.email.clone())).unwrap_or_default());
    let left = use_state(|| if init.is_some() { ALL_FIELDS } else { 0 });
    let method = props.method.unwrap_or(Method::Sms);
    let moment = |f: Field| if *left & f as u32 != 0 { Moment::Left } else { Moment::Typing };

    // Passports: a Chinese passport number has its own rules; any other is checked as a foreign passport.
    let check_kind = match kind {
        DocumentKind::Passport if validate::is_chinese_passport(&validate::normalize_id(&number)) => {
            DocumentKind::ChinesePassport
        }
        k => k,
    };
    let id = validate::validate_id(&number, &Options::new(today()).kind(check_kind));
    let name_check = validate::validate_name(&name);
    let contact_check = match method {
        Method::Sms => Some(validate::validate_phone(&contact)),
        Method::Email => Some(validate::validate_email(&contact)),
        Method::Documents => None,
    };
    let valid = id.valid && name_check.valid && contact_check.as_ref().is_none_or(|c| c.valid);

    let (id_error, id_warnings) = id_message(ctx, &id, moment(Field::Number));
    let name_error = name_message(ctx, &name_check, moment(Field::Name));
    let contact_error =
        contact_check.as_ref().and_then(|c| contact_message(ctx, c, moment(Field::Contact), method == Method::Sms));

    let input = |state: UseStateHandle<String>| Callback::from(move |e: InputEvent| state.set(target_value(&e.into())));
    let blur = |f: Field| {
        let left = left.clone();
        Callback::from(move |_: FocusEvent| {
            if *left & f as u32 == 0 {
                left.set(*left | f as u32);
            }
        })
    };
    let on_kind = {
        let kind_index = kind_index.clone();
        Callback::from(move |e: web_sys::Event| {
            let v = e.target_dyn_into::<web_sys::HtmlSelectElement>().map(|s| s.value()).unwrap_or_default();
            if let Some(i) = KINDS.iter().position(|(k, _)| k.as_str() == v) {
                kind_index.set(i as u32);
            }
        })
    };
    let submit = {
        let cb = props.on_input.clone();
        let left = left.clone();
        let input = IdentityInput {
            kind: id.kind,
            name: name_check.normalized.clone(),
            number: id.upgraded.clone().unwrap_or_else(|| id.normalized.clone()),
            phone: (method == Method::Sms)
                .then(|| contact_check.as_ref().map(|c| c.normalized.clone()).unwrap_or_default()),
            email: (method == Method::Email)
                .then(|| contact_check.as_ref().map(|c| c.normalized.clone()).unwrap_or_default()),
        };
        let under_14 = id.under_14 == Some(true);
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if valid {
                cb.emit(Input::Identity(input.clone(), under_14));
            } else {
                left.set(ALL_FIELDS);
            }
        })
    };
    let contact_field = match method {
        Method::Sms => text_field(Field_ {
            id: "rn-phone",
            label: ctx.t(Key::IdentityPhone),
            value: (*contact).clone(),
            hint: None,
            error: contact_error,
            warnings: Vec::new(),
            kind: "tel",
            inputmode: Some("tel"),
            autocomplete: "tel-national",
            oninput: input(contact.clone()),
            onblur: blur(Field::Contact),
        }),
        Method::Email => text_field(Field_ {
            id: "rn-email",
            label: ctx.t(Key::IdentityEmail),
            value: (*contact).clone(),
            hint: None,
            error: contact_error,
            warnings: Vec::new(),
            kind: "email",
            inputmode: Some("email"),
            autocomplete: "email",
            oninput: input(contact.clone()),
            onblur: blur(Field::Contact),
        }),
        Method::Documents => html! {},
    };
    html! {
        <form part="step step-identity" novalidate=true onsubmit={submit}>
            { heading(ctx, Key::IdentityHeading) }
            if let Some(r) = props.refusal {
                <p class="rn-error" id="rn-refusal" role="alert" part="error">{ refusal_text(ctx, r) }</p>
            }
            <div class="rn-field" part="field">
                <label for="rn-kind" part="label">{ ctx.t(Key::IdentityKind) }</label>
                <select id="rn-kind" part="select" onchange={on_kind}>
                    { for KINDS.iter().map(|(k, key)| html! {
                        <option value={k.as_str()} selected={*k == kind}>{ ctx.t(*key) }</option>
                    }) }
                </select>
            </div>
            { text_field(Field_ {
                id: "rn-name", label: ctx.t(Key::IdentityName), value: (*name).clone(), hint: Some(ctx.t(Key::IdentityNameHint)),
                error: name_error, warnings: Vec::new(), kind: "text", inputmode: None, autocomplete: "name",
                oninput: input(name.clone()), onblur: blur(Field::Name),
            }) }
            { text_field(Field_ {
                id: "rn-number", label: ctx.t(Key::IdentityNumber), value: (*number).clone(), hint: None, error: id_error,
                warnings: id_warnings, kind: "text", inputmode: None, autocomplete: "off",
                oninput: input(number.clone()), onblur: blur(Field::Number),
            }) }
            { contact_field }
            if !valid && *left != 0 {
                <p class="rn-hint" id="rn-identity-status" role="status">{ ctx.t(Key::IdentityFixFirst) }</p>
            }
            <div class="rn-actions">
                { event_button(ctx, Look::Secondary, Key::Back, &props.on_event, Event::Back) }
                { button(Look::Primary, "submit", ctx.t(Key::IdentitySubmit), !valid, None) }
            </div>
        </form>
    }
}
