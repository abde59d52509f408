//! realname-server: the companion service of the realname widget, as a library so tests drive it directly.
#![forbid(unsafe_code)]

pub mod audit;
pub mod calendar;
pub mod cli;
pub mod clock;
pub mod codes;
pub mod complaint;
pub mod config;
pub mod delivery;
pub mod error;
pub mod http;
pub mod keys;
pub mod metrics;
pub mod report;
pub mod review;
pub mod sessions;
pub mod signature;
pub mod sites;
pub mod state;
pub mod store;
pub mod tokens;
pub mod vault;
pub mod webhooks;
