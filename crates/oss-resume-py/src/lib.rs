//! The Python binding of oss-resume: the extension module `oss_resume._native` of the
//! Python package `oss_resume` (built with maturin: see README.md).
//!
//! Thin on purpose: it turns Python arguments into oss-resume's builders, oss-resume's
//! errors into Python exceptions, and runs each download on a process-wide tokio runtime
//! while the calling thread waits without the GIL. It has no download logic of its own.
//!
//! - [`client`]: `Client(...)` and `Client.start(...)`, the arguments checked;
//! - [`credentials`]: the `credentials=` argument (static keys, the environment, a Python
//!   provider asked before every request);
//! - [`transfer`]: a running download, the progress and outcome it shares with Python;
//! - [`wait`]: the blocking wait (GIL released, Ctrl-C, the progress callback's rate);
//! - [`errors`]: the exception for each error;
//! - [`report`]: `Progress` and `Report`;
//! - [`runtime`]: the runtime.
//!
//! The Python layer (`python/oss_resume/`) adds `download()`, `download_async()`, the
//! exception classes and the oss2 drop-in.

mod client;
mod credentials;
mod errors;
mod report;
mod runtime;
mod transfer;
mod wait;

use pyo3::prelude::*;

/// The extension module.
#[pymodule]
#[pyo3(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<client::PyClient>()?;
    m.add_class::<credentials::PyCredentials>()?;
    m.add_class::<transfer::Transfer>()?;
    m.add_class::<transfer::PyCancelToken>()?;
    m.add_class::<report::PyProgress>()?;
    m.add_class::<report::PyReport>()?;
    Ok(())
}
