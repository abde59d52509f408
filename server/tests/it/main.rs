//! The server's integration tests: one test binary (link time matters), one module per area.
mod calendar;
mod audit;
mod store;
