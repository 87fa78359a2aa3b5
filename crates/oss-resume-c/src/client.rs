//! `ossr_client`: one oss-resume client (one connection pool) and the one tokio runtime its
//! downloads run on. Thread-safe: any number of threads may download through one client at
//! once. Nothing global: two clients share nothing, and freeing one stops its threads.

use crate::config::ossr_config;
use crate::ffi::{guard, handle};
use crate::result::{Outcome, ossr_result, report};
use crate::status::{Failure, ossr_status};

/// The longest `ossr_client_free` waits for the runtime's threads to stop.
const SHUTDOWN_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// A client: the configuration it was made from, checked, plus a connection pool and the
/// threads that run its downloads. Made by `ossr_client_new`, freed by `ossr_client_free`.
/// Thread-safe: pass the same client to `ossr_resumable_download_file` from any number of
/// threads at once.
pub struct ossr_client {
    pub(crate) client: oss_resume::Client,
    pub(crate) runtime: tokio::runtime::Runtime,
}

impl ossr_client {
    fn new(config: &ossr_config) -> Result<Self, Failure> {
        let client = config.builder()?.build().map_err(|e| Failure::from(&e))?;
        // One multi-threaded runtime per client (a worker per core): downloads from many
        // threads share it, and a download's parts run on it while the caller's thread
        // waits. Named threads make a debugger's thread list readable.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .thread_name("ossr-runtime")
            .build()
            .map_err(|e| {
                Failure::local(
                    ossr_status::OSSR_ERR_INTERNAL,
                    format!("could not start the client's runtime: {e}"),
                )
            })?;
        Ok(Self { client, runtime })
    }
}

/// Makes a client from `config` (which is copied: free or reuse it afterwards). Checks the
/// settings: on a problem — no endpoint, no credentials, a setter that failed, an invalid
/// key or region — returns NULL, and `result` (if not NULL) says what to fix with
/// `OSSR_ERR_INVALID_ARGUMENT`. No request is made. On success `result` is reset to
/// `OSSR_OK`.
///
/// # Safety
/// `config` is NULL or a live config; `result` is NULL or a live result not in use by
/// another thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_client_new(
    config: *const ossr_config,
    result: *mut ossr_result,
) -> *mut ossr_client {
    let made = guard(
        || Err(Failure::panicked("ossr_client_new")),
        || {
            // SAFETY: NULL or a live config (contract).
            let config = unsafe { handle(config, "config") }?;
            ossr_client::new(config)
        },
    );
    // SAFETY: NULL or a live result used by this thread alone (contract).
    let result = unsafe { result.as_mut() };
    match made {
        Ok(client) => {
            report(result, Outcome::Done(None));
            Box::into_raw(Box::new(client))
        }
        Err(failure) => {
            report(result, Outcome::Failed(failure));
            std::ptr::null_mut()
        }
    }
}

/// Frees a client (NULL is ignored): stops its runtime's threads and closes its
/// connections. Call it only once no call using the client is running: a download still in
/// progress on another thread would use freed memory.
///
/// # Safety
/// `client` is NULL or was returned by `ossr_client_new` and not freed yet, and no other
/// call is using it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_client_free(client: *mut ossr_client) {
    guard(
        || (),
        || {
            if !client.is_null() {
                // SAFETY: made by Box::into_raw in ossr_client_new, not freed yet, and no
                // other call uses it (contract).
                let client = unsafe { Box::from_raw(client) };
                // Waits for the runtime's threads to stop, so none outlives the call (a
                // leak checker sees a clean exit); bounded, so a blocking task that never
                // ends (there is none once every download returned) cannot hang the caller.
                client.runtime.shutdown_timeout(SHUTDOWN_WAIT);
            }
        },
    );
}
