//! The wire protocol between widget, server and site: JSON request/response types and error codes.
//!
//! `docs/protocol.md` is the normative description; these types are its Rust face. Every field name here
//! is part of the protocol: renaming one is a breaking change and needs a new [`PROTOCOL_VERSION`].

use serde::{Deserialize, Serialize};

/// The protocol version; bound into every sealed envelope (see [`crate::envelope`]).
pub const PROTOCOL_VERSION: u32 = 1;

/// The protocol label used in HPKE `info` and AEAD associated data: `realname/1`.
pub const PROTOCOL_LABEL: &str = "realname/1";

/// A step of the flow whose payload travels sealed; bound into the AEAD associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// Identity data: method, document, name, number, phone or email, consent.
    Identity,
    /// The one-time code the person received.
    Code,
    /// Face and document photos (the documents method).
    Documents,
}

impl Step {
    /// The wire name of the step (`identity`, `code`, `documents`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Step::Identity => "identity",
            Step::Code => "code",
            Step::Documents => "documents",
        }
    }
}

/// How the person proves control of a contact point or presents documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// A one-time code sent by SMS to a mainland phone number.
    Sms,
    /// A one-time code sent by email.
    Email,
    /// A face photo and a photo of the identity document, checked by a reviewer.
    Documents,
}

impl Method {
    /// The wire name of the method.
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::Sms => "sms",
            Method::Email => "email",
            Method::Documents => "documents",
        }
    }
}

/// The kind of identity document: the validator's own enum, so the wire names are the ones
/// `realname_core::validate` uses (`resident_id`, `hk_mo_tw_residence_permit`, `foreign_permanent_resident_id`,
/// `hk_mo_travel_permit`, `tw_travel_permit`, `chinese_passport`, `passport`).
pub use crate::validate::DocumentKind;

/// The state of a verification session (the same names the store uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    /// Created; waiting for the sealed identity step.
    Created,
    /// Identity accepted and stored, but no code delivered yet (delivery failed or was rate limited).
    Submitted,
    /// Identity accepted and a code sent; waiting for the sealed code step.
    CodeSent,
    /// Documents received; waiting for a reviewer.
    PendingReview,
    /// Verified: the result token and webhook carry the masked claims.
    Verified,
    /// Rejected by a reviewer.
    Rejected,
    /// Failed for good (too many wrong codes).
    Failed,
    /// Canceled by the person or the site.
    Canceled,
    /// Expired before it was completed.
    Expired,
}

impl SessionStatus {
    /// Every status, in flow order.
    pub const ALL: [SessionStatus; 9] = [
        SessionStatus::Created,
        SessionStatus::Submitted,
        SessionStatus::CodeSent,
        SessionStatus::PendingReview,
        SessionStatus::Verified,
        SessionStatus::Rejected,
        SessionStatus::Failed,
        SessionStatus::Canceled,
        SessionStatus::Expired,
    ];

    /// The wire name of the status.
    pub const fn as_str(self) -> &'static str {
        match self {
            SessionStatus::Created => "created",
            SessionStatus::Submitted => "submitted",
            SessionStatus::CodeSent => "code_sent",
            SessionStatus::PendingReview => "pending_review",
            SessionStatus::Verified => "verified",
            SessionStatus::Rejected => "rejected",
            SessionStatus::Failed => "failed",
            SessionStatus::Canceled => "canceled",
            SessionStatus::Expired => "expired",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Whether no further step can change the session.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            SessionStatus::Verified
                | SessionStatus::Rejected
                | SessionStatus::Failed
                | SessionStatus::Canceled
                | SessionStatus::Expired
        )
    }
}

/// The age band of a verified person, derived from the birth date in the document number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AgeBand {
    /// Younger than 14 (PIPL: a guardian's consent is required).
    #[serde(rename = "under_14")]
    Under14,
    /// 14 to 17.
    #[serde(rename = "14_17")]
    From14To17,
    /// 18 to 29.
    #[serde(rename = "18_29")]
    From18To29,
    /// 30 to 44.
    #[serde(rename = "30_44")]
    From30To44,
    /// 45 to 59.
    #[serde(rename = "45_59")]
    From45To59,
    /// 60 or older.
    #[serde(rename = "60_plus")]
    From60,
}

