//! The audit log's server side: the chainer that moves the flow's pending events into the hash chain, and the
//! `audit verify|export` commands. The chain's rules and its CSV form are `realname_domain::audit`.

pub mod chain;
pub mod cli;
