//! A download running on the runtime's threads, and what the Python side holds of it.
//!
//! The engine reports to a [`Shared`] state: the latest progress (from its aggregator
//! thread) and, at the end, the outcome. Python reads both from the thread that waits —
//! the caller's thread for `download()`, the event loop's for `download_async()` — so a
//! Python callback never runs on an engine thread and engine threads never wait for the
//! GIL to report (the one exception is the done-callback `download_async()` registers,
//! which only schedules a wake-up on the loop).

use std::future::IntoFuture as _;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use oss_resume::{CancellationToken, Download, Error, Progress, Report};
use pyo3::prelude::*;

use crate::errors::{state_error, to_py};
use crate::report::{PyProgress, PyReport};
use crate::runtime;
use crate::wait;

/// How often the engine hands its progress over (the Python callback runs at its own,
/// slower, rate: `progress_interval`).
const ENGINE_PROGRESS_INTERVAL: Duration = Duration::from_millis(50);

/// What the engine shares with the waiting thread.
#[derive(Default)]
pub(crate) struct Shared {
    state: Mutex<State>,
    finished: Condvar,
}

#[derive(Default)]
struct State {
    /// The latest progress and its number (0: none yet).
    progress: Option<Progress>,
    generation: u64,
    /// The number of the progress last handed to Python.
    delivered: u64,
    /// Whether the download has ended.
    done: bool,
    /// How it ended, until Python takes it.
    outcome: Option<Result<Report, Error>>,
    /// Called (with the GIL, on the runtime thread) when the download ends.
    on_done: Option<Py<PyAny>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Poisoning means a panic while the lock was held; the state is plain data that is
        // never left half-written, so it is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn publish(&self, progress: Progress) {
        let mut s = self.lock();
        s.progress = Some(progress);
        s.generation += 1;
    }

    fn finish(&self, outcome: Result<Report, Error>) {
        let on_done = {
            let mut s = self.lock();
            s.done = true;
            s.outcome = Some(outcome);
            s.on_done.take()
        };
        self.finished.notify_all();
        if let Some(callback) = on_done {
            call_done_callback(callback);
        }
    }

    /// Waits up to `timeout` for the end; whether the download has ended. Call it without
    /// the GIL.
    pub(crate) fn wait_done(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut s = self.lock();
        while !s.done {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            s = match self.finished.wait_timeout(s, left) {
                Ok((guard, _)) => guard,
                Err(p) => p.into_inner().0,
            };
        }
        true
    }

    pub(crate) fn is_done(&self) -> bool {
        self.lock().done
    }

    /// The progress published since the last call, if any.
    pub(crate) fn take_new_progress(&self) -> Option<Progress> {
        let mut s = self.lock();
        if s.generation == s.delivered {
            return None;
        }
        s.delivered = s.generation;
        s.progress
    }

    /// The outcome as Python sees it: the report, or the mapped exception.
    pub(crate) fn take_result(&self, py: Python<'_>) -> PyResult<PyReport> {
        let outcome = {
            let mut s = self.lock();
            if !s.done {
                return Err(state_error("the download has not finished yet"));
            }
            s.outcome.take()
        };
        match outcome {
            Some(Ok(report)) => Ok(PyReport::from(report)),
            Some(Err(error)) => Err(to_py(py, &error)),
            None => Err(state_error("the result of this download was already taken")),
        }
    }
}

/// Calls a done-callback from a runtime thread. An exception in it has nobody to go to,
/// so it is reported the way Python reports exceptions in `__del__`.
fn call_done_callback(callback: Py<PyAny>) {
    let _ = Python::try_attach(|py| {
        if let Err(raised) = callback.call0(py) {
            raised.write_unraisable(py, Some(callback.bind(py)));
        }
    });
}

