//! The instance's keys behind small handles that reload without a restart: [`ServerKeys`] (`server-keys.json`)
//! and [`VaultKeys`] (`vault.keys`) hand out a snapshot per use and swap it whole when the key files change
//! ([`reload`], every `keys.reload_secs` and on `SIGHUP`: [`run`]). A reload passes the same check as a start
//! (keys that differ from the database's records are refused and the old ones kept) and records the keys it
//! adds; the records decide when an added key starts sealing or signing (publish, then use:
//! `realname_domain::keyprint::Activation`).

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use realname_domain::clock::Clock;
use realname_domain::config::Config;
use realname_domain::keyprint::{self, Activation, KeyMismatch};
use realname_domain::keys::{self, KeyError, KeyRing};
use realname_domain::session::SealedIdentity;
use realname_domain::vault::{self, Field, PlainIdentity, Sealed, Vault, VaultError};
use realname_store::{Store, StoreError};
use zeroize::Zeroizing;

use crate::state::AppState;

/// Why keys could not be checked or reloaded.
#[derive(Debug, thiserror::Error)]
pub enum KeysError {
    /// The server key file.
    #[error(transparent)]
    Keys(#[from] KeyError),
    /// The vault key file.
    #[error(transparent)]
    Vault(#[from] VaultError),
    /// The database.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The keys differ from the ones the database was initialised with.
    #[error(transparent)]
    Mismatch(#[from] KeyMismatch),
}

/// One snapshot behind a lock, settled to the clock on every read (a key may have become active since).
struct Slot<T> {
    value: RwLock<Arc<T>>,
    clock: Arc<dyn Clock>,
}

impl<T: Clone> Slot<T> {
    fn get(&self, settled: impl Fn(&T, i64) -> Option<T>) -> Arc<T> {
        let current = self.value.read().unwrap_or_else(|e| e.into_inner()).clone();
        let Some(next) = settled(&current, self.clock.now_ms()) else { return current };
        let next = Arc::new(next);
        let mut slot = self.value.write().unwrap_or_else(|e| e.into_inner());
        // Only over the snapshot it was settled from: a reload meanwhile wins.
        if Arc::ptr_eq(&slot, &current) {
            *slot = next.clone();
        }
        next
    }

    fn set(&self, value: T) {
        *self.value.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(value);
    }
}

/// HPKE, token and HMAC keys (`server-keys.json`); cheap to clone, every clone sees reloads.
#[derive(Clone)]
pub struct ServerKeys(Arc<Slot<KeyRing>>);

impl ServerKeys {
    /// A handle over `ring`, settled with `clock`.
    pub fn new(ring: KeyRing, clock: Arc<dyn Clock>) -> Self {
        Self(Arc::new(Slot { value: RwLock::new(Arc::new(ring)), clock }))
    }

    /// The keys as they stand now (which key is sealed to and which signs follows the keys' activation).
    pub fn current(&self) -> Arc<KeyRing> {
        self.0.get(KeyRing::settled)
    }

    /// Swaps in reloaded keys.
    pub fn replace(&self, ring: KeyRing) {
        self.0.set(ring);
    }
}

/// The vault's keys (`vault.keys`); cheap to clone, every clone sees reloads. Its methods are the vault's, on
/// the keys as they stand now.
#[derive(Clone)]
pub struct VaultKeys(Arc<Slot<Vault>>);

impl VaultKeys {
    /// A handle over `vault`, settled with `clock`.
    pub fn new(vault: Vault, clock: Arc<dyn Clock>) -> Self {
        Self(Arc::new(Slot { value: RwLock::new(Arc::new(vault)), clock }))
    }

    /// The vault as it stands now (which key seals follows the keys' activation).
    pub fn current(&self) -> Arc<Vault> {
        self.0.get(Vault::settled)
    }

    /// Swaps in reloaded keys.
    pub fn replace(&self, vault: Vault) {
        self.0.set(vault);
    }

    /// [`Vault::seal`] now.
    pub fn seal(&self, field: Field<'_>, plaintext: &str) -> Result<Sealed, VaultError> {
        self.current().seal(field, plaintext)
    }

    /// [`Vault::open`] now.
    pub fn open(&self, field: Field<'_>, sealed: &Sealed) -> Result<Zeroizing<String>, VaultError> {
        self.current().open(field, sealed)
    }

    /// [`Vault::seal_identity`] now.
    pub fn seal_identity(&self, session_id: &str, id: &PlainIdentity) -> Result<SealedIdentity, VaultError> {
        self.current().seal_identity(session_id, id)
    }

    /// [`Vault::open_identity`] now.
    pub fn open_identity(&self, session_id: &str, s: &SealedIdentity) -> Result<PlainIdentity, VaultError> {
        self.current().open_identity(session_id, s)
    }

    /// [`Vault::blind_id_number`].
    pub fn blind_id_number(&self, id_number: &str) -> Vec<u8> {
        self.current().blind_id_number(id_number)
    }

    /// [`Vault::blind_text`].
    pub fn blind_text(&self, domain: &str, value: &str) -> String {
        self.current().blind_text(domain, value)
    }

    /// [`Vault::prints`].
    pub fn prints(&self) -> Vec<keyprint::KeyPrint> {
        self.current().prints()
    }
}

/// Where this instance reads its keys again: `None` where they came from an environment variable, which a
/// running process cannot see change (those keys change by a restart).
#[derive(Clone, Debug)]
pub struct KeyFiles {
    /// The folder of `server-keys.json`.
    pub server_dir: Option<PathBuf>,
    /// `vault.keys`.
    pub vault: Option<PathBuf>,
}

impl KeyFiles {
    /// The files `serve` loads for this configuration and environment.
    pub fn of(cfg: &Config) -> Self {
        let unset = |var| std::env::var_os(var).is_none();
        Self {
            server_dir: unset(keys::KEYS_ENV).then(|| cfg.keys.dir.clone()),
            vault: unset(vault::KEYS_ENV).then(|| cfg.keys.dir.join(crate::cli::serve::VAULT_FILE)),
        }
    }
}

/// Refuses keys that differ from the ones the database was initialised with (`realname_domain::keyprint`), and
/// records those it holds: on the first start all of them, later the keys a rotation added.
pub async fn check(store: &dyn Store, ring: &KeyRing, vault: &Vault, now: i64) -> Result<(), KeysError> {
    let held: Vec<_> = ring.prints().into_iter().chain(vault.prints()).collect();
    keyprint::compare(&held, &store.key_prints().await?)?;
    // Again after recording: two instances starting at once on an empty database both record, one of them first.
    keyprint::compare(&held, &store.record_key_prints(&held, now).await?)?;
    Ok(())
}

/// Checks and records the keys, then sets when each may be used from the records (start and reload).
pub async fn admit(
    store: &dyn Store,
    cfg: &Config,
    ring: &mut KeyRing,
    vault: &mut Vault,
    now: i64,
) -> Result<(), KeysError> {
    check(store, ring, vault, now).await?;
    let activation = Activation::new(&store.recorded_key_prints().await?, cfg.keys.publish_secs.saturating_mul(1000));
    ring.activate(&activation, now);
    vault.activate(&activation, now);
    Ok(())
}

/// Reads the key files again and swaps the keys in, after the same check as at start; on any error the keys in
/// use stay. Returns whether the set of keys changed.
pub async fn reload(state: &AppState, files: &KeyFiles) -> Result<bool, KeysError> {
    let now = state.clock.now_ms();
    let (old_ring, old_vault) = (state.keys.current(), state.vault.current());
    let mut ring = match &files.server_dir {
        Some(dir) => KeyRing::load(dir)?,
        None => (*old_ring).clone(),
    };
    let mut vault = match &files.vault {
        Some(path) => Vault::load(path)?,
        None => (*old_vault).clone(),
    };
    admit(state.store.as_ref(), &state.cfg, &mut ring, &mut vault, now).await?;
    let changed = ring.prints() != old_ring.prints() || vault.prints() != old_vault.prints();
    if changed {
        let hpke: Vec<&str> = ring.hpke.iter().map(|e| e.pair.kid.as_str()).collect();
        let token: Vec<&str> = ring.token_keys().map(|(kid, _)| kid).collect();
        tracing::info!(?hpke, ?token, vault = ?vault, "keys reloaded");
    }
    state.keys.replace(ring);
    state.vault.replace(vault);
    Ok(changed)
}

/// Reloads the keys every `keys.reload_secs` and on `SIGHUP` until `shutdown`.
pub async fn run(state: AppState, files: KeyFiles, shutdown: impl std::future::Future<Output = ()>) {
    tokio::pin!(shutdown);
    #[cfg(unix)]
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let every = state.cfg.keys.reload_secs;
    loop {
        let tick = async {
            if every == 0 {
                std::future::pending::<()>().await
            }
            tokio::time::sleep(std::time::Duration::from_secs(every)).await
        };
        #[cfg(unix)]
        let signal = async {
            match hangup.as_mut() {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let signal = std::future::pending::<()>();
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tick => {}
            _ = signal => tracing::info!("SIGHUP: reloading the keys"),
        }
        if let Err(e) = reload(&state, &files).await {
            tracing::error!(error = %e, "keys not reloaded; the keys in use stay");
        }
    }
}
