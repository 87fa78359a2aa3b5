//! Property tests: the URI encoder against the spec's table for every byte; signing and
//! verification never panic on arbitrary bytes; signing is deterministic; exactly the
//! signed elements change the signature; whatever is signed verifies.

use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, Method};
#[cfg(feature = "verify")]
use oss_sign::verify::ReceivedAuth;
use oss_sign::{
    Credentials, Query, Resource, SignableRequest, SigningConfig, SigningTime, Slash, presign,
    sign, uri_encode, v4,
};
use proptest::prelude::*;

/// OSS's `UriEncode` rule, written independently of the crate: these bytes stay, `/` stays
/// only when kept, everything else is `%XX` with uppercase hex.
fn spec_encoding(byte: u8, slash: Slash) -> String {
    const KEPT: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~";
    if KEPT.as_bytes().contains(&byte) || (byte == b'/' && slash == Slash::Keep) {
        char::from(byte).to_string()
    } else {
        format!("%{byte:02X}")
    }
}

/// The spec's table, row by row.
const SPEC_TABLE: &[(&str, &str)] = &[
    (" ", "%20"),
    ("+", "%2B"),
    ("%", "%25"),
    ("~", "~"),
    ("!", "%21"),
    ("*", "%2A"),
    ("'", "%27"),
    ("(", "%28"),
    (")", "%29"),
    (";", "%3B"),
    (":", "%3A"),
    ("@", "%40"),
    ("&", "%26"),
    ("=", "%3D"),
    ("$", "%24"),
    (",", "%2C"),
    ("?", "%3F"),
    ("#", "%23"),
    ("[", "%5B"),
    ("]", "%5D"),
    ("\"", "%22"),
    ("文", "%E6%96%87"),
    ("😀", "%F0%9F%98%80"),
];

#[test]
fn uri_encode_every_byte_matches_the_spec() {
    for byte in 0..=u8::MAX {
        for slash in [Slash::Keep, Slash::Escape] {
            assert_eq!(
                uri_encode([byte], slash),
                spec_encoding(byte, slash),
                "byte {byte:#04x} {slash:?}"
            );
        }
    }
    for (raw, encoded) in SPEC_TABLE {
        assert_eq!(uri_encode(raw, Slash::Escape), *encoded, "{raw:?}");
        assert_eq!(uri_encode(raw, Slash::Keep), *encoded, "{raw:?}");
    }
    assert_eq!(uri_encode("/", Slash::Keep), "/");
    assert_eq!(uri_encode("/", Slash::Escape), "%2F");
}

proptest! {
    #[test]
    fn uri_encode_is_bytewise_and_query_parse_inverts_it(
        bytes in proptest::collection::vec(any::<u8>(), 0..64),
        text in any::<String>(),
    ) {
        for slash in [Slash::Keep, Slash::Escape] {
            let whole = uri_encode(&bytes, slash);
            let parts: String = bytes.iter().map(|&b| spec_encoding(b, slash)).collect();
            prop_assert_eq!(whole, parts);
        }
        let query = Query::new().with(text.clone(), text.clone()).with_flag(text.clone());
        let parsed = Query::parse(&query.to_encoded_string()).unwrap();
        // An empty key vanishes with its empty segment; otherwise parsing inverts encoding.
        if !text.is_empty() {
            prop_assert_eq!(parsed, query);
        }
    }
}

fn config(v4_region: Option<&str>) -> SigningConfig {
    match v4_region {
        Some(region) => SigningConfig::v4(region)
            .unwrap()
            .with_additional_headers(["range"]),
        None => SigningConfig::v1(),
    }
}

/// Arbitrary request material: any method bytes, bucket, key, header bytes, query text.
#[derive(Debug, Clone)]
struct Wild {
    method: Vec<u8>,
    bucket: String,
    key: Option<String>,
    headers: Vec<(Vec<u8>, Vec<u8>)>,
    query: Vec<(String, Option<String>)>,
    region: String,
    v4: bool,
    time: u64,
    expires: u64,
    token: Option<String>,
}

