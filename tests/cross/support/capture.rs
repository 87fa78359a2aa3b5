//! Every `tracing` event of this test process, at TRACE level, formatted by the standard
//! fmt layer into one buffer (the way a user's subscriber would render them, fields and
//! `Debug` values included).
//!
//! A global subscriber, installed once: the libraries log from tokio worker and blocking
//! threads, which a thread-local default would miss. Other tests running in parallel log
//! into the same buffer, which only widens what the secret scan covers.

use std::io;
use std::sync::{Mutex, Once};

static LOG: Mutex<Vec<u8>> = Mutex::new(Vec::new());

struct Sink;

impl io::Write for Sink {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        LOG.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Installs the capturing subscriber (once per process).
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_target(true)
            .with_writer(|| Sink)
            .try_init()
            .expect("no other global subscriber in this test binary");
    });
}

/// Everything logged so far.
pub fn captured() -> String {
    String::from_utf8_lossy(
        &LOG.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    )
    .into_owned()
}
