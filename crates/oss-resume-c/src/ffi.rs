//! What every exported function shares: catching panics at the boundary, and reading C
//! strings and paths into Rust with a clear error for NULL or invalid text.

use std::ffi::{CStr, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use crate::status::Failure;

/// Runs `body`; if it panics, returns `on_panic()` instead, so no panic unwinds into C
/// (undefined behaviour). `AssertUnwindSafe`: after a panic the caller only ever reports an
/// error; no state the panicking code may have left half-updated is read again except
/// through `on_panic`, which overwrites what it reports.
pub(crate) fn guard<R>(on_panic: impl FnOnce() -> R, body: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|_| on_panic())
}

/// The text of a required string argument `name`: not NULL, valid UTF-8.
///
/// # Safety
/// `ptr` is NULL or points to a NUL-terminated string that stays valid and unchanged for
/// `'a` (the caller's promise, stated in the header for every string argument).
pub(crate) unsafe fn str_arg<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, Failure> {
    if ptr.is_null() {
        return Err(Failure::invalid(
            name,
            "it is NULL; pass a NUL-terminated UTF-8 string",
        ));
    }
    // SAFETY: not NULL (checked above) and NUL-terminated and valid for 'a (the caller's
    // promise in this function's contract).
    let bytes = unsafe { CStr::from_ptr(ptr) };
    bytes.to_str().map_err(|e| {
        Failure::invalid(
            name,
            format!(
                "it is not valid UTF-8 (byte {} is wrong); pass UTF-8 text",
                e.valid_up_to()
            ),
        )
    })
}

/// A required file path argument `name`: not NULL, not empty. On Unix any bytes are a path
/// (as the kernel sees it); elsewhere it must be UTF-8.
///
/// # Safety
/// As [`str_arg`].
pub(crate) unsafe fn path_arg(ptr: *const c_char, name: &str) -> Result<PathBuf, Failure> {
    // SAFETY: the same contract as this function's.
    match unsafe { optional_path_arg(ptr, name) }? {
        Some(path) => Ok(path),
        None if ptr.is_null() => Err(Failure::invalid(
            name,
            "it is NULL; pass the local file's path",
        )),
        None => Err(Failure::invalid(
            name,
            "it is empty; pass the local file's path",
        )),
    }
}

/// An optional path argument: NULL or `""` is `None`.
///
/// # Safety
/// As [`str_arg`].
pub(crate) unsafe fn optional_path_arg(
    ptr: *const c_char,
    #[cfg_attr(unix, allow(unused_variables))] name: &str,
) -> Result<Option<PathBuf>, Failure> {
    if ptr.is_null() {
        return Ok(None);
    }
    // SAFETY: not NULL (checked above); NUL-terminated and valid (this function's contract).
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    if bytes.is_empty() {
        return Ok(None);
    }
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        Ok(Some(PathBuf::from(std::ffi::OsStr::from_bytes(bytes))))
    }
    #[cfg(not(unix))]
    {
        // SAFETY: as above.
        unsafe { str_arg(ptr, name) }.map(|s| Some(PathBuf::from(s)))
    }
}

/// `Some(&T)` for a non-NULL handle, or the invalid-argument failure naming it.
///
/// # Safety
/// `ptr` is NULL or a live handle of this type made by this library (not freed).
pub(crate) unsafe fn handle<'a, T>(ptr: *const T, name: &str) -> Result<&'a T, Failure> {
    // SAFETY: NULL or a live, properly aligned handle (this function's contract).
    unsafe { ptr.as_ref() }.ok_or_else(|| {
        Failure::invalid(
            name,
            "it is NULL; pass the handle its ossr_..._new function returned",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ptr` from a C string literal, or NULL.
    fn ptr(text: Option<&CStr>) -> *const c_char {
        text.map_or(std::ptr::null(), CStr::as_ptr)
    }

    fn string(text: Option<&CStr>, name: &str) -> Result<&'static str, Failure> {
        // SAFETY: NULL or a 'static NUL-terminated literal.
        unsafe { str_arg(ptr(text), name) }
    }

    fn path(text: Option<&CStr>, name: &str) -> Result<PathBuf, Failure> {
        // SAFETY: as above.
        unsafe { path_arg(ptr(text), name) }
    }

    fn optional_path(text: Option<&CStr>) -> Result<Option<PathBuf>, Failure> {
        // SAFETY: as above.
        unsafe { optional_path_arg(ptr(text), "p") }
    }

    #[test]
    fn strings_null_utf8_and_paths() {
        let e = string(None, "bucket").unwrap_err();
        assert!(
            e.message.contains("`bucket`") && e.message.contains("NULL"),
            "{e:?}"
        );
        let e = string(Some(c"a\xffb"), "object").unwrap_err();
        assert!(e.message.contains("not valid UTF-8 (byte 1"), "{e:?}");
        assert_eq!(string(Some(c"ok"), "x").unwrap(), "ok");

        assert_eq!(optional_path(Some(c"")).unwrap(), None);
        assert_eq!(optional_path(None).unwrap(), None);
        let e = path(Some(c""), "file").unwrap_err();
        assert!(e.message.contains("empty"), "{e:?}");
        let e = path(None, "file").unwrap_err();
        assert!(e.message.contains("NULL"), "{e:?}");
        assert_eq!(
            path(Some(c"d/f.bin"), "file").unwrap(),
            PathBuf::from("d/f.bin")
        );
    }

    #[test]
    fn guard_turns_a_panic_into_the_fallback() {
        let r = guard(|| 7, || -> i32 { panic!("boom") });
        assert_eq!(r, 7);
        assert_eq!(guard(|| 7, || 1), 1);
    }
}