fn wild() -> impl Strategy<Value = Wild> {
    let header_name = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..12),
        "(x-oss-[a-z-]{0,8}|content-type|content-md5|range|authorization|date|x-oss-date)"
            .prop_map(String::into_bytes),
    ];
    // Mostly methods that parse (so signing runs), sometimes raw bytes (so parsing is hit).
    let method = prop_oneof![
        4 => "[A-Za-z!#$%&'*+.^_`|~-]{1,10}".prop_map(String::into_bytes),
        1 => proptest::collection::vec(any::<u8>(), 0..10),
    ];
    (
        method,
        any::<String>(),
        proptest::option::of(any::<String>()),
        proptest::collection::vec(
            (header_name, proptest::collection::vec(any::<u8>(), 0..16)),
            0..6,
        ),
        proptest::collection::vec(
            (any::<String>(), proptest::option::of(any::<String>())),
            0..5,
        ),
        any::<String>(),
        any::<bool>(),
        any::<u64>(),
        any::<u64>(),
        proptest::option::of("[ -~]{0,12}"),
    )
        .prop_map(
            |(method, bucket, key, headers, query, region, v4, time, expires, token)| Wild {
                method,
                bucket,
                key,
                headers,
                query,
                region,
                v4,
                time,
                expires,
                token,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Nothing reachable from input panics: building, signing, presigning, parsing and
    /// verifying arbitrary bytes returns `Ok` or `Err`.
    #[test]
    fn never_panics_on_arbitrary_input(w in wild(), junk in any::<String>()) {
        let Ok(method) = Method::from_bytes(&w.method) else { return Ok(()) };
        let mut headers = HeaderMap::new();
        for (name, value) in &w.headers {
            if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name), HeaderValue::from_bytes(value)) {
                headers.append(n, v);
            }
        }
        let query: Query = w.query.iter().cloned().collect();
        let resource = match &w.key {
            Some(k) => Resource::object(&w.bucket, k),
            None => Resource::bucket(&w.bucket),
        };
        let mut creds = Credentials::new("ak", "secret").unwrap();
        if let Some(token) = &w.token {
            creds = creds.clone().with_security_token(token.clone()).unwrap_or(creds);
        }
        let config = if w.v4 {
            SigningConfig::v4(w.region.clone()).unwrap_or_else(|_| config(Some("r")))
        } else {
            SigningConfig::v1()
        };
        let time = SigningTime::from_unix_seconds(w.time % (SigningTime::MAX.unix_seconds() + 1)).unwrap();
        let request = SignableRequest::new(&method, resource, &query, &headers);
        if let Ok(out) = sign(&request, &config, &creds, time) {
            let mut sent = headers.clone();
            out.apply_to(&mut sent);
            #[cfg(feature = "verify")]
            {
                let received = SignableRequest::new(&method, resource, &query, &sent);
                if let Ok(auth) = ReceivedAuth::from_request(&received) {
                    let _ = auth.expected(&received, &creds);
                }
            }
        }
        let _ = presign(&request, &config, &creds, time, Duration::from_secs(w.expires));
        #[cfg(feature = "verify")]
        {
            if let Ok(auth) = ReceivedAuth::from_request(&request) {
                let _ = auth.expected(&request, &creds);
            }
        }
        let _ = v4::Authorization::parse(&junk);
        let _ = v4::Credential::parse(&junk);
        let _ = Query::parse(&junk);
        let _ = SigningTime::parse_rfc1123(&junk);
        let _ = SigningTime::parse_v4_timestamp(&junk);
        let _ = SigningTime::parse_iso8601(&junk);
    }
}

/// A well-formed request to mutate: a valid bucket, any key, a few headers and parameters.
#[derive(Debug, Clone)]
struct Base {
    method: Method,
    bucket: String,
    key: String,
    meta: String,
    content_type: String,
    range: String,
    user_agent: String,
    version_id: String,
    prefix: String,
    time: u64,
    secret: String,
}

