//! Guardian consent when the birth date shows a child under 14 (PIPL art. 31).

use realname_core::flow::Event;
use yew::prelude::*;

use super::consent::target_checked;
use super::{Look, button, checkbox, event_button, heading};
use crate::i18n::Key;

/// Props of [`GuardianStep`].
#[derive(Properties, PartialEq)]
pub struct GuardianProps {
    /// The widget-wide configuration, texts, event emitter and API client (see [`crate::ctx::Ctx`]).
    pub ctx: std::rc::Rc<crate::ctx::Ctx>,
    /// Flow events.
    pub on_event: Callback<Event>,
}

/// The guardian consent step.
#[component]
pub fn GuardianStep(props: &GuardianProps) -> Html {
    let ctx = &props.ctx;
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
            { heading(ctx, Key::GuardianHeading) }
            <p id="rn-guardian-text">{ ctx.t(Key::GuardianBody) }</p>
            { checkbox("rn-guardian", *checked, Some("rn-guardian-text"), ctx.t(Key::GuardianCheckbox), toggle) }
            <div class="rn-actions">
                { event_button(ctx, Look::Secondary, Key::Back, &props.on_event, Event::Back) }
                { button(Look::Primary, "button", ctx.t(Key::GuardianAgree), !*checked, Some(agree)) }
            </div>
        </div>
    }
}
