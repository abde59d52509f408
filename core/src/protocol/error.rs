//! Errors on the wire: the stable codes, their HTTP statuses and the JSON error body.

use serde::{Deserialize, Serialize};

/// Declares [`ErrorCode`] from one table: each row is a variant with its doc comment, its wire name, its HTTP
/// status and the default English message. `status()`, `as_str()`, `default_message()` and `ALL` come from it,
/// so a code is added in one place.
macro_rules! error_codes {
    ($($(#[doc = $doc:literal])+ $name:ident = ($wire:literal, $status:literal, $message:literal);)+) => {
        /// Stable, machine-readable error codes. The HTTP status for each is fixed by [`ErrorCode::status`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $($(#[doc = $doc])+ $name,)+
        }

        impl ErrorCode {
            /// Every code, for documentation and tests.
            pub const ALL: [ErrorCode; [$($wire),+].len()] = [$(ErrorCode::$name),+];

            /// The HTTP status code that goes with this error code.
            pub const fn status(self) -> u16 {
                match self {
                    $(ErrorCode::$name => $status,)+
                }
            }

            /// The wire name of the code.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$name => $wire,)+
                }
            }

            /// The English message an error response carries unless the server says more.
            pub const fn default_message(self) -> &'static str {
                match self {
                    $(ErrorCode::$name => $message,)+
                }
            }
        }
    };
}

