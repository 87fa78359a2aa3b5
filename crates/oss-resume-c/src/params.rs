//! `ossr_resumable_params`: the C SDK's `oss_resumable_clt_params_t`, made like
//! `oss_create_resumable_clt_params_content(pool, part_size, thread_num, enable_checkpoint,
//! checkpoint_path)`, with its defaults; plus the cancellation token.
//!
//! The values are kept as given and checked by the download, before any request (as the C
//! SDK does), so a bad one is reported in the download's result with the argument's name.

use std::ffi::{c_char, c_int};
use std::path::PathBuf;

use oss_resume::{CancellationToken, MAX_THREADS};

use crate::cancel::ossr_cancel_token;
use crate::ffi::{guard, optional_path_arg};
use crate::status::{Failure, ossr_status};

/// How a download runs. Made by `ossr_resumable_params_new`, freed by
/// `ossr_resumable_params_free`. A download reads it during the call only, so one params
/// may serve many downloads, also at once from many threads (but do not change it while
/// one runs).
pub struct ossr_resumable_params {
    /// Bytes per part as given (checked by the download: 1 ..= 5 GiB).
    part_size: i64,
    /// Concurrent parts as given (checked by the download: 1 ..= 1024).
    thread_num: i32,
    enable_checkpoint: bool,
    /// `None`: `{file}.cp`. The path read when the params were made, or why it could not be.
    checkpoint_path: Result<Option<PathBuf>, Failure>,
    cancel: Option<CancellationToken>,
}

/// The settings a download takes from its params (the C SDK's defaults for NULL params).
pub(crate) struct Settings {
    /// `None`: oss-resume's default (8 MiB, raised for objects of more than 10,000 parts).
    pub(crate) part_size: Option<u64>,
    pub(crate) threads: usize,
    pub(crate) checkpoint: bool,
    pub(crate) checkpoint_path: Option<PathBuf>,
    pub(crate) cancel: Option<CancellationToken>,
}

impl Settings {
    /// What NULL params mean: the C SDK's defaults (1 thread, checkpoint off) and
    /// oss-resume's default part size.
    pub(crate) fn defaults() -> Self {
        Self {
            part_size: None,
            threads: 1,
            checkpoint: false,
            checkpoint_path: None,
            cancel: None,
        }
    }
}

impl ossr_resumable_params {
    /// The settings, with the thread count checked here (so the message names
    /// `thread_num`, the C parameter) and the part size's sign (oss-resume checks its
    /// range and names it `part_size` too).
    pub(crate) fn settings(&self) -> Result<Settings, Failure> {
        let part_size = u64::try_from(self.part_size).map_err(|_| {
            Failure::invalid(
                "part_size",
                format!("it is {}; use 1 B ..= 5 GiB", self.part_size),
            )
        })?;
        let threads = usize::try_from(self.thread_num)
            .ok()
            .filter(|t| (1..=MAX_THREADS).contains(t))
            .ok_or_else(|| {
                Failure::invalid(
                    "thread_num",
                    format!(
                        "it is {}; use 1 ..= {MAX_THREADS} (1 is the C SDK's default)",
                        self.thread_num
                    ),
                )
            })?;
        Ok(Settings {
            part_size: Some(part_size),
            threads,
            checkpoint: self.enable_checkpoint,
            checkpoint_path: self.checkpoint_path.clone()?,
            cancel: self.cancel.clone(),
        })
    }
}

