//! Personal data at rest: field-by-field XChaCha20-Poly1305 encryption and keyed blind indexes.
//!
//! Every sealed field carries the id of the key that sealed it, so keys rotate without re-encrypting: the
//! newest key seals, older ones keep opening. The associated data binds table, column and row id, so a
//! ciphertext copied into another row or column does not open. Keys live in a key file (created 0600 on
//! first run) or in the environment — never in the database.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::clock::UnixMillis;
use crate::keyprint::{Activation, KeyPrint, KeySet};
use crate::session::SealedIdentity;

/// Environment variable holding the key file's contents (takes precedence over the file).
pub const KEYS_ENV: &str = "REALNAME_VAULT_KEYS";

const FORMAT_VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const HEADER_LEN: usize = 1 + 4 + NONCE_LEN;

/// Errors of the vault. None of them carries key material or plaintext.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The key file could not be read, created or trusted.
    #[error("vault key file {path}: {reason}")]
    KeyFile {
        /// The file.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// The key text is malformed.
    #[error("malformed vault keys: {0}")]
    Malformed(String),
    /// The ciphertext names a key this vault does not have.
    #[error("no vault key with id {0}")]
    UnknownKey(u32),
    /// The ciphertext is damaged, or belongs to another table, column or row.
    #[error("sealed field does not open")]
    Open,
    /// The operating system's random generator failed.
    #[error("random generator failed")]
    Random,
}

/// A 256-bit secret key, zeroed on drop; `Debug` never shows it.
#[derive(Clone)]
pub struct SecretKey(Zeroizing<[u8; 32]>);

impl SecretKey {
    /// A fresh random key.
    pub fn generate() -> Result<Self, VaultError> {
        let mut k = Zeroizing::new([0u8; 32]);
        getrandom::fill(k.as_mut()).map_err(|_| VaultError::Random)?;
        Ok(Self(k))
    }

    /// A key from its base64url text.
    pub fn from_base64(text: &str) -> Result<Self, VaultError> {
        let bytes =
            Zeroizing::new(B64.decode(text.trim()).map_err(|_| VaultError::Malformed("key is not base64url".into()))?);
        let arr: [u8; 32] =
            bytes.as_slice().try_into().map_err(|_| VaultError::Malformed("key is not 32 bytes".into()))?;
        Ok(Self(Zeroizing::new(arr)))
    }

    fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(B64.encode(self.0.as_ref()))
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// Where a sealed field lives; bound into the associated data.
#[derive(Clone, Copy, Debug)]
pub struct Field<'a> {
    /// Table name.
    pub table: &'a str,
    /// Column name.
    pub column: &'a str,
    /// Row id.
    pub row: &'a str,
}

impl<'a> Field<'a> {
    /// A field of the `sessions` table.
    pub fn session(column: &'a str, session_id: &'a str) -> Self {
        Self { table: "sessions", column, row: session_id }
    }
}

/// A sealed field as stored: format version, key id (big-endian u32), nonce, ciphertext and tag.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed(Vec<u8>);

impl Sealed {
    /// Wraps bytes read back from the database (only the store does this).
    pub fn from_stored(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The stored bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The id of the key that sealed it, if the header is well-formed.
    pub fn key_id(&self) -> Option<u32> {
        let b = self.0.get(1..5)?;
        Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sealed(kid {:?}, {} bytes)", self.key_id(), self.0.len())
    }
}

/// Identity data in the clear, only in memory; `Debug` shows nothing of it.
#[derive(Clone, PartialEq, Eq)]
pub struct PlainIdentity {
    /// Full name.
    pub name: String,
    /// Document (ID) number.
    pub id_number: String,
    /// Phone number.
    pub phone: Option<String>,
    /// Email address.
    pub email: Option<String>,
}

impl fmt::Debug for PlainIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PlainIdentity(<redacted>)")
    }
}

/// The keys: AEAD keys by id (the highest active one seals) and the blind-index key (never rotated: the index
/// must stay comparable).
#[derive(Clone)]
pub struct Vault {
    keys: BTreeMap<u32, SecretKey>,
    index: SecretKey,
    /// From when each key may seal (publish, then use: [`Activation`]); absent: at once.
    active_from: BTreeMap<u32, UnixMillis>,
    /// The key that seals, and the next instant another one becomes active.
    sealing: u32,
    next_change: UnixMillis,
}