fn header_text() -> impl Strategy<Value = String> {
    // Header values as SDKs send them: visible ASCII without surrounding whitespace.
    "[!-~]([ -~]{0,20}[!-~])?"
}

fn base() -> impl Strategy<Value = Base> {
    (
        prop_oneof![
            Just(Method::GET),
            Just(Method::HEAD),
            Just(Method::PUT),
            Just(Method::DELETE)
        ],
        "[a-z0-9][a-z0-9-]{1,20}[a-z0-9]",
        any::<String>(),
        (header_text(), header_text(), header_text(), header_text()),
        (any::<String>(), any::<String>()),
        1_000_000_000u64..4_000_000_000,
        "[ -~]{1,40}",
    )
        .prop_map(
            |(
                method,
                bucket,
                key,
                (meta, content_type, range, user_agent),
                (version_id, prefix),
                time,
                secret,
            )| {
                Base {
                    method,
                    bucket,
                    key,
                    meta,
                    content_type,
                    range,
                    user_agent,
                    version_id,
                    prefix,
                    time,
                    secret,
                }
            },
        )
}

impl Base {
    fn headers(&self) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-oss-meta-tag", HeaderValue::from_str(&self.meta).unwrap());
        h.insert(
            "content-type",
            HeaderValue::from_str(&self.content_type).unwrap(),
        );
        h.insert("range", HeaderValue::from_str(&self.range).unwrap());
        h.insert(
            "user-agent",
            HeaderValue::from_str(&self.user_agent).unwrap(),
        );
        h
    }

    fn query(&self) -> Query {
        Query::new()
            .with("versionId", self.version_id.clone())
            .with("prefix", self.prefix.clone())
    }

    /// The signature under `config` (V4 signs `range` as an additional header).
    fn signature(&self, config: &SigningConfig) -> String {
        let (headers, query) = (self.headers(), self.query());
        let request = SignableRequest::new(
            &self.method,
            Resource::object(&self.bucket, &self.key),
            &query,
            &headers,
        );
        let creds = Credentials::new("ak", self.secret.clone()).unwrap();
        let time = SigningTime::from_unix_seconds(self.time).unwrap();
        let out = sign(&request, config, &creds, time).unwrap();
        out.details().unwrap().signature().to_owned()
    }
}

/// One change to a request, and whether the given version signs what it changes.
#[derive(Debug, Clone)]
enum Change {
    Method,
    Key(String),
    SignedHeader(String),
    ContentType(String),
    Subresource(String),
    Time(u64),
    Secret(String),
    UnsignedHeader(String),
    /// `prefix` is not a V1 sub-resource; V4 signs every parameter.
    PlainParam(String),
    /// `range` is signed by V4 (an additional header here), not by V1.
    Range(String),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        Just(Change::Method),
        any::<String>().prop_map(Change::Key),
        header_text().prop_map(Change::SignedHeader),
        header_text().prop_map(Change::ContentType),
        any::<String>().prop_map(Change::Subresource),
        (1u64..10_000_000).prop_map(Change::Time),
        "[ -~]{1,40}".prop_map(Change::Secret),
        header_text().prop_map(Change::UnsignedHeader),
        any::<String>().prop_map(Change::PlainParam),
        header_text().prop_map(Change::Range),
    ]
}

impl Change {
    /// Applies the change; `None` if it would change nothing.
    fn apply(&self, base: &Base) -> Option<Base> {
        let mut b = base.clone();
        let differs = |new: &String, old: &mut String| {
            let changed = new != old;
            *old = new.clone();
            changed
        };
        let changed = match self {
            Change::Method => {
                b.method = if b.method == Method::GET {
                    Method::PUT
                } else {
                    Method::GET
                };
                true
            }
            Change::Key(k) => differs(k, &mut b.key),
            Change::SignedHeader(v) => differs(v, &mut b.meta),
            Change::ContentType(v) => differs(v, &mut b.content_type),
            Change::Subresource(v) => differs(v, &mut b.version_id),
            Change::Time(d) => {
                b.time += d;
                true
            }
            Change::Secret(s) => differs(s, &mut b.secret),
            Change::UnsignedHeader(v) => differs(v, &mut b.user_agent),
            Change::PlainParam(v) => differs(v, &mut b.prefix),
            Change::Range(v) => differs(v, &mut b.range),
        };
        changed.then_some(b)
    }

