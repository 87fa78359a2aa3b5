//! oss-resume's errors as Python exceptions.
//!
//! The classes are defined in Python (`python/oss_resume/_errors.py`, so that
//! `LocalIOError` can also be an `OSError` and every class has a docstring); this module
//! picks the class for each [`Error`] variant a caller acts on and fills its attributes.
//! The message is the whole chain — this layer's text, then each cause's once — as ossget
//! prints it; an exception raised by a Python credentials provider becomes `__cause__`.

use std::error::Error as StdError;
use std::fmt::{self, Display};

use oss_resume::{Error, LocalOp, PartRef, oss_http};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The module that defines the exception classes.
const ERRORS_MODULE: &str = "oss_resume._errors";

/// `InvalidArgument` for a bad argument of the binding itself (checked before oss-resume).
pub(crate) fn invalid_argument(argument: &str, problem: &dyn Display) -> PyErr {
    Python::attach(|py| {
        let attrs = PyDict::new(py);
        let made = attrs
            .set_item("argument", argument)
            .and_then(|()| attrs.set_item("retryable", false))
            .and_then(|()| {
                exception(
                    py,
                    "InvalidArgument",
                    &format!("invalid argument `{argument}`: {problem}"),
                    &attrs,
                )
            });
        made.unwrap_or_else(|e| e)
    })
}

/// The exception for `error`.
pub(crate) fn to_py(py: Python<'_>, error: &Error) -> PyErr {
    if let Error::InvalidArgument { argument, problem } = error {
        return invalid_argument(python_name(argument), problem);
    }
    let made = describe(py, error).and_then(|(class, attrs)| {
        attrs.set_item("retryable", error.is_retryable())?;
        if !attrs.contains("request_id")? {
            attrs.set_item("request_id", error.request_id())?;
        }
        exception(py, class, &Chain(error).to_string(), &attrs)
    });
    let err = made.unwrap_or_else(|e| e);
    if let Some(raised) = python_cause(error) {
        err.set_cause(py, Some(raised.clone_ref(py)));
    }
    err
}

/// The class and the attributes of `error`'s exception.
fn describe<'py>(py: Python<'py>, error: &Error) -> PyResult<(&'static str, Bound<'py, PyDict>)> {
    let attrs = PyDict::new(py);
    let class = match error {
        Error::Client(oss_http::Error::Config { setting, .. }) => {
            attrs.set_item("argument", *setting)?;
            "InvalidArgument"
        }
        Error::Locked {
            destination,
            lock_path,
            pid,
        } => {
            attrs.set_item("destination", destination)?;
            attrs.set_item("lock_path", lock_path)?;
            attrs.set_item("pid", *pid)?;
            "Locked"
        }
        Error::Head { source } => remote(&attrs, source, None)?,
        Error::Part { part, source, .. } => remote(&attrs, source, Some(*part))?,
        Error::ObjectChanged { detail, part, .. } => {
            attrs.set_item("detail", detail)?;
            attrs.set_item("part", part.map(part_tuple))?;
            "ObjectChanged"
        }
        Error::ObjectArchived { code, .. } => {
            attrs.set_item("code", code)?;
            "ObjectArchived"
        }
        Error::CrcMismatch { expected, actual } => {
            attrs.set_item("expected", *expected)?;
            attrs.set_item("actual", *actual)?;
            "CrcMismatch"
        }
        Error::LocalIo {
            op,
            path,
            part,
            source,
        } => {
            attrs.set_item("op", op_name(*op))?;
            attrs.set_item("filename", path)?;
            attrs.set_item("errno", source.raw_os_error())?;
            attrs.set_item("part", part.map(part_tuple))?;
            "LocalIOError"
        }
        Error::InsufficientSpace {
            path,
            needed,
            available,
        } => {
            attrs.set_item("op", "free_space")?;
            attrs.set_item("filename", path)?;
            attrs.set_item("errno", ENOSPC)?;
            attrs.set_item("needed", *needed)?;
            attrs.set_item("available", *available)?;
            "InsufficientSpace"
        }
        Error::SyncFailed { path, source } => {
            attrs.set_item("op", "sync")?;
            attrs.set_item("filename", path)?;
            attrs.set_item("errno", source.raw_os_error())?;
            "LocalIOError"
        }
        Error::Checkpoint { path, .. } => {
            attrs.set_item("path", path)?;
            "CheckpointError"
        }
        Error::ForeignFile { path, found } => {
            attrs.set_item("path", path)?;
            attrs.set_item("found", found)?;
            "ForeignFile"
        }
        Error::Cancelled {
            checkpoint_saved, ..
        } => {
            attrs.set_item("checkpoint_saved", *checkpoint_saved)?;
            "Cancelled"
        }
        _ => "Error",
    };
    Ok((class, attrs))
}

