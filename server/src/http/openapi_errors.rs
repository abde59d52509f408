//! The error responses of each endpoint in the OpenAPI document: one table ([`ENDPOINT_ERRORS`]) of the codes each
//! endpoint can really answer, the same as docs/protocol.md section 6.1, turned by [`ErrorResponses`] into one
//! response per status, each naming its codes and showing one example per code (OpenAPI `examples`, keyed by the
//! code). The e2e test `openapi.rs` compares them with the document.

use std::collections::BTreeMap;

use realname_core::protocol::ErrorCode::{self, *};
use utoipa::openapi::path::Operation;
use utoipa::openapi::{Content, RefOr, Response, example::Example};

/// What every endpoint can answer: a bug, or a connection over the server's caps (docs/protocol.md section 2).
pub const EVERY: &[ErrorCode] = &[Internal, Overloaded];
/// What every endpoint that reads a body (every `POST`) can answer, by section 2's rules for bodies.
pub const BODY: &[ErrorCode] = &[BadRequest, RequestTimeout, PayloadTooLarge, UnsupportedMediaType];
/// What every path with a session `{id}` can answer: an id that does not decode, or of no session's shape.
pub const ID: &[ErrorCode] = &[InvalidParameter, NotFound];

const CLIENT_SECRET: &[ErrorCode] =
    &[Unauthorized, ForbiddenOrigin, SessionExpired, ClientSecretUsed, ClientSecretExpired, HandedOff, Unavailable];
const ENVELOPE: &[ErrorCode] = &[EnvelopeMalformed, UnknownKid, EnvelopeInvalid, PayloadInvalid, EnvelopeReplayed];
const CHECKS: &[ErrorCode] =
    &[IdentityMismatch, IdentityNoRecord, IdentityMismatchLocked, CheckLimit, CheckUnavailable];
const IDENTITY: &[ErrorCode] = &[ConsentRequired, ValidationFailed, MethodNotEnabled, WrongStep];

/// The codes each endpoint (`METHOD /path`) can answer besides [`EVERY`], [`BODY`] and [`ID`], as lists of
/// groups.
pub const ENDPOINT_ERRORS: &[(&str, &[&[ErrorCode]])] = &[
    ("POST /v1/sessions", &[&[Unauthorized, SiteDisabled, MethodNotEnabled, Unavailable]]),
    (
        "POST /v1/widget/sessions",
        &[&[Unauthorized, ForbiddenOrigin, SiteDisabled, MethodNotEnabled, RateLimited, Unavailable]],
    ),
    ("GET /v1/sessions/{id}", &[&[Unauthorized, Unavailable]]),
    ("GET /v1/sessions/{id}/client", &[CLIENT_SECRET]),
    (
        "POST /v1/sessions/{id}/identity",
        &[CLIENT_SECRET, ENVELOPE, IDENTITY, CHECKS, &[PhoneMismatch, RateLimited, DeliveryFailed]],
    ),
    ("POST /v1/sessions/{id}/documents", &[CLIENT_SECRET, ENVELOPE, IDENTITY, CHECKS]),
    ("POST /v1/sessions/{id}/code", &[CLIENT_SECRET, ENVELOPE, &[CodeInvalid, CodeExpired, CodeLocked, WrongStep]]),
    ("POST /v1/sessions/{id}/resend", &[CLIENT_SECRET, &[WrongStep, ResendCooldown, RateLimited, DeliveryFailed]]),
    ("POST /v1/sessions/{id}/cancel", &[CLIENT_SECRET, &[WrongStep]]),
    ("POST /v1/sessions/{id}/handoff", &[CLIENT_SECRET, &[WrongStep, HandoffNotEnabled, RateLimited]]),
    (
        "POST /v1/handoff/redeem",
        &[&[ForbiddenOrigin, HandoffUnknown, HandoffUsed, HandoffExpired, WrongStep, RateLimited, Unavailable]],
    ),
    ("GET /v1/sessions/{id}/status", &[&[Unauthorized, ForbiddenOrigin, Unavailable]]),
    ("GET /v1/keys", &[]),
    ("GET /v1/jwks.json", &[]),
    ("GET /v1/openapi.json", &[]),
    ("GET /healthz", &[]),
    ("GET /readyz", &[&[Unavailable]]),
];

