//! HEAD of the object, retried like a part: its ETag (and version id) pins every part GET.

use oss_http::{JitterRng, ObjectMeta, PartRetry, RequestHeaders, RetryDecision};
use tokio_util::sync::CancellationToken;

use crate::error::Error;

/// HEAD, retried on transient failures with the parts' policies (`retry` is fresh). With
/// the metadata, how long the HEAD took when its first attempt succeeded (`None` after a
/// retry: a server that refused it once says nothing of the path's round trip).
pub(crate) async fn head(
    http: &oss_http::Client,
    headers: &RequestHeaders,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    mut retry: PartRetry,
    cancel: &CancellationToken,
) -> Result<(ObjectMeta, Option<std::time::Duration>), Error> {
    let mut rng = JitterRng::from_entropy();
    let mut first = true;
    loop {
        let sent = tokio::time::Instant::now();
        let head = http.head_object_with(bucket, key, version_id, headers);
        let result = tokio::select! {
            biased;
            () = cancel.cancelled() => {
                return Err(Error::Cancelled {
                    checkpoint_saved: false,
                    object: None,
                });
            }
            r = head => r,
        };
        let error = match result {
            Ok(meta) => return Ok((meta, first.then(|| sent.elapsed()))),
            Err(e) => e,
        };
        first = false;
        match retry.on_failure(error.retry_reason(), &mut rng) {
            RetryDecision::Retry { delay, .. } => {
                tracing::debug!("HEAD: retrying in {delay:?} after: {error}");
                // The backoff (up to the policy's maximum, 20 s by default) must not hold
                // up a cancellation: Ctrl-C on an unreachable endpoint stops at once.
                tokio::select! {
                    biased;
                    () = cancel.cancelled() => {
                        return Err(Error::Cancelled {
                    checkpoint_saved: false,
                    object: None,
                });
                    }
                    () = tokio::time::sleep(delay) => {}
                }
            }
            RetryDecision::GiveUp { .. } => return Err(Error::Head { source: error }),
        }
    }
}