impl AgeBand {
    /// The band of a person of `age` full years.
    pub const fn from_age(age: u32) -> Self {
        match age {
            0..=13 => AgeBand::Under14,
            14..=17 => AgeBand::From14To17,
            18..=29 => AgeBand::From18To29,
            30..=44 => AgeBand::From30To44,
            45..=59 => AgeBand::From45To59,
            _ => AgeBand::From60,
        }
    }
}

/// The sealed envelope on the wire: all three fields are unpadded base64url (RFC 4648 §5) except `kid`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Envelope {
    /// Key id of the server public key the envelope was sealed to (from `GET /v1/keys`).
    pub kid: String,
    /// The HPKE encapsulated key (32 bytes for X25519), base64url.
    pub enc: String,
    /// The HPKE ciphertext including the 16-byte Poly1305 tag, base64url.
    pub ct: String,
}

/// Body of the endpoints that take one sealed step: `{"envelope": {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SealedRequest {
    /// The sealed payload.
    pub envelope: Envelope,
}

/// The person's consent record, sealed with the identity step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Consent {
    /// Version of the consent text the person agreed to (site-defined, e.g. `2025-01`).
    pub version: String,
    /// When the person agreed, Unix time in seconds.
    pub accepted_at: i64,
}

/// Plaintext of the identity step (sealed with [`Step::Identity`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IdentityPayload {
    /// How the person wants to verify.
    pub method: Method,
    /// Kind of identity document.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub document_kind: DocumentKind,
    /// Full name as printed on the document.
    pub name: String,
    /// The document number.
    pub number: String,
    /// Mainland mobile number (method `sms`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// Email address (method `email`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The consent record; a missing consent is refused with `consent_required`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<Consent>,
    /// A parent's or guardian's consent (PIPL art. 31): required when the birth date shows a child under 14.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guardian_consent: Option<Consent>,
}

/// Plaintext of the documents step (sealed with [`Step::Documents`]): the identity plus two photos for a reviewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DocumentsPayload {
    /// The identity, as in the identity step, with `method` `documents`.
    pub identity: IdentityPayload,
    /// The selfie, JPEG bytes as base64url.
    pub selfie_jpeg: String,
    /// The photo of the document, JPEG bytes as base64url.
    pub document_jpeg: String,
    /// The separate consent to processing the face image (sensitive personal information).
    pub face_consent: Consent,
}

/// Response of the documents step: the case waits for a reviewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DocumentsResponse {
    /// Always `pending_review`.
    pub status: SessionStatus,
    /// When the review is due at the latest (RFC 3339, UTC): five working days by default.
    pub review_due: String,
}

/// Plaintext of the code step (sealed with [`Step::Code`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CodePayload {
    /// The six-digit one-time code.
    pub code: String,
}

/// One server public key as published by `GET /v1/keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicKeyInfo {
    /// The key id to put in envelopes.
    pub kid: String,
    /// The HPKE suite, always `DHKEM(X25519, HKDF-SHA256)/HKDF-SHA256/ChaCha20Poly1305` in version 1.
    pub suite: String,
    /// The 32-byte X25519 public key, base64url.
    pub public_key: String,
}

/// Response of `GET /v1/keys`: the key to seal to first, then older keys still accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeysResponse {
    /// Protocol version the server speaks.
    pub protocol: u32,
    /// Newest first; new envelopes must use `keys[0]`.
    pub keys: Vec<PublicKeyInfo>,
}