/// Every code `endpoint` (`METHOD /path`) can answer, sorted by status then name; `None` for an endpoint the table
/// does not know.
pub fn errors_of(endpoint: &str) -> Option<Vec<ErrorCode>> {
    let (_, groups) = ENDPOINT_ERRORS.iter().find(|(e, _)| *e == endpoint)?;
    let mut codes: Vec<ErrorCode> =
        groups.iter().flat_map(|g| g.iter().copied()).chain(EVERY.iter().copied()).collect();
    if endpoint.starts_with("POST ") {
        codes.extend(BODY);
    }
    if endpoint.contains("{id}") {
        codes.extend(ID);
    }
    codes.sort_by_key(|c| (c.status(), c.as_str()));
    codes.dedup();
    Some(codes)
}

/// Replaces each operation's catch-all error response with its real ones, from [`ENDPOINT_ERRORS`].
pub struct ErrorResponses;

impl utoipa::Modify for ErrorResponses {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        for (path, item) in api.paths.paths.iter_mut() {
            let ops = [("GET", &mut item.get), ("POST", &mut item.post)];
            for (method, op) in ops {
                if let Some(op) = op.as_mut() {
                    set_errors(op, &format!("{method} {path}"));
                }
            }
        }
    }
}

fn set_errors(op: &mut Operation, endpoint: &str) {
    let responses = &mut op.responses.responses;
    // The answers that are not errors stay (2xx, and the status's 304).
    responses.retain(|status, _| !(status.starts_with('4') || status.starts_with('5')));
    let Some(codes) = errors_of(endpoint) else { return };
    let mut by_status: BTreeMap<u16, Vec<ErrorCode>> = BTreeMap::new();
    for c in codes {
        by_status.entry(c.status()).or_default().push(c);
    }
    for (status, codes) in by_status {
        let names: Vec<&str> = codes.iter().map(|c| c.as_str()).collect();
        let examples = codes.iter().map(|c| {
            let body = serde_json::json!({ "error": { "code": c.as_str(), "message": c.default_message() } });
            (c.as_str(), Example::builder().summary(c.default_message()).value(Some(body)).build())
        });
        let content = Content::builder()
            .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("ErrorResponse"))))
            .examples_from_iter(examples)
            .build();
        let response = Response::builder()
            .description(format!("Error codes: {}", names.join(", ")))
            .content("application/json", content);
        responses.insert(status.to_string(), RefOr::T(response.build()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::OpenApi as _;

    #[test]
    fn every_operation_of_the_document_has_its_errors_and_the_table_names_no_other() {
        let doc = super::super::ops::ApiDoc::openapi();
        let mut seen = Vec::new();
        for (path, item) in &doc.paths.paths {
            for (method, op) in [("GET", &item.get), ("POST", &item.post)] {
                let Some(op) = op else { continue };
                let endpoint = format!("{method} {path}");
                let codes = errors_of(&endpoint).unwrap_or_else(|| panic!("{endpoint} is not in ENDPOINT_ERRORS"));
                let statuses: Vec<&String> = op.responses.responses.keys().filter(|s| !s.starts_with('2')).collect();
                for c in &codes {
                    assert!(statuses.contains(&&c.status().to_string()), "{endpoint}: no {} response", c.status());
                }
                assert!(!statuses.iter().any(|s| s.contains('X')), "{endpoint}: a catch-all error response is left");
                seen.push(endpoint);
            }
        }
        for (e, _) in ENDPOINT_ERRORS {
            assert!(seen.contains(&e.to_string()), "{e} is in ENDPOINT_ERRORS, not in the document");
        }
        // The reserved code is never answered.
        assert!(ENDPOINT_ERRORS.iter().all(|(e, _)| !errors_of(e).unwrap_or_default().contains(&IdentityLimit)));
    }
}