error_codes! {
    /// The body is not valid JSON or does not have the documented shape (400).
    BadRequest = ("bad_request", 400, "The request body is not JSON of the documented shape.");
    /// A path or query parameter is malformed (400).
    InvalidParameter = ("invalid_parameter", 400, "A path or query parameter is malformed.");
    /// Missing or wrong API key or client secret (401).
    Unauthorized = ("unauthorized", 401, "Missing or wrong credentials.");
    /// The request's `Origin` is not allowed for the site (403).
    ForbiddenOrigin = ("forbidden_origin", 403, "This origin is not allowed for the site.");
    /// The method is not enabled for the site or session (403).
    MethodNotEnabled = ("method_not_enabled", 403, "This verification method is not enabled.");
    /// The site is disabled (403).
    SiteDisabled = ("site_disabled", 403, "The site is disabled.");
    /// No such resource, or not visible with these credentials (404).
    NotFound = ("not_found", 404, "Not found.");
    /// HTTP method not supported on this path (405).
    MethodNotAllowed = ("method_not_allowed", 405, "HTTP method not allowed here.");
    /// The client secret expired (401).
    ClientSecretExpired = ("client_secret_expired", 401, "The client secret expired; start a new session.");
    /// The client secret was used up: its session reached a final state (401).
    ClientSecretUsed = ("client_secret_used", 401, "The client secret was used up: the session is finished.");
    /// The session expired (410).
    SessionExpired = ("session_expired", 410, "The session expired; start a new one.");
    /// The session is not at the step this request belongs to (409).
    WrongStep = ("wrong_step", 409, "The session is not at this step.");
    /// The envelope is malformed: bad base64, wrong lengths (400).
    EnvelopeMalformed = ("envelope_malformed", 400, "The envelope is malformed.");
    /// The envelope's `kid` is unknown or past its grace period (400); fetch `/v1/keys` again.
    UnknownKid = ("unknown_kid", 400, "Unknown key id; fetch /v1/keys and seal again.");
    /// The envelope did not open: tampered, wrong session, wrong step (400).
    EnvelopeInvalid = ("envelope_invalid", 400, "The envelope does not open.");
    /// The envelope was already used (409).
    EnvelopeReplayed = ("envelope_replayed", 409, "This envelope was already used.");
    /// The sealed payload is not valid JSON of the step's shape (400).
    PayloadInvalid = ("payload_invalid", 400, "The sealed payload does not have the step's shape.");
    /// The consent record is missing or malformed (422).
    ConsentRequired = ("consent_required", 422, "A consent record is required.");
    /// A field of the identity step failed validation; see `field` and `reason` (422).
    ValidationFailed = ("validation_failed", 422, "A field is not valid.");
    /// The code is wrong (400); `attempts_left` says how many tries remain.
    CodeInvalid = ("code_invalid", 400, "The code is wrong.");
    /// The code expired; ask for a new one (410).
    CodeExpired = ("code_expired", 410, "The code expired; ask for a new one.");
    /// Too many wrong codes: the session failed (423).
    CodeLocked = ("code_locked", 423, "Too many wrong codes; the verification failed.");
    /// A resend came before the cooldown ended; see `retry_after` (429).
    ResendCooldown = ("resend_cooldown", 429, "Please wait before asking for another code.");
    /// A rate limit was hit; see `retry_after` (429).
    RateLimited = ("rate_limited", 429, "Too many codes requested; try again later.");
    /// The identity check found the ID number under another name (422); `attempts_left` says how many
    /// corrections remain.
    IdentityMismatch = ("identity_mismatch", 422, "The name and ID number do not match the records.");
    /// The identity check's source has no record of the ID number, and the site refuses without one (422);
    /// `attempts_left` says how many corrections remain.
    IdentityNoRecord = ("identity_no_record", 422, "No record of this ID number was found; check the number.");
    /// The `phone_owner` check found the phone registered to someone else, or (where the site refuses without an
    /// answer) no registration of it (422); `attempts_left` says how many corrections remain.
    PhoneMismatch =
        ("phone_mismatch", 422, "The phone number is not registered to this name and ID number; use your own.");
    /// Too many names that do not match the ID number: the session failed (423).
    IdentityMismatchLocked =
        ("identity_mismatch_locked", 423, "The name and ID number did not match too often; the verification failed.");
    /// The ID number was checked against too many names today; see `retry_after` (429).
    CheckLimit = ("check_limit", 429, "This ID number was checked too often today; try again later.");
    /// The identity check had no answer and the site refuses without one; see `retry_after` (503).
    CheckUnavailable = ("check_unavailable", 503, "The identity check is unavailable; try again later.");
    /// The identity already holds the maximum number of verified accounts at this site (409).
    IdentityLimit = ("identity_limit", 409, "This identity cannot verify more accounts on this site.");
    /// The site has no phone page for the cross-device handoff (`handoff_url`) (403).
    HandoffNotEnabled = ("handoff_not_enabled", 403, "This site offers no handoff to another device.");
    /// No handoff code like this one (404).
    HandoffUnknown = ("handoff_unknown", 404, "No handoff has this code; check it, or show a new one on the other device.");
    /// The handoff code was redeemed already: codes are single use (409).
    HandoffUsed = ("handoff_used", 409, "This handoff code was already used.");
    /// The handoff code is past its lifetime (410).
    HandoffExpired = ("handoff_expired", 410, "This handoff code expired; show a new one on the other device.");
    /// The session continues on another device: this client secret only follows its status (409).
    HandedOff =
        ("handed_off", 409, "The verification continues on another device; this one can only follow its status.");
    /// The client took too long to send its request body (408).
    RequestTimeout = ("request_timeout", 408, "The request body took too long to arrive.");
    /// The request body is too large (413).
    PayloadTooLarge = ("payload_too_large", 413, "The request body is too large.");
    /// The request body is not `application/json` (415).
    UnsupportedMediaType = ("unsupported_media_type", 415, "The request body must be application/json.");
    /// The code could not be delivered by the provider (502).
    DeliveryFailed = ("delivery_failed", 502, "The code could not be delivered; try again.");
    /// The server holds as many connections or uploads as it may; see `retry_after` (503).
    Overloaded = ("overloaded", 503, "The server is busy; try again shortly.");
    /// The server cannot serve now (503).
    Unavailable = ("unavailable", 503, "The service is temporarily unavailable.");
    /// An unexpected server error; details are only in the server log (500).
    Internal = ("internal", 500, "Internal error.");
}

/// The body of every error response: `{"error": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorResponse {
    /// The error.
    pub error: ErrorBody,
}

/// The error object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// The stable code; branch on this, not on `message`.
    pub code: ErrorCode,
    /// A human-readable English explanation; may change between versions.
    pub message: String,
    /// For `validation_failed`: the identity field (`name`, `number`, `phone`, `email`, `document_kind`, `method`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For `validation_failed`: the validator's stable reason code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For `code_invalid`, `identity_mismatch` and `identity_no_record`: how many tries remain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u32>,
    /// For `resend_cooldown`, `rate_limited`, `check_limit`, `check_unavailable`, `overloaded`: seconds until a
    /// retry can succeed (also in `Retry-After`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}
