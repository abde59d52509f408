//! Results: verified; in review with the expected date; failed with retry and a complaint link; cancelled; error.

use realname_core::flow::{Event, Step, codes};
use yew::prelude::*;

use super::{Look, event_button};
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

/// What a person can do about an error, in words (the stable code is shown beside it, as a detail).
fn error_text(code: &str) -> Key {
    match code {
        "network" => Key::ErrorNetwork,
        "rate_limited" => Key::ErrorRateLimited,
        "delivery_failed" => Key::ErrorDelivery,
        c if codes::is_configuration(c) => Key::ErrorMisconfigured,
        c if codes::ENDED.contains(&c) => Key::ErrorEnded,
        "internal" | "unavailable" | "not_found" | codes::ILLEGAL_TRANSITION => Key::ErrorBody,
        // What the widget sent was refused (a validation the browser missed, an envelope, consent, a replay):
        // trying again sends it afresh.
        _ => Key::ErrorRefused,
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
            // After a lost answer the widget knows only that a review is pending, not when it is due.
            let body = if due.is_empty() {
                ctx.t(Key::ReviewBodyUndated)
            } else {
                ctx.tf(Key::ReviewBody, &[("date", &due_day(due))])
            };
            ("review", "", Key::ReviewHeading, body, html! {})
        }
        Step::Failed { reason } => {
            let complaint = ctx.config.complaint_url.clone().map(|url| html! {
                <a class="rn-button rn-secondary" href={url} target="_blank" rel="noopener noreferrer" part="button button-secondary link-complaint">
                    { ctx.t(Key::Complaint) }
                </a>
            });
            // Too many names that do not match the number: say what happened and what to do, not just the code.
            let body = if reason == "identity_mismatch_locked" {
                ctx.t(Key::FailedLocked)
            } else {
                ctx.tf(Key::FailedBody, &[("reason", reason)])
            };
            ("bad", "✕", Key::FailedHeading, body, html! { <>{ retry_button }{ for complaint }</> })
        }
        Step::Cancelled => (
            "",
            "",
            Key::CancelledHeading,
            ctx.t(Key::CancelledBody),
            event_button(ctx, Look::Primary, Key::Restart, &props.on_event, Event::Retry),
        ),
        Step::Error { code, .. } => {
            // A misconfigured page offers no retry (nothing the person does helps); a session that is over starts again.
            let actions = if codes::is_configuration(code) {
                html! {}
            } else if codes::ENDED.contains(&code.as_str()) {
                event_button(ctx, Look::Primary, Key::Restart, &props.on_event, Event::Retry)
            } else {
                retry_button
            };
            let detail = html! { <p class="rn-hint" part="hint">{ ctx.tf(Key::ErrorCode, &[("code", code)]) }</p> };
            let heading =
                if codes::is_configuration(code) { Key::ErrorMisconfiguredHeading } else { Key::ErrorHeading };
            return notice(
                ctx,
                &props.step,
                "bad",
                "!",
                heading,
                ctx.t(error_text(code)),
                html! { <>{ detail }<div class="rn-actions">{ actions }</div></> },
            );
        }
        // Not a final step: nothing to show (App never renders this component for them).
        _ => ("", "", Key::ErrorHeading, String::new(), html! {}),
    };
    notice(ctx, &props.step, tone, icon, heading, body, html! { <div class="rn-actions">{ actions }</div> })
}

/// A result's notice: icon, heading, the message (announced) and what follows it.
fn notice(
    ctx: &crate::ctx::Ctx,
    step: &Step,
    tone: &'static str,
    icon: &'static str,
    heading: Key,
    body: String,
    after: Html,
) -> Html {
    html! {
        // The tone is a data attribute, not a computed `class` (which would pull in Yew's `Classes`, an IndexSet).
        <div part={String::from("step step-") + step.name()} class="rn-notice" data-tone={tone}>
            <p class="rn-result-icon" aria-hidden="true">{ icon }</p>
            <h2 tabindex="-1" part="heading">{ ctx.t(heading) }</h2>
            <p role="status">{ body }</p>
            { after }
        </div>
    }
}
