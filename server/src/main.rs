//! The `realname-server` binary.
fn main() {}
