//! realname-core: the pure, wasm-safe heart of realname, shared by the widget and the server.
//!
//! - [`validate`]: identity documents, phones, emails, names, masking.
//! - [`flow`]: the verification flow as an explicit state machine.
//! - [`protocol`]: the wire protocol's JSON types; [`json`] writes the widget's requests without serde_json.
//! - [`envelope`]: the HPKE-sealed envelope that carries personal data.
//! - [`b64`]: the two base64 forms on the wire and in `data:` URLs.
#![forbid(unsafe_code)]

pub mod validate;
pub mod flow;
pub mod protocol;
#[cfg(feature = "client")]
pub mod json;
pub mod b64;
#[cfg(any(feature = "client", feature = "server"))]
pub mod envelope;
