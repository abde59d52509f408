//! The wire protocol between widget, server and site: JSON request/response types and error codes.
