//! Alibaba Cloud RPC-style request signing (`SignatureMethod=HMAC-SHA1`,
//! `SignatureVersion=1.0`): how STS `AssumeRole` and the other RPC APIs are signed. Byte-exact
//! with the official signers (`fixtures/sts/sts-sign-vectors.json`, produced by running them).
//!
//! The steps, each public so a server (the emulator's STS) recomputes exactly what a client
//! sent:
//! 1. every parameter (query and form body together) except `Signature`, sorted by name in
//!    byte order, each name and value percent-encoded as RFC 3986 with uppercase hex (a space
//!    is `%20`, never `+`; `~` stays), joined `name=value&...` ([`canonicalized_query`]);
//! 2. `METHOD&%2F&` + the percent-encoding of that string ([`string_to_sign`]);
//! 3. Base64 of HMAC-SHA1 keyed with `AccessKeySecret + "&"` ([`signature`]).
//!
//! ```
//! use oss_sign::{Credentials, rpc};
//!
//! // The documented example (ECS DescribeRegions), signed as the documentation shows.
//! let params = [
//!     ("AccessKeyId", "testid"), ("Action", "DescribeRegions"), ("Format", "XML"),
//!     ("SignatureMethod", "HMAC-SHA1"),
//!     ("SignatureNonce", "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"),
//!     ("SignatureVersion", "1.0"), ("TimeStamp", "2016-02-23T12:46:24Z"),
//!     ("Version", "2014-05-26"),
//! ];
//! let creds = Credentials::new("testid", "testsecret")?;
//! assert_eq!(rpc::sign("GET", &params, &creds)?, "CT9X0VtwR86fNWSnsc6v8YGOjuE=");
//! # Ok::<(), oss_sign::SignError>(())
//! ```

use crate::encode::{Slash, push_uri_encoded, uri_encode};
use crate::{Credentials, SignError};

/// The parameter that carries the signature; it is never signed itself.
pub const SIGNATURE_PARAM: &str = "Signature";

/// Step 1: the parameters (minus [`SIGNATURE_PARAM`]) sorted by name in byte order (a stable
/// sort: repeated names keep their order), names and values percent-encoded, joined with `&`.
///
/// ```
/// let q = oss_sign::rpc::canonicalized_query(&[("b", "x y"), ("a", "1*~+"), ("Signature", "s")]);
/// assert_eq!(q, "a=1%2A~%2B&b=x%20y");
/// ```
pub fn canonicalized_query<K: AsRef<str>, V: AsRef<str>>(params: &[(K, V)]) -> String {
    let mut sorted: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .filter(|(k, _)| *k != SIGNATURE_PARAM)
        .collect();
    sorted.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut out = String::new();
    for (i, (k, v)) in sorted.into_iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        push_uri_encoded(&mut out, k.as_bytes(), Slash::Escape);
        out.push('=');
        push_uri_encoded(&mut out, v.as_bytes(), Slash::Escape);
    }
    out
}

/// Step 2: `METHOD&%2F&` + the percent-encoded canonicalized query. `method` is the HTTP
/// method actually used (`GET` and `POST` give different signatures for the same parameters).
///
/// ```
/// assert_eq!(oss_sign::rpc::string_to_sign("POST", "a=1&b=x%20y"), "POST&%2F&a%3D1%26b%3Dx%2520y");
/// ```
pub fn string_to_sign(method: &str, canonicalized_query: &str) -> String {
    format!(
        "{method}&%2F&{}",
        uri_encode(canonicalized_query, Slash::Escape)
    )
}

/// Step 3: Base64 (standard, padded) of HMAC-SHA1 over `string_to_sign`, keyed with
/// `access_key_secret + "&"`. For a server holding the secret as bytes; a client signs with
/// [`sign`].
///
/// ```
/// let sig = oss_sign::rpc::signature(b"secret", "GET&%2F&a%3D1");
/// assert_eq!(sig.len(), 28);
/// ```
pub fn signature(access_key_secret: &[u8], string_to_sign: &str) -> String {
    let mut key = zeroize::Zeroizing::new(Vec::with_capacity(access_key_secret.len() + 1));
    key.extend_from_slice(access_key_secret);
    key.push(b'&');
    crate::v1::signature_with_secret(&key, string_to_sign)
}

/// All three steps: the `Signature` parameter's value for `params` sent with `method`,
/// signed with `credentials`' secret. The parameters must already include `AccessKeyId`
/// (and `SecurityToken` for temporary credentials), as they are signed like any other.
///
/// # Errors
/// [`SignError::AnonymousCredentials`] for anonymous credentials.
pub fn sign<K: AsRef<str>, V: AsRef<str>>(
    method: &str,
    params: &[(K, V)],
    credentials: &Credentials,
) -> Result<String, SignError> {
    let (_, secret) = credentials.keys_for("RPC signing")?;
    let string = string_to_sign(method, &canonicalized_query(params));
    Ok(signature(secret, &string))
}

/// The security token of temporary credentials, for the `SecurityToken` parameter of an RPC
/// request they sign (`None` for long-term keys or anonymous).
///
/// ```
/// let creds = oss_sign::Credentials::new("STS.id", "s")?.with_security_token("tok")?;
/// assert_eq!(oss_sign::rpc::security_token(&creds), Some("tok"));
/// # Ok::<(), oss_sign::SignError>(())
/// ```
pub fn security_token(credentials: &Credentials) -> Option<&str> {
    credentials.security_token()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorting_is_bytewise_and_stable() {
        let q = canonicalized_query(&[("b", "2"), ("B", "1"), ("a", "x"), ("a", "y")]);
        assert_eq!(q, "B=1&a=x&a=y&b=2");
        assert_eq!(canonicalized_query::<&str, &str>(&[]), "");
    }

    #[test]
    fn anonymous_cannot_sign() {
        assert!(sign("GET", &[("a", "b")], &Credentials::anonymous()).is_err());
    }
}
