//! Public keys: the HPKE keys envelopes are sealed to, and the JWKS that verifies result tokens.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use realname_core::envelope::SUITE;
use realname_core::protocol::{Jwks, KeysResponse, PROTOCOL_VERSION, PublicKeyInfo};

use crate::state::AppState;

/// The key routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/v1/keys", get(hpke_keys)).route("/v1/jwks.json", get(jwks))
}

/// The HPKE public keys: the one to seal to first, then keys published for later use and older ones in their grace
/// period.
#[utoipa::path(get, path = "/v1/keys", tag = "keys", responses((status = 200, body = KeysResponse)))]
pub async fn hpke_keys(State(state): State<AppState>) -> Json<KeysResponse> {
    let now = state.clock.now_ms();
    let keys = state.keys();
    let keys = keys
        .hpke_listed(now, state.hpke_grace_ms())
        .into_iter()
        .map(|k| PublicKeyInfo { kid: k.kid.clone(), suite: SUITE.to_owned(), public_key: k.public().to_base64() })
        .collect();
    Json(KeysResponse { protocol: PROTOCOL_VERSION, keys })
}

/// The current JWKS.
pub fn current_jwks(state: &AppState) -> Jwks {
    let keys = state.keys();
    Jwks { keys: keys.token_keys().map(|(kid, k)| realname_domain::tokens::jwk(kid, &k.verifying_key())).collect() }
}

/// The result-token verification keys (RFC 7517).
#[utoipa::path(get, path = "/v1/jwks.json", tag = "keys", responses((status = 200, body = Jwks)))]
pub async fn jwks(State(state): State<AppState>) -> Json<Jwks> {
    Json(current_jwks(&state))
}
