//! What a signature covers: the method, the resource (bucket + raw key), the decoded query
//! and the headers — never the URL's host or path, so addressing cannot change it.

use http::{HeaderMap, Method};

use crate::SignError;
use crate::encode::{Slash, form_decode, push_uri_encoded};

/// The resource a request acts on: the service, a bucket, or an object (bucket + raw key).
///
/// Signatures are computed from this, never from the URL, so virtual-hosted, path-style
/// and CNAME addressing all sign the same way (`/bucket/key`, with the key exactly as the
/// caller wrote it: `a//b`, `/leading`, `100% + 文 😀`).
///
/// ```
/// use oss_sign::Resource;
///
/// assert_eq!(Resource::service().path(), "/");
/// assert_eq!(Resource::bucket("examplebucket").path(), "/examplebucket/");
/// assert_eq!(Resource::object("examplebucket", "/a//b c").path(), "/examplebucket//a//b c");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Resource<'a> {
    bucket: Option<&'a str>,
    key: Option<&'a str>,
}

impl<'a> Resource<'a> {
    /// A service-level request (ListBuckets): resource `/`.
    ///
    /// ```
    /// assert_eq!(oss_sign::Resource::service().bucket_name(), None);
    /// ```
    pub fn service() -> Self {
        Self {
            bucket: None,
            key: None,
        }
    }

    /// A bucket-level request (ListObjects, GetBucketAcl): resource `/bucket/`.
    ///
    /// ```
    /// assert_eq!(oss_sign::Resource::bucket("b").bucket_name(), Some("b"));
    /// ```
    pub fn bucket(bucket: &'a str) -> Self {
        Self {
            bucket: Some(bucket),
            key: None,
        }
    }

    /// An object: resource `/bucket/key` with the raw (unencoded) key.
    ///
    /// ```
    /// assert_eq!(oss_sign::Resource::object("b", "k").key(), Some("k"));
    /// ```
    pub fn object(bucket: &'a str, key: &'a str) -> Self {
        Self {
            bucket: Some(bucket),
            key: Some(key),
        }
    }

    /// The resource for an optional bucket and optional key, as a transport holds them.
    ///
    /// # Errors
    /// [`SignError::KeyWithoutBucket`] for a key without a bucket (OSS has no such
    /// resource).
    ///
    /// ```
    /// use oss_sign::Resource;
    ///
    /// assert_eq!(Resource::from_parts(Some("b"), Some("k"))?, Resource::object("b", "k"));
    /// assert_eq!(Resource::from_parts(Some("b"), None)?, Resource::bucket("b"));
    /// assert_eq!(Resource::from_parts(None, None)?, Resource::service());
    /// assert!(Resource::from_parts(None, Some("k")).is_err());
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn from_parts(bucket: Option<&'a str>, key: Option<&'a str>) -> Result<Self, SignError> {
        match (bucket, key) {
            (None, Some(_)) => Err(SignError::KeyWithoutBucket),
            (bucket, key) => Ok(Self { bucket, key }),
        }
    }

