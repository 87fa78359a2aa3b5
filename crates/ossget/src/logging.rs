//! `-v` logs: the crates' `tracing` events, formatted on stderr through the [`Display`] so
//! log lines and the progress bar do not tear each other. The crates never put a secret in
//! an event (keys, tokens and signatures are redacted where they are handled).

use std::io;

use tracing::Level;
use tracing_subscriber::fmt::MakeWriter;

use crate::progress::Display;

/// Installs the subscriber: warnings by default, then info / debug / trace for -v / -vv /
/// -vvv; only errors with -q.
pub fn init(verbose: u8, quiet: bool, display: Display) {
    let level = match (quiet, verbose) {
        (true, _) => Level::ERROR,
        (false, 0) => Level::WARN,
        (false, 1) => Level::INFO,
        (false, 2) => Level::DEBUG,
        (false, _) => Level::TRACE,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(verbose >= 2)
        .with_writer(DisplayWriter(display))
        .try_init();
}

/// Hands each formatted record to the display in one piece.
struct DisplayWriter(Display);

impl<'a> MakeWriter<'a> for DisplayWriter {
    type Writer = Record;

    fn make_writer(&'a self) -> Self::Writer {
        Record {
            buf: Vec::with_capacity(256),
            display: self.0.clone(),
        }
    }
}

/// One log record, written when dropped.
struct Record {
    buf: Vec<u8>,
    display: Display,
}

impl io::Write for Record {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Record {
    fn drop(&mut self) {
        if !self.buf.is_empty() {
            self.display.write_raw(&self.buf);
        }
    }
}
