//! One generic loader for `fixtures/sign/sign-vectors.json` (produced by running the
//! official SDKs' signers; see `fixtures/sign/README.md`).
//!
//! Each vector's request is built from its `inputs` through oss-sign's public API only,
//! signed (`kind: header`) or presigned (`kind: presign`) with the vector's `version`, and
//! every output is compared byte for byte, intermediate strings included, each under its
//! own name so a failure says which step differs. Nothing branches on a vector's name or
//! tags. A vector with `outputs.error` must be refused.
//!
//! Not compared (also in the fixtures README): `request_url` of header vectors (the SDK's
//! HTTP layer's URL, informational per the file's meta), and an empty `query_added` (one
//! vector's generator left it empty while its `url`, which is compared in full, carries
//! the added parameters). Header names compare case-insensitively (HTTP names are, and
//! `http` stores them lowercase); values byte for byte.
//!
//! The same vectors then drive the verification side: the request the SDK produced (its
//! headers or its URL, and for agreeing cross-checks the other SDK's too) must verify.

use std::collections::BTreeMap;
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, Method};
#[cfg(feature = "verify")]
use oss_sign::verify::ReceivedAuth;
use oss_sign::{
    AddressStyle, Credentials, Query, Resource, SignError, SignableRequest, SignatureVersion,
    SigningConfig, SigningTime, Slash, presign, sign, uri_encode,
};
use serde_json::Value;

const VECTORS: &str = include_str!("../../../../fixtures/sign/sign-vectors.json");

/// Every key an `outputs` object may have; an unknown one fails the test, so no output
/// can go uncompared unnoticed.
const KNOWN_OUTPUTS: &[&str] = &[
    "canonical_request",
    "string_to_sign",
    "signing_key_hex",
    "signature",
    "authorization",
    "headers_added",
    "request_url",
    "url",
    "query_added",
    "signed_headers",
    "expiration",
    "error",
];

/// A vector's inputs turned into oss-sign values.
struct Inputs {
    method: Method,
    bucket: Option<String>,
    key: Option<String>,
    query: Query,
    headers: HeaderMap,
    credentials: Credentials,
    config: SigningConfig,
    time: SigningTime,
    expires: Option<Duration>,
    scheme: Option<String>,
    endpoint_host: String,
    style: AddressStyle,
    key_slashes: Slash,
}

impl Inputs {
    fn resource(&self) -> Resource<'_> {
        Resource::from_parts(self.bucket.as_deref(), self.key.as_deref()).unwrap()
    }
}

fn text(v: &Value) -> &str {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v}"))
}

fn opt_text(v: &Value) -> Option<String> {
    (!v.is_null()).then(|| text(v).to_owned())
}

fn parse_inputs(version: SignatureVersion, inputs: &Value) -> Result<Inputs, SignError> {
    let method = Method::from_bytes(text(&inputs["method"]).as_bytes()).unwrap();
    let query: Query = inputs["query"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| (text(&pair[0]).to_owned(), opt_text(&pair[1])))
        .collect();
    let mut headers = HeaderMap::new();
    for (name, value) in inputs["headers"].as_object().unwrap() {
        headers.append(
            HeaderName::from_bytes(name.as_bytes()).unwrap(),
            HeaderValue::from_str(text(value)).unwrap(),
        );
    }
    let mut credentials = Credentials::new(
        text(&inputs["access_key_id"]),
        text(&inputs["access_key_secret"]),
    )?;
    if let Some(token) = opt_text(&inputs["security_token"]) {
        credentials = credentials.with_security_token(token)?;
    }
    let additional: Vec<String> = match &inputs["additional_headers"] {
        Value::Null => Vec::new(),
        list => list
            .as_array()
            .unwrap()
            .iter()
            .map(|n| text(n).to_owned())
            .collect(),
    };
    let config = SigningConfig::new(version, text(&inputs["region"]))?
        .with_product(text(&inputs["product"]))?
        .with_additional_headers(additional);
    let endpoint = text(&inputs["endpoint"]);
    let endpoint_host = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, h)| h)
        .to_owned();
    let style = match text(&inputs["address_style"]) {
        "virtual" => AddressStyle::VirtualHosted,
        "path" => AddressStyle::Path,
        "cname" => AddressStyle::Cname,
        other => panic!("unknown address_style {other}"),
    };
    // `slash_safe` is given for oss2 presign vectors; without it the SDK (v2) keeps `/`.
    let key_slashes = match inputs.get("slash_safe").and_then(Value::as_bool) {
        Some(false) => Slash::Escape,
        _ => Slash::Keep,
    };
    Ok(Inputs {
        method,
        bucket: opt_text(&inputs["bucket"]),
        key: opt_text(&inputs["key"]),
        query,
        headers,
        credentials,
        config,
        time: SigningTime::parse_iso8601(text(&inputs["datetime"]))?,
        expires: inputs["expires_seconds"].as_u64().map(Duration::from_secs),
        scheme: inputs.get("scheme").and_then(opt_text),
        endpoint_host,
        style,
        key_slashes,
    })
}

