//! Scripted service faults (model level, so both front-ends show them): errors, throttling,
//! delays, objects that change between requests, and wrong answers to range requests.

use std::time::Duration;

use http::Method;

use crate::object::ObjectSpec;

/// What a fault does when it fires.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum FaultAction {
    /// Answer with this OSS error instead of the object.
    Error {
        /// HTTP status.
        status: u16,
        /// OSS error code.
        code: String,
        /// OSS error message.
        message: String,
    },
    /// Wait this long before the response head (time to first byte).
    FirstByteDelay(Duration),
    /// Before serving the request, replace the object with a new version: `Some(spec)`, or
    /// `None` for same-size new content (a new ETag, new Last-Modified).
    ReplaceObject(Option<Box<ObjectSpec>>),
    /// Before serving the request, append this many synthetic bytes (Appendable objects).
    Append(u64),
    /// Before serving the request, delete the object (a delete marker in a versioned
    /// bucket), so the request itself gets `404 NoSuchKey`: an object listed a moment ago
    /// and gone when it is fetched.
    DeleteObject,
    /// Answer a range request with `200` and the whole body (meant for small objects).
    WholeBodyForRange,
    /// Answer a range request with a `206` for the range shifted by this many bytes (clamped
    /// to the object), with a truthful `Content-Range` that differs from the one asked.
    ShiftRange(i64),
    /// Serve the right status and headers but flip the byte at this offset of the body.
    CorruptByte(u64),
}

impl FaultAction {
    /// `500 InternalError`.
    pub fn internal_error() -> Self {
        Self::error(
            500,
            "InternalError",
            "We encountered an internal error. Please try again.",
        )
    }

    /// `503 DownloadTrafficRateLimitExceeded`.
    pub fn download_traffic_limit() -> Self {
        Self::error(
            503,
            "DownloadTrafficRateLimitExceeded",
            "Please reduce your download request traffic",
        )
    }

    /// `503 TotalQpsLimitExceeded`.
    pub fn total_qps_limit() -> Self {
        Self::error(
            503,
            "TotalQpsLimitExceeded",
            "Max total qps limit is exceeded",
        )
    }

    /// `503 ServiceUnavailable`.
    pub fn service_unavailable() -> Self {
        Self::error(
            503,
            "ServiceUnavailable",
            "Thread pool is almost full, please retry later",
        )
    }

    /// `429 QpsLimitExceeded`.
    pub fn qps_limit() -> Self {
        Self::error(429, "QpsLimitExceeded", "Please reduce your request rate.")
    }

    /// Any error.
    pub fn error(status: u16, code: &str, message: &str) -> Self {
        FaultAction::Error {
            status,
            code: code.to_owned(),
            message: message.to_owned(),
        }
    }

    /// The standard message for a code this crate knows (used by the command line).
    pub fn error_for_code(status: u16, code: &str) -> Self {
        let message = match code {
            "InternalError" => "We encountered an internal error. Please try again.",
            "DownloadTrafficRateLimitExceeded" => "Please reduce your download request traffic",
            "TotalQpsLimitExceeded" => "Max total qps limit is exceeded",
            "ServiceUnavailable" => "Thread pool is almost full, please retry later",
            "QpsLimitExceeded" => "Please reduce your request rate.",
            _ => "Injected fault.",
        };
        Self::error(status, code, message)
    }

    /// The name counted in `faults_fired`.
    pub fn name(&self) -> String {
        match self {
            FaultAction::Error { code, .. } => format!("error:{code}"),
            FaultAction::FirstByteDelay(_) => "first_byte_delay".into(),
            FaultAction::ReplaceObject(_) => "replace_object".into(),
            FaultAction::Append(_) => "append".into(),
            FaultAction::DeleteObject => "delete_object".into(),
            FaultAction::WholeBodyForRange => "whole_body_for_range".into(),
            FaultAction::ShiftRange(_) => "shift_range".into(),
            FaultAction::CorruptByte(_) => "corrupt_byte".into(),
        }
    }
}