/// Body of `POST /v1/sessions` (server to server, `Authorization: Bearer <secret key>`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateSessionRequest {
    /// Methods offered to the person; defaults to all methods enabled for the site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<Method>>,
    /// An opaque reference of the site (e.g. its user id), echoed in results; at most 128 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// Body of `POST /v1/widget/sessions` (browser, publishable key, Origin checked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WidgetSessionRequest {
    /// The site's publishable key (`pk_…`).
    pub publishable_key: String,
    /// Methods offered to the person; defaults to all methods enabled for the site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<Method>>,
}

/// Response of both session-creating endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateSessionResponse {
    /// The session id (`ses_…`).
    pub session_id: String,
    /// The widget's credential for this one session (`cs_…`); short-lived, dies with the session.
    pub client_secret: String,
    /// When the client secret expires, Unix seconds.
    pub expires_at: i64,
    /// The methods the person may choose from.
    pub methods: Vec<Method>,
    /// Protocol version.
    pub protocol: u32,
}

/// What the widget sees of its session (`GET /v1/sessions/{id}/client`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClientSessionView {
    /// The session id.
    pub session_id: String,
    /// Current status.
    pub status: SessionStatus,
    /// Methods offered.
    pub methods: Vec<Method>,
    /// When the client secret expires, Unix seconds.
    pub expires_at: i64,
    /// Masked destination of the last code (`138****8000`, `a***@example.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// When a resend becomes possible, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resend_available_at: Option<i64>,
}

/// Response of the identity step and of resend: a code is on its way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CodeSentResponse {
    /// Always `code_sent`.
    pub status: SessionStatus,
    /// The channel the code went to.
    pub method: Method,
    /// Masked destination.
    pub destination: String,
    /// When the code expires, Unix seconds.
    pub code_expires_at: i64,
    /// When a resend becomes possible, Unix seconds.
    pub resend_available_at: i64,
}

/// Response of the code step once the code matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerifiedResponse {
    /// `verified`, or `pending_review` when the identity was flagged (a child, an unknown region code, an
    /// identity bound to the site's maximum of accounts) and waits for a reviewer.
    pub status: SessionStatus,
    /// The result token (compact JWS, EdDSA) to hand to the site's backend; only when `verified`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_token: Option<String>,
    /// When the review is due at the latest (RFC 3339, UTC); only when `pending_review`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_due: Option<String>,
}

/// Response of `POST /v1/sessions/{id}/cancel`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusResponse {
    /// The session's status after the call.
    pub status: SessionStatus,
}

/// The result a site reads with its secret key (`GET /v1/sessions/{id}`); also the webhook's `data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionResult {
    /// The session id.
    pub session_id: String,
    /// The site id.
    pub site: String,
    /// Current status.
    pub status: SessionStatus,
    /// The site's reference given at creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Chosen method, once the identity step was accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<Method>,
    /// Document kind, once the identity step was accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub document_kind: Option<DocumentKind>,
    /// Creation time, Unix seconds.
    pub created_at: i64,
    /// Verification time, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_at: Option<i64>,
    /// Masked name (`张*`), once the identity step was accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub masked_name: Option<String>,
    /// Masked number (`110***********123X`), once the identity step was accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub masked_number: Option<String>,
    /// Age band, once the identity step was accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_band: Option<AgeBand>,
    /// The result token, when verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_token: Option<String>,
}

/// Claims of the result token (compact JWS, `alg` `EdDSA`, `typ` `realname-result+jwt`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResultClaims {
    /// Issuer: the server's public base URL.
    pub iss: String,
    /// Subject: the session id.
    pub sub: String,
    /// Audience: the site id.
    pub aud: String,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds.
    pub exp: i64,
    /// Unique token id.
    pub jti: String,
    /// The session id (same as `sub`).
    pub session_id: String,
    /// The site id (same as `aud`).
    pub site: String,
    /// Session status, `verified`.
    pub status: SessionStatus,
    /// Method used.
    pub method: Method,
    /// Document kind.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub document_kind: DocumentKind,
    /// Verification time, Unix seconds.
    pub verified_at: i64,
    /// Masked name.
    pub masked_name: String,
    /// Masked document number.
    pub masked_number: String,
    /// Age band, when the document carries a birth date (not for passports and travel permits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub age_band: Option<AgeBand>,
    /// The site's reference given at creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// Webhook event types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum EventType {
    /// A session was verified.
    #[serde(rename = "verification.verified")]
    Verified,
    /// A session failed (locked after too many wrong codes).
    #[serde(rename = "verification.failed")]
    Failed,
    /// A reviewer rejected a session.
    #[serde(rename = "verification.rejected")]
    Rejected,
    /// A session was canceled.
    #[serde(rename = "verification.canceled")]
    Canceled,
    /// A code was sent (identity step accepted).
    #[serde(rename = "verification.code_sent")]
    CodeSent,
}

