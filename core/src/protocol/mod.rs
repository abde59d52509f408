//! The wire protocol between widget, server and site: JSON request/response types and error codes.
//!
//! `docs/protocol.md` is the normative description; these types are its Rust face. Every field name here
//! is part of the protocol: renaming one is a breaking change and needs a new [`PROTOCOL_VERSION`].

use serde::{Deserialize, Serialize};

mod checks;
mod error;
pub mod handoff;
mod result;

pub use checks::*;
pub use error::*;
pub use result::*;

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
    /// Every method, in display order.
    pub const ALL: [Method; 3] = [Method::Sms, Method::Email, Method::Documents];

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
/// `hk_mo_travel_permit`, `tw_travel_permit`, `chinese_passport`, `passport`, `driving_licence`).
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

/// The person's consent record, sealed with the identity step. The default (no version, time 0) is what a
/// missing or malformed record reads as: the server refuses it with `consent_required`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Consent {
    /// Version of the consent text the person agreed to (site-defined, e.g. `2025-01`).
    pub version: String,
    /// When the person agreed, Unix time in seconds.
    pub accepted_at: i64,
}

/// A consent that is not a consent object (a string, a wrong field type, a time no `i64` holds) as the empty
/// consent, and `null` as none, so the server answers `consent_required` for it, as docs/protocol.md says,
/// rather than `payload_invalid` — and a malformed guardian's consent is refused, never ignored.
fn lenient_consent<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Consent>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Given {
        Consent(Consent),
        Other(serde::de::IgnoredAny),
    }
    Ok(match Option::<Given>::deserialize(d)? {
        Some(Given::Consent(c)) => Some(c),
        Some(Given::Other(_)) => Some(Consent::default()),
        None => None,
    })
}

/// [`lenient_consent`] for a required field: anything but a consent object reads as the empty consent.
fn lenient_required_consent<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Consent, D::Error> {
    lenient_consent(d).map(Option::unwrap_or_default)
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
    /// The consent record; a missing or malformed consent is refused with `consent_required`.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_consent")]
    pub consent: Option<Consent>,
    /// A parent's or guardian's consent (PIPL art. 31): required when the birth date shows a child under 14.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient_consent")]
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
    /// The separate consent to processing the face image (sensitive personal information); missing or malformed
    /// reads as the empty consent, which the server refuses with `consent_required`.
    #[serde(default, deserialize_with = "lenient_required_consent")]
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
    /// The identity checks the site runs and their providers, in the order they run (empty: none).
    #[serde(default)]
    pub checks: Vec<CheckNotice>,
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
    /// The identity checks the site runs and their providers, in the order they run (empty: none).
    #[serde(default)]
    pub checks: Vec<CheckNotice>,
    /// When the client secret expires, Unix seconds.
    pub expires_at: i64,
    /// Masked destination of the last code (`138****8000`, `a***@example.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// When a resend becomes possible, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resend_available_at: Option<i64>,
    /// Seconds from this answer until a resend becomes possible (0 when it is now): a client counts down from
    /// this, not from `resend_available_at` against its own clock, which may be wrong.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resend_in: Option<i64>,
    /// Seconds from this answer until the current code expires (0 once it has), while one is pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_expires_in: Option<i64>,
    /// Wrong tries the current code still allows, while one is pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u32>,
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
    /// Seconds from this answer until the code expires (the client's countdown; its clock may be wrong).
    pub code_expires_in: i64,
    /// Seconds from this answer until a resend becomes possible.
    pub resend_in: i64,
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
            // `overloaded` is the documented exception: the server is at its caps, whatever the request said.
            // `check_unavailable` is the identity-check provider's fault, as `delivery_failed` is the SMS one's.
            let server_fault = matches!(
                code,
                ErrorCode::Internal
                    | ErrorCode::DeliveryFailed
                    | ErrorCode::Unavailable
                    | ErrorCode::Overloaded
                    | ErrorCode::CheckUnavailable
            );
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

    #[test]
    fn missing_consents_read_as_none_and_malformed_ones_as_empty() {
        let identity = |consent: &str| {
            let text =
                format!(r#"{{"method":"sms","document_kind":"resident_id","name":"张三","number":"1"{consent}}}"#);
            serde_json::from_str::<IdentityPayload>(&text).map(|p| (p.consent, p.guardian_consent)).ok()
        };
        let given = Consent { version: "v".into(), accepted_at: 5 };
        assert_eq!(identity(r#","consent":{"version":"v","accepted_at":5}"#), Some((Some(given.clone()), None)));
        for missing in ["", r#","consent":null"#, r#","guardian_consent":null"#] {
            assert_eq!(identity(missing), Some((None, None)), "{missing}");
        }
        let empty = Some(Consent::default());
        for bad in [
            r#","consent":"yes""#,
            r#","consent":{"version":1,"accepted_at":5}"#,
            r#","consent":{"version":"v"}"#,
            r#","consent":{"version":"v","accepted_at":18446744073709551615}"#,
            r#","consent":{"version":"v","accepted_at":1.5}"#,
            r#","consent":[]"#,
        ] {
            assert_eq!(identity(bad), Some((empty.clone(), None)), "{bad}");
        }
        assert_eq!(identity(r#","guardian_consent":7"#), Some((None, empty)));
        let docs = |face: &str| {
            let text = format!(
                r#"{{"identity":{{"method":"documents","document_kind":"resident_id","name":"张三","number":"1"}},
                "selfie_jpeg":"","document_jpeg":""{face}}}"#
            );
            serde_json::from_str::<DocumentsPayload>(&text).map(|p| p.face_consent).ok()
        };
        assert_eq!(docs(r#","face_consent":{"version":"v","accepted_at":5}"#), Some(given));
        for bad in ["", r#","face_consent":null"#, r#","face_consent":true"#, r#","face_consent":{"accepted_at":"5"}"#]
        {
            assert_eq!(docs(bad), Some(Consent::default()), "{bad}");
        }
    }
}
