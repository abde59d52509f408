//! The server's integration tests: one test binary (link time matters), one module per area.
mod audit;
mod calendar;
mod complaint;
mod review;
mod store;
