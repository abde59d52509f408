//! One component per step of the flow. Each reads the context and reports upward through `Callback` props.

pub mod code;
pub mod consent;
pub mod face;
pub mod guardian;
pub mod identity;
pub mod method;
pub mod result;
pub mod submitting;

use yew::prelude::*;

use crate::app::Ctx;
use crate::i18n::Key;

/// The context, which every step renders under.
#[hook]
pub fn use_ctx() -> Ctx {
    match use_context::<Ctx>() {
        Some(c) => c,
        // Only reachable if a step is rendered outside `App`; fall back to defaults rather than panic.
        None => crate::app::fallback_ctx(),
    }
}

/// A step's heading: focusable so focus can move to it when the step appears. A function, not a component:
/// every component costs its own copy of Yew's lifecycle code in the size budget.
pub fn heading(ctx: &Ctx, text: Key) -> Html {
    html! { <h2 tabindex="-1" part="heading">{ ctx.t(text) }</h2> }
}
