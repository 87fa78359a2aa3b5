//! A C library over [`oss_resume`]: the OSS C SDK's `oss_resumable_download_file` with the
//! same parameters and defaults, for programs written in C, C++ or anything with a C FFI.
//!
//! The C API is the header `include/oss_resume.h`, generated from this crate by cbindgen
//! (the doc comments below become its comments; `tests/header_current.rs` fails when the
//! checked-in header is stale and says how to regenerate it). In short:
//!
//! ```c
//! ossr_config *config = ossr_config_new();
//! ossr_config_set_endpoint(config, "https://oss-cn-hangzhou.aliyuncs.com");
//! ossr_config_set_region(config, "cn-hangzhou");
//! ossr_config_credentials_from_env(config);        /* OSS_ACCESS_KEY_ID / _SECRET */
//! ossr_result *result = ossr_result_new();
//! ossr_client *client = ossr_client_new(config, result);
//! ossr_resumable_params *params = ossr_resumable_params_new(100 * 1024, 3, 0, NULL);
//! if (ossr_resumable_download_file(client, "examplebucket", "dir/object.txt", "local.bin",
//!                                  NULL, 0, params, NULL, NULL, result) == OSSR_OK)
//!     printf("download succeeded\n");
//! ```
//!
//! # Rules every exported function keeps
//!
//! - Every pointer argument is checked for NULL; a NULL where a value is needed, a string
//!   that is not UTF-8, or an out-of-range number is `OSSR_ERR_INVALID_ARGUMENT` with a
//!   message naming the argument — never a crash.
//! - No panic crosses the boundary: each function runs under `catch_unwind` and turns a
//!   panic into `OSSR_ERR_INTERNAL`.
//! - No Rust type appears in the header: handles are opaque structs, everything else is
//!   C's own types.
//! - No global state: a client owns its runtime (one tokio runtime, one connection pool);
//!   there is nothing to initialise first and nothing left after `ossr_client_free`.
//!
//! The modules, one C type each: [`config`], [`client`], [`params`], [`cancel`],
//! [`result`] and [`download`] (the call itself); [`status`] holds the status codes and
//! [`ffi`] the argument-reading and panic-catching helpers they share.

pub mod cancel;
pub mod client;
pub mod config;
pub mod download;
mod ffi;
pub mod params;
pub mod result;
pub mod status;

pub use cancel::ossr_cancel_token;
pub use client::ossr_client;
pub use config::ossr_config;
pub use download::{ossr_header, ossr_progress_callback};
pub use params::ossr_resumable_params;
pub use result::ossr_result;
pub use status::ossr_status;

/// The library's version (`"0.1.0"`), a static NUL-terminated string (never free it).
#[unsafe(no_mangle)]
pub extern "C" fn ossr_version() -> *const std::ffi::c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}
