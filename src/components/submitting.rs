//! Waiting for the server.

use yew::prelude::*;

use super::use_ctx;
use crate::i18n::Key;

/// The waiting screen; the status is announced to screen readers.
#[component]
pub fn SubmittingStep() -> Html {
    let ctx = use_ctx();
    html! {
        <div part="step step-submitting" aria-busy="true">
            <h2 tabindex="-1" part="heading">{ ctx.t(Key::Submitting) }</h2>
            <div class="rn-spinner" aria-hidden="true"></div>
            <p class="rn-sr" role="status" aria-live="polite">{ ctx.t(Key::Submitting) }</p>
        </div>
    }
}
