//! The server's integration tests: one test binary (link time matters), one module per area.
// Test code: a failing unwrap, expect or panic is a failed test that names its line (clippy.toml allows them in
// `#[test]` functions; this covers the helpers they share).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#[macro_use]
mod harness;

mod abuse;
mod api;
mod audit;
mod calendar;
mod check_notice;
mod checks;
mod codes;
mod complaint;
mod connections;
mod console_login;
mod crash;
mod delivery;
mod dev;
mod failover;
mod flagged;
mod flow_audit;
mod handoff;
mod keepalive;
mod keys;
mod leaks;
mod licence;
mod lifetime;
mod malformed;
mod probes;
mod processes;
mod review;
mod rotation;
mod store;
mod tokens;
mod uploads;
mod vendors;
mod webhooks;
