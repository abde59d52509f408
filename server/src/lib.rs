//! realname-server: the companion service of the realname widget, as a library so tests drive it directly.
#![forbid(unsafe_code)]

pub mod calendar;
pub mod cli;
