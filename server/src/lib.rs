//! realname-server: the companion service of the realname widget, as a library so tests drive it directly.
#![forbid(unsafe_code)]

pub mod audit;
pub mod checks;
pub mod cli;
pub mod codes;
pub mod complaint;
pub mod delivery;
pub mod http;
pub mod keyring;
pub mod metrics;
pub mod qr;
pub mod report;
pub mod review;
pub mod sessions;
pub mod state;
pub mod uploads;
pub mod webhooks;
