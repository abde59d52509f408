//! realname-server: the companion service of the realname widget, as a library so tests drive it directly.
#![forbid(unsafe_code)]

pub mod audit;
pub mod calendar;
pub mod cli;
pub mod clock;
pub mod complaint;
pub mod config;
pub mod delivery;
pub mod http {
    //! HTTP (interim, until the server stream lands `http/mod.rs`).
    pub mod complaints;
    pub mod console;
    pub mod metrics;
    pub mod review;
}
pub mod keys;
pub mod metrics;
pub mod review;
pub mod signature;
pub mod tokens;
pub mod store;
pub mod vault;
