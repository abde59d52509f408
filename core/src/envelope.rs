//! The sealed envelope: HPKE (RFC 9180) base mode, X25519 + HKDF-SHA256 + ChaCha20-Poly1305.
//!
//! Suite ids: KEM `0x0020` DHKEM(X25519, HKDF-SHA256), KDF `0x0001` HKDF-SHA256, AEAD `0x0003`
//! ChaCha20Poly1305. One single-shot seal per envelope:
//! - `info` = `"realname/1"` ‖ `0x00` ‖ session id (UTF-8): an envelope opens only for its session;
//! - `aad`  = `"realname/1"` ‖ `0x00` ‖ step (`identity` / `code` / `documents`): it opens only for its step.
//!
//! The widget (feature `client`) seals; the server (feature `server`) generates keys and opens.

#[cfg(feature = "server")]
use hpke::Kem as _;
use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Serializable};

use crate::b64::{self, Form};
use crate::protocol::{Envelope, PROTOCOL_LABEL, Step};

/// The HPKE suite name published with every key.
pub const SUITE: &str = "DHKEM(X25519, HKDF-SHA256)/HKDF-SHA256/ChaCha20Poly1305";

/// Length of an X25519 public key and of the encapsulated key.
pub const KEY_LEN: usize = 32;

/// Length of the Poly1305 tag at the end of `ct`.
pub const TAG_LEN: usize = 16;

type Kem = X25519HkdfSha256;
type Kdf = HkdfSha256;
type Aead = ChaCha20Poly1305;

/// Why an envelope could not be sealed or opened. Deliberately coarse: details help attackers only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// Bad base64url, wrong key length, or a ciphertext shorter than the tag.
    #[error("malformed envelope")]
    Malformed,
    /// The `kid` names no key this side knows (or its grace period is over).
    #[error("unknown key id")]
    UnknownKid,
    /// The AEAD refused: tampered, sealed for another session, step or key.
    #[error("envelope does not open")]
    Invalid,
    /// Sealing failed (bad public key).
    #[error("cannot seal")]
    Seal,
}

/// The HPKE `info` for a session: `"realname/1" 0x00 <session id>`.
pub fn info(session_id: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(PROTOCOL_LABEL.len() + 1 + session_id.len());
    v.extend_from_slice(PROTOCOL_LABEL.as_bytes());
    v.push(0);
    v.extend_from_slice(session_id.as_bytes());
    v
}

/// The AEAD associated data for a step: `"realname/1" 0x00 <step>`.
pub fn aad(step: Step) -> Vec<u8> {
    let mut v = Vec::with_capacity(PROTOCOL_LABEL.len() + 1 + 9);
    v.extend_from_slice(PROTOCOL_LABEL.as_bytes());
    v.push(0);
    v.extend_from_slice(step.as_str().as_bytes());
    v
}

fn b64(bytes: &[u8]) -> String {
    b64::encode(bytes, Form::UrlNoPad)
}

fn unb64(s: &str) -> Result<Vec<u8>, EnvelopeError> {
    b64::decode(s, Form::UrlNoPad).ok_or(EnvelopeError::Malformed)
}

/// A server public key the client seals to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientKey {
    /// The key id, copied into the envelope.
    pub kid: String,
    pk: <Kem as hpke::Kem>::PublicKey,
}

impl RecipientKey {
    /// Parses a key as published by `GET /v1/keys` (`public_key` is base64url of 32 bytes).
    pub fn from_base64(kid: &str, public_key: &str) -> Result<Self, EnvelopeError> {
        let bytes = unb64(public_key)?;
        Self::from_bytes(kid, &bytes)
    }

    /// Builds a key from its 32 raw bytes.
    pub fn from_bytes(kid: &str, bytes: &[u8]) -> Result<Self, EnvelopeError> {
        if bytes.len() != KEY_LEN {
            return Err(EnvelopeError::Malformed);
        }
        let pk = <Kem as hpke::Kem>::PublicKey::from_bytes(bytes).map_err(|_| EnvelopeError::Malformed)?;
        Ok(Self { kid: kid.to_owned(), pk })
    }

    /// The public key as base64url, the form `GET /v1/keys` publishes.
    pub fn to_base64(&self) -> String {
        b64(&self.pk.to_bytes())
    }
}