impl fmt::Debug for Vault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Vault(key ids {:?}, <redacted>)", self.keys.keys().collect::<Vec<_>>())
    }
}

impl Vault {
    /// A vault with one fresh AEAD key (id 1) and a fresh index key.
    pub fn generate() -> Result<Self, VaultError> {
        Ok(Self::with(BTreeMap::from([(1, SecretKey::generate()?)]), SecretKey::generate()?))
    }

    /// Every key active at once: the highest seals.
    fn with(keys: BTreeMap<u32, SecretKey>, index: SecretKey) -> Self {
        let sealing = keys.keys().next_back().copied().unwrap_or(0);
        Self { keys, index, active_from: BTreeMap::new(), sealing, next_change: UnixMillis::MAX }
    }

    /// Takes when each key may seal from the database's records, as of `now`.
    pub fn activate(&mut self, activation: &Activation, now: UnixMillis) {
        self.active_from = self.keys.keys().map(|id| (*id, activation.from(KeySet::Vault, &id.to_string()))).collect();
        self.settle(now);
    }

    /// The vault as it stands at `now`, when a key became active since it was settled (else `None`: unchanged).
    pub fn settled(&self, now: UnixMillis) -> Option<Self> {
        (now >= self.next_change).then(|| {
            let mut vault = self.clone();
            vault.settle(now);
            vault
        })
    }

    /// Picks the highest active key to seal (the highest if none is active yet) and when that changes next.
    fn settle(&mut self, now: UnixMillis) {
        let from = |id: &u32| self.active_from.get(id).copied().unwrap_or(UnixMillis::MIN);
        let newest = self.keys.keys().next_back().copied().unwrap_or(0);
        self.sealing = self.keys.keys().rev().find(|id| from(id) <= now).copied().unwrap_or(newest);
        self.next_change = self.keys.keys().map(from).filter(|&at| at > now).min().unwrap_or(UnixMillis::MAX);
    }

