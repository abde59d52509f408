//! The shared application state handed to every handler and the background workers.

use std::sync::Arc;

use crate::delivery::Delivery;
use crate::delivery::http::HttpClient;
use crate::keyring::{ServerKeys, VaultKeys};
use crate::metrics::Metrics;
use crate::review::Reviews;
use crate::sessions::{Events, Results, Sessions, SessionsConfig};
use realname_domain::calendar::Calendar;
use realname_domain::clock::{Clock, Random};
use realname_domain::config::Config;
use realname_domain::keys::KeyRing;
use realname_domain::sites::Sites;
use realname_domain::vault::Vault;
use realname_store::Store;

/// Everything a request needs; cheap to clone.
#[derive(Clone)]
pub struct AppState(pub Arc<Inner>);

/// The state's contents.
pub struct Inner {
    /// The configuration.
    pub cfg: Config,
    /// Storage.
    pub store: Arc<dyn Store>,
    /// Field encryption and blind indexes (reloadable: `keyring`).
    pub vault: VaultKeys,
    /// HPKE, token and HMAC keys (reloadable: `keyring`).
    pub keys: ServerKeys,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Randomness.
    pub rng: Arc<dyn Random>,
    /// Code delivery.
    pub delivery: Delivery,
    /// Sites.
    pub sites: Arc<Sites>,
    /// HTTP client for webhooks.
    pub http: HttpClient,
    /// Working days for review and complaint deadlines.
    pub calendar: Arc<Calendar>,
    /// Prometheus counters.
    pub metrics: Arc<Metrics>,
    /// The session service (every step of a verification).
    pub sessions: Sessions,
    /// The review service (queue, reviewers, decisions, complaints).
    pub reviews: Reviews,
    /// The memory budget of the documents uploads in flight.
    pub uploads: Arc<crate::uploads::UploadBudget>,
    /// The audit chain's key (derived from the key ring; never in the database).
    pub audit_key: realname_domain::audit::ChainKey,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Assembles the state: builds every service once, each with the parts it needs.
    pub fn new(
        cfg: Config,
        store: Arc<dyn Store>,
        vault: Vault,
        keys: KeyRing,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Random>,
        delivery: Delivery,
    ) -> Self {
        let audit_key = realname_domain::audit::ChainKey::of_ring(&keys);
        let vault = VaultKeys::new(vault, clock.clone());
        let keys = ServerKeys::new(keys, clock.clone());
        let sites = Arc::new(Sites::new(&cfg.sites));
        let http = HttpClient::new(std::time::Duration::from_secs(cfg.webhooks.timeout_secs));
        let calendar = Arc::new(load_calendar(&cfg.review));
        let metrics = Arc::new(Metrics::default());
        let results = Results {
            vault: vault.clone(),
            keys: keys.clone(),
            clock: clock.clone(),
            random: rng.clone(),
            issuer: cfg.server.public_url.clone(),
            token_ttl_secs: cfg.session.token_ttl_secs,
        };
        let events = Events {
            store: store.clone(),
            clock: clock.clone(),
            random: rng.clone(),
            metrics: metrics.clone(),
            results: results.clone(),
            sites: sites.clone(),
        };
        let reviews = Reviews {
            store: store.clone(),
            vault: vault.clone(),
            clock: clock.clone(),
            random: rng.clone(),
            calendar: calendar.clone(),
            config: cfg.review.clone(),
            // A decision fires the session's webhook.
            hook: Arc::new(events.clone()),
            metrics: metrics.clone(),
            sites: sites.clone(),
            hashing: Arc::new(crate::review::throttle::Hashing::for_this_machine()),
            audit_key: audit_key.clone(),
        };
        let sessions = Sessions {
            store: store.clone(),
            vault: vault.clone(),
            keys: keys.clone(),
            clock: clock.clone(),
            random: rng.clone(),
            metrics: metrics.clone(),
            delivery: delivery.clone(),
            sites: sites.clone(),
            reviews: reviews.clone(),
            events,
            results,
            checker: crate::checks::Checker::new(&cfg.checks, clock.clone(), rng.clone(), metrics.clone()),
            config: SessionsConfig {
                session: cfg.session.clone(),
                codes: cfg.codes.clone(),
                limits: cfg.limits.clone(),
                hpke_grace_secs: cfg.keys.hpke_grace_secs,
                checks: cfg.checks.clone(),
            },
        };
        let uploads = Arc::new(crate::uploads::UploadBudget::new(cfg.http.upload_memory_bytes));
        Self(Arc::new(Inner {
            cfg,
            store,
            vault,
            keys,
            clock,
            rng,
            delivery,
            sites,
            http,
            calendar,
            metrics,
            sessions,
            reviews,
            uploads,
            audit_key,
        }))
    }

    /// The key ring as it stands now.
    pub fn keys(&self) -> Arc<KeyRing> {
        self.keys.current()
    }

    /// The HPKE grace period in milliseconds.
    pub fn hpke_grace_ms(&self) -> i64 {
        self.cfg.keys.hpke_grace_secs.saturating_mul(1000)
    }
}

/// Handlers of the review routes take the review service alone.
impl axum::extract::FromRef<AppState> for Reviews {
    fn from_ref(state: &AppState) -> Self {
        state.reviews.clone()
    }
}

/// The calendar of the configuration: built-in years plus `calendar_dir`. A broken operator file is logged and
/// the built-in years are used (`serve` refuses to start on it first, see [`check_calendar`]).
pub fn load_calendar(cfg: &realname_domain::config::ReviewConfig) -> Calendar {
    match Calendar::load(cfg.calendar_dir.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "working-day calendar: using the built-in years only");
            Calendar::builtin().unwrap_or_else(|_| Calendar::empty())
        }
    }
}

/// Loads the configured calendar strictly (for start-up) and warns when the coming year has no official data.
pub fn check_calendar(
    cfg: &realname_domain::config::ReviewConfig,
    now_ms: i64,
) -> Result<(), realname_domain::calendar::CalendarError> {
    let cal = Calendar::load(cfg.calendar_dir.as_deref())?;
    if let Some(w) = cal.coverage_warning(now_ms.div_euclid(1000)) {
        tracing::warn!("{w}");
    }
    Ok(())
}
