//! realname-core: the pure, wasm-safe heart of realname, shared by the widget and the server.
//!
//! - [`validate`]: identity documents, phones, emails, names, masking.
#![forbid(unsafe_code)]

pub mod validate;
