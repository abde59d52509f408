//! The server's integration tests: one test binary (link time matters), one module per area.
#[macro_use]
mod harness;

mod api;
mod audit;
mod calendar;
mod codes;
mod complaint;
mod delivery;
mod dev;
mod flagged;
mod flow_audit;
mod leaks;
mod malformed;
mod review;
mod store;
mod tokens;
mod webhooks;
