//! realname-e2e: the harness that drives the real `realname-server` and the built widget in headless Chromium.
//!
//! Everything here is synchronous and small on purpose: a WebDriver client over HTTP ([`webdriver`]), the
//! browser profiles the tests need ([`browser`]: desktop, mobile emulation, fake camera), the demo server
//! launcher ([`server`]), an SMTP sink on loopback ([`smtp`]), axe-core accessibility checks ([`axe`]), the
//! network-log check for plaintext personal data ([`netlog`]) and screenshots ([`shots`]).
//!
//! The tests live in one test binary, `tests/e2e/`, run by `cargo xtask test`, which sets the environment
//! described in [`paths`]. A missing part is an error, never a skipped test.
#![forbid(unsafe_code)]

pub mod axe;
pub mod browser;
pub mod http;
pub mod netlog;
pub mod paths;
pub mod server;
pub mod shots;
pub mod smtp;
pub mod webdriver;

use std::fmt;
use std::time::{Duration, Instant};

/// Why a harness step failed, in words a person can act on.
#[derive(Debug)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error(format!("i/o: {e}"))
    }
}

impl From<ureq::Error> for Error {
    fn from(e: ureq::Error) -> Self {
        Error(format!("http: {e}"))
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error(format!("json: {e}"))
    }
}

/// Result of every harness step.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Builds an [`Error`] from a format string.
#[macro_export]
macro_rules! err {
    ($($t:tt)*) => { $crate::Error(format!($($t)*)) };
}

/// Fails with a message unless the condition holds (the harness's `assert!` that returns an error).
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $($t:tt)*) => {
        if !$cond {
            return Err($crate::Error(format!($($t)*)));
        }
    };
}

/// Polls `f` every 50 ms until it returns `Some`, or fails after `timeout` with `what` in the message.
///
/// Browser tests wait for the page, never for the clock: this returns as soon as the condition holds.
pub fn wait_for<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Result<Option<T>>) -> Result<T> {
    let start = Instant::now();
    let mut last_err = None;
    loop {
        match f() {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(e) => last_err = Some(e),
        }
        if start.elapsed() > timeout {
            let tail = last_err.map(|e| format!(" (last error: {e})")).unwrap_or_default();
            return Err(err!("timed out after {timeout:?} waiting for {what}{tail}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A free TCP port on loopback (bound and released; the small race is acceptable for tests).
pub fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}
