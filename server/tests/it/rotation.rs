//! Rotation without downtime (issue 20): two instances on one database, each with its own copy of the key files
//! as an operator deploys them, roll a rotation with flows crossing between them at every stage. A key a rotation
//! adds is published first (loaded, opening, listed) and used only after the publish delay; the files are read
//! again without a restart (`keyring::reload`, which `serve` runs periodically and on SIGHUP).

use std::path::Path;
use std::sync::Arc;

use axum::http::StatusCode;
use realname_core::envelope::{RecipientKey, seal};
use realname_core::protocol::{Envelope, Jwks, KeysResponse, Step};
use realname_domain::clock::{Clock as _, ManualClock, SeededRandom};
use realname_domain::keys::{KEY_FILE, KeyRing};
use realname_domain::vault::Vault;
use realname_server::cli::serve::{Rotated, VAULT_FILE, rotate_keys};
use realname_server::delivery::Delivery;
use realname_server::keyring::{self, KeyFiles, KeysError};
use realname_server::state::AppState;
use serde_json::json;

use crate::harness::*;

/// A key folder as `init` makes it.
fn key_folder(seed: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    KeyRing::load_or_create(dir.path(), SeededRandom::new(seed).as_ref(), T0).unwrap();
    Vault::generate().unwrap().write_new(&dir.path().join(VAULT_FILE)).unwrap();
    dir
}

/// The operator copies the key files to another instance.
pub fn copy_keys(from: &Path, to: &Path) {
    for f in [KEY_FILE, VAULT_FILE] {
        std::fs::copy(from.join(f), to.join(f)).unwrap();
    }
}

/// Where an instance with this key folder reads its keys again.
pub fn files(dir: &Path) -> KeyFiles {
    KeyFiles { server_dir: Some(dir.to_owned()), vault: Some(dir.join(VAULT_FILE)) }
}

/// An instance on `backend` with the keys in `dir`, loaded and admitted as `serve` does.
pub async fn instance(backend: Backend, dir: tempfile::TempDir, clock: Arc<ManualClock>, seed: u64) -> Harness {
    let mut cfg = test_config();
    cfg.keys.dir = dir.path().to_owned();
    let mut ring = KeyRing::load(dir.path()).unwrap();
    let mut vault = Vault::load(&dir.path().join(VAULT_FILE)).unwrap();
    keyring::admit(backend.store.as_ref(), &cfg, &mut ring, &mut vault, clock.now_ms()).await.unwrap();
    let rng = SeededRandom::new(seed);
    let delivery = Delivery::from_config(&cfg, clock.clone(), rng.clone()).unwrap();
    let state = AppState::new(cfg, backend.store.clone(), vault, ring, clock.clone(), rng, delivery);
    Harness::from_state(backend, state, clock, dir)
}

/// Two instances on `b`'s database sharing one key folder's content (and one clock).
pub async fn two_instances(b: Backend) -> (Harness, Harness) {
    let (dir_a, dir_b) = (key_folder(11), tempfile::tempdir().unwrap());
    copy_keys(dir_a.path(), dir_b.path());
    let clock = ManualClock::new(T0);
    let second = b.second().await;
    let a = instance(b, dir_a, clock.clone(), 1).await;
    let other = instance(second, dir_b, clock, 2).await;
    (a, other)
}

/// The kids `GET /v1/keys` lists, in order (clients seal to the first).
pub async fn kids(h: &Harness) -> Vec<String> {
    let keys: KeysResponse = serde_json::from_value(h.call("GET", "/v1/keys", &[], None).await.json).unwrap();
    keys.keys.into_iter().map(|k| k.kid).collect()
}

/// `GET /v1/jwks.json`.
pub async fn jwks(h: &Harness) -> Jwks {
    serde_json::from_value(h.call("GET", "/v1/jwks.json", &[], None).await.json).unwrap()
}

/// Seals to the listed key `kid` of `h`.
async fn seal_to(h: &Harness, kid: &str, session: &str, step: Step, payload: &serde_json::Value) -> Envelope {
    let keys: KeysResponse = serde_json::from_value(h.call("GET", "/v1/keys", &[], None).await.json).unwrap();
    let k = keys.keys.iter().find(|k| k.kid == kid).expect("listed");
    let key = RecipientKey::from_base64(&k.kid, &k.public_key).unwrap();
    seal(&key, session, step, payload.to_string().as_bytes()).unwrap()
}