/// The Python keyword for an oss-resume builder setting named in `InvalidArgument`.
fn python_name(argument: &str) -> &str {
    match argument {
        "destination" => "filename",
        "header" => "headers",
        "retry_policy" => "retries",
        other => other,
    }
}

/// `ENOSPC` (the same number on Linux and macOS), for `InsufficientSpace.errno`.
const ENOSPC: i32 = 28;

/// A failed HEAD or part GET: OSS's answer (`ServiceError`), credentials that could not be
/// had (`CredentialsError`), or the transport (`TransportError`).
fn remote(
    attrs: &Bound<'_, PyDict>,
    source: &oss_http::Error,
    part: Option<PartRef>,
) -> PyResult<&'static str> {
    attrs.set_item("part", part.map(part_tuple))?;
    if let Some(service) = source.service() {
        attrs.set_item("code", &service.code)?;
        attrs.set_item("message", &service.message)?;
        attrs.set_item("status", service.status.as_u16())?;
        attrs.set_item("request_id", service.request_id.as_deref())?;
        attrs.set_item("ec", service.ec.as_deref())?;
        attrs.set_item("operation", &service.operation)?;
        attrs.set_item("advice", service.advice())?;
        return Ok("ServiceError");
    }
    if let oss_http::Error::Signing { .. } = source {
        return Ok("CredentialsError");
    }
    Ok("TransportError")
}

/// `(index, first_byte, last_byte)`.
fn part_tuple(part: PartRef) -> (u64, u64, u64) {
    (part.index, part.first, part.last)
}

/// `LocalIOError.op`: which local step failed, as a stable word.
fn op_name(op: LocalOp) -> &'static str {
    match op {
        LocalOp::Lock => "lock",
        LocalOp::CreateTemp => "create_temp",
        LocalOp::Preallocate => "preallocate",
        LocalOp::FreeSpace => "free_space",
        LocalOp::Write => "write",
        LocalOp::Read => "read",
        LocalOp::Rename => "rename",
        LocalOp::SyncDirectory => "sync_directory",
        LocalOp::Remove => "remove",
        LocalOp::Checkpoint => "checkpoint",
        _ => "other",
    }
}

/// An instance of `oss_resume._errors.<class>(message, **attrs)`, as a `PyErr`.
fn exception(
    py: Python<'_>,
    class: &str,
    message: &str,
    attrs: &Bound<'_, PyDict>,
) -> PyResult<PyErr> {
    let class = py.import(ERRORS_MODULE)?.getattr(class)?;
    let value = class.call((message,), Some(attrs))?;
    Ok(PyErr::from_value(value))
}

/// The exception a Python credentials provider raised, when one is in `error`'s chain.
fn python_cause(error: &Error) -> Option<&PyErr> {
    let mut next: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(e) = next {
        if let Some(raised) = e.downcast_ref::<PyErr>() {
            return Some(raised);
        }
        next = e.source();
    }
    None
}

/// An error and every error in its source chain, each once, separated by `: ` (each
/// layer's message describes that layer only, so nothing repeats).
struct Chain<'a>(&'a Error);

impl Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(e) = cause {
            // A Python exception is shown as `__cause__` instead: Python prints it there.
            if e.downcast_ref::<PyErr>().is_none() {
                write!(f, ": {e}")?;
            }
            cause = e.source();
        }
        Ok(())
    }
}

/// A `RuntimeError` for misuse of a transfer handle (not a download failure).
pub(crate) fn state_error(problem: &str) -> PyErr {
    PyRuntimeError::new_err(problem.to_owned())
}
