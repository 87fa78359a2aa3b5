//! `ossr_cancel_token`: stops downloads from another thread, saving their checkpoint.

use std::ffi::c_int;

use oss_resume::CancellationToken;

use crate::ffi::guard;

/// A cancellation token. Made by `ossr_cancel_token_new`, attached to downloads with
/// `ossr_resumable_params_set_cancel_token`, triggered by `ossr_cancel_token_cancel` from
/// any thread, freed by `ossr_cancel_token_free`. Once cancelled it stays cancelled: a
/// download started with it later returns `OSSR_ERR_CANCELLED` at once, so make a new
/// token for the next attempt.
pub struct ossr_cancel_token {
    pub(crate) token: CancellationToken,
}

/// A new token, not cancelled. Free it with `ossr_cancel_token_free`. Returns NULL only if
/// memory ran out.
#[unsafe(no_mangle)]
pub extern "C" fn ossr_cancel_token_new() -> *mut ossr_cancel_token {
    guard(std::ptr::null_mut, || {
        Box::into_raw(Box::new(ossr_cancel_token {
            token: CancellationToken::new(),
        }))
    })
}

/// Cancels every download the token is attached to (NULL is ignored). Safe to call from
/// any thread, at any time, any number of times; returns at once. Each such download stops
/// its requests, lets its in-flight disk writes finish, saves its checkpoint (when it has
/// one on) and returns `OSSR_ERR_CANCELLED`; the same call later resumes from there.
///
/// # Safety
/// `token` is NULL or a live token.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_cancel_token_cancel(token: *const ossr_cancel_token) {
    guard(
        || (),
        || {
            // SAFETY: NULL or a live token (contract); CancellationToken is thread-safe.
            if let Some(t) = unsafe { token.as_ref() } {
                t.token.cancel();
            }
        },
    );
}

/// 1 if the token was cancelled, else 0 (also for NULL).
///
/// # Safety
/// `token` is NULL or a live token.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_cancel_token_is_cancelled(token: *const ossr_cancel_token) -> c_int {
    guard(
        || 0,
        || {
            // SAFETY: NULL or a live token (contract).
            unsafe { token.as_ref() }.map_or(0, |t| c_int::from(t.token.is_cancelled()))
        },
    )
}

/// Frees the token (NULL is ignored). Params it was attached to keep their own reference,
/// so this is safe while downloads using it run — but they can then no longer be
/// cancelled through it.
///
/// # Safety
/// `token` is NULL or was returned by `ossr_cancel_token_new` and not freed yet; no other
/// thread is calling `ossr_cancel_token_cancel` on it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_cancel_token_free(token: *mut ossr_cancel_token) {
    guard(
        || (),
        || {
            if !token.is_null() {
                // SAFETY: made by Box::into_raw in ossr_cancel_token_new, not freed yet
                // (contract).
                drop(unsafe { Box::from_raw(token) });
            }
        },
    );
}