    /// The bucket, if any.
    ///
    /// ```
    /// assert_eq!(oss_sign::Resource::object("b", "k").bucket_name(), Some("b"));
    /// ```
    pub fn bucket_name(&self) -> Option<&'a str> {
        self.bucket
    }

    /// The raw object key, if any.
    ///
    /// ```
    /// assert_eq!(oss_sign::Resource::bucket("b").key(), None);
    /// ```
    pub fn key(&self) -> Option<&'a str> {
        self.key
    }

    /// The raw resource path both signature versions start from: `/`, `/bucket/` or
    /// `/bucket/key` (V1 signs it as is; V4 signs its `UriEncode` with `/` kept).
    ///
    /// ```
    /// assert_eq!(oss_sign::Resource::object("b", "文").path(), "/b/文");
    /// ```
    pub fn path(&self) -> String {
        let mut out = String::with_capacity(
            2 + self.bucket.map_or(0, str::len) + self.key.map_or(0, str::len),
        );
        out.push('/');
        if let Some(bucket) = self.bucket {
            out.push_str(bucket);
            out.push('/');
            if let Some(key) = self.key {
                out.push_str(key);
            }
        }
        out
    }

    /// Checks the bucket name cannot make the resource ambiguous (empty, or holding `/`).
    pub(crate) fn validate(&self) -> Result<(), SignError> {
        match self.bucket {
            Some("") => Err(SignError::InvalidBucket {
                bucket: String::new(),
                reason: "empty",
            }),
            Some(b) if b.contains('/') => Err(SignError::InvalidBucket {
                bucket: b.to_owned(),
                reason: "holding '/'",
            }),
            _ => Ok(()),
        }
    }

    /// The host a request for this resource goes to: `bucket.endpoint` for a bucket or
    /// object under [`AddressStyle::VirtualHosted`], the endpoint itself otherwise.
    ///
    /// ```
    /// use oss_sign::{AddressStyle, Resource};
    ///
    /// let r = Resource::object("examplebucket", "k");
    /// let ep = "oss-cn-hangzhou.aliyuncs.com";
    /// assert_eq!(r.url_host(AddressStyle::VirtualHosted, ep), "examplebucket.oss-cn-hangzhou.aliyuncs.com");
    /// assert_eq!(r.url_host(AddressStyle::Path, ep), ep);
    /// assert_eq!(Resource::service().url_host(AddressStyle::VirtualHosted, ep), ep);
    /// ```
    pub fn url_host(&self, style: AddressStyle, endpoint_host: &str) -> String {
        match (style, self.bucket) {
            (AddressStyle::VirtualHosted, Some(bucket)) => format!("{bucket}.{endpoint_host}"),
            _ => endpoint_host.to_owned(),
        }
    }

    /// The URL path for this resource: `/key` (virtual-hosted, CNAME) or `/bucket/key`
    /// (path style), the key `UriEncode`d with `/` kept or escaped as `%2F` (both reach the
    /// same object; the signature is the same either way).
    ///
    /// ```
    /// use oss_sign::{AddressStyle, Resource, Slash};
    ///
    /// let r = Resource::object("b", "dir/a b+c.txt");
    /// assert_eq!(r.url_path(AddressStyle::VirtualHosted, Slash::Keep), "/dir/a%20b%2Bc.txt");
    /// assert_eq!(r.url_path(AddressStyle::Cname, Slash::Escape), "/dir%2Fa%20b%2Bc.txt");
    /// assert_eq!(r.url_path(AddressStyle::Path, Slash::Keep), "/b/dir/a%20b%2Bc.txt");
    /// assert_eq!(Resource::bucket("b").url_path(AddressStyle::Path, Slash::Keep), "/b/");
    /// ```
    pub fn url_path(&self, style: AddressStyle, key_slashes: Slash) -> String {
        let mut out = String::from("/");
        if let (AddressStyle::Path, Some(bucket)) = (style, self.bucket) {
            push_uri_encoded(&mut out, bucket.as_bytes(), Slash::Escape);
            out.push('/');
        }
        if let Some(key) = self.key {
            push_uri_encoded(&mut out, key.as_bytes(), key_slashes);
        }
        out
    }
}

/// How bucket and key map onto a URL. Only the URL changes; the signature never does.
///
/// ```
/// use oss_sign::{AddressStyle, Resource, Slash};
///
/// let r = Resource::object("b", "k");
/// for style in [AddressStyle::VirtualHosted, AddressStyle::Path, AddressStyle::Cname] {
///     assert!(r.url_path(style, Slash::Keep).ends_with("/k"));
/// }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum AddressStyle {
    /// `https://bucket.endpoint/key`: what real OSS expects.
    #[default]
    VirtualHosted,
    /// `https://endpoint/bucket/key`: IP-literal and `localhost` endpoints.
    Path,
    /// `https://custom-domain/key`: a domain bound to the bucket (`is_cname`).
    Cname,
}

/// A request's query parameters, decoded, in order; a value may be absent (`?acl`).
///
/// An absent value and an empty one sign the same (`acl`); they differ only in how a URL
/// writes them (`acl` vs `acl=`).
///
/// ```
/// use oss_sign::Query;
///
/// let q = Query::new().with("versionId", "v1").with_flag("acl").with("x", "a b/c");
/// assert_eq!(q.get("versionId"), Some(Some("v1")));
/// assert_eq!(q.get("acl"), Some(None));
/// assert_eq!(q.get("missing"), None);
/// assert_eq!(q.to_encoded_string(), "versionId=v1&acl&x=a%20b%2Fc");
/// assert_eq!(Query::parse("versionId=v1&acl&x=a+b%2Fc")?, q);
/// # Ok::<(), oss_sign::SignError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Query {
    params: Vec<(String, Option<String>)>,
}

