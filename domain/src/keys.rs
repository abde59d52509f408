//! The server's own key material, kept outside the database in one key file (0600) or in the
//! `REALNAME_SERVER_KEYS` environment variable: HPKE key pairs (with rotation grace), the Ed25519 result
//! token key, and the HMAC keys for codes and for rate-limit keys.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use realname_core::envelope::KeyPair;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize_shim::Zeroizing;

use crate::clock::{Random, UnixMillis};
use crate::keyprint::{KeyPrint, KeySet};

/// The key file's name inside `keys.dir`.
pub const KEY_FILE: &str = "server-keys.json";

/// Errors while loading or saving keys.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Reading or writing the key file failed.
    #[error("key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The key file is not what this version writes.
    #[error("key file is corrupt: {0}")]
    Corrupt(String),
}

mod zeroize_shim {
    //! A tiny owner that wipes its bytes on drop (the key file's plaintext JSON).
    /// Bytes wiped on drop.
    pub struct Zeroizing(pub Vec<u8>);
    impl Drop for Zeroizing {
        fn drop(&mut self) {
            for b in self.0.iter_mut() {
                // Volatile-free best effort; the allocation is freed right after.
                *b = 0;
            }
            std::hint::black_box(&self.0);
        }
    }
}

#[derive(Serialize, Deserialize)]
struct StoredHpke {
    kid: String,
    secret: String,
    created_at: UnixMillis,
    #[serde(default)]
    retired_at: Option<UnixMillis>,
}

#[derive(Serialize, Deserialize)]
struct StoredToken {
    kid: String,
    seed: String,
    created_at: UnixMillis,
}

#[derive(Serialize, Deserialize)]
struct StoredKeys {
    version: u32,
    hpke: Vec<StoredHpke>,
    token: Vec<StoredToken>,
    code_hmac: String,
    limit_hmac: String,
}

/// One HPKE key with its life times.
#[derive(Clone, Debug)]
pub struct HpkeEntry {
    /// The key pair.
    pub pair: KeyPair,
    /// When it was created.
    pub created_at: UnixMillis,
    /// When a newer key replaced it; it keeps opening envelopes for the grace period after this.
    pub retired_at: Option<UnixMillis>,
}

/// All key material of the server.
#[derive(Clone)]
pub struct KeyRing {
    /// HPKE keys, newest first.
    pub hpke: Vec<HpkeEntry>,
    /// Token signing keys `(kid, key)`, newest first; the first signs.
    pub token: Vec<(String, SigningKey)>,
    token_created: Vec<UnixMillis>,
    code_hmac: [u8; 32],
    limit_hmac: [u8; 32],
    path: Option<PathBuf>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.hpke.iter().map(|e| e.pair.kid.as_str()).collect();
        f.debug_struct("KeyRing").field("hpke", &kids).field("secrets", &"<redacted>").finish()
    }
}