/// What our signer produced, in the vectors' vocabulary.
#[derive(Default)]
struct Produced {
    canonical_request: Option<String>,
    string_to_sign: String,
    signing_key_hex: Option<String>,
    signature: String,
    authorization: Option<String>,
    headers_added: BTreeMap<String, String>,
    url: Option<String>,
    query_added: Vec<(String, String)>,
    signed_headers: BTreeMap<String, String>,
    expiration: Option<String>,
}

fn header_map(pairs: &[(HeaderName, HeaderValue)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
        .collect()
}

fn run(kind: &str, inputs: &Inputs) -> Result<Produced, SignError> {
    let request = SignableRequest::new(
        &inputs.method,
        inputs.resource(),
        &inputs.query,
        &inputs.headers,
    );
    match kind {
        "header" => {
            let out = sign(&request, &inputs.config, &inputs.credentials, inputs.time)?;
            let d = out.details().expect("keys sign");
            let headers_added = header_map(out.headers());
            Ok(Produced {
                canonical_request: d.canonical_request().map(str::to_owned),
                string_to_sign: d.string_to_sign().to_owned(),
                signing_key_hex: d.signing_key().map(|k| k.to_hex()),
                signature: d.signature().to_owned(),
                authorization: headers_added.get("authorization").cloned(),
                headers_added,
                ..Produced::default()
            })
        }
        "presign" => {
            let expires = inputs
                .expires
                .expect("presign vectors give expires_seconds");
            let p = presign(
                &request,
                &inputs.config,
                &inputs.credentials,
                inputs.time,
                expires,
            )?;
            let d = p.details();
            let scheme = inputs
                .scheme
                .as_deref()
                .expect("presign vectors give a scheme");
            Ok(Produced {
                canonical_request: d.canonical_request().map(str::to_owned),
                string_to_sign: d.string_to_sign().to_owned(),
                signing_key_hex: d.signing_key().map(|k| k.to_hex()),
                signature: d.signature().to_owned(),
                // Presigning sets no header.
                headers_added: BTreeMap::new(),
                url: Some(p.url(
                    scheme,
                    &inputs.endpoint_host,
                    inputs.style,
                    inputs.key_slashes,
                )),
                query_added: p
                    .added_params()
                    .iter()
                    .map(|(k, v)| (k.clone(), uri_encode(v, Slash::Escape)))
                    .collect(),
                signed_headers: header_map(p.signed_headers()),
                expiration: Some(p.expires_at().iso8601()),
                ..Produced::default()
            })
        }
        other => panic!("unknown kind {other}"),
    }
}

fn expected_header_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(n, v)| (n.to_ascii_lowercase(), text(v).to_owned()))
        .collect()
}

