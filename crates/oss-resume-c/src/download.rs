//! `ossr_resumable_download_file`: the C SDK's `oss_resumable_download_file`, blocking, on
//! the client's runtime.

use std::ffi::{c_char, c_void};
use std::future::IntoFuture;

use oss_resume::{Progress, Report};

use crate::client::ossr_client;
use crate::ffi::{guard, handle, path_arg, str_arg};
use crate::params::{Settings, ossr_resumable_params};
use crate::result::{Outcome, ossr_result, report};
use crate::status::{Failure, ossr_status};

/// One request header for a download (the C SDK's `headers` table): both strings
/// NUL-terminated UTF-8, read during the call only.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct ossr_header {
    /// The header's name, e.g. `"x-oss-traffic-limit"`.
    pub name: *const c_char,
    /// Its value, e.g. `"819200"`.
    pub value: *const c_char,
}

/// Called with the download's progress (the C SDK's `oss_progress_callback`, plus the
/// `user_data` pointer given to the download): `consumed_bytes` is the bytes on disk
/// (resumed ones included), `total_bytes` the object's size. Called from a thread of the
/// library, not the caller's (one at a time for one download), at most every 100 ms and
/// once at the end; keep it quick, and make `user_data` safe to use from that thread.
pub type ossr_progress_callback =
    Option<unsafe extern "C" fn(consumed_bytes: i64, total_bytes: i64, user_data: *mut c_void)>;

/// Downloads `bucket`/`object` into the local file `file` (the C SDK's
/// `oss_resumable_download_file`) and returns when it is done, failed or was cancelled.
///
/// - `client`: from `ossr_client_new`; any number of threads may use one client at once.
/// - `bucket`, `object`: the object's bucket and key (UTF-8).
/// - `file`: the local path. The data goes to `{file}.oss-tmp` and is renamed onto `file`
///   only after every byte was checked (CRC-64 against OSS's when OSS gives one); `file`
///   is never left half-written. `{file}.lock` keeps a second download to the same file
///   out while this one runs.
/// - `headers`, `header_count`: extra request headers sent with the HEAD and every part GET
///   (e.g. `x-oss-traffic-limit`, `x-oss-request-payer`); NULL and 0 for none. Headers the
///   library sets itself (`Authorization`, `Range`, `If-Match`, `Date`...) are refused.
/// - `params`: from `ossr_resumable_params_new`, or NULL for the defaults (1 thread,
///   checkpoint off, 8 MiB parts).
/// - `progress_callback`, `user_data`: NULL, or called with the progress as documented at
///   `ossr_progress_callback`.
/// - `result`: NULL, or a result that receives the details: on success the object's
///   response headers and byte counts; on failure the HTTP status, OSS error code, request
///   id and a message naming the problem and the fix.
///
/// Failures are returned, never retried forever and never a crash: transient network and
/// server errors are first retried inside the part they hit; what remains is reported. With
/// the checkpoint on, calling again with the same arguments resumes.
///
/// # Safety
/// `client` is NULL or a live client; each string is NULL or NUL-terminated; `headers` is
/// NULL or points to `header_count` headers; `params` is NULL or live params; `result` is
/// NULL or a live result used by no other call at the same time. All of them only need to
/// stay valid until the call returns.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_resumable_download_file(
    client: *const ossr_client,
    bucket: *const c_char,
    object: *const c_char,
    file: *const c_char,
    headers: *const ossr_header,
    header_count: usize,
    params: *const ossr_resumable_params,
    progress_callback: ossr_progress_callback,
    user_data: *mut c_void,
    result: *mut ossr_result,
) -> ossr_status {
    const NAME: &str = "ossr_resumable_download_file";
    let outcome = guard(
        || Err(Failure::panicked(NAME)),
        || {
            // SAFETY: the same contract as this function's.
            unsafe {
                download(
                    client,
                    bucket,
                    object,
                    file,
                    headers,
                    header_count,
                    params,
                    progress_callback,
                    user_data,
                )
            }
        },
    );
    let status = match &outcome {
        Ok(_) => ossr_status::OSSR_OK,
        Err(f) => f.status,
    };
    guard(
        || (),
        || {
            // SAFETY: NULL or a live result no other call uses now (contract).
            let result = unsafe { result.as_mut() };
            match outcome {
                Ok(r) => report(result, Outcome::Done(Some(&r))),
                Err(f) => report(result, Outcome::Failed(f)),
            }
        },
    );
    status
}

