//! The chain key: the HMAC key of the audit chain's links, held outside the database.
//!
//! It is derived from the code HMAC key of the server's key ring (`server-keys.json` / `REALNAME_SERVER_KEYS`) as
//! `HMAC-SHA256(code key, "realname.audit.chain-key.v1")`, so every instance that shares the key ring (and passes the
//! key check at start, `keyprint`) shares it, and no new secret has to be distributed. Code MACs are computed over
//! `session id ‖ 0x00 ‖ code`, which always holds a zero byte and so is never the label: the two uses cannot meet.
//! Its id, stored with every keyed entry, is `ak-` followed by 16 hex digits of an HMAC keyed with the chain key over
//! a fixed label: it names the key without revealing anything about it.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::encoding::hex_encode;
use crate::keys::KeyRing;

/// The key that MACs the audit chain's links.
#[derive(Clone)]
pub struct ChainKey {
    id: String,
    secret: [u8; 32],
}

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainKey").field("id", &self.id).field("secret", &"<redacted>").finish()
    }
}

fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(mut m) => {
            m.update(msg);
            m.finalize().into_bytes().into()
        }
        // HMAC takes keys of any length: unreachable.
        Err(_) => [0; 32],
    }
}

impl ChainKey {
    /// The chain key derived from `root` (the key ring's code HMAC key; see the module documentation).
    pub fn derive(root: &[u8; 32]) -> Self {
        Self::from_secret(hmac(root, b"realname.audit.chain-key.v1"))
    }

    /// The chain key of a key ring.
    pub fn of_ring(ring: &KeyRing) -> Self {
        Self::derive(ring.code_key())
    }

    /// A chain key with this secret (tests; [`ChainKey::derive`] otherwise).
    pub fn from_secret(secret: [u8; 32]) -> Self {
        let id = format!("ak-{}", hex_encode(&hmac(&secret, b"realname.audit.key-id.v1")[..8]));
        Self { id, secret }
    }

    /// The key's id, stored with every entry it MACs.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// HMAC-SHA256 of `msg` under this key.
    pub fn mac(&self, msg: &[u8]) -> [u8; 32] {
        hmac(&self.secret, msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_keys_differ_from_their_root_and_hide_it() {
        let a = ChainKey::derive(&[1; 32]);
        assert_eq!(a.id(), ChainKey::derive(&[1; 32]).id());
        assert_ne!(a.id(), ChainKey::derive(&[2; 32]).id());
        assert_ne!(a.secret, [1; 32]);
        assert!(a.id().starts_with("ak-") && a.id().len() == 19, "{}", a.id());
        assert!(!format!("{a:?}").contains(&hex_encode(&a.secret[..4])));
    }
}