/// Seals `plaintext` for `session_id` and `step` to the server key `to`.
#[cfg(feature = "client")]
pub fn seal(to: &RecipientKey, session_id: &str, step: Step, plaintext: &[u8]) -> Result<Envelope, EnvelopeError> {
    let (enc, ct) = hpke::single_shot_seal::<Aead, Kdf, Kem>(
        &hpke::OpModeS::Base,
        &to.pk,
        &info(session_id),
        plaintext,
        &aad(step),
    )
    .map_err(|_| EnvelopeError::Seal)?;
    Ok(Envelope { kid: to.kid.clone(), enc: b64(&enc.to_bytes()), ct: b64(&ct) })
}

/// A server key pair: the private half opens envelopes sealed to its public half.
#[cfg(feature = "server")]
#[derive(Clone)]
pub struct KeyPair {
    /// The key id.
    pub kid: String,
    sk: <Kem as hpke::Kem>::PrivateKey,
    pk: <Kem as hpke::Kem>::PublicKey,
}

#[cfg(feature = "server")]
impl core::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("KeyPair").field("kid", &self.kid).field("sk", &"<redacted>").finish()
    }
}

#[cfg(feature = "server")]
impl KeyPair {
    /// Generates a fresh key pair from the operating system's CSPRNG.
    pub fn generate(kid: &str) -> Self {
        let (sk, pk) = Kem::gen_keypair();
        Self { kid: kid.to_owned(), sk, pk }
    }

    /// Derives the key pair from 32 secret bytes (RFC 9180 `DeriveKeyPair`), e.g. read from a key file.
    pub fn from_seed(kid: &str, seed: &[u8; 32]) -> Self {
        let (sk, pk) = Kem::derive_keypair(seed);
        Self { kid: kid.to_owned(), sk, pk }
    }

    /// Rebuilds the key pair from the raw 32-byte X25519 private key ([`KeyPair::secret_bytes`]).
    pub fn from_secret_bytes(kid: &str, bytes: &[u8]) -> Result<Self, EnvelopeError> {
        let sk = <Kem as hpke::Kem>::PrivateKey::from_bytes(bytes).map_err(|_| EnvelopeError::Malformed)?;
        let pk = Kem::sk_to_pk(&sk);
        Ok(Self { kid: kid.to_owned(), sk, pk })
    }

    /// The raw private key, for writing the key file. Handle with care.
    pub fn secret_bytes(&self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(&self.sk.to_bytes());
        out
    }

    /// The public half, as a client would use it.
    pub fn public(&self) -> RecipientKey {
        RecipientKey { kid: self.kid.clone(), pk: self.pk.clone() }
    }

    /// Opens an envelope sealed to this key for `session_id` and `step`.
    pub fn open(&self, envelope: &Envelope, session_id: &str, step: Step) -> Result<Vec<u8>, EnvelopeError> {
        if envelope.kid != self.kid {
            return Err(EnvelopeError::UnknownKid);
        }
        let enc = unb64(&envelope.enc)?;
        let ct = unb64(&envelope.ct)?;
        if enc.len() != KEY_LEN || ct.len() < TAG_LEN {
            return Err(EnvelopeError::Malformed);
        }
        let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&enc).map_err(|_| EnvelopeError::Malformed)?;
        hpke::single_shot_open::<Aead, Kdf, Kem>(
            &hpke::OpModeR::Base,
            &self.sk,
            &enc,
            &info(session_id),
            &ct,
            &aad(step),
        )
        .map_err(|_| EnvelopeError::Invalid)
    }
}

/// Opens `envelope` with whichever of `keys` has its `kid`.
#[cfg(feature = "server")]
pub fn open_with<'a>(
    keys: impl IntoIterator<Item = &'a KeyPair>,
    envelope: &Envelope,
    session_id: &str,
    step: Step,
) -> Result<Vec<u8>, EnvelopeError> {
    let key = keys.into_iter().find(|k| k.kid == envelope.kid).ok_or(EnvelopeError::UnknownKid)?;
    key.open(envelope, session_id, step)
}

#[cfg(all(test, feature = "client", feature = "server"))]
mod tests {
    use super::*;

    const SESSION: &str = "ses_test";

