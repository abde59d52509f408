//! End-to-end tests: the real `realname-server` (demo mode, fresh SQLite) and the built widget from `www/`,
//! driven in headless Chromium over WebDriver. Run by `cargo xtask test`, which builds everything and sets the
//! environment (see `realname_e2e::paths`); a missing part fails the run.

mod checks;
mod codes;
mod common;
mod console;
mod consumers;
mod demo_pages;
mod documents;
mod email;
mod embed;
mod harness;
mod identity;
mod look;
mod openapi;
mod otp;
mod recovery;
mod sms;
mod webview;