    fn is_signed(&self, v4: bool) -> bool {
        match self {
            Change::UnsignedHeader(_) => false,
            Change::PlainParam(_) | Change::Range(_) => v4,
            _ => true,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Changing a signed element changes the signature; changing an unsigned one does not;
    /// the same inputs always give the same signature.
    #[test]
    fn exactly_the_signed_elements_change_the_signature(base in base(), change in change()) {
        for (v4, config) in [(false, config(None)), (true, config(Some("cn-hangzhou")))] {
            let before = base.signature(&config);
            prop_assert_eq!(&before, &base.signature(&config), "not deterministic");
            let Some(changed) = change.apply(&base) else { continue };
            let after = changed.signature(&config);
            if change.is_signed(v4) {
                prop_assert_ne!(before, after, "v4={} {:?} did not change the signature", v4, change);
            } else {
                prop_assert_eq!(before, after, "v4={} {:?} changed the signature", v4, change);
            }
        }
    }

    /// The region is in V4's scope and nowhere in V1.
    #[test]
    fn region_is_signed_by_v4_only(base in base(), a in "[a-z0-9-]{1,16}", b in "[a-z0-9-]{1,16}") {
        prop_assume!(a != b);
        prop_assert_ne!(base.signature(&config(Some(&a))), base.signature(&config(Some(&b))));
        let v1a = SigningConfig::new(oss_sign::SignatureVersion::V1, a).unwrap();
        let v1b = SigningConfig::new(oss_sign::SignatureVersion::V1, b).unwrap();
        prop_assert_eq!(base.signature(&v1a), base.signature(&v1b));
    }

    /// Whatever is signed or presigned verifies, as received, with the same credentials,
    /// and fails with another secret.
    #[cfg(feature = "verify")]
    #[test]
    fn signed_requests_verify(base in base(), v4 in any::<bool>(), token in proptest::option::of("[!-~]{1,20}"), expires in 1u64..604_800) {
        let config = config(v4.then_some("cn-hangzhou"));
        let mut creds = Credentials::new("ak", base.secret.clone()).unwrap();
        if let Some(t) = token {
            creds = creds.with_security_token(t).unwrap();
        }
        let other = Credentials::new("ak", format!("{}x", base.secret)).unwrap();
        let time = SigningTime::from_unix_seconds(base.time).unwrap();
        let (headers, query) = (base.headers(), base.query());
        let resource = Resource::object(&base.bucket, &base.key);
        let request = SignableRequest::new(&base.method, resource, &query, &headers);

        let mut sent = headers.clone();
        sign(&request, &config, &creds, time).unwrap().apply_to(&mut sent);
        let received = SignableRequest::new(&base.method, resource, &query, &sent);
        let auth = ReceivedAuth::from_request(&received).unwrap();
        prop_assert_eq!(auth.signed_at(), Some(time));
        let claimed = auth.signature().unwrap().to_owned();
        prop_assert!(auth.expected(&received, &creds).unwrap().matches(&claimed));
        prop_assert!(!auth.expected(&received, &other).unwrap().matches(&claimed));

        let p = presign(&request, &config, &creds, time, Duration::from_secs(expires)).unwrap();
        let url_query = Query::parse(p.query_string()).unwrap();
        let received = SignableRequest::new(&base.method, resource, &url_query, &headers);
        let auth = ReceivedAuth::from_request(&received).unwrap();
        prop_assert_eq!(auth.expires_at(), Some(p.expires_at()));
        let claimed = auth.signature().unwrap().to_owned();
        prop_assert!(auth.expected(&received, &creds).unwrap().matches(&claimed));
        prop_assert!(!auth.expected(&received, &other).unwrap().matches(&claimed));
    }
}