    fn sealed(key: &KeyPair, step: Step, msg: &[u8]) -> Envelope {
        seal(&key.public(), SESSION, step, msg).unwrap_or_else(|_| Envelope {
            kid: String::new(),
            enc: String::new(),
            ct: String::new(),
        })
    }

    #[test]
    fn roundtrip() {
        let key = KeyPair::generate("k1");
        let env = sealed(&key, Step::Identity, b"{\"name\":\"x\"}");
        assert_eq!(env.kid, "k1");
        assert_eq!(unb64(&env.enc).map(|v| v.len()), Ok(KEY_LEN));
        assert_eq!(key.open(&env, SESSION, Step::Identity), Ok(b"{\"name\":\"x\"}".to_vec()));
        // Every seal uses a fresh ephemeral key.
        let again = sealed(&key, Step::Identity, b"{\"name\":\"x\"}");
        assert_ne!(env.enc, again.enc);
    }

    #[test]
    fn tampered_ciphertext_is_refused() {
        let key = KeyPair::generate("k1");
        let env = sealed(&key, Step::Code, b"123456");
        let mut ct = unb64(&env.ct).unwrap_or_default();
        ct[0] ^= 1;
        let tampered = Envelope { ct: b64(&ct), ..env.clone() };
        assert_eq!(key.open(&tampered, SESSION, Step::Code), Err(EnvelopeError::Invalid));
        let mut enc = unb64(&env.enc).unwrap_or_default();
        enc[5] ^= 0x40;
        let tampered = Envelope { enc: b64(&enc), ..env };
        assert!(key.open(&tampered, SESSION, Step::Code).is_err());
    }

    #[test]
    fn wrong_step_aad_is_refused() {
        let key = KeyPair::generate("k1");
        let env = sealed(&key, Step::Identity, b"{}");
        assert_eq!(key.open(&env, SESSION, Step::Code), Err(EnvelopeError::Invalid));
        assert_eq!(key.open(&env, SESSION, Step::Documents), Err(EnvelopeError::Invalid));
    }

    #[test]
    fn wrong_session_info_is_refused() {
        let key = KeyPair::generate("k1");
        let env = sealed(&key, Step::Identity, b"{}");
        assert_eq!(key.open(&env, "ses_other", Step::Identity), Err(EnvelopeError::Invalid));
    }

    #[test]
    fn unknown_kid_is_refused() {
        let old = KeyPair::generate("k1");
        let new = KeyPair::generate("k2");
        let env = sealed(&old, Step::Identity, b"{}");
        assert_eq!(open_with([&new], &env, SESSION, Step::Identity), Err(EnvelopeError::UnknownKid));
        assert_eq!(open_with([&new, &old], &env, SESSION, Step::Identity), Ok(b"{}".to_vec()));
        // A key that claims the kid but is not the key it was sealed to.
        let impostor = KeyPair::generate("k1");
        assert_eq!(impostor.open(&env, SESSION, Step::Identity), Err(EnvelopeError::Invalid));
    }

    #[test]
    fn malformed_fields_are_refused() {
        let key = KeyPair::generate("k1");
        let env = sealed(&key, Step::Identity, b"{}");
        for bad in [
            Envelope { enc: "***".into(), ..env.clone() },
            Envelope { enc: b64(&[1u8; 31]), ..env.clone() },
            Envelope { ct: b64(&[1u8; 15]), ..env.clone() },
            Envelope { ct: "a=".into(), ..env.clone() },
        ] {
            assert_eq!(key.open(&bad, SESSION, Step::Identity), Err(EnvelopeError::Malformed));
        }
    }

    #[test]
    fn key_persists_through_secret_bytes() {
        let key = KeyPair::generate("k1");
        let again = KeyPair::from_secret_bytes("k1", &key.secret_bytes());
        assert_eq!(again.map(|k| k.public()), Ok(key.public()));
        let pk = RecipientKey::from_base64("k1", &key.public().to_base64());
        assert_eq!(pk, Ok(key.public()));
    }

    #[test]
    fn byte_strings_are_as_documented() {
        assert_eq!(info("ses_1"), b"realname/1\x00ses_1".to_vec());
        assert_eq!(aad(Step::Code), b"realname/1\x00code".to_vec());
    }
}
