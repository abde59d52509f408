//! Command-line subcommands of `realname-server`.

pub mod serve;
pub mod validate_id;
