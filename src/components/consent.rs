//! Consent for processing sensitive personal information (PIPL art. 29, 17): who, why, what, how long, how to
//! withdraw, the privacy policy; unchecked by default; its version goes with the submission.

use realname_core::flow::{CheckNotice, Event};
use realname_core::protocol::Check;
use yew::prelude::*;

use super::{Look, button, checkbox, event_button, heading};
use crate::i18n::Key;

/// Props of [`ConsentStep`].
#[derive(Properties, PartialEq)]
pub struct ConsentProps {
    /// The widget-wide configuration, texts, event emitter and API client (see [`crate::ctx::Ctx`]).
    pub ctx: std::rc::Rc<crate::ctx::Ctx>,
    /// The identity checks the site runs, with their providers.
    #[prop_or_default]
    pub checks: Vec<CheckNotice>,
    /// Flow events: the consent (with the consent text's version) or cancel.
    pub on_event: Callback<Event>,
}

/// What a check does and which kind of party makes it (PIPL art. 23: the data goes to another processor).
fn check_text(ctx: &crate::ctx::Ctx, c: &CheckNotice) -> String {
    let party = match c.provider.as_str() {
        "tencent" => Key::PartyTencent,
        "aliyun" => Key::PartyAliyun,
        "demo" => Key::PartyDemo,
        _ => Key::PartyOther,
    };
    let key = if c.check == Check::IdMatch { Key::ConsentIdMatch } else { Key::ConsentCheck };
    ctx.tf(key, &[("party", &ctx.t(party)), ("check", c.check.as_str())])
}

/// The consent step.
#[component]
pub fn ConsentStep(props: &ConsentProps) -> Html {
    let ctx = &props.ctx;
    let checked = use_state(|| false);
    let c = &ctx.config;
    let controller = c.controller.clone().unwrap_or_else(|| ctx.t(Key::ConsentSite));
    let retention = c.retention.clone().unwrap_or_else(|| ctx.t(Key::ConsentRetentionDefault));
    let toggle = {
        let checked = checked.clone();
        Callback::from(move |e: Event_| checked.set(target_checked(&e)))
    };
    let agree = {
        let (cb, version, checked) = (props.on_event.clone(), c.consent_version.clone(), *checked);
        Callback::from(move |_: MouseEvent| {
            if checked {
                cb.emit(Event::ConsentGiven { version: version.clone() })
            }
        })
    };
    html! {
        <div part="step step-consent">
            { heading(ctx, Key::ConsentHeading) }
            <ul id="rn-consent-text">
                <li>{ ctx.tf(Key::ConsentWho, &[("controller", &controller)]) }</li>
                <li>{ ctx.t(Key::ConsentPurpose) }</li>
                <li>{ ctx.t(Key::ConsentData) }</li>
                { for props.checks.iter().map(|c| html! { <li>{ check_text(ctx, c) }</li> }) }
                <li>{ ctx.tf(Key::ConsentRetention, &[("retention", &retention)]) }</li>
                <li>{ ctx.t(Key::ConsentWithdraw) }</li>
            </ul>
            if let Some(url) = &c.privacy_policy_url {
                <p><a href={url.clone()} target="_blank" rel="noopener noreferrer" part="link">{ ctx.t(Key::ConsentPolicy) }</a></p>
            }
            { checkbox("rn-consent", *checked, Some("rn-consent-text"), ctx.t(Key::ConsentCheckbox), toggle) }
            <div class="rn-actions">
                { event_button(ctx, Look::Secondary, Key::Cancel, &props.on_event, Event::Cancel) }
                { button(Look::Primary, "button", ctx.t(Key::ConsentAgree), !*checked, Some(agree)) }
            </div>
        </div>
    }
}

/// A DOM event (named so it does not clash with the flow's `Event`).
pub type Event_ = web_sys::Event;

/// Whether the checkbox that fired `e` is checked.
pub fn target_checked(e: &Event_) -> bool {
    e.target_dyn_into::<web_sys::HtmlInputElement>().is_some_and(|i| i.checked())
}

/// The value of the input that fired `e`.
pub fn target_value(e: &Event_) -> String {
    e.target_dyn_into::<web_sys::HtmlInputElement>().map(|i| i.value()).unwrap_or_default()
}