/// The download, from checked arguments to oss-resume's report.
///
/// # Safety
/// As [`ossr_resumable_download_file`].
#[allow(clippy::too_many_arguments)] // the C SDK's parameter list, one for one
unsafe fn download(
    client: *const ossr_client,
    bucket: *const c_char,
    object: *const c_char,
    file: *const c_char,
    headers: *const ossr_header,
    header_count: usize,
    params: *const ossr_resumable_params,
    progress_callback: ossr_progress_callback,
    user_data: *mut c_void,
) -> Result<Report, Failure> {
    // SAFETY: NULL or a live client (this function's contract).
    let client = unsafe { handle(client, "client") }?;
    // SAFETY: NULL or NUL-terminated, valid for this call (contract).
    let bucket = unsafe { str_arg(bucket, "bucket") }?;
    // SAFETY: as for `bucket`.
    let object = unsafe { str_arg(object, "object") }?;
    if object.is_empty() {
        return Err(Failure::invalid("object", "it is empty; name the object"));
    }
    // SAFETY: as for `bucket`.
    let file = unsafe { path_arg(file, "file") }?;
    // SAFETY: NULL or `header_count` headers of NULL or NUL-terminated strings (contract).
    let headers = unsafe { header_args(headers, header_count) }?;
    // SAFETY: NULL or live params no one changes during the call (contract).
    let settings = match unsafe { params.as_ref() } {
        Some(p) => p.settings()?,
        None => Settings::defaults(),
    };
    if tokio::runtime::Handle::try_current().is_ok() {
        return Err(Failure::invalid(
            "client",
            "ossr_resumable_download_file was called on a thread of a tokio runtime, where \
             blocking would stall it; call it from a thread of your own",
        ));
    }

    let mut download = client
        .client
        .download(bucket, object, file)
        .threads(settings.threads)
        .checkpoint(settings.checkpoint);
    if let Some(bytes) = settings.part_size {
        download = download.part_size(bytes);
    }
    if let Some(path) = settings.checkpoint_path {
        download = download.checkpoint_path(path);
    }
    if let Some(token) = settings.cancel {
        download = download.cancel_token(token);
    }
    for (name, value) in headers {
        download = download.header(name, value);
    }
    if let Some(callback) = progress_callback {
        let sink = ProgressSink {
            callback,
            user_data,
        };
        download = download.on_progress(move |p| sink.call(p));
    }
    // The download runs as a task on the client's runtime (its parts on the runtime's
    // workers); this thread only waits. A panic inside the task comes back as a JoinError.
    let task = client.runtime.spawn(download.into_future());
    match client.runtime.block_on(task) {
        Ok(Ok(report)) => Ok(report),
        Ok(Err(e)) => Err(Failure::from(&e)),
        Err(_) => Err(Failure::panicked("the download task")),
    }
}

/// The request headers, read and checked for NULL and UTF-8.
///
/// # Safety
/// `headers` is NULL or points to `count` headers whose strings are NULL or NUL-terminated.
unsafe fn header_args(
    headers: *const ossr_header,
    count: usize,
) -> Result<Vec<(String, String)>, Failure> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if headers.is_null() {
        return Err(Failure::invalid(
            "headers",
            format!(
                "it is NULL but header_count is {count}; pass an array of header_count \
                 headers, or NULL and 0"
            ),
        ));
    }
    if count > isize::MAX as usize / size_of::<ossr_header>() {
        return Err(Failure::invalid(
            "header_count",
            format!("{count} headers cannot be an array"),
        ));
    }
    // SAFETY: not NULL, and `count` headers long (contract); the size fits an isize
    // (checked above). Read only during this call.
    let headers = unsafe { std::slice::from_raw_parts(headers, count) };
    headers
        .iter()
        .enumerate()
        .map(|(i, h)| {
            // SAFETY: NULL or NUL-terminated strings (contract).
            let name = unsafe { str_arg(h.name, &format!("headers[{i}].name")) }?;
            // SAFETY: as above.
            let value = unsafe { str_arg(h.value, &format!("headers[{i}].value")) }?;
            Ok((name.to_owned(), value.to_owned()))
        })
        .collect()
}

/// The caller's progress callback and its `user_data`, moved to the thread that reports
/// progress.
struct ProgressSink {
    callback: unsafe extern "C" fn(i64, i64, *mut c_void),
    user_data: *mut c_void,
}

// SAFETY: the callback and `user_data` are the caller's; the header documents that the
// callback runs on a library thread with `user_data`, one call at a time for a download,
// and the caller promises that this is sound for what `user_data` points to.
unsafe impl Send for ProgressSink {}

