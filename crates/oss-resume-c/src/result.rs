//! `ossr_result`: what the C SDK splits between `aos_status_t` (HTTP status, OSS error code,
//! message, request id) and `resp_headers` (the object's response headers), plus what the
//! download did (bytes, resumed bytes), in one object the caller owns and reuses.

use std::ffi::{CStr, CString, c_char, c_int};

use oss_resume::Report;

use crate::ffi::{guard, str_arg};
use crate::status::{Failure, ossr_status};

/// The outcome of the last call it was passed to. Made by `ossr_result_new`, freed by
/// `ossr_result_free`; each call that takes one resets it first. Every string it returns
/// is owned by the result: valid until the result is passed to another call or freed, and
/// never NULL for a non-NULL result (`""` when there is nothing to say). Use one result per
/// thread: a result must not be passed to two calls running at once.
pub struct ossr_result {
    status: ossr_status,
    http_status: u16,
    error_code: CString,
    message: CString,
    request_id: CString,
    retryable: bool,
    /// The object's response headers, names lowercase, in the order OSS sent them.
    headers: Vec<(CString, CString)>,
    bytes_total: u64,
    bytes_transferred: u64,
    bytes_resumed: u64,
}

impl ossr_result {
    fn new() -> Self {
        Self {
            status: ossr_status::OSSR_OK,
            http_status: 0,
            error_code: CString::default(),
            message: CString::default(),
            request_id: CString::default(),
            retryable: false,
            headers: Vec::new(),
            bytes_total: 0,
            bytes_transferred: 0,
            bytes_resumed: 0,
        }
    }
}

/// How a call ended, as [`report`] writes it into a result.
pub(crate) enum Outcome<'a> {
    /// Success; a download's report when the call was a download.
    Done(Option<&'a Report>),
    /// Failure.
    Failed(Failure),
}

/// Writes `outcome` into `result` (nothing when the caller passed no result), replacing
/// everything an earlier call left there.
pub(crate) fn report(result: Option<&mut ossr_result>, outcome: Outcome<'_>) {
    let Some(result) = result else {
        return;
    };
    *result = ossr_result::new();
    match outcome {
        Outcome::Done(report) => {
            if let Some(r) = report {
                // OSS answered the download's HEAD with 200 (the C SDK's status code).
                result.http_status = 200;
                result.headers = object_headers(&r.object);
                result.request_id = c_text(r.object.request_id.as_deref().unwrap_or_default());
                result.bytes_total = r.bytes_total;
                result.bytes_transferred = r.bytes_transferred;
                result.bytes_resumed = r.bytes_resumed;
            }
        }
        Outcome::Failed(f) => {
            result.status = f.status;
            result.http_status = f.http_status;
            result.error_code = c_text(&f.error_code);
            result.message = c_text(&f.message);
            result.request_id = c_text(&f.request_id);
            result.retryable = f.retryable;
        }
    }
}

/// The object's response headers as HEAD gave them (the C SDK's `resp_headers`): the ones
/// oss-http reads into typed fields written back as text, then every other one.
fn object_headers(meta: &oss_resume::ObjectMeta) -> Vec<(CString, CString)> {
    let mut headers = vec![
        ("content-length".to_owned(), meta.size.to_string()),
        ("etag".to_owned(), meta.etag.clone()),
    ];
    let mut typed = |name: &str, value: Option<String>| {
        if let Some(v) = value {
            headers.push((name.to_owned(), v));
        }
    };
    typed(
        "last-modified",
        meta.last_modified.map(httpdate::fmt_http_date),
    );
    typed("x-oss-hash-crc64ecma", meta.crc64.map(|c| c.to_string()));
    typed(
        "x-oss-object-type",
        meta.object_type.as_ref().map(|t| t.as_str().to_owned()),
    );
    typed(
        "x-oss-storage-class",
        meta.storage_class.as_ref().map(|c| c.as_str().to_owned()),
    );
    typed("x-oss-version-id", meta.version_id.clone());
    typed("x-oss-request-id", meta.request_id.clone());
    for (name, value) in &meta.other_headers {
        headers.push((
            name.as_str().to_owned(),
            String::from_utf8_lossy(value.as_bytes()).into_owned(),
        ));
    }
    headers
        .into_iter()
        .map(|(n, v)| (c_text(&n), c_text(&v)))
        .collect()
}

/// `text` as a C string; a NUL inside (which no header or message should hold) becomes
/// U+FFFD rather than cutting the text short or failing.
fn c_text(text: &str) -> CString {
    CString::new(text.replace('\0', "\u{fffd}")).unwrap_or_default()
}

/// The empty string returned for a NULL result.
const EMPTY: &CStr = c"";

