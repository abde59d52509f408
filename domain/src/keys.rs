//! The server's own key material, kept outside the database in one key file (0600) or in the
//! `REALNAME_SERVER_KEYS` environment variable: HPKE key pairs (with rotation grace), the Ed25519 result
//! token key, and the HMAC keys for codes and for rate-limit keys.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{SigningKey, VerifyingKey};
use realname_core::envelope::KeyPair;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize_shim::Zeroizing;

use crate::clock::{Random, UnixMillis};
use crate::keyprint::{Activation, KeyPrint, KeySet};

/// The key file's name inside `keys.dir`.
pub const KEY_FILE: &str = "server-keys.json";

/// Environment variable holding the key file's contents (used instead of the file when set).
pub const KEYS_ENV: &str = "REALNAME_SERVER_KEYS";

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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retired_at: Option<UnixMillis>,
}

/// The public half of a token key pruned from the file: audit checkpoints it signed still verify.
#[derive(Serialize, Deserialize)]
struct StoredPruned {
    kid: String,
    public_key: String,
}

#[derive(Serialize, Deserialize)]
struct StoredKeys {
    version: u32,
    hpke: Vec<StoredHpke>,
    token: Vec<StoredToken>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    token_pruned: Vec<StoredPruned>,
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
    /// From when it may be sealed to (publish, then use: [`Activation`]); not in the file.
    pub active_from: UnixMillis,
}

/// One result-token signing key.
#[derive(Clone)]
struct TokenEntry {
    kid: String,
    key: SigningKey,
    created_at: UnixMillis,
    retired_at: Option<UnixMillis>,
    active_from: UnixMillis,
}

/// All key material of the server, as it stands at one instant: which HPKE key new envelopes are sealed to and
/// which token key signs follow the keys' activation ([`KeyRing::activate`], [`KeyRing::settled`]).
#[derive(Clone)]
pub struct KeyRing {
    /// HPKE keys, newest first.
    pub hpke: Vec<HpkeEntry>,
    /// Token signing keys, newest first.
    token: Vec<TokenEntry>,
    /// `(kid, public key)` of the token keys pruned since (they signed audit checkpoints), oldest first.
    token_pruned: Vec<(String, VerifyingKey)>,
    code_hmac: [u8; 32],
    limit_hmac: [u8; 32],
    path: Option<PathBuf>,
    /// Index of the HPKE key sealed to and of the signing token key.
    current_hpke: usize,
    current_token: usize,
    /// The next instant a key becomes active (the current keys change then).
    next_change: UnixMillis,
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
    HpkeEntry { pair, created_at: now, retired_at: None, active_from: UnixMillis::MIN }
}

fn new_token(rng: &dyn Random, now: UnixMillis) -> TokenEntry {
    let key = SigningKey::from_bytes(&random32(rng));
    let kid = kid_for("rt-", key.verifying_key().as_bytes());
    TokenEntry { kid, key, created_at: now, retired_at: None, active_from: UnixMillis::MIN }
}

impl KeyRing {
    fn with(hpke: Vec<HpkeEntry>, token: Vec<TokenEntry>, code_hmac: [u8; 32], limit_hmac: [u8; 32]) -> Self {
        let mut ring = Self {
            hpke,
            token,
            token_pruned: Vec::new(),
            code_hmac,
            limit_hmac,
            path: None,
            current_hpke: 0,
            current_token: 0,
            next_change: UnixMillis::MAX,
        };
        ring.settle(UnixMillis::MIN);
        ring
    }

    /// Fresh keys, not saved anywhere (tests, or before `save`).
    pub fn generate(rng: &dyn Random, now: UnixMillis) -> Self {
        Self::with(vec![new_hpke(rng, now)], vec![new_token(rng, now)], random32(rng), random32(rng))
    }