fn b64(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

fn unb64_32(s: &str) -> Result<[u8; 32], KeyError> {
    let v = URL_SAFE_NO_PAD.decode(s).map_err(|_| KeyError::Corrupt("bad base64".into()))?;
    <[u8; 32]>::try_from(v.as_slice()).map_err(|_| KeyError::Corrupt("key is not 32 bytes".into()))
}

fn kid_for(prefix: &str, public: &[u8]) -> String {
    let h = Sha256::digest(public);
    format!("{prefix}{}", &b64(&h)[..10])
}

fn random32(rng: &dyn Random) -> [u8; 32] {
    let mut b = [0u8; 32];
    rng.fill(&mut b);
    b
}

fn new_hpke(rng: &dyn Random, now: UnixMillis) -> HpkeEntry {
    let seed = random32(rng);
    let tmp = KeyPair::from_seed("", &seed);
    let pk = URL_SAFE_NO_PAD.decode(tmp.public().to_base64()).unwrap_or_default();
    let pair = KeyPair::from_seed(&kid_for("k", &pk), &seed);
    HpkeEntry { pair, created_at: now, retired_at: None }
}

fn new_token(rng: &dyn Random) -> (String, SigningKey) {
    let key = SigningKey::from_bytes(&random32(rng));
    (kid_for("rt-", key.verifying_key().as_bytes()), key)
}

impl KeyRing {
    /// Fresh keys, not saved anywhere (tests, or before `save`).
    pub fn generate(rng: &dyn Random, now: UnixMillis) -> Self {
        Self {
            hpke: vec![new_hpke(rng, now)],
            token: vec![new_token(rng)],
            token_created: vec![now],
            code_hmac: random32(rng),
            limit_hmac: random32(rng),
            path: None,
        }
    }

    /// Loads the key file in `dir`, creating it (0600, folder 0700) on first run.
    pub fn load_or_create(dir: &Path, rng: &dyn Random, now: UnixMillis) -> Result<Self, KeyError> {
        let path = dir.join(KEY_FILE);
        match std::fs::read(&path) {
            Ok(bytes) => {
                let bytes = Zeroizing(bytes);
                let mut ring = Self::from_json(&bytes.0)?;
                ring.path = Some(path);
                Ok(ring)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut ring = Self::generate(rng, now);
                ring.path = Some(path);
                ring.save()?;
                Ok(ring)
            }
            Err(source) => Err(KeyError::Io { path, source }),
        }
    }

    /// Parses the key file format (also used for the `REALNAME_SERVER_KEYS` variable).
    pub fn from_json(bytes: &[u8]) -> Result<Self, KeyError> {
        let stored: StoredKeys = serde_json::from_slice(bytes).map_err(|e| KeyError::Corrupt(e.to_string()))?;
        if stored.version != 1 || stored.hpke.is_empty() || stored.token.is_empty() {
            return Err(KeyError::Corrupt("unsupported version or no keys".into()));
        }
        let mut hpke = Vec::new();
        for h in &stored.hpke {
            let pair = KeyPair::from_secret_bytes(&h.kid, &unb64_32(&h.secret)?)
                .map_err(|_| KeyError::Corrupt("bad HPKE key".into()))?;
            hpke.push(HpkeEntry { pair, created_at: h.created_at, retired_at: h.retired_at });
        }
        let mut token = Vec::new();
        let mut token_created = Vec::new();
        for t in &stored.token {
            token.push((t.kid.clone(), SigningKey::from_bytes(&unb64_32(&t.seed)?)));
            token_created.push(t.created_at);
        }
        Ok(Self {
            hpke,
            token,
            token_created,
            code_hmac: unb64_32(&stored.code_hmac)?,
            limit_hmac: unb64_32(&stored.limit_hmac)?,
            path: None,
        })
    }

    /// Serializes to the key file format.
    pub fn to_json(&self) -> String {
        let stored = StoredKeys {
            version: 1,
            hpke: self
                .hpke
                .iter()
                .map(|e| StoredHpke {
                    kid: e.pair.kid.clone(),
                    secret: b64(&e.pair.secret_bytes()),
                    created_at: e.created_at,
                    retired_at: e.retired_at,
                })
                .collect(),
            token: self
                .token
                .iter()
                .zip(&self.token_created)
                .map(|((kid, k), at)| StoredToken { kid: kid.clone(), seed: b64(&k.to_bytes()), created_at: *at })
                .collect(),
            code_hmac: b64(&self.code_hmac),
            limit_hmac: b64(&self.limit_hmac),
        };
        serde_json::to_string_pretty(&stored).unwrap_or_default()
    }

    /// Writes the key file atomically with mode 0600 (no-op for keys without a file).
    pub fn save(&self) -> Result<(), KeyError> {
        let Some(path) = &self.path else { return Ok(()) };
        let io = |source| KeyError::Io { path: path.clone(), source };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
            }
        }
        let tmp = path.with_extension("tmp");
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            opts.mode(0o600);
        }
        {
            use std::io::Write as _;
            let json = Zeroizing(self.to_json().into_bytes());
            let mut f = opts.open(&tmp).map_err(io)?;
            f.write_all(&json.0).map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, path).map_err(io)
    }

    /// Adds a new HPKE key that new sessions use; the previous one enters its grace period.
    pub fn rotate_hpke(&mut self, rng: &dyn Random, now: UnixMillis) -> Result<(), KeyError> {
        for e in &mut self.hpke {
            e.retired_at.get_or_insert(now);
        }
        self.hpke.insert(0, new_hpke(rng, now));
        self.save()
    }

    /// Drops HPKE keys whose grace period ended before `now`.
    pub fn prune_hpke(&mut self, now: UnixMillis, grace_ms: i64) {
        self.hpke.retain(|e| e.retired_at.is_none_or(|r| r + grace_ms > now));
    }

    /// The HPKE keys that still open envelopes at `now`, newest first.
    pub fn hpke_usable(&self, now: UnixMillis, grace_ms: i64) -> impl Iterator<Item = &KeyPair> {
        self.hpke.iter().filter(move |e| e.retired_at.is_none_or(|r| r + grace_ms > now)).map(|e| &e.pair)
    }

    /// The key new envelopes must be sealed to.
    pub fn hpke_current(&self) -> Option<&KeyPair> {
        self.hpke.first().map(|e| &e.pair)
    }

    /// The key that signs result tokens.
    pub fn token_signer(&self) -> Option<&(String, SigningKey)> {
        self.token.first()
    }

    /// HMAC key for one-time codes.
    pub fn code_key(&self) -> &[u8; 32] {
        &self.code_hmac
    }

    /// HMAC key for rate-limit keys (phone, email, IP are never stored in plaintext).
    pub fn limit_key(&self) -> &[u8; 32] {
        &self.limit_hmac
    }

    /// The fingerprint of every key (`keyprint`: what instances sharing a database must agree on).
    pub fn prints(&self) -> Vec<KeyPrint> {
        let hpke = self.hpke.iter().map(|e| KeyPrint::of(KeySet::Hpke, &e.pair.kid, &e.pair.secret_bytes()));
        let token = self.token.iter().map(|(kid, k)| KeyPrint::of(KeySet::Token, kid, &k.to_bytes()));
        hpke.chain(token)
            .chain([
                KeyPrint::of(KeySet::CodeHmac, "-", &self.code_hmac),
                KeyPrint::of(KeySet::LimitHmac, "-", &self.limit_hmac),
            ])
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SeededRandom;
    use realname_core::protocol::Step;

    #[test]
    fn key_file_is_created_private_and_reloads() {
        let dir = std::env::temp_dir().join(format!("realname-keys-{}-{}", std::process::id(), line!()));
        let _ = std::fs::remove_dir_all(&dir);
        let rng = SeededRandom::new(1);
        let ring = KeyRing::load_or_create(&dir, rng.as_ref(), 1000);
        let ring = match ring {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.join(KEY_FILE)).map(|m| m.permissions().mode() & 0o777);
            assert_eq!(mode.ok(), Some(0o600));
        }
        let again = KeyRing::load_or_create(&dir, SeededRandom::new(2).as_ref(), 2000);
        let again = match again {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(ring.hpke_current().map(|k| k.public()), again.hpke_current().map(|k| k.public()));
        assert_eq!(ring.code_key(), again.code_key());
        assert!(!format!("{ring:?}").contains(&b64(ring.code_key())));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn rotation_keeps_old_key_for_the_grace_period() {
        let rng = SeededRandom::new(3);
        let mut ring = KeyRing::generate(rng.as_ref(), 0);
        let Some(old) = ring.hpke_current().cloned() else { panic!("no key") };
        let env = realname_core::envelope::seal(&old.public(), "s", Step::Code, b"x");
        let Ok(env) = env else { panic!("seal") };
        assert!(ring.rotate_hpke(rng.as_ref(), 10_000).is_ok());
        assert_ne!(ring.hpke_current().map(|k| k.kid.clone()), Some(old.kid.clone()));
        let grace = 60_000;
        let open_at = |now| realname_core::envelope::open_with(ring.hpke_usable(now, grace), &env, "s", Step::Code);
        assert_eq!(open_at(69_999), Ok(b"x".to_vec()));
        assert_eq!(open_at(70_000), Err(realname_core::envelope::EnvelopeError::UnknownKid));
    }
}
