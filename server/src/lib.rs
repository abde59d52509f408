//! realname-server: the companion service of the realname widget, as a library so tests drive it directly.
#![forbid(unsafe_code)]

pub mod audit;
pub mod calendar;
pub mod cli;
/// Storage (interim until the store stream lands `store/mod.rs`).
pub mod store {
    pub mod audit;
}