    /// Loads the key file in `dir`, creating it (0600, folder 0700) on first run.
    pub fn load_or_create(dir: &Path, rng: &dyn Random, now: UnixMillis) -> Result<Self, KeyError> {
        match Self::load(dir) {
            Err(KeyError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                let mut ring = Self::generate(rng, now);
                ring.path = Some(dir.join(KEY_FILE));
                ring.save()?;
                Ok(ring)
            }
            other => other,
        }
    }

    /// Loads the key file in `dir` (never creating it: a reload).
    pub fn load(dir: &Path) -> Result<Self, KeyError> {
        let path = dir.join(KEY_FILE);
        let bytes = Zeroizing(std::fs::read(&path).map_err(|source| KeyError::Io { path: path.clone(), source })?);
        let mut ring = Self::from_json(&bytes.0)?;
        ring.path = Some(path);
        Ok(ring)
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
            let (created_at, retired_at) = (h.created_at, h.retired_at);
            hpke.push(HpkeEntry { pair, created_at, retired_at, active_from: UnixMillis::MIN });
        }
        let mut token = Vec::new();
        for t in &stored.token {
            let key = SigningKey::from_bytes(&unb64_32(&t.seed)?);
            let (kid, created_at, retired_at) = (t.kid.clone(), t.created_at, t.retired_at);
            token.push(TokenEntry { kid, key, created_at, retired_at, active_from: UnixMillis::MIN });
        }
        let mut ring = Self::with(hpke, token, unb64_32(&stored.code_hmac)?, unb64_32(&stored.limit_hmac)?);
        for p in &stored.token_pruned {
            let key = VerifyingKey::from_bytes(&unb64_32(&p.public_key)?)
                .map_err(|_| KeyError::Corrupt("bad pruned token public key".into()))?;
            ring.token_pruned.push((p.kid.clone(), key));
        }
        Ok(ring)
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
                .map(|t| StoredToken {
                    kid: t.kid.clone(),
                    seed: b64(&t.key.to_bytes()),
                    created_at: t.created_at,
                    retired_at: t.retired_at,
                })
                .collect(),
            token_pruned: self
                .token_pruned
                .iter()
                .map(|(kid, key)| StoredPruned { kid: kid.clone(), public_key: b64(key.as_bytes()) })
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

    /// Adds a new HPKE key, newest first, and saves the file. It is published at once (every instance that loads
    /// the file opens envelopes sealed to it) and sealed to once it is active; the previous keys are retired now
    /// and keep opening envelopes for the grace period.
    pub fn rotate_hpke(&mut self, rng: &dyn Random, now: UnixMillis) -> Result<(), KeyError> {
        for e in &mut self.hpke {
            e.retired_at.get_or_insert(now);
        }
        self.hpke.insert(0, new_hpke(rng, now));
        self.settle(UnixMillis::MIN);
        self.save()
    }

    /// Drops HPKE keys whose grace period ended before `now`.
    pub fn prune_hpke(&mut self, now: UnixMillis, grace_ms: i64) {
        self.hpke.retain(|e| e.retired_at.is_none_or(|r| r + grace_ms > now));
        self.settle(UnixMillis::MIN);
    }

    /// The HPKE keys that still open envelopes at `now`, newest first (published keys not sealed to yet too).
    pub fn hpke_usable(&self, now: UnixMillis, grace_ms: i64) -> impl Iterator<Item = &KeyPair> {
        self.hpke.iter().filter(move |e| e.retired_at.is_none_or(|r| r + grace_ms > now)).map(|e| &e.pair)
    }

    /// The keys `GET /v1/keys` lists: the one to seal to first, then the other usable ones, newest first.
    pub fn hpke_listed(&self, now: UnixMillis, grace_ms: i64) -> Vec<&KeyPair> {
        let current = self.hpke_current();
        let others = self.hpke_usable(now, grace_ms).filter(|k| current.is_none_or(|c| c.kid != k.kid));
        current.into_iter().chain(others).collect()
    }