/// Reads the result behind `result`, or `fallback` for NULL (or a panic).
///
/// # Safety
/// `result` is NULL or a live result not being written by another thread.
unsafe fn read<T>(result: *const ossr_result, fallback: T, get: impl FnOnce(&ossr_result) -> T) -> T
where
    T: Copy,
{
    guard(
        || fallback,
        || {
            // SAFETY: NULL or a live result (contract).
            match unsafe { result.as_ref() } {
                Some(r) => get(r),
                None => fallback,
            }
        },
    )
}

/// A new, empty result (status `OSSR_OK`). Free it with `ossr_result_free`. Returns NULL
/// only if memory ran out.
#[unsafe(no_mangle)]
pub extern "C" fn ossr_result_new() -> *mut ossr_result {
    guard(std::ptr::null_mut, || {
        Box::into_raw(Box::new(ossr_result::new()))
    })
}

/// Frees a result (NULL is ignored) and every string it returned.
///
/// # Safety
/// `result` is NULL or was returned by `ossr_result_new` and not freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_result_free(result: *mut ossr_result) {
    guard(
        || (),
        || {
            if !result.is_null() {
                // SAFETY: made by Box::into_raw in ossr_result_new, not freed yet (contract).
                drop(unsafe { Box::from_raw(result) });
            }
        },
    );
}

/// The status of the last call (what it returned); `OSSR_ERR_INVALID_ARGUMENT` for NULL.
///
/// # Safety
/// `result` is NULL or a live result.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_result_status(result: *const ossr_result) -> ossr_status {
    // SAFETY: the same contract as this function's.
    unsafe { read(result, ossr_status::OSSR_ERR_INVALID_ARGUMENT, |r| r.status) }
}

/// 1 if the last call succeeded, else 0 (the C SDK's `aos_status_is_ok`); 0 for NULL.
///
/// # Safety
/// `result` is NULL or a live result.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_result_is_ok(result: *const ossr_result) -> c_int {
    // SAFETY: the same contract as this function's.
    unsafe { read(result, 0, |r| c_int::from(r.status == ossr_status::OSSR_OK)) }
}

/// The HTTP status OSS answered with (the C SDK's `aos_status_t.code`): 200 after a
/// download succeeded, 403, 404... for `OSSR_ERR_SERVICE`; 0 when no OSS answer is behind
/// the status (a bad argument, a network or disk failure) and for NULL.
///
/// # Safety
/// `result` is NULL or a live result.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_result_http_status(result: *const ossr_result) -> c_int {
    // SAFETY: the same contract as this function's.
    unsafe { read(result, 0, |r| c_int::from(r.http_status)) }
}

/// OSS's error code (the C SDK's `error_code`), e.g. `"SignatureDoesNotMatch"`,
/// `"NoSuchKey"`; `""` when OSS gave none. Owned by the result.
///
/// # Safety
/// `result` is NULL or a live result.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_result_error_code(result: *const ossr_result) -> *const c_char {
    // SAFETY: the same contract as this function's.
    unsafe { read(result, EMPTY.as_ptr(), |r| r.error_code.as_ptr()) }
}

/// What went wrong, in one line for a person: this library's description and every cause
/// after it (OSS's own message included), naming the argument or file at fault and the
/// fix. `""` after a success. Never contains a secret. Owned by the result.
///
/// # Safety
/// `result` is NULL or a live result.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_result_message(result: *const ossr_result) -> *const c_char {
    // SAFETY: the same contract as this function's.
    unsafe { read(result, EMPTY.as_ptr(), |r| r.message.as_ptr()) }
}

/// The `x-oss-request-id` of the answer behind the status (the C SDK's `req_id`; quote it
/// to Alibaba Cloud support); after a success, the HEAD's. `""` when there was none.
/// Owned by the result.
///
/// # Safety
/// `result` is NULL or a live result.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_result_request_id(result: *const ossr_result) -> *const c_char {
    // SAFETY: the same contract as this function's.
    unsafe { read(result, EMPTY.as_ptr(), |r| r.request_id.as_ptr()) }
}

/// 1 if calling again unchanged may succeed (a transient failure whose retries ran out, a
/// cancellation, a lock held by a run that may finish, a changed object whose partial data
/// was discarded), else 0.
///
/// # Safety
/// `result` is NULL or a live result.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_result_is_retryable(result: *const ossr_result) -> c_int {
    // SAFETY: the same contract as this function's.
    unsafe { read(result, 0, |r| c_int::from(r.retryable)) }
}

/// After a download succeeded: the object's size in bytes; else 0.
///
/// # Safety
/// `result` is NULL or a live result.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_result_bytes_total(result: *const ossr_result) -> u64 {
    // SAFETY: the same contract as this function's.
    unsafe { read(result, 0, |r| r.bytes_total) }
}

/// After a download succeeded: the body bytes this call received and wrote; else 0.
///
/// # Safety
/// `result` is NULL or a live result.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_result_bytes_transferred(result: *const ossr_result) -> u64 {
    // SAFETY: the same contract as this function's.
    unsafe { read(result, 0, |r| r.bytes_transferred) }
}

