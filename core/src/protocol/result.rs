//! What a site gets back: the session result, the signed result token's claims, webhook events and the JWKS.

use serde::{Deserialize, Serialize};

use super::*;

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
    /// The authoritative checks run, in the order they ran (absent when none ran).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckResult>,
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
    /// The authoritative checks run, in the order they ran (absent when none ran).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<CheckResult>,
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
