//! Results: verified; in review with the expected date; failed with retry and a complaint link; cancelled; error.

use realname_core::flow::{Event, Step};
use yew::prelude::*;

use super::{event_button, Look};
use crate::i18n::Key;

/// Props of [`ResultStep`].
#[derive(Properties, PartialEq)]
pub struct ResultProps {
    /// The widget-wide configuration, texts, event emitter and API client (see [`crate::ctx::Ctx`]).
    pub ctx: std::rc::Rc<crate::ctx::Ctx>,
    /// A final step.
    pub step: Step,
    /// Flow events (retry).
    pub on_event: Callback<Event>,
}

/// The message for a stable error code a person can act on, else the generic one with the code.
fn error_text(ctx: &crate::ctx::Ctx, code: &str) -> String {
    match code {
        "network" => ctx.t(Key::ErrorNetwork),
        _ => ctx.tf(Key::ErrorBody, &[("code", code)]),
    }
}

/// The day a review is due, as the person counts it: the server's due instant (RFC 3339) is 24:00 Beijing time
/// of the last working day, which is that day's date in China; anything unreadable is shown as sent.
pub fn due_day(due: &str) -> String {
    let ms = js_sys::Date::parse(due);
    if ms.is_nan() {
        return due.to_string();
    }
    let beijing = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms - 1000.0 + 8.0 * 3_600_000.0));
    String::from(beijing.to_iso_string()).chars().take(10).collect()
}

/// The result screen.
#[component]
pub fn ResultStep(props: &ResultProps) -> Html {
    let ctx = &props.ctx;
    let retry_button = event_button(ctx, Look::Primary, Key::Retry, &props.on_event, Event::Retry);
    let (tone, icon, heading, body, actions) = match &props.step {
        Step::Verified { .. } => ("good", "✓", Key::VerifiedHeading, ctx.t(Key::VerifiedBody), html! {}),
        Step::InReview { due, .. } => {
            let date = if due.is_empty() { "—".to_string() } else { due_day(due) };
            ("review", "", Key::ReviewHeading, ctx.tf(Key::ReviewBody, &[("date", &date)]), html! {})
        }
        Step::Failed { reason } => {
            let complaint = ctx.config.complaint_url.clone().map(|url| html! {
                <a class="rn-button rn-secondary" href={url} target="_blank" rel="noopener noreferrer" part="button button-secondary link-complaint">
                    { ctx.t(Key::Complaint) }
                </a>
            });
            ("bad", "✕", Key::FailedHeading, ctx.tf(Key::FailedBody, &[("reason", reason)]), html! { <>{ retry_button }{ for complaint }</> })
        }
        Step::Cancelled => ("", "", Key::CancelledHeading, ctx.t(Key::CancelledBody), event_button(ctx, Look::Primary, Key::Restart, &props.on_event, Event::Retry)),
        Step::Error { code, .. } => ("bad", "!", Key::ErrorHeading, error_text(ctx, code), retry_button),
        // Not a final step: nothing to show (App never renders this component for them).
        _ => ("", "", Key::ErrorHeading, String::new(), html! {}),
    };
    html! {
        // The tone is a data attribute, not a computed `class` (which would pull in Yew's `Classes`, an IndexSet).
        <div part={String::from("step step-") + props.step.name()} class="rn-notice" data-tone={tone}>
            <p class="rn-result-icon" aria-hidden="true">{ icon }</p>
            <h2 tabindex="-1" part="heading">{ ctx.t(heading) }</h2>
            <p role="status">{ body }</p>
            <div class="rn-actions">{ actions }</div>
        </div>
    }
}
