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

/// Props of a step heading.
#[derive(Properties, PartialEq)]
pub struct HeadingProps {
    /// The heading's text key.
    pub text: Key,
}

/// A step's heading: focusable so focus can move to it when the step appears.
#[component]
pub fn Heading(props: &HeadingProps) -> Html {
    let ctx = use_ctx();
    html! { <h2 tabindex="-1" part="heading">{ ctx.t(props.text) }</h2> }
}
