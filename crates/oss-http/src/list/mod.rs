//! Listing a bucket: ListObjectsV2 (and ListObjects v1, for buckets or gateways without V2)
//! as a sequence of pages.
//!
//! [`Client::list_objects`](crate::Client::list_objects) takes a [`ListRequest`] and gives a
//! [`Lister`], whose [`Lister::next_page`] fetches one [`ListPage`] at a time — the caller
//! decides how far ahead of its work the listing runs, and a million keys never sit in
//! memory at once. Every request asks for `encoding-type=url`, so any key (control
//! characters included) travels as valid XML, and every key, prefix, marker and token in a
//! page is decoded. What OSS sends, field by field, is in `docs/oss-behaviour.md#listing`.

mod lister;
mod page;
mod parse;

pub use lister::Lister;
pub use page::{ListPage, ListedObject, ListingProblem, RestoreStatus};

use crate::error::Error;
use crate::headers::RequestHeaders;
use crate::retry::{RetryPolicy, ThrottlePolicy};

/// The most keys one page can hold: OSS's `max-keys` cap, and the default here (the server's
/// own default, 100, costs ten times the round trips).
pub const MAX_KEYS: u16 = 1000;

/// Default for [`ListRequest::max_page_bytes`]: 8 MiB. The largest page OSS can send — 1000
/// keys of 1023 bytes, every byte percent-encoded — is under 3.5 MiB.
pub const DEFAULT_MAX_PAGE_BYTES: usize = 8 << 20;

/// The longest prefix, delimiter or start-after OSS takes: 1023 bytes.
const MAX_PARAM_BYTES: usize = 1023;

/// Which listing call to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ListVersion {
    /// `GET /?list-type=2` (ListObjectsV2, GetBucketV2): continuation tokens. The default.
    #[default]
    V2,
    /// `GET /` (ListObjects, GetBucket): markers. For buckets or gateways without V2.
    V1,
}

/// What to list and how: the parameters of the listing requests, and the retry and size
/// rules every page request follows.
///
/// ```
/// use oss_http::{ListRequest, ListVersion};
///
/// // One "directory" level of `dataset/`, 500 entries per page.
/// let v2 = ListRequest::new().prefix("dataset/").delimiter("/").max_keys(500);
/// // Everything after `dataset/b`, with ListObjects (v1) markers.
/// let v1 = ListRequest::new().prefix("dataset/").start_after("dataset/b").version(ListVersion::V1);
/// # let _ = (v2, v1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequest {
    version: ListVersion,
    prefix: String,
    delimiter: String,
    start_after: String,
    continuation_token: Option<String>,
    max_keys: u16,
    headers: RequestHeaders,
    retry: RetryPolicy,
    throttle: ThrottlePolicy,
    max_page_bytes: usize,
}

impl Default for ListRequest {
    fn default() -> Self {
        Self::new()
    }
}

impl ListRequest {
    /// Every key of the bucket with ListObjectsV2, 1000 per page, retried under the default
    /// [`RetryPolicy`] and [`ThrottlePolicy`].
    pub fn new() -> Self {
        Self {
            version: ListVersion::V2,
            prefix: String::new(),
            delimiter: String::new(),
            start_after: String::new(),
            continuation_token: None,
            max_keys: MAX_KEYS,
            headers: RequestHeaders::new(),
            retry: RetryPolicy::default(),
            throttle: ThrottlePolicy::default(),
            max_page_bytes: DEFAULT_MAX_PAGE_BYTES,
        }
    }

    /// Which call to make (default [`ListVersion::V2`]).
    #[must_use]
    pub fn version(mut self, version: ListVersion) -> Self {
        self.version = version;
        self
    }

    /// Only keys starting with `prefix` (the keys returned still contain it). Empty: all.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Roll keys up to the first `delimiter` after the prefix into
    /// [`ListPage::common_prefixes`] (`/` lists one "directory" level). Empty: no rolling up.
    #[must_use]
    pub fn delimiter(mut self, delimiter: impl Into<String>) -> Self {
        self.delimiter = delimiter.into();
        self
    }

