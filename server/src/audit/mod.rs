//! The audit log's server side: the chainer that moves the flow's pending events into the keyed chain and writes
//! the signed checkpoints, and the `audit verify|export` commands. The chain's rules, its checkpoints and its CSV
//! form are `realname_domain::audit`.

pub mod chain;
pub mod checkpoint;
pub mod cli;
