//! Command-line subcommands of `realname-server`.

pub mod validate_id;
