//! Keys across instances: an instance whose keys differ from the ones the database was initialised with is refused
//! at start, naming what differs, and `/readyz` never says ready for it (issue 20).

use std::sync::Arc;

use axum::http::StatusCode;
use realname_domain::clock::{ManualClock, SeededRandom};
use realname_domain::keyprint::KeySet;
use realname_domain::keys::KeyRing;
use realname_domain::vault::Vault;
use realname_server::cli::serve::{StartError, build_state, check_keys};
use realname_server::delivery::Delivery;
use realname_server::state::AppState;
use realname_store::Store;

use crate::harness::*;

fn server_keys(seed: u64) -> KeyRing {
    KeyRing::generate(SeededRandom::new(seed).as_ref(), T0)
}

/// The sets a refused start names (panics if it was not refused for its keys).
async fn refused(store: &dyn Store, keys: &KeyRing, vault: &Vault) -> Vec<KeySet> {
    match check_keys(store, keys, vault, T0).await {
        Err(StartError::KeyMismatch(m)) => m.sets,
        other => panic!("expected a key mismatch, got {other:?}"),
    }
}

/// `GET /readyz` of an instance with these keys on this store.
async fn readyz(store: Arc<dyn Store>, keys: KeyRing, vault: Vault) -> StatusCode {
    let cfg = test_config();
    let clock = ManualClock::new(T0);
    let rng = SeededRandom::new(7);
    let delivery = Delivery::from_config(&cfg, clock.clone(), rng.clone()).expect("delivery");
    let state = AppState::new(cfg, store, vault, keys, clock, rng, delivery);
    let app = realname_server::http::app(state);
    let req = axum::http::Request::get("/readyz").body(axum::body::Body::empty()).expect("request");
    tower::ServiceExt::oneshot(app, req).await.expect("infallible").status()
}

async fn an_instance_with_other_keys_is_refused_and_never_ready(b: Backend) {
    let (keys, vault) = (server_keys(1), Vault::generate().unwrap());
    check_keys(b.store.as_ref(), &keys, &vault, T0).await.expect("first start records the keys");
    let recorded = b.store.key_prints().await.unwrap();
    assert_eq!(recorded.len(), 6, "HPKE, token, code, limit, vault key 1, index");
    let other = b.another_instance().await;

    // The same keys start and are ready.
    check_keys(other.as_ref(), &keys, &vault, T0).await.expect("same keys start");
    assert_eq!(readyz(other.clone(), keys.clone(), vault.clone()).await, StatusCode::OK);

    // Its own server-keys.json (the vault shared), its own vault.keys, or both: refused, naming what differs.
    let (own_keys, own_vault) = (server_keys(2), Vault::generate().unwrap());
    let server_sets = vec![KeySet::Hpke, KeySet::Token, KeySet::CodeHmac, KeySet::LimitHmac];
    assert_eq!(refused(other.as_ref(), &own_keys, &vault).await, server_sets);
    assert_eq!(refused(other.as_ref(), &keys, &own_vault).await, vec![KeySet::Vault, KeySet::VaultIndex]);
    assert_eq!(refused(other.as_ref(), &own_keys, &own_vault).await.len(), 6);
    let text = check_keys(other.as_ref(), &own_keys, &vault, T0).await.unwrap_err().to_string();
    assert!(
        text.contains("HPKE key set") && text.contains("code HMAC key") && !text.contains("vault keys ("),
        "{text}"
    );
    assert_eq!(b.store.key_prints().await.unwrap(), recorded, "a refused instance records nothing");

    // Never ready, whether it skipped the start check or its keys changed after it.
    assert_eq!(readyz(other.clone(), own_keys, vault.clone()).await, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(readyz(other.clone(), keys.clone(), own_vault).await, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(readyz(b.store.clone(), keys.clone(), vault.clone()).await, StatusCode::OK);
}

async fn keys_added_by_a_rotation_are_recorded_and_the_old_ones_may_go(b: Backend) {
    let (mut keys, mut vault) = (server_keys(3), Vault::generate().unwrap());
    check_keys(b.store.as_ref(), &keys, &vault, T0).await.unwrap();
    // The operator adds an HPKE key and vault key 2 to every instance's files.
    keys.rotate_hpke(SeededRandom::new(4).as_ref(), T0 + 1).unwrap();
    vault.rotate().unwrap();
    let other = b.another_instance().await;
    check_keys(other.as_ref(), &keys, &vault, T0 + 2).await.expect("added keys start");
    assert_eq!(b.store.key_prints().await.unwrap().len(), 8);
    // Once its grace ended the old HPKE key leaves the file; the new one is recorded.
    keys.prune_hpke(i64::MAX / 2, 0);
    assert_eq!(keys.hpke.len(), 1);
    check_keys(other.as_ref(), &keys, &vault, T0 + 3).await.expect("pruned keys start");
    assert_eq!(readyz(other, keys, vault).await, StatusCode::OK);
}

on_both_backends!(
    an_instance_with_other_keys_is_refused_and_never_ready,
    keys_added_by_a_rotation_are_recorded_and_the_old_ones_may_go,
);

/// The real start path: two key folders on one SQLite database, as `serve` loads them.
#[tokio::test]
async fn serve_refuses_a_key_folder_made_anew() {
    let dir = tempfile::tempdir().unwrap();
    let config = |keys: &str| {
        let mut cfg = test_config();
        cfg.database.url =
            realname_domain::config::Secret::new(format!("sqlite://{}", dir.path().join("realname.db").display()));
        cfg.keys.dir = dir.path().join(keys);
        cfg
    };
    let start = |keys: &str| {
        build_state(config(keys), ManualClock::new(T0), SeededRandom::new(if keys == "a" { 1 } else { 2 }))
    };
    start("a").await.expect("first instance");
    start("a").await.expect("same key folder");
    let err = start("b").await.err().expect("a key folder made anew is refused");
    assert!(matches!(err, StartError::KeyMismatch(ref m) if m.sets.len() == 6), "{err}");
    assert!(err.to_string().contains("vault keys (vault.keys / REALNAME_VAULT_KEYS)"), "{err}");
}
