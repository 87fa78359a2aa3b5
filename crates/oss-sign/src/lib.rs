//! Alibaba Cloud OSS request signing, byte-exact with the official SDKs: V4
//! (`OSS4-HMAC-SHA256`, the default) and V1 (HMAC-SHA1) header authentication and
//! presigned URLs, STS tokens, anonymous access, and the verification side a server needs.
//!
//! Pure functions over [`http`] types: no async runtime, no HTTP client, no I/O. Time is an
//! input ([`SigningTime`]); [`sign`] returns the headers to set and [`presign`] the query
//! to append, like `aws-sigv4`'s `sign()`. The request is described by method,
//! [`Resource`] (bucket + raw key, so the addressing style can never change a signature),
//! decoded [`Query`] and `HeaderMap` ([`SignableRequest`]).
//!
//! ```
//! use http::{HeaderMap, HeaderValue, Method};
//! use oss_sign::{Credentials, Query, Resource, SignableRequest, SigningConfig, SigningTime, sign};
//!
//! let creds = Credentials::from_env_with(|name| match name {
//!     "OSS_ACCESS_KEY_ID" => Some("LTAI5tExampleAccessKeyId".into()),
//!     "OSS_ACCESS_KEY_SECRET" => Some("ExampleSecretKey0123456789abcdefABCD".into()),
//!     _ => None,
//! })?;
//! let config = SigningConfig::v4("cn-hangzhou")?;
//!
//! let mut headers = HeaderMap::new();
//! headers.insert("range", HeaderValue::from_static("bytes=0-1023"));
//! let request = SignableRequest::new(&Method::GET,
//!     Resource::object("examplebucket", "exampledir/exampleobject.txt"), Query::empty(), &headers);
//! let signed = sign(&request, &config, &creds, SigningTime::from_unix_seconds(1_705_307_400)?)?;
//! signed.apply_to(&mut headers);
//! assert_eq!(headers["x-oss-date"], "20240115T083000Z");
//! assert_eq!(headers["x-oss-content-sha256"], "UNSIGNED-PAYLOAD");
//! assert!(headers.contains_key("authorization"));
//! # Ok::<(), oss_sign::SignError>(())
//! ```
//!
//! - Signing: [`sign`], [`presign`], [`SigningConfig`], [`SignatureVersion`].
//! - Credentials: [`Credentials`] (secrets redacted in `Debug`/`Display`, zeroed on drop),
//!   [`Credentials::from_env`], [`Credentials::anonymous`], [`ProvideCredentials`].
//! - Encoding: [`uri_encode`] (OSS's `UriEncode`), [`Query`], URL building with
//!   [`AddressStyle`].
//! - The steps, public for servers and tests: [`v1`], [`v4`] (canonical request, string to
//!   sign, signing key, and parsers for what a request carries).
//! - [`rpc`]: Alibaba Cloud RPC-style signing (HMAC-SHA1, version 1.0), how STS
//!   `AssumeRole` is signed (byte-exact with the official signers, `fixtures/sts/`).
//! - With the `verify` feature, the `verify` module: parse a received request's
//!   authentication and recompute the signature it should carry (what the OSS emulator
//!   does). A client does not need it.
//!
//! # What this crate promises
//!
//! - **Byte-exact signatures.** [`sign`] and [`presign`] produce exactly what the official
//!   SDKs produce for the same inputs (checked against their vectors in `fixtures/sign/`),
//!   and the addressing style can never change a signature.
//! - **Pure and deterministic.** No I/O, no async runtime, no HTTP client; time is an input,
//!   so the same inputs always give the same output. (The system clock is read only by
//!   [`SigningTime::now`], the environment only by [`Credentials::from_env`].)
//! - **Secrets stay in.** Access key secrets, security tokens, signing keys and signatures
//!   never appear in `Debug`/`Display` output or in a [`SignError`]; the secret and token
//!   are zeroed when the last clone of the [`Credentials`] is dropped.
//! - **No panics on any input**, and no `unsafe`: bad input is a [`SignError`] that names
//!   the problem and the fix.
//!
//! Everything re-exported at the root, plus the `v1` and `v4` steps, is the contract; with
//! `verify`, that module too.

mod config;
mod credentials;
mod encode;
mod error;
mod headers;
mod request;
pub mod rpc;
mod sign;
mod time;
pub mod v1;
pub mod v4;
#[cfg(feature = "verify")]
pub mod verify;

pub use config::{ParseSignatureVersionError, SignatureVersion, SigningConfig};
pub use credentials::{
    Credentials, ENV_ACCESS_KEY_ID, ENV_ACCESS_KEY_SECRET, ENV_SESSION_TOKEN, ProvideCredentials,
    ReadyFuture,
};
pub use encode::{Slash, uri_encode};
pub use error::SignError;
pub use request::{AddressStyle, Query, Resource, SignableRequest};
pub use sign::{
    Presigned, SignatureDetails, SigningOutput, V1_PRESIGN_PARAMS, V4_PRESIGN_PARAMS, presign, sign,
};
pub use time::SigningTime;
