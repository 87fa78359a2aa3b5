//! The lister: one page request at a time, retried, checked to move forward.

use bytes::Bytes;
use http::StatusCode;
use oss_parts::ByteRange;
use oss_sign::Query;

use super::page::{ListPage, ListingProblem};
use super::parse::parse_page;
use super::{ListRequest, ListVersion};
use crate::client::Client;
use crate::error::Error;
use crate::head::header_text;
use crate::retry::{JitterRng, PartRetry, RetryDecision};
use crate::sink::ByteSink;
use crate::stream::{StreamPlan, stream_body};

/// Truncated pages in a row that hold no entry before the listing is called stuck: a server
/// that keeps handing out new tokens for empty pages would otherwise be followed forever.
const MAX_EMPTY_PAGES: usize = 1000;

/// Where the next page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Next {
    /// The first page: the request's own `start-after` / `marker` / token.
    First,
    /// V2: this continuation token.
    Token(String),
    /// V1: this marker.
    Marker(String),
    /// The last page has been returned.
    Done,
}

/// A listing in progress: [`Lister::next_page`] fetches the pages one by one, in key order,
/// until it returns `Ok(None)`.
///
/// Made by [`Client::list_objects`]. Each page request is retried on faults and throttling
/// under the request's [`RetryPolicy`](crate::RetryPolicy) and
/// [`ThrottlePolicy`](crate::ThrottlePolicy) (a page request changes nothing, so retrying
/// it is always safe); a permanent error (`NoSuchBucket`, `AccessDenied`, an unusable page)
/// is returned at once. After an error the lister is unchanged: calling
/// [`Lister::next_page`] again asks for the same page.
///
/// The lister checks that the listing moves forward, so a broken server cannot make it
/// loop: a truncated page must say where to go on (a `NextContinuationToken` that is not
/// the token just sent; a `NextMarker`, or under v1 at least an entry to continue after),
/// and every entry must come after every entry of the earlier pages. Either failure is
/// [`Error::InvalidListing`].
///
/// Memory: one page at a time, its body capped by
/// [`ListRequest::max_page_bytes`](crate::ListRequest::max_page_bytes) and its entries by
/// the protocol's 1000; nothing grows with the number of pages. The lister is `Send` and
/// `'static`, so it can run ahead of the work on a task of its own.
///
/// ```no_run
/// use oss_http::{Client, Credentials, ListRequest};
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let client = Client::builder()
///     .endpoint("oss-cn-hangzhou.aliyuncs.com")
///     .credentials(Credentials::from_env()?)
///     .build()?;
/// let mut lister = client.list_objects("examplebucket", ListRequest::new().prefix("dataset/"))?;
/// while let Some(page) = lister.next_page().await? {
///     for object in &page.objects {
///         println!("{} {} bytes {}", object.key, object.size, object.etag);
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Lister {
    client: Client,
    bucket: String,
    request: ListRequest,
    next: Next,
    /// The greatest key or common prefix returned so far.
    reached: Option<String>,
    /// Tokens sent since the last page that held an entry (at most [`MAX_EMPTY_PAGES`]).
    empty_run: Vec<String>,
    pages: u64,
    retries: u64,
    rng: JitterRng,
}

impl Client {
    /// Lists `bucket` as [`ListRequest`] says: a [`Lister`] whose
    /// [`next_page`](Lister::next_page) returns the pages in key order.
    ///
    /// Nothing is sent until the first `next_page`. The bucket name and every setting are
    /// checked here ([`Error::InvalidRequest`] names the problem).
    pub fn list_objects(&self, bucket: &str, request: ListRequest) -> Result<Lister, Error> {
        crate::address::validate_bucket_name(bucket)?;
        request.validate()?;
        Ok(Lister {
            client: self.clone(),
            bucket: bucket.to_owned(),
            request,
            next: Next::First,
            reached: None,
            empty_run: Vec::new(),
            pages: 0,
            retries: 0,
            rng: JitterRng::from_entropy(),
        })
    }
}

impl Lister {
    /// The next page, or `Ok(None)` once the last page has been returned.
    ///
    /// Keys, prefixes, tokens and markers in the page are decoded. A page may be empty and
    /// still truncated (the next one has entries).
    pub async fn next_page(&mut self) -> Result<Option<ListPage>, Error> {
        if self.next == Next::Done {
            return Ok(None);
        }
        let mut retry = PartRetry::with_throttle(self.request.retry, self.request.throttle);
        let mut page = loop {
            match self.fetch_once().await {
                Ok(page) => break page,
                Err(error) => match retry.on_failure(error.retry_reason(), &mut self.rng) {
                    RetryDecision::Retry { delay, .. } => {
                        self.retries += 1;
                        tokio::time::sleep(delay).await;
                    }
                    RetryDecision::GiveUp { .. } => return Err(error),
                },
            }
        };
        self.advance(&mut page)
            .map_err(|problem| Error::InvalidListing {
                bucket: self.bucket.clone(),
                problem: Box::new(problem),
                request_id: page.request_id.clone(),
            })?;
        self.pages += 1;
        Ok(Some(page))
    }