/// Compares every output of one vector; returns one line per differing step.
fn compare(outputs: &Value, got: &Produced) -> Vec<String> {
    let mut diffs = Vec::new();
    let mut check = |step: &str, want: String, have: Option<&str>| {
        if have != Some(want.as_str()) {
            diffs.push(format!("{step}:\n      want {want:?}\n      got  {have:?}"));
        }
    };
    for (field, want) in outputs.as_object().unwrap() {
        assert!(
            KNOWN_OUTPUTS.contains(&field.as_str()),
            "unknown output field {field}: the loader must learn to compare it"
        );
        match field.as_str() {
            "canonical_request" => {
                check(field, text(want).into(), got.canonical_request.as_deref())
            }
            "string_to_sign" => check(field, text(want).into(), Some(&got.string_to_sign)),
            "signing_key_hex" => check(field, text(want).into(), got.signing_key_hex.as_deref()),
            "signature" => check(field, text(want).into(), Some(&got.signature)),
            "authorization" => check(field, text(want).into(), got.authorization.as_deref()),
            "url" => check(field, text(want).into(), got.url.as_deref()),
            "expiration" => check(field, text(want).into(), got.expiration.as_deref()),
            "headers_added" => check(
                field,
                format!("{:?}", expected_header_map(want)),
                Some(&format!("{:?}", got.headers_added)),
            ),
            "signed_headers" => check(
                field,
                format!("{:?}", expected_header_map(want)),
                Some(&format!("{:?}", got.signed_headers)),
            ),
            "query_added" => {
                let want: Vec<(String, String)> = want
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| (text(&p[0]).to_owned(), text(&p[1]).to_owned()))
                    .collect();
                if !want.is_empty() {
                    check(
                        field,
                        format!("{want:?}"),
                        Some(&format!("{:?}", got.query_added)),
                    );
                }
            }
            // Informational (the SDK's HTTP layer's URL), see the module docs.
            "request_url" => {}
            "error" => {}
            _ => unreachable!(),
        }
    }
    diffs
}

fn vectors() -> Vec<Value> {
    let file: Value = serde_json::from_str(VECTORS).unwrap();
    file["vectors"].as_array().unwrap().clone()
}

fn version_of(vector: &Value) -> SignatureVersion {
    match text(&vector["version"]) {
        "v1" => SignatureVersion::V1,
        "v4" => SignatureVersion::V4,
        other => panic!("unknown version {other}"),
    }
}