    /// The key new envelopes must be sealed to: the newest active one.
    pub fn hpke_current(&self) -> Option<&KeyPair> {
        self.hpke.get(self.current_hpke).map(|e| &e.pair)
    }

    /// The key that signs result tokens `(kid, key)`: the newest active one.
    pub fn token_signer(&self) -> Option<(&str, &SigningKey)> {
        self.token.get(self.current_token).map(|t| (t.kid.as_str(), &t.key))
    }

    /// Every token key `(kid, key)`, newest first: the JWKS (retired keys stay until they leave the file).
    pub fn token_keys(&self) -> impl Iterator<Item = (&str, &SigningKey)> {
        self.token.iter().map(|t| (t.kid.as_str(), &t.key))
    }

    /// Adds a new result-token signing key, newest first, and saves the file: published at once (in the JWKS of
    /// every instance that loads the file), signing once it is active; the previous keys are retired now.
    pub fn rotate_token(&mut self, rng: &dyn Random, now: UnixMillis) -> Result<(), KeyError> {
        for t in &mut self.token {
            t.retired_at.get_or_insert(now);
        }
        self.token.insert(0, new_token(rng, now));
        self.settle(UnixMillis::MIN);
        self.save()
    }

    /// Drops token keys retired longer than `keep_ms` before `now` (their tokens expired long ago), keeping their
    /// public halves for [`KeyRing::checkpoint_signers`].
    pub fn prune_token(&mut self, now: UnixMillis, keep_ms: i64) {
        let kept = |t: &TokenEntry| t.retired_at.is_none_or(|r| r.saturating_add(keep_ms) > now);
        for t in self.token.iter().filter(|t| !kept(t)) {
            if !self.token_pruned.iter().any(|(kid, _)| *kid == t.kid) {
                self.token_pruned.push((t.kid.clone(), t.key.verifying_key()));
            }
        }
        self.token.retain(kept);
        self.settle(UnixMillis::MIN);
    }

    /// Every key that may have signed an audit checkpoint `(kid, public key)`: the token keys, then the public
    /// halves of those pruned (a checkpoint must verify long after the tokens its key signed expired).
    pub fn checkpoint_signers(&self) -> Vec<(String, VerifyingKey)> {
        let current = self.token.iter().map(|t| (t.kid.clone(), t.key.verifying_key()));
        current.chain(self.token_pruned.iter().cloned()).collect()
    }

    /// Takes when each key may be used from the database's records, as of `now`.
    pub fn activate(&mut self, activation: &Activation, now: UnixMillis) {
        for e in &mut self.hpke {
            e.active_from = activation.from(KeySet::Hpke, &e.pair.kid);
        }
        for t in &mut self.token {
            t.active_from = activation.from(KeySet::Token, &t.kid);
        }
        self.settle(now);
    }

    /// The keys as they stand at `now`, when a key became active since they were settled (else `None`: unchanged).
    pub fn settled(&self, now: UnixMillis) -> Option<Self> {
        (now >= self.next_change).then(|| {
            let mut ring = self.clone();
            ring.settle(now);
            ring
        })
    }

