//! Choose among the methods the site enabled (documents is never the only one: the flow refuses that set).

use realname_core::flow::{Event, Method};
use yew::prelude::*;

use super::{Look, event_button, heading};
use crate::i18n::Key;

/// Props of [`MethodStep`].
#[derive(Properties, PartialEq)]
pub struct MethodProps {
    /// The widget-wide configuration, texts, event emitter and API client (see [`crate::ctx::Ctx`]).
    pub ctx: std::rc::Rc<crate::ctx::Ctx>,
    /// Enabled methods, in display order.
    pub methods: Vec<Method>,
    /// Flow events.
    pub on_event: Callback<Event>,
}

/// The method choice.
#[component]
pub fn MethodStep(props: &MethodProps) -> Html {
    let ctx = &props.ctx;
    let item = |m: Method| {
        let (name, hint) = match m {
            Method::Sms => (Key::MethodSms, Key::MethodSmsHint),
            Method::Email => (Key::MethodEmail, Key::MethodEmailHint),
            Method::Documents => (Key::MethodDocuments, Key::MethodDocumentsHint),
        };
        html! {
            <li>
                <button type="button" class="rn-method" part="method" data-method={m.as_str()}
                    onclick={props.on_event.reform(move |_: MouseEvent| Event::MethodChosen(m))}>
                    { ctx.t(name) }<span>{ ctx.t(hint) }</span>
                </button>
            </li>
        }
    };
    html! {
        <div part="step step-method">
            { heading(ctx, Key::MethodHeading) }
            <ul class="rn-methods">{ for props.methods.iter().copied().map(item) }</ul>
            <div class="rn-actions">
                { event_button(ctx, Look::Secondary, Key::Back, &props.on_event, Event::Back) }
                { event_button(ctx, Look::Secondary, Key::Cancel, &props.on_event, Event::Cancel) }
            </div>
        </div>
    }
}
