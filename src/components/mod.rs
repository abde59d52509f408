//! One component per step of the flow. Each reads the widget-wide `Ctx` from its props and reports upward through
//! `Callback` props.

pub mod code;
pub mod consent;
pub mod documents;
pub mod guardian;
pub mod identity;
pub mod method;
pub mod result;
pub mod submitting;

use realname_core::flow::Event;
use yew::prelude::*;

use crate::ctx::Ctx;
use crate::i18n::Key;

/// A step's heading: focusable so focus can move to it when the step appears. A function, not a component:
/// every component costs its own copy of Yew's lifecycle code in the size budget.
pub fn heading(ctx: &Ctx, text: Key) -> Html {
    html! { <h2 tabindex="-1" part="heading">{ ctx.t(text) }</h2> }
}

/// How a button looks: a step's main action, or one of its other actions.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Look {
    /// `part="button button-primary"`.
    Primary,
    /// `part="button button-secondary"`, class `rn-secondary`.
    Secondary,
}

/// A button of any step (`kind` is `button` or `submit`). The steps build every button here rather than in their
/// own `html!`: each `html!` element is inlined construction code, so one shared builder keeps the wasm small.
pub fn button(
    look: Look,
    kind: &'static str,
    text: String,
    disabled: bool,
    onclick: Option<Callback<MouseEvent>>,
) -> Html {
    match look {
        Look::Primary => html! {
            <button type={kind} part="button button-primary" disabled={disabled} onclick={onclick}>{ text }</button>
        },
        Look::Secondary => html! {
            <button type={kind} class="rn-secondary" part="button button-secondary" disabled={disabled} onclick={onclick}>{ text }</button>
        },
    }
}

/// A button that sends `event` to the flow. One closure type for all of them (each distinct closure would cost
/// its own vtable and drop glue).
pub fn event_button(ctx: &Ctx, look: Look, text: Key, on_event: &Callback<Event>, event: Event) -> Html {
    let on_event = on_event.clone();
    button(look, "button", ctx.t(text), false, Some(Callback::from(move |_: MouseEvent| on_event.emit(event.clone()))))
}

/// A consent checkbox with its label text, optionally described by the text it agrees to.
pub fn checkbox(
    id: &'static str,
    checked: bool,
    described_by: Option<&'static str>,
    text: String,
    onchange: Callback<web_sys::Event>,
) -> Html {
    html! {
        <label class="rn-check" part="checkbox">
            <input type="checkbox" id={id} checked={checked} onchange={onchange} aria-describedby={described_by} />
            <span>{ text }</span>
        </label>
    }
}