/// One person's flow with its requests spread over both instances, as a balancer spreads them: the session on
/// `x`, the identity sealed to `y`'s keys and posted to `x`, the code sealed to `x`'s keys and posted to `y`.
/// Returns the result token after checking it against both instances' JWKS.
pub async fn cross_flow(x: &Harness, y: &Harness, n: u32) -> String {
    let (phone, ip) = (format!("1391234{n:04}"), format!("198.51.{}.{}", n / 200, n % 200 + 1));
    let s = x.create_session().await;
    let env = y.seal(&s.session_id, Step::Identity, &identity_sms(&phone, x.clock.now_secs())).await;
    let r = x.widget_post(&s, "identity", Some(&json!({ "envelope": env })), &ip).await;
    assert_eq!(r.status, StatusCode::OK, "flow {n}, identity: {}", r.json);
    let env = x.seal(&s.session_id, Step::Code, &json!({ "code": x.last_code() })).await;
    let r = y.widget_post(&s, "code", Some(&json!({ "envelope": env })), &ip).await;
    assert_eq!(r.status, StatusCode::OK, "flow {n}, code: {}", r.json);
    let token = r.json["result_token"].as_str().expect("token").to_owned();
    for h in [x, y] {
        let verified = realname_domain::tokens::verify(&jwks(h).await, &token, h.clock.now_secs(), Some("shop"));
        assert!(verified.is_ok(), "flow {n}: token does not verify: {verified:?}");
    }
    token
}

/// Flows both ways across the two instances; returns the next flow number.
pub async fn flows(a: &Harness, b: &Harness, n: u32) -> u32 {
    for i in 0..2 {
        cross_flow(a, b, n + 2 * i).await;
        cross_flow(b, a, n + 2 * i + 1).await;
    }
    n + 4
}

async fn hpke_rotation_rolls_across_instances_with_flows_running(b: Backend) {
    let (a, other) = two_instances(b).await;
    let (files_a, files_b) = (files(dir_of(&a)), files(dir_of(&other)));
    let old = kids(&a).await;
    assert_eq!((old.len(), kids(&other).await), (1, old.clone()));
    let mut n = flows(&a, &other, 0).await;

    // `rotate-keys` on the first instance's files; it reloads them: the new key is published (listed after the
    // key in use, and opening), not sealed to. The other instance does not know it yet, and no flow notices.
    let cfg = a.state.cfg.clone();
    a.clock.advance_secs(600);
    let published_at = a.clock.now_ms();
    rotate_keys(&cfg, Rotated::Hpke, published_at, &mut Vec::new()).unwrap();
    assert!(keyring::reload(&a.state, &files_a).await.unwrap(), "the rotated file is loaded");
    let new = kids(&a).await[1].clone();
    assert_eq!(kids(&a).await, vec![old[0].clone(), new.clone()]);
    assert_eq!(kids(&other).await, old);
    n = flows(&a, &other, n).await;
    // A client that seals to the published key is served by an instance that has loaded it.
    let s = a.create_session().await;
    let env = seal_to(&a, &new, &s.session_id, Step::Identity, &identity_sms("13912349000", a.clock.now_secs())).await;
    let r = a.widget_post(&s, "identity", Some(&json!({ "envelope": env })), "203.0.113.9").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);

    // The file reaches the other instance, which reloads it (a second reload finds nothing new).
    copy_keys(dir_of(&a), dir_of(&other));
    assert!(keyring::reload(&other.state, &files_b).await.unwrap());
    assert!(!keyring::reload(&other.state, &files_b).await.unwrap());
    assert_eq!(kids(&other).await, kids(&a).await);
    n = flows(&a, &other, n).await;

    // The publish delay after the first instance loaded it, both seal to the new key; an envelope sealed to the
    // old key just before still opens.
    let publish_ms = cfg.keys.publish_secs * 1000;
    a.clock.set_ms(published_at + publish_ms - 30_000);
    assert_eq!(kids(&other).await[0], old[0]);
    let s = other.create_session().await;
    let before = other.seal(&s.session_id, Step::Identity, &identity_sms("13912349001", a.clock.now_secs())).await;
    assert_eq!(before.kid, old[0]);
    a.clock.advance_ms(30_000);
    for h in [&a, &other] {
        assert_eq!(kids(h).await, vec![new.clone(), old[0].clone()], "the new key first");
    }
    let r = a.widget_post(&s, "identity", Some(&json!({ "envelope": before })), "203.0.113.10").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let after = a.seal(&s.session_id, Step::Code, &json!({ "code": a.last_code() })).await;
    assert_eq!(after.kid, new);
    let r = other.widget_post(&s, "code", Some(&json!({ "envelope": after })), "203.0.113.10").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    flows(&a, &other, n).await;
}