impl EventType {
    /// The wire name of the event type.
    pub const fn as_str(self) -> &'static str {
        match self {
            EventType::Verified => "verification.verified",
            EventType::Failed => "verification.failed",
            EventType::Rejected => "verification.rejected",
            EventType::Canceled => "verification.canceled",
            EventType::CodeSent => "verification.code_sent",
        }
    }
}

/// A webhook delivery body. Header `Realname-Signature: t=<unix>,v1=<hex hmac-sha256(secret, "<t>.<body>")>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookEvent {
    /// Unique event id (`evt_…`); the same on every retry, so receivers deduplicate with it.
    pub id: String,
    /// The event type.
    #[serde(rename = "type")]
    pub kind: EventType,
    /// When the event happened, Unix seconds.
    pub created_at: i64,
    /// The session's result at that moment.
    pub data: SessionResult,
}

/// Response of `GET /v1/jwks.json` (RFC 7517, OKP keys per RFC 8037).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Jwks {
    /// The keys, newest first.
    pub keys: Vec<Jwk>,
}

/// One Ed25519 public key as a JWK.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Jwk {
    /// Always `OKP`.
    pub kty: String,
    /// Always `Ed25519`.
    pub crv: String,
    /// The 32-byte public key, base64url.
    pub x: String,
    /// Key id, matches the JWS header `kid`.
    pub kid: String,
    /// Always `EdDSA`.
    pub alg: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub use_: String,
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_round_trip_and_wire_names_match() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(&code).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            let back: ErrorCode = serde_json::from_str(&json).unwrap_or(ErrorCode::Internal);
            assert_eq!(back, code);
            let status = code.status();
            assert!((400..600).contains(&status));
        }
    }

    #[test]
    fn only_server_faults_are_5xx() {
        for code in ErrorCode::ALL {
            let server_fault = matches!(code, ErrorCode::Internal | ErrorCode::DeliveryFailed | ErrorCode::Unavailable);
            assert_eq!(code.status() >= 500, server_fault, "{code:?}");
        }
    }

    #[test]
    fn identity_payload_wire_shape() {
        let p = IdentityPayload {
            method: Method::Sms,
            document_kind: DocumentKind::ResidentId,
            name: "张三".into(),
            number: "11010519491231002X".into(),
            phone: Some("13800138000".into()),
            email: None,
            consent: Some(Consent { version: "2025-01".into(), accepted_at: 1_700_000_000 }),
            guardian_consent: None,
        };
        let v: serde_json::Value = serde_json::to_value(&p).unwrap_or_default();
        assert_eq!(v["method"], "sms");
        assert_eq!(v["document_kind"], "resident_id");
        assert_eq!(v["consent"]["accepted_at"], 1_700_000_000);
        assert!(v.get("email").is_none());
        let status: SessionStatus = serde_json::from_str("\"code_sent\"").unwrap_or(SessionStatus::Failed);
        assert_eq!(status, SessionStatus::CodeSent);
        assert_eq!(serde_json::to_string(&AgeBand::from_age(15)).unwrap_or_default(), "\"14_17\"");
        assert_eq!(serde_json::to_string(&EventType::Verified).unwrap_or_default(), "\"verification.verified\"");
    }
}