    /// Whether the last page has been returned.
    pub fn is_done(&self) -> bool {
        self.next == Next::Done
    }

    /// Where the listing goes on from: the next page's continuation token (V2) or marker
    /// (V1), or `None` before the first page and after the last. A listing stopped here is
    /// resumed by a new lister with [`ListRequest::continuation_token`] (V2) or
    /// [`ListRequest::start_after`] (V1).
    pub fn continuation(&self) -> Option<&str> {
        match &self.next {
            Next::Token(t) | Next::Marker(t) => Some(t),
            Next::First | Next::Done => None,
        }
    }

    /// Pages returned so far.
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// Page requests retried so far (over the lister's whole life).
    pub fn retries(&self) -> u64 {
        self.retries
    }

    /// The bucket listed.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The query of the next page request, in the order the official SDKs send it.
    fn query(&self) -> Query {
        let r = &self.request;
        let mut q = Query::new();
        let mut param = |name: &str, value: &str| {
            if !value.is_empty() {
                q.push(name, value);
            }
        };
        match self.request.version {
            ListVersion::V2 => {
                param("list-type", "2");
                param("prefix", &r.prefix);
                param("delimiter", &r.delimiter);
                match &self.next {
                    Next::Token(token) => param("continuation-token", token),
                    _ => match &r.continuation_token {
                        Some(token) => param("continuation-token", token),
                        None => param("start-after", &r.start_after),
                    },
                }
            }
            ListVersion::V1 => {
                param("prefix", &r.prefix);
                param("delimiter", &r.delimiter);
                match &self.next {
                    Next::Marker(marker) => param("marker", marker),
                    _ => param("marker", &r.start_after),
                }
            }
        }
        param("max-keys", &r.max_keys.to_string());
        param("encoding-type", "url");
        q
    }

    /// The name of the operation in errors: `ListObjectsV2 bkt (prefix "data/")`.
    fn operation(&self) -> String {
        let call = match self.request.version {
            ListVersion::V2 => "ListObjectsV2",
            ListVersion::V1 => "ListObjects",
        };
        if self.request.prefix.is_empty() {
            format!("{call} {}", self.bucket)
        } else {
            format!(
                "{call} {} (prefix \"{}\")",
                self.bucket,
                self.request.prefix.escape_debug()
            )
        }
    }

    /// One attempt: request, status, bounded body, parse.
    async fn fetch_once(&self) -> Result<ListPage, Error> {
        let client = &self.client;
        client.credentials_ready().await;
        let (request, target, signed_with) =
            client.bucket_request(&self.bucket, &self.query(), &self.request.headers)?;
        let response = client.send(request, &target).await?;
        if response.status() != StatusCode::OK {
            return Err(client
                .service_error(self.operation(), response, signed_with.as_ref())
                .await);
        }
        let request_id = header_text(response.headers(), "x-oss-request-id").map(str::to_owned);
        let invalid = |problem| Error::InvalidListing {
            bucket: self.bucket.clone(),
            problem: Box::new(problem),
            request_id: request_id.clone(),
        };
        let limit = self.request.max_page_bytes;
        let too_large = || invalid(ListingProblem::TooLarge { limit });
        let declared = header_text(response.headers(), "content-length")
            .map(|len| len.parse::<u64>())
            .transpose()
            .map_err(|_| {
                invalid(ListingProblem::Malformed {
                    byte: 0,
                    detail: "the Content-Length header is not a number".into(),
                })
            })?;
        // A body of unknown length is read up to one byte past the cap, to tell "at the cap"
        // from "over it"; a declared length over the cap is refused unread.
        let expected = match declared {
            Some(len) if len > limit as u64 => return Err(too_large()),
            Some(len) => len,
            None => limit as u64 + 1,
        };
        let mut body = PageBuffer::default();
        if let Ok(range) = ByteRange::new(0, expected) {
            let plan = StreamPlan {
                range,
                stall: client.timeouts().stall,
                max_chunk: usize::MAX,
                request_id: request_id.as_deref(),
            };
            match stream_body(response.into_body(), plan, &mut body, None).await {
                Ok(_) => {}
                // The unknown-length body ended on its own before the cap: that is its end.
                Err(Error::Truncated { source: None, .. }) if declared.is_none() => {}
                Err(Error::BodyOverrun { .. }) if declared.is_none() => return Err(too_large()),
                Err(e) => return Err(e),
            }
        }
        if body.0.len() > limit {
            return Err(too_large());
        }
        let mut page = parse_page(&body.0).map_err(invalid)?;
        page.request_id = request_id;
        Ok(page)
    }