/// A scripted fault: which object requests it applies to and when it fires.
///
/// Only object requests (GET/HEAD of a key) count, or, for a fault made
/// [`ServiceFault::listing`], only listing requests. Each fault counts the requests it
/// matches: it skips the first `after`, then fires on every `every`-th one (1 = each), with
/// probability `p` decided by `(seed, match number)` so a seeded schedule replays the same
/// way, at most `times` times.
///
/// ```
/// use oss_emulator::{FaultAction, ServiceFault};
/// // The 3rd and 6th GET of data.bin get a 503.
/// let fault = ServiceFault::new(FaultAction::service_unavailable())
///     .method(http::Method::GET)
///     .key("bkt", "data.bin")
///     .every(3);
/// # let _ = fault;
/// ```
#[derive(Clone, Debug)]
pub struct ServiceFault {
    pub(crate) action: FaultAction,
    pub(crate) method: Option<Method>,
    pub(crate) key: Option<(String, String)>,
    /// Listing requests of this bucket (any bucket when empty) instead of object requests.
    pub(crate) listing: Option<String>,
    pub(crate) ranged_only: bool,
    pub(crate) after: u64,
    pub(crate) every: u64,
    pub(crate) probability: Option<(f64, u64)>,
    pub(crate) times: Option<u64>,
}

impl ServiceFault {
    /// A fault that fires on every object request until restricted.
    pub fn new(action: FaultAction) -> Self {
        Self {
            action,
            method: None,
            key: None,
            listing: None,
            ranged_only: false,
            after: 0,
            every: 1,
            probability: None,
            times: None,
        }
    }

    /// Only requests with this method.
    pub fn method(mut self, method: Method) -> Self {
        self.method = Some(method);
        self
    }

    /// Only requests for this object.
    pub fn key(mut self, bucket: &str, key: &str) -> Self {
        self.key = Some((bucket.to_owned(), key.to_owned()));
        self
    }

    /// Listing requests (ListObjects, ListObjectsV2) of `bucket` (any bucket when empty)
    /// instead of object requests: for errors and delays a lister must ride out. Actions
    /// that change an object do nothing on a listing.
    pub fn listing(mut self, bucket: &str) -> Self {
        self.listing = Some(bucket.to_owned());
        self
    }

    /// Only requests carrying a `Range` header.
    pub fn ranged_only(mut self) -> Self {
        self.ranged_only = true;
        self
    }

    /// Skip the first `n` matching requests.
    pub fn after(mut self, n: u64) -> Self {
        self.after = n;
        self
    }

    /// Fire on every `n`-th matching request after the skipped ones (n >= 1).
    pub fn every(mut self, n: u64) -> Self {
        self.every = n.max(1);
        self
    }

    /// Fire with probability `p` (0..=1), decided by `seed` and the match number.
    pub fn probability(mut self, p: f64, seed: u64) -> Self {
        self.probability = Some((p, seed));
        self
    }

    /// Fire at most `n` times.
    pub fn times(mut self, n: u64) -> Self {
        self.times = Some(n);
        self
    }

    /// Fire exactly once, on the `n`-th matching request (1-based).
    pub fn on_request(self, n: u64) -> Self {
        self.after(n.saturating_sub(1)).times(1)
    }
}

/// Identifies an installed fault (to remove it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FaultId(pub(crate) u64);

/// An installed fault and its progress.
#[derive(Debug)]
pub(crate) struct FaultEntry {
    pub(crate) id: FaultId,
    pub(crate) fault: ServiceFault,
    pub(crate) seen: u64,
    pub(crate) fired: u64,
}

impl FaultEntry {
    /// Counts a request and says whether the fault fires on it.
    /// `key` is `None` for a listing request.
    pub(crate) fn check(
        &mut self,
        method: &Method,
        bucket: &str,
        key: Option<&str>,
        ranged: bool,
    ) -> bool {
        let f = &self.fault;
        let scope_ok = match (&f.listing, key) {
            (Some(b), None) => b.is_empty() || b == bucket,
            (None, Some(key)) => f.key.as_ref().is_none_or(|(b, k)| b == bucket && k == key),
            _ => false,
        };
        if !scope_ok || f.method.as_ref().is_some_and(|m| m != method) || (f.ranged_only && !ranged)
        {
            return false;
        }
        self.seen += 1;
        if self.seen <= f.after || !(self.seen - f.after).is_multiple_of(f.every) {
            return false;
        }
        if f.times.is_some_and(|t| self.fired >= t) {
            return false;
        }
        if let Some((p, seed)) = f.probability
            && !chance(seed, self.seen, p)
        {
            return false;
        }
        self.fired += 1;
        true
    }
}

/// A deterministic coin: true with probability `p` for this `(seed, n)`.
pub(crate) fn chance(seed: u64, n: u64, p: f64) -> bool {
    let x = crate::content::synthetic_word(seed, n);
    // 53 random bits -> [0, 1)
    ((x >> 11) as f64 / (1u64 << 53) as f64) < p
}