/// New params, as `oss_create_resumable_clt_params_content` makes them:
/// - `part_size`: bytes per ranged part, 1 B ..= 5 GiB (e.g. `100 * 1024`);
/// - `thread_num`: parts downloaded at once, 1 ..= 1024 (the C SDK's default is 1);
/// - `enable_checkpoint`: non-zero records progress in a checkpoint file, and the same call
///   after an interruption (crash, `kill -9`, cancellation, network failure) resumes from
///   it; the checkpoint is deleted when the download completes (default 0);
/// - `checkpoint_path`: where the checkpoint lives; NULL or `""` for `{file}.cp` beside the
///   downloaded file (copied: free yours after the call).
///
/// Passing NULL params to the download means 1 thread, checkpoint off, and the library's
/// default part size (8 MiB). Values are checked by the download, before any request: an
/// out-of-range one makes it return `OSSR_ERR_INVALID_ARGUMENT` naming it. Returns NULL
/// only if memory ran out.
///
/// # Safety
/// `checkpoint_path` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_resumable_params_new(
    part_size: i64,
    thread_num: i32,
    enable_checkpoint: c_int,
    checkpoint_path: *const c_char,
) -> *mut ossr_resumable_params {
    guard(std::ptr::null_mut, || {
        // SAFETY: NULL or NUL-terminated, valid for this call (contract).
        let checkpoint_path = unsafe { optional_path_arg(checkpoint_path, "checkpoint_path") };
        Box::into_raw(Box::new(ossr_resumable_params {
            part_size,
            thread_num,
            enable_checkpoint: enable_checkpoint != 0,
            checkpoint_path,
            cancel: None,
        }))
    })
}

/// Attaches a cancellation token to the params (NULL detaches it): every download started
/// with these params can then be stopped with `ossr_cancel_token_cancel`. The params keep
/// their own reference, so the token may be freed before them.
///
/// # Safety
/// `params` is NULL or live params not used by a running download; `token` is NULL or a
/// live token.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_resumable_params_set_cancel_token(
    params: *mut ossr_resumable_params,
    token: *const ossr_cancel_token,
) -> ossr_status {
    guard(
        || ossr_status::OSSR_ERR_INTERNAL,
        || {
            // SAFETY: NULL or live params no download is reading (contract).
            let Some(params) = (unsafe { params.as_mut() }) else {
                return ossr_status::OSSR_ERR_INVALID_ARGUMENT;
            };
            // SAFETY: NULL or a live token (contract).
            params.cancel = unsafe { token.as_ref() }.map(|t| t.token.clone());
            ossr_status::OSSR_OK
        },
    )
}

/// Frees params (NULL is ignored).
///
/// # Safety
/// `params` is NULL or was returned by `ossr_resumable_params_new` and not freed yet, and
/// no running download uses it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_resumable_params_free(params: *mut ossr_resumable_params) {
    guard(
        || (),
        || {
            if !params.is_null() {
                // SAFETY: made by Box::into_raw in ossr_resumable_params_new, not freed
                // yet, unused by any download (contract).
                drop(unsafe { Box::from_raw(params) });
            }
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(
        part_size: i64,
        thread_num: i32,
        path: &std::ffi::CStr,
    ) -> Result<Settings, Failure> {
        // SAFETY: a NUL-terminated literal; the params are freed right after use.
        unsafe {
            let p = ossr_resumable_params_new(part_size, thread_num, 1, path.as_ptr());
            let s = (*p).settings();
            ossr_resumable_params_free(p);
            s
        }
    }

    #[test]
    fn negative_numbers_are_named_and_an_empty_path_is_the_default() {
        let e = settings(-1, 3, c"").err().unwrap();
        assert!(e.message.contains("`part_size`: it is -1"), "{}", e.message);
        for bad in [-3, 0, 1025] {
            let e = settings(100, bad, c"").err().unwrap();
            let text = format!("`thread_num`: it is {bad}; use 1 ..= 1024");
            assert!(e.message.contains(&text), "{}", e.message);
        }
        let s = settings(102_400, 3, c"").unwrap();
        assert_eq!(
            (s.part_size, s.threads, s.checkpoint),
            (Some(102_400), 3, true)
        );
        assert_eq!(s.checkpoint_path, None);
        let s = settings(1, 1, c"/tmp/x.cp").unwrap();
        assert_eq!(s.checkpoint_path, Some(PathBuf::from("/tmp/x.cp")));
    }
}
