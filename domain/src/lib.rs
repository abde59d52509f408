//! realname-domain: the server's pure domain, below the store and the server. Plain Rust only (no tokio, sqlx
//! or axum): configuration, the working-day calendar, clock and randomness, keys, result tokens, webhook
//! signatures, the vault, the audit chain's rules and CSV form, and the verification session's model.
#![forbid(unsafe_code)]

pub mod audit;
pub mod calendar;
pub mod checks;
pub mod clock;
pub mod config;
pub mod encoding;
pub mod handoff;
pub mod keyprint;
pub mod keys;
pub mod lifecycle;
pub mod session;
pub mod signature;
pub mod sites;
pub mod tokens;
pub mod vault;
