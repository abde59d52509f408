//! Cross-device handoff (docs/protocol.md 4.13): the wire types, and the handoff code's alphabet and reading.
//!
//! A code is 8 characters of Crockford's base32 (digits and capitals without `I`, `L`, `O`, `U`: 40 bits), shown
//! as `XXXX-XXXX`. Typed back it is read leniently: case, spaces and hyphens do not matter, and `O`, `I`, `L` read
//! as `0`, `1`, `1`, the characters people confuse them with.

use serde::{Deserialize, Serialize};

use super::SessionStatus;

/// The code's alphabet: Crockford's base32.
pub const CODE_ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Characters in a code (40 bits).
pub const CODE_LEN: usize = 8;

/// A code in its canonical form (8 characters of [`CODE_ALPHABET`]) as a person types it back: case, spaces and
/// hyphens ignored, `O`/`I`/`L` read as `0`/`1`/`1`. `None` when anything else is left.
pub fn normalize_code(typed: &str) -> Option<String> {
    let mut out = String::with_capacity(CODE_LEN);
    for c in typed.chars() {
        let c = match c.to_ascii_uppercase() {
            ' ' | '-' | '\u{3000}' => continue,
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        };
        if !c.is_ascii() || !CODE_ALPHABET.contains(&(c as u8)) {
            return None;
        }
        out.push(c);
    }
    (out.len() == CODE_LEN).then_some(out)
}

/// A canonical code as shown: `XXXX-XXXX`.
pub fn display_code(code: &str) -> String {
    match code.get(..4).zip(code.get(4..)) {
        Some((a, b)) => format!("{a}-{b}"),
        None => code.to_owned(),
    }
}

/// Answer of `POST /v1/sessions/{id}/handoff`: how the phone opens the session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HandoffResponse {
    /// The code to type on the phone, `XXXX-XXXX`; single use.
    pub code: String,
    /// The site's phone page with the code in its fragment (`…#XXXX-XXXX`, never sent to a server): what the QR
    /// code holds.
    pub url: String,
    /// The phone page without the code: the short link a person types, then the code.
    pub link: String,
    /// `url` as a QR code: an SVG document (black modules on white, quiet zone included).
    pub qr_svg: String,
    /// Seconds from this answer until the code expires.
    pub expires_in: i64,
    /// When the code expires, Unix seconds.
    pub expires_at: i64,
}

/// Body of `POST /v1/handoff/redeem`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RedeemRequest {
    /// The handoff code as typed or read from the link.
    pub code: String,
}

/// Answer of `GET /v1/sessions/{id}/status`: where the session stands, and nothing personal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionStatusView {
    /// The session id.
    pub session_id: String,
    /// Current status.
    pub status: SessionStatus,
    /// Whether another device redeemed a handoff code of the session and carries it on.
    pub handed_off: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_back_as_people_type_them() {
        assert_eq!(normalize_code("7K3M-Q9XD").as_deref(), Some("7K3MQ9XD"));
        assert_eq!(normalize_code(" 7k3m q9xd ").as_deref(), Some("7K3MQ9XD"));
        // Look-alikes read as the characters of the alphabet.
        assert_eq!(normalize_code("oOiL-0011").as_deref(), Some("00110011"));
        for bad in ["", "7K3M-Q9X", "7K3M-Q9XDA", "7K3M-Q9XU", "7K3M_Q9XD", "７K3MQ9XD"] {
            assert_eq!(normalize_code(bad), None, "{bad:?}");
        }
        assert_eq!(display_code("7K3MQ9XD"), "7K3M-Q9XD");
    }
}