/// Starts `download` on the runtime; the handle Python holds.
pub(crate) fn start(download: Download, cancel: CancellationToken) -> PyResult<Transfer> {
    let runtime = runtime::get().map_err(|e| Python::attach(|py| to_py(py, &Error::Runtime(e))))?;
    let shared = Arc::new(Shared::default());
    let publisher = Arc::clone(&shared);
    let future = download
        .cancel_token(cancel.clone())
        .progress_interval(ENGINE_PROGRESS_INTERVAL)
        .on_progress(move |p| publisher.publish(*p))
        .into_future();
    let finisher = Arc::clone(&shared);
    runtime.spawn(async move { finisher.finish(future.await) });
    Ok(Transfer { shared, cancel })
}

/// A running download (`Client.start()`); `download()` and `download_async()` wait on it.
///
/// Dropping the last reference cancels the download (its checkpoint is saved as on any
/// cancellation): a download nobody waits for is not left running.
#[pyclass(module = "oss_resume._native", name = "Transfer", frozen)]
pub(crate) struct Transfer {
    shared: Arc<Shared>,
    cancel: CancellationToken,
}

impl Drop for Transfer {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

#[pymethods]
impl Transfer {
    /// Waits for the end without holding the GIL, calling `progress(Progress)` at most
    /// every `progress_interval` seconds on this thread, and returns the report.
    ///
    /// On KeyboardInterrupt (main thread), or an exception raised by `progress`, the download
    /// is cancelled, its checkpoint saved, and that exception propagates.
    #[pyo3(signature = (progress = None, progress_interval = 0.1))]
    fn wait(
        &self,
        py: Python<'_>,
        progress: Option<Bound<'_, PyAny>>,
        progress_interval: f64,
    ) -> PyResult<PyReport> {
        let interval = wait::seconds("progress_interval", progress_interval)?;
        wait::blocking(py, &self.shared, &self.cancel, progress.as_ref(), interval)
    }

    /// Asks the download to stop: in-flight writes drain, the checkpoint is saved, and the
    /// result becomes `Cancelled` (unless the download ended first).
    fn cancel(&self) {
        self.cancel.cancel();
    }

    /// Whether the download has ended.
    fn done(&self) -> bool {
        self.shared.is_done()
    }

    /// Waits up to `timeout` seconds (without the GIL) for the end; whether it has ended.
    fn join(&self, py: Python<'_>, timeout: f64) -> PyResult<bool> {
        let timeout = wait::seconds("timeout", timeout)?;
        let shared = &self.shared;
        Ok(py.detach(|| shared.wait_done(timeout)))
    }

    /// The progress published since the last call, or `None`.
    fn poll_progress(&self) -> Option<PyProgress> {
        self.shared.take_new_progress().map(PyProgress::from)
    }

    /// The report of the ended download, or its exception. Once.
    fn result(&self, py: Python<'_>) -> PyResult<PyReport> {
        self.shared.take_result(py)
    }

    /// Calls `callback()` once the download has ended: from a runtime thread (holding the
    /// GIL only for the call), or at once on this thread when it already has. For event
    /// loops: `loop.call_soon_threadsafe` is the only thing it should do.
    fn add_done_callback(&self, callback: Py<PyAny>) {
        let now = {
            let mut s = self.shared.lock();
            if s.done {
                Some(callback)
            } else {
                s.on_done = Some(callback);
                None
            }
        };
        if let Some(callback) = now {
            call_done_callback(callback);
        }
    }
}

/// A cancellation switch one or more downloads can be given (`cancel=`): `cancel()` from
/// any thread stops them all; each then raises `Cancelled` with its checkpoint saved.
#[pyclass(module = "oss_resume._native", name = "CancelToken", frozen)]
pub(crate) struct PyCancelToken {
    pub(crate) token: CancellationToken,
}

#[pymethods]
impl PyCancelToken {
    #[new]
    fn new() -> Self {
        Self {
            token: CancellationToken::new(),
        }
    }

    /// Cancels every download given this token (now or later).
    fn cancel(&self) {
        self.token.cancel();
    }

    /// Whether `cancel()` was called.
    #[getter]
    fn cancelled(&self) -> bool {
        self.token.is_cancelled()
    }

    fn __repr__(&self) -> String {
        format!("CancelToken(cancelled={})", self.token.is_cancelled())
    }
}
