//! Storage: narrow async traits combined into [`Store`], held by the server as `Arc<dyn Store>`.
//!
//! Two backends implement every trait with the same SQL ([`sqlite::SqliteStore`], [`postgres::PgStore`]);
//! one conformance suite (`server/tests/it/store.rs`) runs against both. Every method that depends on time
//! takes `now` from the caller, so tests move the clock instead of sleeping. Personal data reaches the store
//! only sealed by `realname_domain::vault::Vault`; rate-limit keys and indexes are keyed hashes, never plaintext.

mod all;
pub mod audit;
pub mod audit_guards;
pub mod complaint;
mod error;
pub mod handoff;
mod housekeeping;
pub mod keyprint;
mod migrate;
mod open;
pub mod postgres;
pub mod review;
mod shared;
mod sql;
pub mod sqlite;
mod statements;
mod traits;
mod types;

pub use all::Store;
pub use error::{StoreError, StoreResult};
pub use open::open;
pub use sql::{WINDOW_OFFSET_MS, window as rate_window};
pub use traits::*;
pub use types::*;
