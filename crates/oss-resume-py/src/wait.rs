//! The blocking wait of `download()`: the transfer runs on the runtime's threads while the
//! calling thread sleeps in short slices *without the GIL*, and between slices (holding it)
//! checks for signals and calls the progress callback at its bounded rate.
//!
//! Stopping: a KeyboardInterrupt (seen by `check_signals`, on the main thread) or an
//! exception raised by the callback cancels the download, waits for it to drain its writes
//! and save its checkpoint, and then propagates — so the same call resumes. A second
//! KeyboardInterrupt during that wait returns at once: the checkpoint on disk is consistent
//! whenever it is read, and the runtime finishes the cancellation in the background.

use std::time::{Duration, Instant};

use oss_resume::CancellationToken;
use pyo3::prelude::*;

use crate::errors::invalid_argument;
use crate::report::{PyProgress, PyReport};
use crate::transfer::Shared;

/// The longest the waiting thread sleeps between two looks at signals: the delay between
/// Ctrl-C and the start of the cancellation.
const SLICE: Duration = Duration::from_millis(50);

/// The shortest: a `progress_interval` below it (0 included) means "as often as there is
/// news" (the engine publishes every 50 ms), never a busy loop.
const MIN_SLICE: Duration = Duration::from_millis(10);

/// Waits for `shared`'s download (see the module docs).
pub(crate) fn blocking(
    py: Python<'_>,
    shared: &Shared,
    cancel: &CancellationToken,
    progress: Option<&Bound<'_, PyAny>>,
    interval: Duration,
) -> PyResult<PyReport> {
    let mut next_call = Instant::now() + interval;
    loop {
        let now = Instant::now();
        let slice = match progress {
            Some(_) => SLICE
                .min(next_call.saturating_duration_since(now))
                .max(MIN_SLICE),
            None => SLICE,
        };
        if py.detach(|| shared.wait_done(slice)) {
            break;
        }
        let step = py.check_signals().and_then(|()| match progress {
            Some(callback) if Instant::now() >= next_call => {
                next_call = Instant::now() + interval;
                deliver(shared, callback)
            }
            _ => Ok(()),
        });
        if let Err(raised) = step {
            return Err(stop(py, shared, cancel, raised));
        }
    }
    // The engine's last report (bytes done = size on success) reaches the callback too.
    if let Some(callback) = progress {
        deliver(shared, callback)?;
    }
    shared.take_result(py)
}

/// Calls `callback(progress)` when there is progress it has not seen.
fn deliver(shared: &Shared, callback: &Bound<'_, PyAny>) -> PyResult<()> {
    match shared.take_new_progress() {
        Some(p) => callback.call1((PyProgress::from(p),)).map(drop),
        None => Ok(()),
    }
}

/// Cancels, waits for the checkpoint to be saved, and gives back the exception to raise.
fn stop(py: Python<'_>, shared: &Shared, cancel: &CancellationToken, raised: PyErr) -> PyErr {
    cancel.cancel();
    loop {
        if py.detach(|| shared.wait_done(SLICE)) {
            return raised;
        }
        if let Err(again) = py.check_signals() {
            // As Python links an exception raised while another was being handled.
            let _ = again.value(py).setattr("__context__", raised.value(py));
            return again;
        }
    }
}

/// A time argument in seconds (`progress_interval`, a timeout), checked.
pub(crate) fn seconds(argument: &str, seconds: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(seconds).map_err(|_| {
        invalid_argument(
            argument,
            &format!("{seconds} is not a number of seconds >= 0; use e.g. 0.1"),
        )
    })
}
