//! The seam every provider implements: one asynchronous fetch of credentials, uncached.
//! [`crate::CachingProvider`] turns any of them into an `oss_sign::ProvideCredentials` that
//! signs from a cache and refreshes ahead of expiry.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use oss_sign::Credentials;

use crate::CredentialsError;

/// A boxed future that is `Send` (providers are called from any runtime thread).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Credentials just fetched, and where they came from.
#[derive(Clone)]
pub struct Fetched {
    /// The credentials; temporary ones carry their [`expiry`](Credentials::expiry) in local
    /// time (corrected by the service's `Date` when the clocks differ).
    pub credentials: Credentials,
    /// Which source supplied them, for logs: `env (OSS_ACCESS_KEY_ID)`,
    /// `cli_profile "dev" (RamRoleArn)`, `ecs_ram_role "Role"`... Never a secret.
    pub source: String,
}

impl fmt::Debug for Fetched {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fetched")
            .field("credentials", &self.credentials)
            .field("source", &self.source)
            .finish()
    }
}

/// One source of credentials, fetched afresh on every call (no caching here).
///
/// Dyn-compatible (the default chain holds a list of them), with a boxed future instead of an
/// `async fn` for that reason.
pub trait FetchCredentials: Send + Sync + fmt::Debug {
    /// The provider's name (`env`, `ecs_ram_role`, `default chain`...), for errors and logs.
    fn name(&self) -> &'static str;

    /// Fetches credentials.
    ///
    /// # Errors
    /// [`CredentialsError::NotApplicable`] when the source is not configured here; any other
    /// variant when it is and failed.
    fn fetch(&self) -> BoxFuture<'_, Result<Fetched, CredentialsError>>;
}

impl<T: FetchCredentials + ?Sized> FetchCredentials for Arc<T> {
    fn name(&self) -> &'static str {
        (**self).name()
    }

    fn fetch(&self) -> BoxFuture<'_, Result<Fetched, CredentialsError>> {
        (**self).fetch()
    }
}

impl<T: FetchCredentials + ?Sized> FetchCredentials for Box<T> {
    fn name(&self) -> &'static str {
        (**self).name()
    }

    fn fetch(&self) -> BoxFuture<'_, Result<Fetched, CredentialsError>> {
        (**self).fetch()
    }
}

/// Fixed credentials as a source (what a profile's `AK` or `StsToken` mode gives).
#[derive(Clone)]
pub struct StaticProvider {
    credentials: Credentials,
    source: String,
}

impl StaticProvider {
    /// These credentials, described as `source` in logs.
    pub fn new(credentials: Credentials, source: impl Into<String>) -> Self {
        Self {
            credentials,
            source: source.into(),
        }
    }
}

impl fmt::Debug for StaticProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticProvider")
            .field("credentials", &self.credentials)
            .field("source", &self.source)
            .finish()
    }
}

impl FetchCredentials for StaticProvider {
    fn name(&self) -> &'static str {
        "static"
    }

    fn fetch(&self) -> BoxFuture<'_, Result<Fetched, CredentialsError>> {
        let fetched = Fetched {
            credentials: self.credentials.clone(),
            source: self.source.clone(),
        };
        Box::pin(std::future::ready(Ok(fetched)))
    }
}
