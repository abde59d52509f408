//! realname-server: the companion service of the realname widget, as a library so tests drive it directly.
#![forbid(unsafe_code)]

pub mod audit;
pub mod calendar;
pub mod cli;
pub mod clock;
pub mod config;
pub mod delivery;
pub mod keys;
pub mod signature;
pub mod tokens;

// Interim home of the audit log's storage until `store/mod.rs` lands; it then moves to `store::audit`.
#[path = "store/audit.rs"]
pub mod audit_store;
pub mod store;
pub mod vault;
