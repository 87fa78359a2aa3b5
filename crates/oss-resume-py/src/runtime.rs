//! The one tokio runtime every transfer of the process runs on.
//!
//! Made on first use and kept for the life of the process (leaked on purpose: dropping a
//! runtime blocks until its tasks end, which must never happen inside the interpreter's
//! shutdown). Its worker threads are not Python threads: they hold no GIL while they move
//! bytes, which is what lets `download()` release the GIL for the whole transfer.
//!
//! A child made by `os.fork()` (multiprocessing's default start method on Linux) inherits
//! the runtime's memory but not its threads, so the first use in a new process makes a new
//! runtime instead of waiting forever on threads that do not exist there.

use std::sync::Mutex;

use tokio::runtime::Runtime;

/// The runtime of this process and the process id it was made in.
static RUNTIME: Mutex<Option<(u32, &'static Runtime)>> = Mutex::new(None);

/// The process's runtime, made on first use (in this process: see the module docs).
pub(crate) fn get() -> std::io::Result<&'static Runtime> {
    let pid = std::process::id();
    // A poisoned lock only means a thread panicked while holding it; the value is still
    // whole (an Option of a leaked reference).
    let mut slot = RUNTIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((made_in, runtime)) = *slot
        && made_in == pid
    {
        return Ok(runtime);
    }
    // One worker per core (a download's workers are tasks, not threads; its disk writes go to
    // the blocking pool), so a 4-thread download on 2 cores uses 2 runtime threads.
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name("oss-resume")
        .enable_all()
        .build()?;
    let runtime: &'static Runtime = Box::leak(Box::new(runtime));
    *slot = Some((pid, runtime));
    Ok(runtime)
}
