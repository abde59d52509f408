//! Result tokens: verify against the published JWKS like a site backend would, and fail when altered.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use realname_core::protocol::{Jwks, SessionStatus};
use realname_domain::tokens::{TokenError, verify};

use crate::harness::*;
use realname_domain::clock::Clock as _;

on_both_backends!(result_token_verifies_against_jwks_and_fails_when_altered);

async fn result_token_verifies_against_jwks_and_fails_when_altered(b: Backend) {
    let h = Harness::new(b).await;
    let (s, token) = h.verified_session(PHONE).await;
    let jwks: Jwks = serde_json::from_value(h.call("GET", "/v1/jwks.json", &[], None).await.json).unwrap();
    assert_eq!(jwks.keys[0].kty, "OKP");
    let now = h.clock.now_secs();
    let claims = verify(&jwks, &token, now, Some("shop")).expect("verifies");
    assert_eq!(claims.session_id, s.session_id);
    assert_eq!(claims.sub, s.session_id);
    assert_eq!(claims.status, SessionStatus::Verified);
    assert_eq!(claims.masked_name, realname_core::validate::mask_name(NAME));
    assert_eq!(claims.iss, "https://verify.example");
    assert!(!token.contains(ID_NUMBER));

    // Altered claims, a swapped signature, another audience, and time passing all fail.
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    payload["masked_name"] = serde_json::json!("李*");
    let forged = format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(payload.to_string()), parts[2]);
    assert_eq!(verify(&jwks, &forged, now, Some("shop")), Err(TokenError::BadSignature));
    let mut sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    sig[0] ^= 1;
    let bad_sig = format!("{}.{}.{}", parts[0], parts[1], URL_SAFE_NO_PAD.encode(sig));
    assert_eq!(verify(&jwks, &bad_sig, now, Some("shop")), Err(TokenError::BadSignature));
    assert_eq!(verify(&jwks, &token, now, Some("other")), Err(TokenError::WrongAudience));
    assert_eq!(verify(&jwks, &token, now + 15 * 60, Some("shop")), Err(TokenError::Expired));

    // The demo backend endpoint says the same.
    let ok = h.call("POST", "/demo/verify-token", &[], Some(&serde_json::json!({ "token": token }).to_string())).await;
    assert_eq!(ok.json["claims"]["session_id"], s.session_id.as_str(), "{}", ok.json);
    let bad =
        h.call("POST", "/demo/verify-token", &[], Some(&serde_json::json!({ "token": forged }).to_string())).await;
    assert_eq!(bad.status.as_u16(), 400);
}
