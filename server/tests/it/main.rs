//! The server's integration tests: one test binary (link time matters), one module per area.
#[macro_use]
mod harness;

mod api;
mod codes;
mod delivery;
mod dev;
mod flagged;
mod flow_audit;
mod leaks;
mod malformed;
mod tokens;
mod webhooks;
mod audit;
mod calendar;
mod complaint;
mod review;
mod store;