    /// Parses the key text: `index <b64>` once and `key <id> <b64>` per AEAD key; `#` starts a comment;
    /// lines may also be separated by `;` (handy in an environment variable).
    pub fn parse(text: &str) -> Result<Self, VaultError> {
        let mut keys = BTreeMap::new();
        let mut index = None;
        let lines = text.lines().flat_map(|l| l.split('#').next().unwrap_or("").split(';'));
        for line in lines {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                [] => {}
                ["index", k] if index.is_none() => index = Some(SecretKey::from_base64(k)?),
                ["key", id, k] => {
                    let id: u32 = id.parse().map_err(|_| VaultError::Malformed("key id is not a number".into()))?;
                    if keys.insert(id, SecretKey::from_base64(k)?).is_some() {
                        return Err(VaultError::Malformed(format!("key id {id} appears twice")));
                    }
                }
                _ => {
                    return Err(VaultError::Malformed("expected `index <key>` once and `key <id> <key>` lines".into()));
                }
            }
        }
        let index = index.ok_or_else(|| VaultError::Malformed("no `index` key".into()))?;
        if keys.is_empty() {
            return Err(VaultError::Malformed("no `key` line".into()));
        }
        Ok(Self::with(keys, index))
    }

    /// The key text (secret: write it only to a 0600 file).
    pub fn to_text(&self) -> Zeroizing<String> {
        let mut s = String::from("# realname vault keys: keep secret, back up, never store in the database.\n");
        s.push_str("# The highest key id seals new data. Keep old keys while data sealed with them remains.\n");
        s.push_str(&format!("index {}\n", self.index.to_base64().as_str()));
        for (id, k) in &self.keys {
            s.push_str(&format!("key {id} {}\n", k.to_base64().as_str()));
        }
        Zeroizing::new(s)
    }

    /// Loads the keys from `REALNAME_VAULT_KEYS` if set, otherwise from `path`, creating the file (mode 0600)
    /// with fresh keys on first run. Refuses a key file that others may read.
    pub fn load_or_create(path: &Path) -> Result<Self, VaultError> {
        match std::env::var(KEYS_ENV) {
            Ok(text) => Self::parse(&text),
            Err(_) if path.exists() => Self::load(path),
            Err(_) => {
                let vault = Self::generate()?;
                vault.write_new(path)?;
                Ok(vault)
            }
        }
    }

    /// Loads the key file at `path`, refusing it if group or others have any access.
    pub fn load(path: &Path) -> Result<Self, VaultError> {
        let err = |reason: String| VaultError::KeyFile { path: path.display().to_string(), reason };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path).map_err(|e| err(e.to_string()))?.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(err(format!("mode {:o} lets others read it; run chmod 600", mode & 0o777)));
            }
        }
        let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?);
        Self::parse(&text)
    }

    /// Writes the keys to a new file (mode 0600, never overwriting), creating its directory.
    pub fn write_new(&self, path: &Path) -> Result<(), VaultError> {
        let err = |reason: String| VaultError::KeyFile { path: path.display().to_string(), reason };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::DirBuilderExt;
                builder.mode(0o700); // only for directories created here; existing ones are left alone
            }
            builder.create(dir).map_err(|e| err(e.to_string()))?;
        }
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut file = opts.open(path).map_err(|e| err(e.to_string()))?;
        file.write_all(self.to_text().as_bytes()).and_then(|()| file.sync_all()).map_err(|e| err(e.to_string()))
    }

    /// Adds a fresh AEAD key with the next id and returns it (old keys keep opening); it seals once active.
    pub fn rotate(&mut self) -> Result<u32, VaultError> {
        let highest = self.keys.keys().next_back().copied().unwrap_or(0);
        let id = highest.checked_add(1).ok_or_else(|| VaultError::Malformed("key ids exhausted".into()))?;
        self.keys.insert(id, SecretKey::generate()?);
        self.settle(UnixMillis::MIN);
        Ok(id)
    }

    /// Rotates the key file at `path` in place (atomically, keeping mode 0600) and returns the new key id.
    pub fn rotate_file(path: &Path) -> Result<u32, VaultError> {
        let mut vault = Self::load(path)?;
        let id = vault.rotate()?;
        let tmp = path.with_extension("rotating");
        let _ = std::fs::remove_file(&tmp);
        vault.write_new(&tmp)?;
        std::fs::rename(&tmp, path)
            .map_err(|e| VaultError::KeyFile { path: path.display().to_string(), reason: e.to_string() })?;
        Ok(id)
    }

    /// The id of the key that seals new data: the highest active one.
    pub fn current_key_id(&self) -> u32 {
        self.sealing
    }

    /// Encrypts `plaintext` for `field` with the current key.
    pub fn seal(&self, field: Field<'_>, plaintext: &str) -> Result<Sealed, VaultError> {
        let kid = self.current_key_id();
        let key = self.keys.get(&kid).ok_or(VaultError::UnknownKey(kid))?;
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| VaultError::Random)?;
        let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + 16);
        out.push(FORMAT_VERSION);
        out.extend_from_slice(&kid.to_be_bytes());
        out.extend_from_slice(&nonce);
        let aad = associated_data(field, &out);
        let cipher = XChaCha20Poly1305::new_from_slice(key.0.as_ref()).map_err(|_| VaultError::Open)?;
        let ct = cipher
            .encrypt(&XNonce::from(nonce), Payload { msg: plaintext.as_bytes(), aad: &aad })
            .map_err(|_| VaultError::Open)?;
        out.extend_from_slice(&ct);
        Ok(Sealed(out))
    }

    /// Decrypts a field sealed for exactly this `field` (table, column and row).
    pub fn open(&self, field: Field<'_>, sealed: &Sealed) -> Result<Zeroizing<String>, VaultError> {
        let bytes = sealed.as_bytes();
        if bytes.len() < HEADER_LEN + 16 || bytes[0] != FORMAT_VERSION {
            return Err(VaultError::Open);
        }
        let kid = sealed.key_id().ok_or(VaultError::Open)?;
        let key = self.keys.get(&kid).ok_or(VaultError::UnknownKey(kid))?;
        let nonce = XNonce::try_from(&bytes[5..HEADER_LEN]).map_err(|_| VaultError::Open)?;
        let aad = associated_data(field, &bytes[..HEADER_LEN]);
        let cipher = XChaCha20Poly1305::new_from_slice(key.0.as_ref()).map_err(|_| VaultError::Open)?;
        let plain = Zeroizing::new(
            cipher.decrypt(&nonce, Payload { msg: &bytes[HEADER_LEN..], aad: &aad }).map_err(|_| VaultError::Open)?,
        );
        Ok(Zeroizing::new(String::from_utf8(plain.to_vec()).map_err(|_| VaultError::Open)?))
    }

    /// Seals a session's identity fields, each bound to its column of `sessions` and the session id.
    pub fn seal_identity(&self, session_id: &str, id: &PlainIdentity) -> Result<SealedIdentity, VaultError> {
        let seal = |column, value: &str| self.seal(Field::session(column, session_id), value);
        Ok(SealedIdentity {
            name: seal("name_ct", &id.name)?,
            id_number: seal("id_number_ct", &id.id_number)?,
            phone: id.phone.as_deref().map(|p| seal("phone_ct", p)).transpose()?,
            email: id.email.as_deref().map(|e| seal("email_ct", e)).transpose()?,
        })
    }

    /// Opens a session's identity fields.
    pub fn open_identity(&self, session_id: &str, s: &SealedIdentity) -> Result<PlainIdentity, VaultError> {
        let open = |column, value: &Sealed| self.open(Field::session(column, session_id), value).map(|p| p.to_string());
        Ok(PlainIdentity {
            name: open("name_ct", &s.name)?,
            id_number: open("id_number_ct", &s.id_number)?,
            phone: s.phone.as_ref().map(|p| open("phone_ct", p)).transpose()?,
            email: s.email.as_ref().map(|e| open("email_ct", e)).transpose()?,
        })
    }

    /// The fingerprint of every key (`keyprint`: what instances sharing a database must agree on).
    pub fn prints(&self) -> Vec<KeyPrint> {
        let keys = self.keys.iter().map(|(id, k)| KeyPrint::of(KeySet::Vault, &id.to_string(), k.0.as_ref()));
        keys.chain([KeyPrint::of(KeySet::VaultIndex, "-", self.index.0.as_ref())]).collect()
    }

    /// The blind index of an ID number: HMAC-SHA256 of its normalized form (no spaces or dashes, upper
    /// case), so `110105 1990…x` and `110105…X` give the same index.
    pub fn blind_id_number(&self, id_number: &str) -> Vec<u8> {
        let normalized: String =
            id_number.chars().filter(|c| !c.is_whitespace() && *c != '-').flat_map(char::to_uppercase).collect();
        self.blind("id_number", &normalized)
    }

    /// A keyed hash of `value` in a `domain` (e.g. a rate-limit key for a phone number); domains never
    /// collide with each other.
    pub fn blind(&self, domain: &str, value: &str) -> Vec<u8> {
        let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(self.index.0.as_ref()) else {
            return Vec::new(); // unreachable: HMAC takes keys of any length
        };
        mac.update(&(domain.len() as u64).to_be_bytes());
        mac.update(domain.as_bytes());
        mac.update(value.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// `blind` as base64url text, for string keys such as rate-limit buckets.
    pub fn blind_text(&self, domain: &str, value: &str) -> String {
        B64.encode(self.blind(domain, value))
    }
}

/// Length-prefixed table, column and row, then the ciphertext header (version, key id, nonce).
fn associated_data(field: Field<'_>, header: &[u8]) -> Vec<u8> {
    let mut aad = b"realname-vault-v1".to_vec();
    for part in [field.table, field.column, field.row] {
        aad.extend_from_slice(&(part.len() as u64).to_be_bytes());
        aad.extend_from_slice(part.as_bytes());
    }
    aad.extend_from_slice(header);
    aad
}

#[cfg(test)]
mod tests;
