//! `realname-server serve`, `demo`, `init` and `rotate-keys`: building the state from configuration, running the
//! HTTP server with its background workers, and graceful shutdown.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::delivery::Delivery;
use crate::keyring::{self, KeysError};
use crate::state::AppState;
use realname_domain::clock::{Clock, OsRandom, Random, SystemClock};
use realname_domain::config::{Config, SiteConfig, sample_toml};
use realname_domain::encoding::hex_encode;
use realname_domain::keys::KeyRing;
use realname_domain::sites::hash_secret;
use realname_domain::vault::Vault;
use realname_store::{self as store, PurgePolicy};

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Configuration problem.
    #[error(transparent)]
    Config(#[from] realname_domain::config::ConfigError),
    /// Key material problem.
    #[error(transparent)]
    Keys(#[from] realname_domain::keys::KeyError),
    /// Vault key problem.
    #[error(transparent)]
    Vault(#[from] realname_domain::vault::VaultError),
    /// Database problem.
    #[error(transparent)]
    Store(#[from] store::StoreError),
    /// Delivery configuration problem.
    #[error(transparent)]
    Delivery(#[from] crate::delivery::DeliveryError),
    /// The keys differ from the ones the database was initialised with.
    #[error(transparent)]
    KeyMismatch(#[from] realname_domain::keyprint::KeyMismatch),
    /// Listener or file problem.
    #[error("{0}")]
    Io(String),
}

impl From<KeysError> for StartError {
    fn from(e: KeysError) -> Self {
        match e {
            KeysError::Keys(e) => Self::Keys(e),
            KeysError::Vault(e) => Self::Vault(e),
            KeysError::Store(e) => Self::Store(e),
            KeysError::Mismatch(e) => Self::KeyMismatch(e),
        }
    }
}

/// The vault key file inside `keys.dir`.
pub const VAULT_FILE: &str = "vault.keys";

/// Opens store, keys and vault and assembles the state (the same path tests and the benchmark use).
pub async fn build_state(cfg: Config, clock: Arc<dyn Clock>, rng: Arc<dyn Random>) -> Result<AppState, StartError> {
    cfg.validate()?;
    crate::state::check_calendar(&cfg.review, clock.now_ms()).map_err(|e| StartError::Io(e.to_string()))?;
    let mut keys = match std::env::var(realname_domain::keys::KEYS_ENV) {
        Ok(json) => KeyRing::from_json(json.as_bytes())?,
        Err(_) => KeyRing::load_or_create(&cfg.keys.dir, rng.as_ref(), clock.now_ms())?,
    };
    let mut vault = Vault::load_or_create(&cfg.keys.dir.join(VAULT_FILE))?;
    let store = store::open(cfg.database.url.expose()).await?;
    keyring::admit(store.as_ref(), &cfg, &mut keys, &mut vault, clock.now_ms()).await?;
    let delivery = Delivery::from_config(&cfg, clock.clone(), rng.clone())?;
    Ok(AppState::new(cfg, store, vault, keys, clock, rng, delivery))
}

/// Refuses keys that differ from the ones the database was initialised with (`realname_domain::keyprint`), and
/// records those it holds: on the first start all of them, later the keys a rotation added.
pub async fn check_keys(store: &dyn store::Store, keys: &KeyRing, vault: &Vault, now: i64) -> Result<(), StartError> {
    Ok(keyring::check(store, keys, vault, now).await?)
}

/// Starts JSON or text logs at the configured level. Logs never contain personal data (see the handlers).
pub fn init_logging(cfg: &Config) {
    let level = match cfg.server.log_level.as_str() {
        "error" => tracing::Level::ERROR,
        "warn" => tracing::Level::WARN,
        "debug" => tracing::Level::DEBUG,
        "trace" => tracing::Level::TRACE,
        _ => tracing::Level::INFO,
    };
    let builder = tracing_subscriber::fmt().with_max_level(level).with_writer(std::io::stderr);
    let _ = if cfg.server.log_format == "text" { builder.try_init() } else { builder.json().try_init() };
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Runs the server until SIGINT/SIGTERM: HTTP, the webhook worker and the purge job.
pub async fn serve(state: AppState) -> Result<(), StartError> {
    let addr = state.cfg.server.addr.clone();
    let listener =
        tokio::net::TcpListener::bind(&addr).await.map_err(|e| StartError::Io(format!("bind {addr}: {e}")))?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let wait = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|v| *v).await;
    };
    let worker = tokio::spawn(crate::webhooks::run(state.clone(), wait(stop_rx.clone())));
    let purger = tokio::spawn(purge_loop(state.clone(), wait(stop_rx.clone())));
    let chainer = tokio::spawn(chainer_of(&state)?.run(wait(stop_rx.clone())));
    let files = keyring::KeyFiles::of(&state.cfg);
    let reloader = tokio::spawn(keyring::run(state.clone(), files, wait(stop_rx.clone())));
    tracing::info!(%addr, store = state.store.backend(), sms = state.delivery.sms.name(), email = state.delivery.email.name(), "listening");
    crate::http::conn::warn_if_few_files(state.cfg.http.max_connections);
    let http = state.cfg.http.clone();
    let result = crate::http::conn::serve(listener, crate::http::app(state), &http, shutdown_signal()).await;
    let _ = stop_tx.send(true);
    let _ = worker.await;
    let _ = purger.await;
    let _ = chainer.await;
    let _ = reloader.await;
    result.map_err(|e| StartError::Io(e.to_string()))
}

/// The audit chainer of `state`, writing signed checkpoints to `[audit] checkpoint_dir` with the token signing key.
pub fn chainer_of(state: &AppState) -> Result<crate::audit::chain::Chainer, StartError> {
    let keys = state.keys.clone();
    let signer: crate::audit::checkpoint::Signer =
        Arc::new(move || keys.current().token_signer().map(|(kid, k)| (kid.to_owned(), k.clone())));
    let file = crate::audit::checkpoint::CheckpointFile::in_dir(&state.cfg.audit.checkpoint_dir);
    let interval_ms = i64::try_from(state.cfg.audit.checkpoint_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
    let checkpointer = crate::audit::checkpoint::Checkpointer::new(file, state.audit_key.clone(), signer, interval_ms)
        .map_err(|e| StartError::Io(e.to_string()))?;
    let checkpointer = match &state.cfg.audit.checkpoint_url {
        Some(url) => checkpointer.with_sink(crate::audit::checkpoint::Sink::new(state.http.clone(), url.clone())),
        None => checkpointer,
    };
    Ok(crate::audit::chain::Chainer {
        store: state.store.clone(),
        key: state.audit_key.clone(),
        clock: state.clock.clone(),
        checkpointer: Some(checkpointer),
    })
}

async fn purge_loop(state: AppState, shutdown: impl std::future::Future<Output = ()>) {
    tokio::pin!(shutdown);
    loop {
        let policy = PurgePolicy {
            now: state.clock.now_ms(),
            session_retention_ms: state.cfg.session.retention_secs.saturating_mul(1000),
            delivery_retention_ms: 7 * 24 * 3_600_000,
        };
        match state.store.purge(&policy).await {
            // Expired sessions had their identity wiped, deleted ones lost everything: out of the files too.
            Ok(r) if r.sessions_expired + r.sessions_deleted > 0 => {
                if !matches!(state.store.flush_erased().await, Ok(true)) {
                    tracing::warn!("purged data may stay in the SQLite WAL until the next flush");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "purge failed"),
        }
        if let Err(e) =
            <crate::review::Reviews as axum::extract::FromRef<AppState>>::from_ref(&state).purge_images().await
        {
            tracing::warn!(error = %e, "image purge failed");
        }
        tokio::select! {
            _ = &mut shutdown => break,
            _ = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
        }
    }
}

/// The demo site's publishable key (the demo pages use it).
pub const DEMO_PUBLISHABLE_KEY: &str = "pk_demo";

/// The configuration of `realname-server demo`: SQLite under `data`, outbox delivery, the demo site, `www`.
/// Returns it with the demo site's freshly generated secret API key.
pub fn demo_config(addr: &str, data: &Path, www: Option<PathBuf>, rng: &dyn Random) -> (Config, String) {
    let mut cfg = Config::default();
    cfg.server.addr = addr.to_owned();
    cfg.server.public_url = format!("http://{addr}");
    cfg.server.demo = true;
    cfg.server.log_format = "text".into();
    cfg.server.www = www;
    cfg.database.url = realname_domain::config::Secret::new(format!("sqlite://{}", data.join("realname.db").display()));
    cfg.keys.dir = data.join("keys");
    cfg.audit.checkpoint_dir = data.join("audit");
    let port = addr.rsplit(':').next().unwrap_or("8080");
    let secret = format!("sk_demo_{}", rng.token(24));
    let mut origins =
        vec![format!("http://{addr}"), format!("http://localhost:{port}"), format!("http://127.0.0.1:{port}")];
    origins.dedup();
    cfg.sites.push(SiteConfig {
        id: "demo".into(),
        name: "realname demo".into(),
        origins,
        secret_key_sha256: hex_encode(&hash_secret(&secret)),
        publishable_key: Some(DEMO_PUBLISHABLE_KEY.into()),
        webhook_url: None,
        webhook_secret: realname_domain::config::Secret::default(),
        methods: vec![
            realname_core::protocol::Method::Sms,
            realname_core::protocol::Method::Email,
            realname_core::protocol::Method::Documents,
        ],
        max_accounts_per_identity: 0,
        // The demo provider's fixtures (docs/checks.md) show every outcome of the name + number check.
        checks: vec![realname_domain::config::SiteCheck {
            check: realname_core::protocol::Check::IdMatch,
            provider: "demo".into(),
            unavailable: realname_domain::config::CheckPolicy::Review,
        }],
        required_checks: Vec::new(),
        enabled: true,
        // No phone page yet: the widget's side of the handoff is not in the demo (docs/protocol.md 4.13).
        handoff_url: None,
    });
    (cfg, secret)
}

/// `realname-server init [--dir DIR]`: writes `realname.toml` (never overwriting) and the key files, and prints
/// the new site's secret API key once.
pub fn init(dir: &Path, out: &mut dyn std::io::Write) -> Result<(), StartError> {
    let io = |e: std::io::Error| StartError::Io(e.to_string());
    let toml_path = dir.join("realname.toml");
    if toml_path.exists() {
        return Err(StartError::Io(format!("{} exists; not overwriting it", toml_path.display())));
    }
    std::fs::create_dir_all(dir).map_err(io)?;
    let rng = OsRandom;
    let secret = format!("sk_live_{}", rng.token(24));
    let webhook_secret = format!("whsec_{}", rng.token(24));
    std::fs::write(&toml_path, sample_toml(&hex_encode(&hash_secret(&secret)), &webhook_secret)).map_err(io)?;
    let keys_dir = dir.join("data/keys");
    KeyRing::load_or_create(&keys_dir, &rng, SystemClock.now_ms())?;
    Vault::load_or_create(&keys_dir.join(VAULT_FILE))?;
    writeln!(out, "wrote {} and keys in {}", toml_path.display(), keys_dir.display()).map_err(io)?;
    writeln!(out, "secret API key of site \"example\" (shown once; only its hash is in the config):\n  {secret}")
        .map_err(io)?;
    Ok(())
}

/// The keys `rotate-keys --key` adds one to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rotated {
    /// An HPKE key (`server-keys.json`): the widget's envelopes.
    Hpke,
    /// A result-token signing key (`server-keys.json`).
    Token,
    /// A vault key (`vault.keys`): personal data at rest.
    Vault,
}

impl Rotated {
    /// Parses `hpke`, `token` or `vault`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "hpke" => Some(Self::Hpke),
            "token" => Some(Self::Token),
            "vault" => Some(Self::Vault),
            _ => None,
        }
    }
}

/// `realname-server rotate-keys [--key hpke|token|vault]`: adds a key to the key file of the configuration's
/// `keys.dir`. Instances load it without a restart; it is published at once (opens, is listed) and used
/// `keys.publish_secs` after the first instance loaded it; replaced HPKE and token keys stay for
/// `keys.hpke_grace_secs` from the rotation, and those past it are dropped. It never creates a key file: without
/// `--config` or a `./realname.toml` the default `data/keys` of the current folder is rarely the server's, and a
/// fresh key there would rotate nothing the servers use.
pub fn rotate_keys(cfg: &Config, which: Rotated, now: i64, out: &mut dyn std::io::Write) -> Result<(), StartError> {
    let file = if which == Rotated::Vault { VAULT_FILE } else { realname_domain::keys::KEY_FILE };
    let path = cfg.keys.dir.join(file);
    if !path.is_file() {
        return Err(StartError::Io(format!(
            "rotate-keys: no key file at {}; nothing was created. Name the server's configuration with --config \
             (its keys.dir), or run `realname-server init` to create keys",
            path.display()
        )));
    }
    let grace_ms = cfg.keys.hpke_grace_secs.saturating_mul(1000);
    let added = match which {
        Rotated::Hpke => {
            let mut ring = KeyRing::load(&cfg.keys.dir)?;
            ring.prune_hpke(now, grace_ms);
            ring.rotate_hpke(&OsRandom, now)?;
            format!("new HPKE key {}", ring.hpke.first().map(|e| e.pair.kid.as_str()).unwrap_or_default())
        }
        Rotated::Token => {
            let mut ring = KeyRing::load(&cfg.keys.dir)?;
            ring.prune_token(now, grace_ms);
            ring.rotate_token(&OsRandom, now)?;
            let kid = ring.token_keys().next().map(|(kid, _)| kid.to_owned()).unwrap_or_default();
            format!("new result-token signing key {kid}")
        }
        Rotated::Vault => format!("new vault key {}", Vault::rotate_file(&path)?),
    };
    writeln!(
        out,
        "{added} in {}. Copy this file to every instance now: they load it within keys.reload_secs ({} s; or \
         send them SIGHUP) and accept it; it is used keys.publish_secs ({} s) after the first instance loaded it \
         (docs/deploy.md)",
        path.display(),
        cfg.keys.reload_secs,
        cfg.keys.publish_secs,
    )
    .map_err(|e| StartError::Io(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_writes_a_loadable_config_and_private_keys_once() {
        let dir = std::env::temp_dir().join(format!("realname-init-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut out = Vec::new();
        assert!(init(&dir, &mut out).is_ok());
        let printed = String::from_utf8_lossy(&out).into_owned();
        let secret = printed.split_whitespace().find(|w| w.starts_with("sk_live_")).unwrap_or_default().to_owned();
        assert!(!secret.is_empty(), "{printed}");
        let cfg = Config::load(Some(&dir.join("realname.toml")), Vec::new());
        let Ok(cfg) = cfg else { panic!("sample config does not load") };
        assert!(cfg.validate().is_ok());
        assert_eq!(cfg.sites[0].secret_key_sha256, hex_encode(&hash_secret(&secret)));
        let toml = std::fs::read_to_string(dir.join("realname.toml")).unwrap_or_default();
        assert!(!toml.contains(&secret), "only the hash is written");
        #[cfg(unix)]
        for f in [realname_domain::keys::KEY_FILE, VAULT_FILE] {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.join("data/keys").join(f)).map(|m| m.permissions().mode() & 0o777);
            assert_eq!(mode.ok(), Some(0o600), "{f}");
        }
        assert!(init(&dir, &mut Vec::new()).is_err(), "never overwrites");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn rotate_keys_rotates_an_existing_key_file_and_creates_none() {
        let dir = std::env::temp_dir().join(format!("realname-rotate-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut cfg = Config::default();
        cfg.keys.dir = dir.join("data/keys");
        // No key file: refused, and nothing appears on disk.
        let mut out = Vec::new();
        let err = rotate_keys(&cfg, Rotated::Hpke, SystemClock.now_ms(), &mut out)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("no key file") && err.contains("--config"), "{err}");
        assert!(!dir.exists(), "rotate-keys created {}", dir.display());
        // With the keys `init` made: a new key, and the output names the file.
        assert!(init(&dir, &mut Vec::new()).is_ok());
        let before = std::fs::read(cfg.keys.dir.join(realname_domain::keys::KEY_FILE)).unwrap_or_default();
        assert!(rotate_keys(&cfg, Rotated::Hpke, SystemClock.now_ms(), &mut out).is_ok());
        let printed = String::from_utf8_lossy(&out).into_owned();
        assert!(printed.contains("new HPKE key") && printed.contains("server-keys.json"), "{printed}");
        assert_ne!(std::fs::read(cfg.keys.dir.join(realname_domain::keys::KEY_FILE)).unwrap_or_default(), before);
        // A token key and a vault key the same way.
        let mut out = Vec::new();
        assert!(rotate_keys(&cfg, Rotated::Token, SystemClock.now_ms(), &mut out).is_ok());
        assert!(rotate_keys(&cfg, Rotated::Vault, SystemClock.now_ms(), &mut out).is_ok());
        let printed = String::from_utf8_lossy(&out).into_owned();
        assert!(
            printed.contains("new result-token signing key rt-") && printed.contains("new vault key 2"),
            "{printed}"
        );
        let ring = KeyRing::load(&cfg.keys.dir).map(|r| r.token_keys().count()).ok();
        assert_eq!(ring, Some(2));
        assert_eq!(Vault::load(&cfg.keys.dir.join(VAULT_FILE)).map(|v| v.current_key_id()).ok(), Some(2));
        assert_eq!(Rotated::parse("vault"), Some(Rotated::Vault));
        assert_eq!(Rotated::parse("all"), None);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn demo_config_allows_its_own_origin_with_the_publishable_key() {
        let (cfg, secret) = demo_config("127.0.0.1:8080", Path::new("data"), None, &OsRandom);
        assert!(cfg.validate().is_ok());
        let site = &cfg.sites[0];
        assert_eq!(site.publishable_key.as_deref(), Some(DEMO_PUBLISHABLE_KEY));
        assert!(site.origins.contains(&"http://127.0.0.1:8080".to_owned()));
        assert!(site.origins.contains(&"http://localhost:8080".to_owned()));
        assert_eq!(site.secret_key_sha256, hex_encode(&hash_secret(&secret)));
        assert!(cfg.server.demo && cfg.sms.provider == "outbox" && cfg.email.provider == "outbox");
    }
}