#[test]
fn official_sdk_vectors_byte_exact() {
    let vectors = vectors();
    assert!(vectors.len() >= 40, "expected the full vector file");
    let mut failures = Vec::new();
    for vector in &vectors {
        let name = text(&vector["name"]);
        let outputs = &vector["outputs"];
        // Building the request must always work; only the signer may refuse.
        let inputs = parse_inputs(version_of(vector), &vector["inputs"])
            .unwrap_or_else(|e| panic!("{name}: inputs rejected: {e}"));
        let result = run(text(&vector["kind"]), &inputs);
        match (result, outputs.get("error")) {
            (Ok(_), Some(err)) => {
                failures.push(format!("{name}: accepted, but the SDK refuses: {err}"));
            }
            (Err(_), Some(_)) => {}
            (Err(e), None) => failures.push(format!("{name}: refused: {e}")),
            (Ok(got), None) => {
                for diff in compare(outputs, &got) {
                    failures.push(format!("{name}: {diff}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} vectors differ:\n{}",
        failures.len(),
        vectors.len(),
        failures.join("\n")
    );
}

#[cfg(feature = "verify")]
/// Verifies one received request; returns a description of the failure, if any.
fn verify_received(
    inputs: &Inputs,
    query: &Query,
    headers: &HeaderMap,
    want_signature: &str,
    want_string_to_sign: &str,
) -> Option<String> {
    let request = SignableRequest::new(&inputs.method, inputs.resource(), query, headers);
    let auth = match ReceivedAuth::from_request(&request) {
        Ok(a) => a,
        Err(e) => return Some(format!("parse: {e}")),
    };
    if auth.access_key_id() != inputs.credentials.access_key_id() {
        return Some(format!("access key id {:?}", auth.access_key_id()));
    }
    let expected = match auth.expected(&request, &inputs.credentials) {
        Ok(e) => e,
        Err(e) => return Some(format!("expected: {e}")),
    };
    if expected.string_to_sign() != want_string_to_sign {
        return Some(format!("string_to_sign {:?}", expected.string_to_sign()));
    }
    if !expected.matches(want_signature) || auth.signature() != Some(want_signature) {
        return Some(format!("signature {:?}", expected.signature()));
    }
    None
}

#[cfg(feature = "verify")]
fn query_of_url(url: &str) -> Query {
    Query::parse(url.split_once('?').map_or("", |(_, q)| q)).unwrap()
}

#[cfg(feature = "verify")]
#[test]
fn sdk_signed_requests_verify() {
    let mut failures = Vec::new();
    let mut verified = 0;
    for vector in vectors() {
        let name = text(&vector["name"]);
        let outputs = &vector["outputs"];
        if outputs.get("error").is_some() {
            continue;
        }
        let inputs = parse_inputs(version_of(&vector), &vector["inputs"]).unwrap();
        let signature = text(&outputs["signature"]);
        let sts = text(&outputs["string_to_sign"]);
        let cross = &vector["cross_check"];
        let agree = cross["status"] == "agree";

        let mut received: Vec<(&str, Query, HeaderMap)> = Vec::new();
        if let Some(added) = outputs
            .get("headers_added")
            .filter(|_| outputs.get("url").is_none())
        {
            let mut headers = inputs.headers.clone();
            for (n, v) in added.as_object().unwrap() {
                headers.insert(
                    HeaderName::from_bytes(n.as_bytes()).unwrap(),
                    HeaderValue::from_str(text(v)).unwrap(),
                );
            }
            if agree && let Some(other) = cross.get("other_authorization") {
                let mut other_headers = headers.clone();
                other_headers.insert("authorization", HeaderValue::from_str(text(other)).unwrap());
                received.push((
                    "other SDK's Authorization",
                    inputs.query.clone(),
                    other_headers,
                ));
            }
            received.push(("SDK's headers", inputs.query.clone(), headers));
        }
        if let Some(url) = outputs.get("url") {
            received.push(("SDK's URL", query_of_url(text(url)), inputs.headers.clone()));
            if agree && let Some(other) = cross.get("other_url") {
                received.push((
                    "other SDK's URL",
                    query_of_url(text(other)),
                    inputs.headers.clone(),
                ));
            }
        }
        for (what, query, headers) in &received {
            match verify_received(&inputs, query, headers, signature, sts) {
                Some(f) => failures.push(format!("{name} ({what}): {f}")),
                None => verified += 1,
            }
        }
    }
    assert!(
        failures.is_empty(),
        "verification failed:\n{}",
        failures.join("\n")
    );
    assert!(verified >= 50, "only {verified} received requests verified");
}

/// The loader is not vacuous: a one-character change in any compared output is reported,
/// under that output's name.
#[test]
fn loader_reports_the_differing_step() {
    let vectors = vectors();
    let mut checked = 0;
    for vector in vectors
        .iter()
        .filter(|v| v["outputs"].get("error").is_none())
    {
        let inputs = parse_inputs(version_of(vector), &vector["inputs"]).unwrap();
        let got = run(text(&vector["kind"]), &inputs).unwrap();
        let outputs = vector["outputs"].as_object().unwrap();
        for field in outputs.keys() {
            if field == "request_url" || field == "error" {
                continue;
            }
            let mut tampered = vector["outputs"].clone();
            // Append one character to the string, or to the first value of a header map
            // or parameter list.
            let target = match &mut tampered[field.as_str()] {
                v @ Value::String(_) => v,
                Value::Object(map) => match map.values_mut().next() {
                    Some(v) => v,
                    None => continue,
                },
                Value::Array(list) => match list.first_mut() {
                    Some(pair) => &mut pair[1],
                    None => continue,
                },
                _ => continue,
            };
            *target = Value::String(format!("{}x", text(target)));
            let diffs = compare(&tampered, &got);
            assert_eq!(
                diffs.len(),
                1,
                "{}: {field}: {diffs:?}",
                text(&vector["name"])
            );
            assert!(diffs[0].starts_with(field.as_str()), "{diffs:?}");
            checked += 1;
        }
    }
    assert!(checked > 200, "only {checked} outputs tampered");
}
