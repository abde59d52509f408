//! The configured sites: lookup by secret API key (hashed, constant-time), by publishable key, by id;
//! and the Origin allow-list.

use realname_core::protocol::Method;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

use crate::config::SiteConfig;
use crate::encoding::hex_decode;

/// One site, ready for lookups.
#[derive(Debug, Clone)]
pub struct Site {
    /// The configuration.
    pub cfg: SiteConfig,
    secret_hash: [u8; 32],
}

impl Site {
    /// Whether `origin` is allowed for browser calls of this site (exact match; never `null`).
    pub fn allows_origin(&self, origin: &str) -> bool {
        origin != "null" && self.cfg.origins.iter().any(|o| o == origin)
    }

    /// Whether the site enabled `m`.
    pub fn enables(&self, m: Method) -> bool {
        self.cfg.methods.contains(&m)
    }
}

/// All sites.
#[derive(Debug, Clone, Default)]
pub struct Sites {
    sites: Vec<Site>,
}

/// SHA-256 of an API key or client secret, as stored.
pub fn hash_secret(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

impl Sites {
    /// Builds the lookup from configuration (already validated).
    pub fn new(cfgs: &[SiteConfig]) -> Self {
        let sites = cfgs
            .iter()
            .map(|c| {
                let mut secret_hash = [0u8; 32];
                if let Some(b) = hex_decode(&c.secret_key_sha256).filter(|b| b.len() == 32) {
                    secret_hash.copy_from_slice(&b);
                }
                Site { cfg: c.clone(), secret_hash }
            })
            .collect();
        Self { sites }
    }

    /// The site whose secret API key is `key`; every site is compared, in constant time.
    pub fn by_secret_key(&self, key: &str) -> Option<&Site> {
        let h = hash_secret(key);
        let mut found = None;
        for s in &self.sites {
            if bool::from(s.secret_hash.ct_eq(&h)) {
                found = Some(s);
            }
        }
        found
    }

    /// The site with this publishable key.
    pub fn by_publishable_key(&self, key: &str) -> Option<&Site> {
        self.sites
            .iter()
            .find(|s| s.cfg.publishable_key.as_deref().is_some_and(|k| bool::from(k.as_bytes().ct_eq(key.as_bytes()))))
    }

    /// The site with this id.
    pub fn by_id(&self, id: &str) -> Option<&Site> {
        self.sites.iter().find(|s| s.cfg.id == id)
    }

    /// Whether any site allows `origin` (for CORS preflights, which carry no credentials).
    pub fn any_allows_origin(&self, origin: &str) -> bool {
        self.sites.iter().any(|s| s.cfg.enabled && s.allows_origin(origin))
    }
}
