//! Errors on the wire: the stable codes, their HTTP statuses and the JSON error body.

use serde::{Deserialize, Serialize};

/// Stable, machine-readable error codes. The HTTP status for each is fixed by [`ErrorCode::status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The body is not valid JSON or does not have the documented shape (400).
    BadRequest,
    /// A path or query parameter is malformed (400).
    InvalidParameter,
    /// Missing or wrong API key or client secret (401).
    Unauthorized,
    /// The request's `Origin` is not allowed for the site (403).
    ForbiddenOrigin,
    /// The method is not enabled for the site or session (403).
    MethodNotEnabled,
    /// The site is disabled (403).
    SiteDisabled,
    /// No such resource, or not visible with these credentials (404).
    NotFound,
    /// HTTP method not supported on this path (405).
    MethodNotAllowed,
    /// The client secret expired (401).
    ClientSecretExpired,
    /// The client secret was used up: its session reached a final state (401).
    ClientSecretUsed,
    /// The session expired (410).
    SessionExpired,
    /// The session is not at the step this request belongs to (409).
    WrongStep,
    /// The envelope is malformed: bad base64, wrong lengths (400).
    EnvelopeMalformed,
    /// The envelope's `kid` is unknown or past its grace period (400); fetch `/v1/keys` again.
    UnknownKid,
    /// The envelope did not open: tampered, wrong session, wrong step (400).
    EnvelopeInvalid,
    /// The envelope was already used (409).
    EnvelopeReplayed,
    /// The sealed payload is not valid JSON of the step's shape (400).
    PayloadInvalid,
    /// The consent record is missing or malformed (422).
    ConsentRequired,
    /// A field of the identity step failed validation; see `field` and `reason` (422).
    ValidationFailed,
    /// The code is wrong (400); `attempts_left` says how many tries remain.
    CodeInvalid,
    /// The code expired; ask for a new one (410).
    CodeExpired,
    /// Too many wrong codes: the session failed (423).
    CodeLocked,
    /// A resend came before the cooldown ended; see `retry_after` (429).
    ResendCooldown,
    /// A rate limit was hit; see `retry_after` (429).
    RateLimited,
    /// The identity already holds the maximum number of verified accounts at this site (409).
    IdentityLimit,
    /// The request body is too large (413).
    PayloadTooLarge,
    /// The request body is not `application/json` (415).
    UnsupportedMediaType,
    /// The code could not be delivered by the provider (502).
    DeliveryFailed,
    /// The server cannot serve now (503).
    Unavailable,
    /// An unexpected server error; details are only in the server log (500).
    Internal,
}

impl ErrorCode {
    /// The HTTP status code that goes with this error code.
    pub const fn status(self) -> u16 {
        use ErrorCode::*;
        match self {
            BadRequest | InvalidParameter | EnvelopeMalformed | UnknownKid | EnvelopeInvalid | PayloadInvalid
            | CodeInvalid => 400,
            Unauthorized | ClientSecretExpired | ClientSecretUsed => 401,
            ForbiddenOrigin | MethodNotEnabled | SiteDisabled => 403,
            NotFound => 404,
            MethodNotAllowed => 405,
            WrongStep | EnvelopeReplayed | IdentityLimit => 409,
            SessionExpired | CodeExpired => 410,
            PayloadTooLarge => 413,
            UnsupportedMediaType => 415,
            ConsentRequired | ValidationFailed => 422,
            CodeLocked => 423,
            ResendCooldown | RateLimited => 429,
            Internal => 500,
            DeliveryFailed => 502,
            Unavailable => 503,
        }
    }

    /// The wire name of the code.
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            BadRequest => "bad_request",
            InvalidParameter => "invalid_parameter",
            Unauthorized => "unauthorized",
            ForbiddenOrigin => "forbidden_origin",
            MethodNotEnabled => "method_not_enabled",
            SiteDisabled => "site_disabled",
            NotFound => "not_found",
            MethodNotAllowed => "method_not_allowed",
            ClientSecretExpired => "client_secret_expired",
            ClientSecretUsed => "client_secret_used",
            SessionExpired => "session_expired",
            WrongStep => "wrong_step",
            EnvelopeMalformed => "envelope_malformed",
            UnknownKid => "unknown_kid",
            EnvelopeInvalid => "envelope_invalid",
            EnvelopeReplayed => "envelope_replayed",
            PayloadInvalid => "payload_invalid",
            ConsentRequired => "consent_required",
            ValidationFailed => "validation_failed",
            CodeInvalid => "code_invalid",
            CodeExpired => "code_expired",
            CodeLocked => "code_locked",
            ResendCooldown => "resend_cooldown",
            RateLimited => "rate_limited",
            IdentityLimit => "identity_limit",
            PayloadTooLarge => "payload_too_large",
            UnsupportedMediaType => "unsupported_media_type",
            DeliveryFailed => "delivery_failed",
            Unavailable => "unavailable",
            Internal => "internal",
        }
    }

    /// Every code, for documentation and tests.
    pub const ALL: [ErrorCode; 30] = {
        use ErrorCode::*;
        [
            BadRequest,
            InvalidParameter,
            Unauthorized,
            ForbiddenOrigin,
            MethodNotEnabled,
            SiteDisabled,
            NotFound,
            MethodNotAllowed,
            ClientSecretExpired,
            ClientSecretUsed,
            SessionExpired,
            WrongStep,
            EnvelopeMalformed,
            UnknownKid,
            EnvelopeInvalid,
            EnvelopeReplayed,
            PayloadInvalid,
            ConsentRequired,
            ValidationFailed,
            CodeInvalid,
            CodeExpired,
            CodeLocked,
            ResendCooldown,
            RateLimited,
            IdentityLimit,
            PayloadTooLarge,
            UnsupportedMediaType,
            DeliveryFailed,
            Unavailable,
            Internal,
        ]
    };
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
    /// For `code_invalid`: how many tries remain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u32>,
    /// For `resend_cooldown` / `rate_limited`: seconds until a retry can succeed (also in `Retry-After`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}