impl Query {
    /// A shared empty query, for requests without parameters.
    ///
    /// ```
    /// assert!(oss_sign::Query::empty().is_empty());
    /// ```
    pub fn empty() -> &'static Query {
        static EMPTY: Query = Query { params: Vec::new() };
        &EMPTY
    }

    /// An empty query.
    ///
    /// ```
    /// assert_eq!(oss_sign::Query::new().len(), 0);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a raw query string (without `?`) as a server does: split on `&`, then on the
    /// first `=`, `+` as a space, `%XX` as a byte. `k` has no value, `k=` an empty one;
    /// empty segments (`a&&b`) are skipped.
    ///
    /// # Errors
    /// [`SignError::MalformedQuery`] for a bad `%` escape or a component that is not UTF-8.
    ///
    /// ```
    /// let q = oss_sign::Query::parse("uploads&partNumber=3&k=%E6%96%87")?;
    /// assert_eq!(q.get("uploads"), Some(None));
    /// assert_eq!(q.get("k"), Some(Some("文")));
    /// assert!(oss_sign::Query::parse("bad=%G0").is_err());
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn parse(raw: &str) -> Result<Self, SignError> {
        let mut params = Vec::new();
        for segment in raw.split('&').filter(|s| !s.is_empty()) {
            let param = match segment.split_once('=') {
                Some((k, v)) => (form_decode(k)?, Some(form_decode(v)?)),
                None => (form_decode(segment)?, None),
            };
            params.push(param);
        }
        Ok(Self { params })
    }

    /// Appends `key=value`.
    ///
    /// ```
    /// let mut q = oss_sign::Query::new();
    /// q.push("partNumber", "3");
    /// assert_eq!(q.get("partNumber"), Some(Some("3")));
    /// ```
    pub fn push(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.params.push((key.into(), Some(value.into())));
    }

    /// Appends a parameter without a value (`?uploads`).
    ///
    /// ```
    /// let mut q = oss_sign::Query::new();
    /// q.push_flag("uploads");
    /// assert_eq!(q.get("uploads"), Some(None));
    /// ```
    pub fn push_flag(&mut self, key: impl Into<String>) {
        self.params.push((key.into(), None));
    }

    /// [`push`](Self::push), by value.
    ///
    /// ```
    /// assert_eq!(oss_sign::Query::new().with("a", "1").len(), 1);
    /// ```
    #[must_use]
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.push(key, value);
        self
    }

    /// [`push_flag`](Self::push_flag), by value.
    ///
    /// ```
    /// assert_eq!(oss_sign::Query::new().with_flag("acl").get("acl"), Some(None));
    /// ```
    #[must_use]
    pub fn with_flag(mut self, key: impl Into<String>) -> Self {
        self.push_flag(key);
        self
    }

    /// The first parameter named `key`: `Some(Some(v))`, `Some(None)` when it has no
    /// value, `None` when absent. Names are case-sensitive.
    ///
    /// ```
    /// let q = oss_sign::Query::new().with("a", "1").with("a", "2");
    /// assert_eq!(q.get("a"), Some(Some("1")));
    /// assert_eq!(q.get("A"), None);
    /// ```
    pub fn get(&self, key: &str) -> Option<Option<&str>> {
        self.params
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_deref())
    }

    /// Whether a parameter named `key` is present.
    ///
    /// ```
    /// assert!(oss_sign::Query::new().with_flag("acl").contains("acl"));
    /// ```
    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The parameters in order.
    ///
    /// ```
    /// let q = oss_sign::Query::new().with("a", "1").with_flag("b");
    /// let v: Vec<_> = q.iter().collect();
    /// assert_eq!(v, [("a", Some("1")), ("b", None)]);
    /// ```
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, Option<&str>)> + '_ {
        self.params.iter().map(|(k, v)| (k.as_str(), v.as_deref()))
    }

    /// The number of parameters.
    ///
    /// ```
    /// assert_eq!(oss_sign::Query::new().with("a", "1").len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.params.len()
    }

    /// Whether there are no parameters.
    ///
    /// ```
    /// assert!(oss_sign::Query::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    /// A copy without the parameters named `key`.
    ///
    /// ```
    /// let q = oss_sign::Query::new().with("a", "1").with("b", "2").without("a");
    /// assert_eq!(q.to_encoded_string(), "b=2");
    /// ```
    #[must_use]
    pub fn without(&self, key: &str) -> Self {
        Self {
            params: self
                .params
                .iter()
                .filter(|(k, _)| k != key)
                .cloned()
                .collect(),
        }
    }

    /// The query for a URL, in order, keys and values `UriEncode`d (`/` -> `%2F`, space
    /// -> `%20`): `k=v`, `k=` for an empty value, `k` for none. No leading `?`.
    ///
    /// ```
    /// let q = oss_sign::Query::new().with("e", "").with_flag("f").with("x-oss-process", "image/resize,w_100");
    /// assert_eq!(q.to_encoded_string(), "e=&f&x-oss-process=image%2Fresize%2Cw_100");
    /// ```
    pub fn to_encoded_string(&self) -> String {
        let mut out = String::new();
        for (k, v) in self.iter() {
            push_encoded_param(&mut out, k, v);
        }
        out
    }
}

