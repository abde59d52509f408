//! Validation of identity documents and contact data.