    /// Checks that `page` moves the listing forward and moves [`Lister::next`] on; fills in
    /// a v1 page's `next_marker` when the server left it out.
    fn advance(&mut self, page: &mut ListPage) -> Result<(), ListingProblem> {
        let prefix = &self.request.prefix;
        let entries = page
            .objects
            .iter()
            .map(|o| o.key.as_str())
            .chain(page.common_prefixes.iter().map(String::as_str));
        for entry in entries {
            if !entry.starts_with(prefix.as_str()) {
                return Err(ListingProblem::OutsidePrefix {
                    key: entry.to_owned(),
                });
            }
            if let Some(previous) = &self.reached
                && entry <= previous.as_str()
            {
                return Err(ListingProblem::NotAdvancing {
                    previous: previous.clone(),
                    got: entry.to_owned(),
                });
            }
        }
        let last = page.last_item().map(str::to_owned);
        let next = if !page.is_truncated {
            Next::Done
        } else {
            match self.request.version {
                ListVersion::V2 => {
                    let token = page
                        .next_continuation_token
                        .clone()
                        .ok_or(ListingProblem::NoContinuation)?;
                    let sent = match &self.next {
                        Next::Token(t) => Some(t),
                        _ => self.request.continuation_token.as_ref(),
                    };
                    if sent == Some(&token) || self.empty_run.contains(&token) {
                        return Err(ListingProblem::RepeatedToken { token });
                    }
                    Next::Token(token)
                }
                ListVersion::V1 => {
                    let marker = page
                        .next_marker
                        .clone()
                        .or_else(|| last.clone())
                        .ok_or(ListingProblem::NoContinuation)?;
                    let sent = match &self.next {
                        Next::Marker(m) => m.as_str(),
                        _ => self.request.start_after.as_str(),
                    };
                    if marker.as_str() <= sent {
                        return Err(ListingProblem::NotAdvancing {
                            previous: sent.to_owned(),
                            got: marker,
                        });
                    }
                    page.next_marker = Some(marker.clone());
                    Next::Marker(marker)
                }
            }
        };
        if page.is_empty() {
            if let Next::Token(token) = &next {
                if self.empty_run.len() >= MAX_EMPTY_PAGES {
                    return Err(ListingProblem::EmptyPages {
                        pages: MAX_EMPTY_PAGES,
                    });
                }
                self.empty_run.push(token.clone());
            }
        } else {
            self.empty_run.clear();
        }
        if last.is_some() {
            self.reached = last;
        }
        self.next = next;
        Ok(())
    }
}

/// Holds a page body as it arrives (the length was capped before the first byte).
#[derive(Debug, Default)]
struct PageBuffer(Vec<u8>);

impl ByteSink for PageBuffer {
    type Error = std::convert::Infallible;

    async fn write(&mut self, _offset: u64, chunk: Bytes) -> Result<(), Self::Error> {
        self.0.extend_from_slice(&chunk);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lister(request: ListRequest) -> Lister {
        let client = Client::builder()
            .endpoint("http://127.0.0.1:9")
            .anonymous()
            .build()
            .unwrap();
        client.list_objects("bkt", request).unwrap()
    }

    #[test]
    fn queries_as_the_sdks_send_them() {
        let mut l = lister(
            ListRequest::new()
                .prefix("d/")
                .delimiter("/")
                .start_after("d/a")
                .max_keys(2),
        );
        assert_eq!(
            l.query().to_encoded_string(),
            "list-type=2&prefix=d%2F&delimiter=%2F&start-after=d%2Fa&max-keys=2&encoding-type=url"
        );
        l.next = Next::Token("t+/=".into());
        assert_eq!(
            l.query().to_encoded_string(),
            "list-type=2&prefix=d%2F&delimiter=%2F&continuation-token=t%2B%2F%3D&max-keys=2&encoding-type=url"
        );
        let mut l = lister(ListRequest::new().version(ListVersion::V1).start_after("m"));
        assert_eq!(
            l.query().to_encoded_string(),
            "marker=m&max-keys=1000&encoding-type=url"
        );
        l.next = Next::Marker("n o".into());
        assert_eq!(
            l.query().to_encoded_string(),
            "marker=n%20o&max-keys=1000&encoding-type=url"
        );
    }

    #[test]
    fn the_lister_and_its_future_are_send() {
        fn send<T: Send>(_: &T) {}
        let mut l = lister(ListRequest::new());
        send(&l);
        let fut = l.next_page();
        send(&fut);
    }
}