/// The id of the vault key that sealed a session's identity.
async fn sealed_with(h: &Harness, session_id: &str) -> Option<u32> {
    let s = h.state.store.session(session_id).await.unwrap().unwrap();
    s.identity.and_then(|i| i.name.key_id())
}

async fn vault_rotation_rolls_and_a_missing_key_is_a_503(b: Backend) {
    let (a, other) = two_instances(b).await;
    let (files_a, files_b) = (files(dir_of(&a)), files(dir_of(&other)));
    let mut n = flows(&a, &other, 0).await;
    a.clock.advance_secs(600);

    // `key 2` appended to the first instance's vault.keys (docs/storage.md), loaded there: published, not used.
    assert_eq!(Vault::rotate_file(&files_a.vault.clone().unwrap()).unwrap(), 2);
    let published_at = a.clock.now_ms();
    assert!(keyring::reload(&a.state, &files_a).await.unwrap());
    let s = a.create_session().await;
    let r = a.submit_identity(&s, &identity_sms("13912349100", a.clock.now_secs())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(sealed_with(&a, &s.session_id).await, Some(1));
    // The other instance, which lacks key 2, reads everything the first one seals.
    let r = other.submit_code(&s, &a.last_code()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    n = flows(&a, &other, n).await;

    // The operator is late: the publish delay ends before the other instance has the file. The first instance
    // seals with key 2; the other answers 503 `unavailable` (never 500) for such a session and changes nothing.
    a.clock.set_ms(published_at + a.state.cfg.keys.publish_secs * 1000);
    let s = a.create_session().await;
    let r = a.submit_identity(&s, &identity_sms("13912349101", a.clock.now_secs())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(sealed_with(&a, &s.session_id).await, Some(2));
    let code = a.last_code();
    let env = other.seal(&s.session_id, Step::Code, &json!({ "code": code })).await;
    let body = json!({ "envelope": env });
    let r = other.widget_post(&s, "code", Some(&body), "203.0.113.11").await;
    assert_eq!((r.status, r.code()), (StatusCode::SERVICE_UNAVAILABLE, "unavailable"), "{}", r.json);
    assert_eq!(other.site_view(&s.session_id).await.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(other.client_view(&s).await.status, StatusCode::SERVICE_UNAVAILABLE);
    // Once the file arrives and is loaded, the same request succeeds.
    copy_keys(dir_of(&a), dir_of(&other));
    assert!(keyring::reload(&other.state, &files_b).await.unwrap());
    let r = other.widget_post(&s, "code", Some(&body), "203.0.113.11").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    flows(&a, &other, n).await;
    // Both seal with key 2 now, and read what was sealed with key 1.
    let old = s;
    let s = other.create_session().await;
    let r = other.submit_identity(&s, &identity_sms("13912349102", a.clock.now_secs())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(sealed_with(&other, &s.session_id).await, Some(2));
    assert_eq!(a.site_view(&old.session_id).await.status, StatusCode::OK);
}

/// The `kid` in a result token's header.
fn token_kid(token: &str) -> String {
    use base64::Engine as _;
    let header = token.split('.').next().unwrap();
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).unwrap();
    serde_json::from_slice::<serde_json::Value>(&header).unwrap()["kid"].as_str().unwrap().to_owned()
}

/// The kids of an instance's JWKS, in order.
async fn jwks_kids(h: &Harness) -> Vec<String> {
    jwks(h).await.keys.into_iter().map(|k| k.kid).collect()
}

async fn token_key_rotation_rolls_and_tokens_verify_throughout(b: Backend) {
    let (a, other) = two_instances(b).await;
    let (files_a, files_b) = (files(dir_of(&a)), files(dir_of(&other)));
    let old = jwks_kids(&a).await;
    assert_eq!(old.len(), 1);
    // Every flow checks its token against both instances' JWKS (cross_flow).
    assert_eq!(token_kid(&cross_flow(&a, &other, 0).await), old[0]);
    a.clock.advance_secs(600);

    // `rotate-keys --key token` on the first instance's files, loaded there: the new key is in its JWKS, and it
    // still signs with the old one, which the other instance's JWKS has.
    let cfg = a.state.cfg.clone();
    let published_at = a.clock.now_ms();
    rotate_keys(&cfg, Rotated::Token, published_at, &mut Vec::new()).unwrap();
    assert!(keyring::reload(&a.state, &files_a).await.unwrap());
    let new = jwks_kids(&a).await[0].clone();
    assert_eq!(jwks_kids(&a).await, vec![new.clone(), old[0].clone()]);
    assert_eq!(jwks_kids(&other).await, old);
    let mut n = flows(&a, &other, 1).await;
    copy_keys(dir_of(&a), dir_of(&other));
    assert!(keyring::reload(&other.state, &files_b).await.unwrap());
    assert_eq!(jwks_kids(&other).await, jwks_kids(&a).await);
    n = flows(&a, &other, n).await;

    // The publish delay after the first instance loaded it, both sign with the new key; a token signed with the
    // old key just before still verifies through the JWKS for its lifetime.
    a.clock.set_ms(published_at + cfg.keys.publish_secs * 1000 - 30_000);
    let before = cross_flow(&other, &a, n).await;
    assert_eq!(token_kid(&before), old[0]);
    a.clock.advance_ms(30_000);
    let after = cross_flow(&a, &other, n + 1).await;
    assert_eq!(token_kid(&after), new);
    for h in [&a, &other] {
        let verified = realname_domain::tokens::verify(&jwks(h).await, &before, h.clock.now_secs(), Some("shop"));
        assert!(verified.is_ok(), "{verified:?}");
    }
    flows(&a, &other, n + 2).await;

    // The next rotation after the grace drops the key replaced by this one from the file, and then the JWKS.
    let later = published_at + cfg.keys.hpke_grace_secs * 1000 + 1;
    a.clock.set_ms(later);
    rotate_keys(&cfg, Rotated::Token, later, &mut Vec::new()).unwrap();
    assert!(keyring::reload(&a.state, &files_a).await.unwrap());
    let kids = jwks_kids(&a).await;
    assert_eq!((kids.len(), &kids[1]), (2, &new), "{kids:?}");
}

async fn a_reload_with_other_keys_is_refused_and_the_keys_in_use_stay(b: Backend) {
    let (a, other) = two_instances(b).await;
    let before = kids(&other).await;
    // The other instance's folder gets keys made anew (a wrong copy): refused, nothing recorded, flows go on.
    let stranger = key_folder(99);
    copy_keys(stranger.path(), dir_of(&other));
    let recorded = a.state.store.key_prints().await.unwrap();
    let err = keyring::reload(&other.state, &files(dir_of(&other))).await.unwrap_err();
    assert!(matches!(err, KeysError::Mismatch(_)), "{err}");
    assert_eq!(a.state.store.key_prints().await.unwrap(), recorded);
    assert_eq!(kids(&other).await, before);
    flows(&a, &other, 0).await;
    // A missing or broken file is no reload either.
    std::fs::write(dir_of(&other).join(KEY_FILE), b"{").unwrap();
    assert!(matches!(keyring::reload(&other.state, &files(dir_of(&other))).await, Err(KeysError::Keys(_))));
    flows(&a, &other, 4).await;
}

/// The key folder of an instance built by [`instance`].
pub fn dir_of(h: &Harness) -> &Path {
    &h.state.cfg.keys.dir
}

on_both_backends!(
    hpke_rotation_rolls_across_instances_with_flows_running,
    vault_rotation_rolls_and_a_missing_key_is_a_503,
    token_key_rotation_rolls_and_tokens_verify_throughout,
    a_reload_with_other_keys_is_refused_and_the_keys_in_use_stay,
);
