//! Waiting for the server.

use yew::prelude::*;

use crate::i18n::Key;

/// Props of [`SubmittingStep`].
#[derive(Properties, PartialEq)]
pub struct SubmittingProps {
    /// The widget-wide configuration, texts, event emitter and API client (see [`crate::ctx::Ctx`]).
    pub ctx: std::rc::Rc<crate::ctx::Ctx>,
    /// What the page waits for (sending, or asking the server where the session is).
    pub text: Key,
}

/// The waiting screen; the status is announced to screen readers.
#[component]
pub fn SubmittingStep(props: &SubmittingProps) -> Html {
    let ctx = &props.ctx;
    html! {
        <div part="step step-submitting" aria-busy="true">
            <h2 tabindex="-1" part="heading">{ ctx.t(props.text) }</h2>
            <div class="rn-spinner" aria-hidden="true"></div>
            <p class="rn-sr" role="status" aria-live="polite">{ ctx.t(props.text) }</p>
        </div>
    }
}
