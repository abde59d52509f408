//! Guardian consent when the birth date shows a child under 14 (PIPL art. 31).

use realname_core::flow::Event;
use yew::prelude::*;

use super::consent::target_checked;
use super::{heading, use_ctx};
use crate::i18n::Key;

/// Props of [`GuardianStep`].
#[derive(Properties, PartialEq)]
pub struct GuardianProps {
    /// Flow events.
    pub on_event: Callback<Event>,
}

/// The guardian consent step.
#[component]
pub fn GuardianStep(props: &GuardianProps) -> Html {
    let ctx = use_ctx();
    let checked = use_state(|| false);
    let toggle = {
        let checked = checked.clone();
        Callback::from(move |e: web_sys::Event| checked.set(target_checked(&e)))
    };
    let agree = {
        let (c, cb) = (*checked, props.on_event.clone());
        Callback::from(move |_: MouseEvent| {
            if c {
                cb.emit(Event::GuardianConsentGiven)
            }
        })
    };
    html! {
        <div part="step step-guardian">
            { heading(&ctx, Key::GuardianHeading) }
            <p id="rn-guardian-text">{ ctx.t(Key::GuardianBody) }</p>
            <label class="rn-check" part="checkbox">
                <input type="checkbox" id="rn-guardian" checked={*checked} onchange={toggle} aria-describedby="rn-guardian-text" />
                <span>{ ctx.t(Key::GuardianCheckbox) }</span>
            </label>
            <div class="rn-actions">
                <button type="button" class="rn-secondary" part="button button-secondary" onclick={props.on_event.reform(|_: MouseEvent| Event::Back)}>{ ctx.t(Key::Back) }</button>
                <button type="button" part="button button-primary" disabled={!*checked} onclick={agree}>{ ctx.t(Key::GuardianAgree) }</button>
            </div>
        </div>
    }
}