/// After a download succeeded: the bytes an earlier, interrupted call had already saved
/// (resumed from its checkpoint, not fetched again); else 0.
///
/// # Safety
/// `result` is NULL or a live result.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_result_bytes_resumed(result: *const ossr_result) -> u64 {
    // SAFETY: the same contract as this function's.
    unsafe { read(result, 0, |r| r.bytes_resumed) }
}

/// How many response headers of the object the result holds (the C SDK's `resp_headers`):
/// after a download succeeded, every header of OSS's answer to its HEAD; else 0.
///
/// # Safety
/// `result` is NULL or a live result.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_result_header_count(result: *const ossr_result) -> usize {
    // SAFETY: the same contract as this function's.
    unsafe { read(result, 0, |r| r.headers.len()) }
}

/// One part (name or value) of response header `index`, or NULL out of range.
///
/// # Safety
/// `result` is NULL or a live result.
unsafe fn header_part(
    result: *const ossr_result,
    index: usize,
    part: fn(&(CString, CString)) -> &CString,
) -> *const c_char {
    // SAFETY: the same contract as this function's.
    unsafe {
        read(result, std::ptr::null(), |r| {
            r.headers
                .get(index)
                .map_or(std::ptr::null(), |h| part(h).as_ptr())
        })
    }
}

/// The name (lowercase) of response header `index` (0 ..< `ossr_result_header_count`), or
/// NULL when `index` is out of range. Owned by the result.
///
/// # Safety
/// `result` is NULL or a live result.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_result_header_name(
    result: *const ossr_result,
    index: usize,
) -> *const c_char {
    // SAFETY: the same contract as this function's.
    unsafe { header_part(result, index, |(name, _)| name) }
}

/// The value of response header `index`, or NULL when `index` is out of range. Owned by
/// the result.
///
/// # Safety
/// `result` is NULL or a live result.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_result_header_value(
    result: *const ossr_result,
    index: usize,
) -> *const c_char {
    // SAFETY: the same contract as this function's.
    unsafe { header_part(result, index, |(_, value)| value) }
}

/// The value of the first response header called `name` (any case, like the C SDK's
/// `apr_table_get(resp_headers, "Content-Length")`), or NULL when there is none or `name`
/// is NULL. Owned by the result.
///
/// # Safety
/// `result` is NULL or a live result; `name` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_result_header_get(
    result: *const ossr_result,
    name: *const c_char,
) -> *const c_char {
    guard(std::ptr::null, || {
        // SAFETY: NULL or a live result (contract).
        let Some(r) = (unsafe { result.as_ref() }) else {
            return std::ptr::null();
        };
        // SAFETY: NULL or NUL-terminated (contract).
        let Ok(name) = (unsafe { str_arg(name, "name") }) else {
            return std::ptr::null();
        };
        r.headers
            .iter()
            .find(|(n, _)| n.to_bytes().eq_ignore_ascii_case(name.as_bytes()))
            .map_or(std::ptr::null(), |(_, v)| v.as_ptr())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(p: *const c_char) -> String {
        assert!(!p.is_null());
        // SAFETY: the accessors return NUL-terminated strings owned by a live result.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }

    #[test]
    fn a_failure_fills_the_status_fields_and_a_success_clears_them() {
        let mut r = ossr_result::new();
        let mut f = Failure::invalid("part_size", "it is 0");
        f.error_code = "Code\0WithNul".into();
        report(Some(&mut r), Outcome::Failed(f));
        let p: *const ossr_result = &r;
        // SAFETY: `p` points at a live result this thread owns.
        unsafe {
            assert_eq!(
                ossr_result_status(p),
                ossr_status::OSSR_ERR_INVALID_ARGUMENT
            );
            assert_eq!(ossr_result_is_ok(p), 0);
            assert_eq!(
                text(ossr_result_message(p)),
                "invalid argument `part_size`: it is 0"
            );
            assert_eq!(text(ossr_result_error_code(p)), "Code\u{fffd}WithNul");
            assert_eq!(text(ossr_result_request_id(p)), "");
            assert_eq!(ossr_result_header_count(p), 0);
            assert!(ossr_result_header_name(p, 0).is_null());
        }
        report(Some(&mut r), Outcome::Done(None));
        let p: *const ossr_result = &r;
        // SAFETY: as above.
        unsafe {
            assert_eq!(ossr_result_is_ok(p), 1);
            assert_eq!(text(ossr_result_message(p)), "");
        }
    }

    #[test]
    fn null_results_read_as_empty() {
        let p = std::ptr::null();
        // SAFETY: NULL is allowed everywhere.
        unsafe {
            assert_eq!(
                ossr_result_status(p),
                ossr_status::OSSR_ERR_INVALID_ARGUMENT
            );
            assert_eq!(ossr_result_http_status(p), 0);
            assert_eq!(text(ossr_result_message(p)), "");
            assert!(ossr_result_header_get(p, c"etag".as_ptr()).is_null());
            ossr_result_free(std::ptr::null_mut());
        }
    }
}
