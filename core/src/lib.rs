//! realname-core: the pure, wasm-safe heart of realname, shared by the widget and the server.
//!
//! - [`validate`]: identity documents, phones, emails, names, masking.
//! - [`flow`]: the verification flow as an explicit state machine.
//! - [`protocol`]: the wire protocol's JSON types; [`json`] writes the widget's requests without serde_json.
//! - [`envelope`]: the HPKE-sealed envelope that carries personal data.
//! - [`b64`]: the two base64 forms on the wire and in `data:` URLs.
#![forbid(unsafe_code)]

pub mod b64;
#[cfg(any(feature = "client", feature = "server"))]
pub mod envelope;
pub mod flow;
#[cfg(feature = "client")]
pub mod json;
pub mod protocol;
pub mod validate;
