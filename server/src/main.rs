//! The `realname-server` binary: dispatches to the subcommands in `realname_server::cli`.
fn main() {}