impl ProgressSink {
    fn call(&self, p: &Progress) {
        let done = i64::try_from(p.bytes_done).unwrap_or(i64::MAX);
        let total = i64::try_from(p.bytes_total).unwrap_or(i64::MAX);
        // SAFETY: a function pointer the caller passed for exactly this call, with the
        // user data it passed with it (see the `Send` impl above).
        unsafe { (self.callback)(done, total, self.user_data) }
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::{CStr, CString};
    use std::sync::atomic::{AtomicI64, Ordering};

    use super::*;
    use crate::client::{ossr_client_free, ossr_client_new};
    use crate::config::*;
    use crate::params::{ossr_resumable_params_free, ossr_resumable_params_new};
    use crate::result::*;

    const SIZE: u64 = 1 << 20;
    const SEED: u64 = 5;

    /// An emulator serving `bkt/dir/obj.bin` on a runtime of its own (the client has its
    /// own), and the runtime that keeps it serving.
    fn emulator() -> (tokio::runtime::Runtime, String) {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let emu = oss_emulator::Emulator::new();
        emu.add_credentials(oss_emulator::Credentials::new("AKID", "SECRET"));
        emu.add_bucket(oss_emulator::BucketSpec::new("bkt"))
            .unwrap();
        emu.put_object(
            "bkt",
            "dir/obj.bin",
            oss_emulator::ObjectSpec::synthetic(SIZE, SEED),
        )
        .unwrap();
        let server = rt.block_on(emu.start_server()).unwrap();
        let endpoint = server.endpoint().to_owned();
        // The server runs until the runtime is dropped.
        std::mem::forget(server);
        (rt, endpoint)
    }

    fn client(endpoint: &str, secret: &CStr) -> *mut ossr_client {
        let endpoint = CString::new(endpoint).unwrap();
        // SAFETY: live handles and NUL-terminated strings; the config is freed once used.
        unsafe {
            let config = ossr_config_new();
            ossr_config_set_endpoint(config, endpoint.as_ptr());
            ossr_config_set_region(config, c"cn-hangzhou".as_ptr());
            ossr_config_set_access_key_id(config, c"AKID".as_ptr());
            ossr_config_set_access_key_secret(config, secret.as_ptr());
            let client = ossr_client_new(config, std::ptr::null_mut());
            ossr_config_free(config);
            assert!(!client.is_null());
            client
        }
    }

    /// Records the last `consumed` that did not exceed `total` (-2 if one did): a panic
    /// here would abort, so the test checks afterwards.
    unsafe extern "C" fn record(consumed: i64, total: i64, user_data: *mut c_void) {
        // SAFETY: the test passes a pointer to an AtomicI64 that outlives the download.
        let last = unsafe { &*user_data.cast::<AtomicI64>() };
        let value = if consumed <= total { consumed } else { -2 };
        last.store(value, Ordering::SeqCst);
    }

    fn text(p: *const c_char) -> String {
        // SAFETY: the result's accessors return NUL-terminated strings it owns.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }

    #[test]
    fn downloads_with_progress_and_headers_and_maps_a_wrong_secret() {
        let (_rt, endpoint) = emulator();
        let dir = tempfile::tempdir().unwrap();
        let file = CString::new(dir.path().join("out.bin").to_str().unwrap()).unwrap();
        let last = AtomicI64::new(-1);
        let good = client(&endpoint, c"SECRET");
        // SAFETY: live handles, NUL-terminated strings, a callback whose user data (`last`)
        // outlives the call; everything is freed once.
        unsafe {
            let params = ossr_resumable_params_new(64 * 1024, 3, 1, std::ptr::null());
            let result = ossr_result_new();
            let status = ossr_resumable_download_file(
                good,
                c"bkt".as_ptr(),
                c"dir/obj.bin".as_ptr(),
                file.as_ptr(),
                std::ptr::null(),
                0,
                params,
                Some(record),
                (&raw const last).cast_mut().cast(),
                result,
            );
            assert_eq!(
                status,
                ossr_status::OSSR_OK,
                "{}",
                text(ossr_result_message(result))
            );
            assert_eq!(last.load(Ordering::SeqCst), SIZE as i64);
            let got = std::fs::read(dir.path().join("out.bin")).unwrap();
            assert!(got == oss_emulator::synthetic_bytes(SEED, 0, SIZE as usize));
            assert_eq!(ossr_result_http_status(result), 200);
            let length = ossr_result_header_get(result, c"Content-Length".as_ptr());
            assert_eq!(text(length), SIZE.to_string());
            assert!(!ossr_result_header_get(result, c"ETag".as_ptr()).is_null());

            let bad = client(&endpoint, c"WRONG");
            let status = ossr_resumable_download_file(
                bad,
                c"bkt".as_ptr(),
                c"dir/obj.bin".as_ptr(),
                file.as_ptr(),
                std::ptr::null(),
                0,
                std::ptr::null(),
                None,
                std::ptr::null_mut(),
                result,
            );
            assert_eq!(status, ossr_status::OSSR_ERR_SERVICE);
            assert_eq!(ossr_result_http_status(result), 403);
            assert_eq!(
                text(ossr_result_error_code(result)),
                "SignatureDoesNotMatch"
            );
            assert!(!text(ossr_result_request_id(result)).is_empty());
            assert!(!text(ossr_result_message(result)).contains("WRONG"));
            assert_eq!(ossr_result_header_count(result), 0);

            ossr_client_free(bad);
            ossr_client_free(good);
            ossr_resumable_params_free(params);
            ossr_result_free(result);
        }
    }
}
