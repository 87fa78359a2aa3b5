//! `-v` logs: the crates' `tracing` events, formatted on stderr through the [`Display`] so
//! log lines and the progress bar do not tear each other. The crates never put a secret in
//! an event (keys, tokens and signatures are redacted where they are handled).

use std::io;

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::progress::Display;

/// The library crates of this project, whose events -v and -vv show.
const LIBRARIES: [&str; 7] = [
    "oss_resume",
    "oss_credentials",
    "oss_http",
    "oss_ckpt",
    "oss_sign",
    "oss_parts",
    "oss_crc",
];

/// Installs the subscriber. By default only ossget's own warnings: what the libraries warn
/// about also comes back in their report or error, which ossget prints once in its own
/// words. -v: info and warnings from our crates (the plan, resume decisions, the outcome);
/// -vv: their debug events too (requests, retries); -vvv: every dependency's events as
/// well (hyper's connection pool...). -q: errors only.
pub fn init(verbose: u8, quiet: bool, display: Display) {
    let (cli, ours, others) = match (quiet, verbose) {
        (true, _) => (LevelFilter::ERROR, LevelFilter::OFF, LevelFilter::OFF),
        (false, 0) => (LevelFilter::WARN, LevelFilter::OFF, LevelFilter::OFF),
        (false, 1) => (LevelFilter::INFO, LevelFilter::INFO, LevelFilter::WARN),
        (false, 2) => (LevelFilter::DEBUG, LevelFilter::DEBUG, LevelFilter::WARN),
        (false, _) => (LevelFilter::TRACE, LevelFilter::TRACE, LevelFilter::TRACE),
    };
    let filter = LIBRARIES
        .iter()
        .fold(Targets::new().with_default(others), |f, target| {
            f.with_target(*target, ours)
        })
        .with_target("ossget", cli);
    let layer = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_target(verbose >= 2)
        .with_writer(DisplayWriter(display));
    let _ = tracing_subscriber::registry()
        .with(layer)
        .with(filter)
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
