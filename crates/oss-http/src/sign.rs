//! The seam between the transport and request signing (oss-sign).
//!
//! Every attempt is signed at send time, just before it goes out: V4 signatures are valid for
//! 15 minutes and STS tokens expire during long runs, so a signature made when a download
//! started would fail hours later; the credentials provider is asked again for every attempt.
//! The signer sees the request's headers (our fixed ones, the caller's extra ones, `Range`,
//! `If-Match`), the resource (bucket + raw key, or the bucket alone for a listing) and the
//! decoded query, never the URL's host or path, so addressing style cannot change a signature.

use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use oss_sign::{
    Credentials, ProvideCredentials, Query, ReadyFuture, Resource, SignableRequest,
    SignatureVersion, SigningConfig, SigningTime,
};

use crate::error::Error;

/// What a signer needs besides the request parts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SignContext<'a> {
    pub(crate) bucket: &'a str,
    /// The raw key; `None` for a bucket-level request (a listing), whose resource is
    /// `/bucket/`.
    pub(crate) key: Option<&'a str>,
    /// The decoded query the URL carries (`versionId`, a listing's parameters): V4 signs all
    /// of it, V1 its subresources (`continuation-token` among them).
    pub(crate) query: &'a Query,
    /// The time to sign with (the local clock, corrected by any skew OSS reported).
    pub(crate) time: SystemTime,
}

/// Signs one attempt in place (adds `Authorization`, `x-oss-date`, a security token...).
pub(crate) trait RequestSigner: Send + Sync + fmt::Debug {
    /// Signs, returning the credentials used (to hand back to the provider if OSS refuses
    /// them).
    fn sign(
        &self,
        parts: &mut http::request::Parts,
        ctx: &SignContext<'_>,
    ) -> Result<Credentials, Error>;

    /// Waits until the provider has credentials to sign with ([`ProvideCredentials::ready`]).
    fn ready(&self) -> ReadyFuture<'_>;

    /// OSS refused `used` as unknown or expired: whether the provider refreshed, so that a
    /// retry is signed with other credentials ([`ProvideCredentials::credentials_rejected`]).
    fn rejected(&self, used: &Credentials) -> bool;
}

/// Signs with oss-sign, asking the provider for credentials on every attempt.
pub(crate) struct OssSigner {
    config: SigningConfig,
    provider: Arc<dyn ProvideCredentials>,
}

impl OssSigner {
    /// A signer for `version` (V4 needs `region`). Errors are configuration errors.
    pub(crate) fn new(
        version: SignatureVersion,
        region: Option<&str>,
        provider: Arc<dyn ProvideCredentials>,
    ) -> Result<Self, Error> {
        let config = match version {
            SignatureVersion::V1 => SigningConfig::v1(),
            // `region` presence is checked by the builder, which knows the endpoint to name.
            _ => SigningConfig::new(version, region.unwrap_or_default())
                .map_err(|e| Error::config("region", e.to_string()))?,
        };
        Ok(Self { config, provider })
    }
}

impl fmt::Debug for OssSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OssSigner")
            .field("version", &self.config.version())
            .field("region", &self.config.region())
            .field("credentials", &"<provider>")
            .finish()
    }
}

impl RequestSigner for OssSigner {
    fn sign(
        &self,
        parts: &mut http::request::Parts,
        ctx: &SignContext<'_>,
    ) -> Result<Credentials, Error> {
        let signing = |source| Error::Signing { source };
        let credentials = self.provider.provide_credentials().map_err(signing)?;
        let time = SigningTime::from_system_time(ctx.time).map_err(signing)?;
        let resource = match ctx.key {
            Some(key) => Resource::object(ctx.bucket, key),
            None => Resource::bucket(ctx.bucket),
        };
        let request = SignableRequest::new(&parts.method, resource, ctx.query, &parts.headers);
        let output = oss_sign::sign(&request, &self.config, &credentials, time).map_err(signing)?;
        output.apply_to(&mut parts.headers);
        Ok(credentials)
    }

    fn ready(&self) -> ReadyFuture<'_> {
        self.provider.ready()
    }

    fn rejected(&self, used: &Credentials) -> bool {
        self.provider.credentials_rejected(used)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: http::Method) -> http::request::Parts {
        let (parts, ()) = http::Request::builder()
            .method(method)
            .uri("http://b.example.com/k")
            .body(())
            .unwrap()
            .into_parts();
        parts
    }

    #[test]
    fn signs_v4_and_v1_and_never_shows_the_secret() {
        let creds = Credentials::new(
            "LTAI5tExampleAccessKeyId",
            "ExampleSecretKey0123456789abcdefABCD",
        )
        .unwrap();
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_705_307_400);
        let query = Query::new().with("versionId", "v1");
        let ctx = SignContext {
            bucket: "examplebucket",
            key: Some("dir/a b.txt"),
            query: &query,
            time: t,
        };
        let v4 = OssSigner::new(
            SignatureVersion::V4,
            Some("cn-hangzhou"),
            Arc::new(creds.clone()),
        )
        .unwrap();
        let mut p = parts(http::Method::GET);
        v4.sign(&mut p, &ctx).unwrap();
        let auth = p.headers["authorization"].to_str().unwrap();
        assert!(auth.starts_with("OSS4-HMAC-SHA256 Credential=LTAI5tExampleAccessKeyId/20240115/cn-hangzhou/oss/aliyun_v4_request"), "{auth}");
        assert_eq!(p.headers["x-oss-date"], "20240115T083000Z");

        let v1 = OssSigner::new(SignatureVersion::V1, None, Arc::new(creds)).unwrap();
        let mut p = parts(http::Method::HEAD);
        v1.sign(&mut p, &ctx).unwrap();
        let auth = p.headers["authorization"].to_str().unwrap();
        assert!(auth.starts_with("OSS LTAI5tExampleAccessKeyId:"), "{auth}");
        assert!(!format!("{v1:?}{v4:?}").contains("ExampleSecretKey"));
    }

    #[test]
    fn a_failing_provider_is_a_signing_error() {
        let provider = || -> Result<Credentials, oss_sign::SignError> {
            Err(oss_sign::SignError::credentials_unavailable(
                "metadata service down",
                true,
                None,
            ))
        };
        let signer = OssSigner::new(SignatureVersion::V1, None, Arc::new(provider)).unwrap();
        let ctx = SignContext {
            bucket: "b",
            key: Some("k"),
            query: Query::empty(),
            time: SystemTime::now(),
        };
        let e = signer
            .sign(&mut parts(http::Method::GET), &ctx)
            .unwrap_err();
        assert!(matches!(e, Error::Signing { .. }), "{e:?}");
        assert_eq!(
            e.retry_reason(),
            Some(crate::RetryReason::CredentialsUnavailable)
        );
    }

    #[test]
    fn v4_with_a_bad_region_is_a_config_error() {
        let e = OssSigner::new(
            SignatureVersion::V4,
            Some("bad region"),
            Arc::new(Credentials::anonymous()),
        )
        .unwrap_err();
        assert!(
            matches!(
                e,
                Error::Config {
                    setting: "region",
                    ..
                }
            ),
            "{e:?}"
        );
    }
}