/// Appends `&k=v` (no `&` first) with both parts `UriEncode`d.
pub(crate) fn push_encoded_param(out: &mut String, key: &str, value: Option<&str>) {
    if !out.is_empty() {
        out.push('&');
    }
    push_uri_encoded(out, key.as_bytes(), Slash::Escape);
    if let Some(v) = value {
        out.push('=');
        push_uri_encoded(out, v.as_bytes(), Slash::Escape);
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, Option<V>)> for Query {
    /// Collects `(key, Some(value))` and `(key, None)` pairs in order.
    ///
    /// ```
    /// let q: oss_sign::Query = [("a", Some("1")), ("b", None)].into_iter().collect();
    /// assert_eq!(q.to_encoded_string(), "a=1&b");
    /// ```
    fn from_iter<I: IntoIterator<Item = (K, Option<V>)>>(iter: I) -> Self {
        Self {
            params: iter
                .into_iter()
                .map(|(k, v)| (k.into(), v.map(Into::into)))
                .collect(),
        }
    }
}

/// A request to sign, or a received request to verify: method, resource, decoded query
/// and headers, all borrowed.
///
/// The headers are the ones that will be sent (signing) or were received (verification);
/// signing never modifies them, it returns what to add.
///
/// ```
/// use http::{HeaderMap, Method};
/// use oss_sign::{Query, Resource, SignableRequest};
///
/// let headers = HeaderMap::new();
/// let req = SignableRequest::new(&Method::GET, Resource::object("b", "k"), Query::empty(), &headers);
/// assert_eq!(req.resource().path(), "/b/k");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct SignableRequest<'a> {
    method: &'a Method,
    resource: Resource<'a>,
    query: &'a Query,
    headers: &'a HeaderMap,
}

impl<'a> SignableRequest<'a> {
    /// Bundles the parts a signature covers.
    ///
    /// ```
    /// use http::{HeaderMap, Method};
    /// use oss_sign::{Query, Resource, SignableRequest};
    ///
    /// let (headers, query) = (HeaderMap::new(), Query::new().with_flag("acl"));
    /// let req = SignableRequest::new(&Method::GET, Resource::bucket("b"), &query, &headers);
    /// assert_eq!(req.method(), Method::GET);
    /// ```
    pub fn new(
        method: &'a Method,
        resource: Resource<'a>,
        query: &'a Query,
        headers: &'a HeaderMap,
    ) -> Self {
        Self {
            method,
            resource,
            query,
            headers,
        }
    }

    /// The method.
    ///
    /// ```
    /// # use http::{HeaderMap, Method};
    /// # use oss_sign::{Query, Resource, SignableRequest};
    /// # let h = HeaderMap::new();
    /// let req = SignableRequest::new(&Method::HEAD, Resource::service(), Query::empty(), &h);
    /// assert_eq!(req.method(), Method::HEAD);
    /// ```
    pub fn method(&self) -> &'a Method {
        self.method
    }

    /// The resource.
    ///
    /// ```
    /// # use http::{HeaderMap, Method};
    /// # use oss_sign::{Query, Resource, SignableRequest};
    /// # let h = HeaderMap::new();
    /// let req = SignableRequest::new(&Method::GET, Resource::service(), Query::empty(), &h);
    /// assert_eq!(req.resource(), Resource::service());
    /// ```
    pub fn resource(&self) -> Resource<'a> {
        self.resource
    }

    /// The decoded query.
    ///
    /// ```
    /// # use http::{HeaderMap, Method};
    /// # use oss_sign::{Query, Resource, SignableRequest};
    /// # let h = HeaderMap::new();
    /// let req = SignableRequest::new(&Method::GET, Resource::service(), Query::empty(), &h);
    /// assert!(req.query().is_empty());
    /// ```
    pub fn query(&self) -> &'a Query {
        self.query
    }

    /// The headers.
    ///
    /// ```
    /// # use http::{HeaderMap, Method};
    /// # use oss_sign::{Query, Resource, SignableRequest};
    /// # let h = HeaderMap::new();
    /// let req = SignableRequest::new(&Method::GET, Resource::service(), Query::empty(), &h);
    /// assert!(req.headers().is_empty());
    /// ```
    pub fn headers(&self) -> &'a HeaderMap {
        self.headers
    }
}