    /// Picks the newest active key of each set (the newest if none is active yet) and when that changes next.
    fn settle(&mut self, now: UnixMillis) {
        self.current_hpke = self.hpke.iter().position(|e| e.active_from <= now).unwrap_or(0);
        self.current_token = self.token.iter().position(|t| t.active_from <= now).unwrap_or(0);
        let pending = self.hpke.iter().map(|e| e.active_from).chain(self.token.iter().map(|t| t.active_from));
        self.next_change = pending.filter(|&at| at > now).min().unwrap_or(UnixMillis::MAX);
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
        let token = self.token.iter().map(|t| KeyPrint::of(KeySet::Token, &t.kid, &t.key.to_bytes()));
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

    #[test]
    fn a_pruned_token_key_leaves_its_public_half_for_the_audit() {
        let rng = SeededRandom::new(8);
        let mut ring = KeyRing::generate(rng.as_ref(), 0);
        let old = ring.token[0].kid.clone();
        assert!(ring.rotate_token(rng.as_ref(), 1_000).is_ok());
        ring.prune_token(10_000, 5_000);
        ring.prune_token(20_000, 5_000);
        assert!(ring.token_keys().all(|(kid, _)| kid != old), "no longer signing nor in the JWKS");
        let Ok(back) = KeyRing::from_json(ring.to_json().as_bytes()) else { panic!("the file reads back") };
        let kids: Vec<String> = back.checkpoint_signers().into_iter().map(|(kid, _)| kid).collect();
        assert_eq!(kids, vec![back.token[0].kid.clone(), old], "current first, the pruned one once");
    }

    #[test]
    fn a_rotated_key_is_published_first_and_used_once_active() {
        use crate::keyprint::RecordedPrint;
        let rng = SeededRandom::new(5);
        let mut ring = KeyRing::generate(rng.as_ref(), 0);
        let record = |ring: &KeyRing, at| -> Vec<RecordedPrint> {
            ring.prints().into_iter().map(|print| RecordedPrint { print, recorded_at: at }).collect()
        };
        let mut records = record(&ring, 0);
        let (old_hpke, old_token) = (ring.hpke[0].pair.kid.clone(), ring.token[0].kid.clone());
        assert!(ring.rotate_hpke(rng.as_ref(), 1_000).is_ok() && ring.rotate_token(rng.as_ref(), 1_000).is_ok());
        let (new_hpke, new_token) = (ring.hpke[0].pair.kid.clone(), ring.token[0].kid.clone());
        // Loaded and recorded at 2 000 with a publish delay of 500: listed and opening, not used before 2 500.
        let added: Vec<_> =
            record(&ring, 2_000).into_iter().filter(|r| !records.iter().any(|o| o.print == r.print)).collect();
        records.extend(added);
        ring.activate(&Activation::new(&records, 500), 2_000);
        let kid = |k: Option<&KeyPair>| k.map(|k| k.kid.clone()).unwrap_or_default();
        let listed = |r: &KeyRing, now| r.hpke_listed(now, 10_000).iter().map(|k| k.kid.clone()).collect::<Vec<_>>();
        assert_eq!(kid(ring.hpke_current()), old_hpke);
        assert_eq!(listed(&ring, 2_000), vec![old_hpke.clone(), new_hpke.clone()]);
        assert_eq!(ring.hpke_usable(2_000, 10_000).count(), 2);
        assert_eq!(ring.token_signer().map(|t| t.0.to_owned()), Some(old_token.clone()));
        assert_eq!(ring.token_keys().count(), 2);
        assert!(ring.settled(2_499).is_none(), "nothing changes before the activation");
        let Some(later) = ring.settled(2_500) else { panic!("the new keys are active at 2 500") };
        assert_eq!(kid(later.hpke_current()), new_hpke);
        assert_eq!(listed(&later, 2_500), vec![new_hpke, old_hpke]);
        assert_eq!(later.token_signer().map(|t| t.0.to_owned()), Some(ring.token[0].kid.clone()));
        assert!(later.settled(i64::MAX - 1).is_none());
        // Retired token keys leave the file once kept long enough; the signing key stays.
        let mut pruned = later.clone();
        pruned.prune_token(1_000 + 5_000, 5_000);
        assert_eq!(pruned.token_keys().map(|t| t.0.to_owned()).collect::<Vec<_>>(), vec![new_token.clone()]);
        // The file keeps retirement times, not activation (that lives in the database).
        let Ok(again) = KeyRing::from_json(later.to_json().as_bytes()) else { panic!("reload") };
        assert_eq!(kid(again.hpke_current()), kid(later.hpke_current()));
        assert_eq!(again.token_signer().map(|t| t.0.to_owned()), Some(new_token));
        assert_ne!(old_token, String::new());
    }
}
