//! SIGINT / SIGTERM: the first one cancels the download (oss-resume drains the writes in
//! flight and saves the checkpoint once more), the second one exits at once.
//!
//! Listening replaces the default action (termination) for both signals, so the second one
//! must be handled explicitly: it calls `exit` without waiting. That is safe because the
//! checkpoint on disk is replaced atomically and only ever claims bytes already written.

use std::sync::{Arc, OnceLock};

use oss_resume::CancellationToken;

use crate::progress::Display;

/// What stops ossget before the end: a signal, or `--max-time`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Ctrl-C.
    Interrupt,
    /// `kill`, a service manager stopping us.
    Terminate,
    /// `--max-time` ran out (the whole run's budget).
    MaxTime(std::time::Duration),
}

/// Exit status when `--max-time` stops the run: 124, as GNU `timeout` exits when it stops
/// a command, so scripts that already know that convention need nothing new.
pub const EXIT_MAX_TIME: u8 = 124;

impl Signal {
    /// 128 + the signal number, as shells report it; [`EXIT_MAX_TIME`] for `--max-time`.
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
            Signal::MaxTime(_) => EXIT_MAX_TIME,
        }
    }

    /// `SIGINT` / `SIGTERM` / `--max-time`.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
            Signal::MaxTime(_) => "--max-time",
        }
    }
}

/// Which signal stopped the download, once one has.
pub type Received = Arc<OnceLock<Signal>>;

/// The download's cancellation token and what stopped it: a signal (see [`install`]), or
/// `max_time` running out. Call from inside the runtime, before the download starts.
pub fn stops(
    max_time: Option<std::time::Duration>,
    display: &Display,
) -> (CancellationToken, Received) {
    let token = CancellationToken::new();
    let received = install(token.clone(), display.clone()).unwrap_or_else(|e| {
        tracing::warn!("cannot listen for SIGINT/SIGTERM ({e}); Ctrl-C will not save progress");
        Arc::new(OnceLock::new())
    });
    if let Some(limit) = max_time {
        let (token, received) = (token.clone(), Arc::clone(&received));
        tokio::spawn(async move {
            tokio::time::sleep(limit).await;
            if received.set(Signal::MaxTime(limit)).is_ok() {
                token.cancel();
            }
        });
    }
    (token, received)
}

/// Starts listening (call from inside the runtime, before the download starts). The first
/// signal is recorded and cancels `token`; the second exits the process.
pub fn install(token: CancellationToken, display: Display) -> std::io::Result<Received> {
    let received: Received = Arc::new(OnceLock::new());
    let mut listener = Listener::new()?;
    let record = Arc::clone(&received);
    tokio::spawn(async move {
        let Some(first) = listener.next().await else {
            return;
        };
        let _ = record.set(first);
        token.cancel();
        display.note(&format!(
            "{}: stopping and saving progress (press Ctrl-C again to quit at once)",
            first.name()
        ));
        let Some(second) = listener.next().await else {
            return;
        };
        display.finish();
        display.print(&format!(
            "ossget: {}: quitting now; the checkpoint on disk is consistent, run the same command to resume",
            second.name()
        ));
        std::process::exit(i32::from(second.exit_code()));
    });
    Ok(received)
}

#[cfg(unix)]
struct Listener {
    interrupt: tokio::signal::unix::Signal,
    terminate: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Listener {
    fn new() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn next(&mut self) -> Option<Signal> {
        tokio::select! {
            s = self.interrupt.recv() => s.map(|()| Signal::Interrupt),
            s = self.terminate.recv() => s.map(|()| Signal::Terminate),
        }
    }
}

#[cfg(not(unix))]
struct Listener;

#[cfg(not(unix))]
impl Listener {
    fn new() -> std::io::Result<Self> {
        Ok(Self)
    }

    async fn next(&mut self) -> Option<Signal> {
        tokio::signal::ctrl_c()
            .await
            .ok()
            .map(|()| Signal::Interrupt)
    }
}
