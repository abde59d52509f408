//! Reviewer accounts: argon2id password hashes, console sessions (bearer tokens stored only as SHA-256), roles.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};

use realname_domain::clock::{Clock, Random};
use realname_store::review::{Reviewer, Role};
use realname_store::{Store, StoreError};

/// Shortest password accepted for a reviewer account (NIST SP 800-63B: at least 8; reviewers see identity data).
pub const MIN_PASSWORD_LEN: usize = 12;

/// Why a reviewer could not be created or logged in.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Wrong username or password, disabled account: one answer for all.
    #[error("wrong username or password")]
    BadCredentials,
    /// The username is taken.
    #[error("username already exists")]
    Exists,
    /// The username or password does not meet the rules.
    #[error("{0}")]
    Invalid(&'static str),
    /// Hashing failed.
    #[error("password hashing failed")]
    Hash,
    /// The hashing pool is full (a login flood): try again shortly.
    #[error(transparent)]
    Busy(#[from] super::throttle::Busy),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Hashes a password with argon2id (default parameters: m = 19 MiB, t = 2, p = 1) and a random salt.
pub fn hash_password(password: &str, random: &dyn Random) -> Result<String, AuthError> {
    let mut salt = [0u8; 16];
    random.fill(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|_| AuthError::Hash)?;
    Argon2::default().hash_password(password.as_bytes(), &salt).map(|h| h.to_string()).map_err(|_| AuthError::Hash)
}

/// Whether `password` matches the PHC string `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// SHA-256 (hex) of a console session token: what the database keeps.
pub fn token_hash(token: &str) -> String {
    realname_domain::encoding::hex_encode(&Sha256::digest(token.as_bytes()))
}

/// A hash of a fixed password, checked when the username is unknown so that both answers take as long.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        SaltString::encode_b64(b"realname-decoy-s")
            .ok()
            .and_then(|salt| {
                Argon2::default().hash_password(b"not anyone's password", &salt).ok().map(|h| h.to_string())
            })
            .unwrap_or_default()
    })
}

/// Creates a reviewer account.
pub async fn create_reviewer(
    store: &dyn Store,
    clock: &dyn Clock,
    random: &dyn Random,
    username: &str,
    password: &str,
    role: Role,
    site_id: Option<&str>,
) -> Result<Reviewer, AuthError> {
    let name_ok = (3..=64).contains(&username.len())
        && username.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'));
    if !name_ok {
        return Err(AuthError::Invalid("username: 3–64 characters of a-z, 0-9, . _ - @"));
    }
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AuthError::Invalid("password: at least 12 characters"));
    }
    let r = Reviewer {
        id: format!("rv_{}", random.token(12)),
        username: username.to_owned(),
        password_hash: hash_password(password, random)?,
        role,
        site_id: site_id.map(str::to_owned),
        disabled: false,
        created_at: clock.now_ms(),
    };
    match store.create_reviewer(&r).await {
        Ok(()) => Ok(r),
        Err(StoreError::Conflict) => Err(AuthError::Exists),
        Err(e) => Err(e.into()),
    }
}

/// Checks a login, the password on the `hashing` pool; on success starts a console session and returns its
/// bearer token and the reviewer.
pub async fn login(
    store: &dyn Store,
    clock: &dyn Clock,
    random: &dyn Random,
    hashing: &super::throttle::Hashing,
    username: &str,
    password: &str,
    ttl_ms: i64,
) -> Result<(String, Reviewer), AuthError> {
    let found = store.reviewer_by_username(username).await?;
    // An unknown username checks a decoy hash, so that both answers take as long.
    let hash = found.as_ref().map_or_else(|| decoy_hash().to_owned(), |r| r.password_hash.clone());
    let password = zeroize::Zeroizing::new(password.to_owned());
    let matches = hashing.run(move || verify_password(&password, &hash)).await?;
    let Some(r) = found.filter(|r| matches && !r.disabled) else {
        return Err(AuthError::BadCredentials);
    };
    let token = random.token(32);
    let now = clock.now_ms();
    store.create_reviewer_session(&token_hash(&token), &r.id, now, now + ttl_ms).await?;
    Ok((token, r))
}

/// The reviewer of a bearer token, if the session is live and the account enabled.
pub async fn authenticate(store: &dyn Store, clock: &dyn Clock, token: &str) -> Result<Option<Reviewer>, StoreError> {
    store.reviewer_for_session(&token_hash(token), clock.now_ms()).await
}

/// Whether `r` may see data of `site_id`.
pub fn can_see_site(r: &Reviewer, site_id: &str) -> bool {
    r.site_id.as_deref().is_none_or(|s| s == site_id)
}

/// Whether `r` may use admin actions.
pub fn is_admin(r: &Reviewer) -> bool {
    r.role == Role::Admin
}
