//! Result tokens: compact JWS (RFC 7515) with `alg` `EdDSA` (Ed25519, RFC 8037), and the JWKS that verifies them.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use realname_core::protocol::{Jwk, Jwks, ResultClaims};
use serde::{Deserialize, Serialize};

/// Why a token did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not three base64url parts of JSON.
    #[error("malformed token")]
    Malformed,
    /// Header `alg` is not `EdDSA` or `kid` unknown.
    #[error("unsupported algorithm or unknown key")]
    UnknownKey,
    /// The signature does not match.
    #[error("bad signature")]
    BadSignature,
    /// Past `exp`.
    #[error("token expired")]
    Expired,
    /// Wrong audience.
    #[error("token is for another site")]
    WrongAudience,
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    typ: String,
    kid: String,
}

/// Signs `claims` with `key` under `kid`.
pub fn sign(kid: &str, key: &SigningKey, claims: &ResultClaims) -> String {
    let header = Header { alg: "EdDSA".into(), typ: "JWT".into(), kid: kid.into() };
    let h = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).unwrap_or_default());
    let p = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signing_input = format!("{h}.{p}");
    let sig = key.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

/// The JWK of a verifying key.
pub fn jwk(kid: &str, key: &VerifyingKey) -> Jwk {
    Jwk {
        kty: "OKP".into(),
        crv: "Ed25519".into(),
        x: URL_SAFE_NO_PAD.encode(key.as_bytes()),
        kid: kid.into(),
        alg: "EdDSA".into(),
        use_: "sig".into(),
    }
}

/// Verifies `token` against a JWKS as a site would: signature, `alg`, `exp` at `now_secs`, and `aud` if given.
pub fn verify(jwks: &Jwks, token: &str, now_secs: i64, audience: Option<&str>) -> Result<ResultClaims, TokenError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(TokenError::Malformed);
    };
    let dec = |x: &str| URL_SAFE_NO_PAD.decode(x).map_err(|_| TokenError::Malformed);
    let header: Header = serde_json::from_slice(&dec(h)?).map_err(|_| TokenError::Malformed)?;
    if header.alg != "EdDSA" {
        return Err(TokenError::UnknownKey);
    }
    let jwk = jwks.keys.iter().find(|k| k.kid == header.kid && k.kty == "OKP" && k.crv == "Ed25519");
    let jwk = jwk.ok_or(TokenError::UnknownKey)?;
    let x = <[u8; 32]>::try_from(dec(&jwk.x)?.as_slice()).map_err(|_| TokenError::UnknownKey)?;
    let key = VerifyingKey::from_bytes(&x).map_err(|_| TokenError::UnknownKey)?;
    let sig = <[u8; 64]>::try_from(dec(s)?.as_slice()).map_err(|_| TokenError::Malformed)?;
    key.verify(format!("{h}.{p}").as_bytes(), &Signature::from_bytes(&sig)).map_err(|_| TokenError::BadSignature)?;
    let claims: ResultClaims = serde_json::from_slice(&dec(p)?).map_err(|_| TokenError::Malformed)?;
    if claims.exp <= now_secs {
        return Err(TokenError::Expired);
    }
    if audience.is_some_and(|a| a != claims.aud) {
        return Err(TokenError::WrongAudience);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use realname_core::protocol::{AgeBand, DocumentKind, Method, SessionStatus};

    fn claims() -> ResultClaims {
        ResultClaims {
            iss: "https://verify.example.com".into(),
            sub: "ses_1".into(),
            aud: "shop".into(),
            iat: 100,
            exp: 1000,
            jti: "tok_1".into(),
            session_id: "ses_1".into(),
            site: "shop".into(),
            status: SessionStatus::Verified,
            method: Method::Sms,
            document_kind: DocumentKind::ResidentId,
            verified_at: 100,
            masked_name: "张*".into(),
            masked_number: "1101**********002X".into(),
            age_band: Some(AgeBand::From60),
            reference: None,
            checks: Vec::new(),
        }
    }

    #[test]
    fn signs_and_verifies_and_detects_changes() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let jwks = Jwks { keys: vec![jwk("rt-1", &key.verifying_key())] };
        let token = sign("rt-1", &key, &claims());
        assert_eq!(verify(&jwks, &token, 500, Some("shop")), Ok(claims()));
        assert_eq!(verify(&jwks, &token, 1000, Some("shop")), Err(TokenError::Expired));
        assert_eq!(verify(&jwks, &token, 500, Some("other")), Err(TokenError::WrongAudience));
        // Altering the payload (e.g. the masked name) breaks the signature.
        let mut altered = claims();
        altered.masked_name = "李*".into();
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&altered).unwrap_or_default());
        let parts: Vec<&str> = token.split('.').collect();
        let forged = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
        assert_eq!(verify(&jwks, &forged, 500, None), Err(TokenError::BadSignature));
        let other = SigningKey::from_bytes(&[8u8; 32]);
        let wrong_key = sign("rt-1", &other, &claims());
        assert_eq!(verify(&jwks, &wrong_key, 500, None), Err(TokenError::BadSignature));
        assert_eq!(verify(&jwks, "a.b", 500, None), Err(TokenError::Malformed));
    }
}