    /// Only keys strictly after `key` (which need not exist): `start-after` under V2, `marker`
    /// under V1. Resuming a listing that stopped after key K is `start_after(K)`.
    #[must_use]
    pub fn start_after(mut self, key: impl Into<String>) -> Self {
        self.start_after = key.into();
        self
    }

    /// Start from a `NextContinuationToken` an earlier V2 listing returned
    /// ([`Lister::continuation`]); it takes precedence over [`ListRequest::start_after`].
    /// V2 only.
    #[must_use]
    pub fn continuation_token(mut self, token: impl Into<String>) -> Self {
        self.continuation_token = Some(token.into()).filter(|t| !t.is_empty());
        self
    }

    /// Entries per page, 1..=[`MAX_KEYS`] (default 1000). Objects and common prefixes count
    /// alike.
    #[must_use]
    pub fn max_keys(mut self, max_keys: u16) -> Self {
        self.max_keys = max_keys;
        self
    }

    /// Headers every page request also sends (`x-oss-request-payer: requester` for a
    /// requester-pays bucket), checked as [`RequestHeaders`] checks them.
    #[must_use]
    pub fn headers(mut self, headers: RequestHeaders) -> Self {
        self.headers = headers;
        self
    }

    /// How a page request that failed with a fault is retried (default
    /// [`RetryPolicy::default`]). A page request is idempotent: retrying it is always safe.
    #[must_use]
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// How a throttled page request is retried (default [`ThrottlePolicy::default`]).
    #[must_use]
    pub fn throttle(mut self, policy: ThrottlePolicy) -> Self {
        self.throttle = policy;
        self
    }

    /// The largest page body read (default [`DEFAULT_MAX_PAGE_BYTES`], at least 4 KiB): a
    /// bigger one is refused ([`ListingProblem::TooLarge`]) before it is held in memory.
    #[must_use]
    pub fn max_page_bytes(mut self, bytes: usize) -> Self {
        self.max_page_bytes = bytes;
        self
    }

    /// Checks every setting before anything is sent; the error names the setting and the fix.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        let bad = |problem: String| Err(Error::invalid_request(problem));
        for (name, value) in [
            ("prefix", &self.prefix),
            ("delimiter", &self.delimiter),
            ("start-after", &self.start_after),
        ] {
            if value.len() > MAX_PARAM_BYTES {
                return bad(format!(
                    "the listing {name} is {} bytes; OSS takes at most {MAX_PARAM_BYTES}",
                    value.len()
                ));
            }
        }
        if !(1..=MAX_KEYS).contains(&self.max_keys) {
            return bad(format!(
                "max_keys {} is outside 1..={MAX_KEYS}",
                self.max_keys
            ));
        }
        if self.version == ListVersion::V1 && self.continuation_token.is_some() {
            return bad(
                "a continuation token is a ListObjectsV2 thing; with ListVersion::V1 resume with start_after (the marker)"
                    .into(),
            );
        }
        if self.max_page_bytes < 4096 {
            return bad(format!(
                "max_page_bytes {} is below 4096; a page of a few keys needs more",
                self.max_page_bytes
            ));
        }
        self.retry.validate()?;
        self.throttle.validate()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_the_setting() {
        ListRequest::new().validate().unwrap();
        for (request, needle) in [
            (ListRequest::new().max_keys(0), "max_keys 0"),
            (ListRequest::new().max_keys(1001), "max_keys 1001"),
            (
                ListRequest::new().prefix("p".repeat(1024)),
                "prefix is 1024",
            ),
            (
                ListRequest::new()
                    .version(ListVersion::V1)
                    .continuation_token("t"),
                "start_after",
            ),
            (ListRequest::new().max_page_bytes(100), "max_page_bytes"),
        ] {
            let e = request.validate().unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
        }
        // An empty token means none.
        ListRequest::new()
            .version(ListVersion::V1)
            .continuation_token("")
            .validate()
            .unwrap();
    }
}
