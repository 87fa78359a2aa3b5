//! RAM role ARN: STS `AssumeRole`, signed with a source's credentials (a key pair, or any
//! other provider's, for role chaining), giving temporary credentials for the role.

use std::sync::Arc;

use crate::CredentialsError;
use crate::fetch::{BoxFuture, FetchCredentials, Fetched};
use crate::http::HttpSettings;
use crate::sts::{RoleSpec, StsClient, StsEndpoint};

const NAME: &str = "ram_role_arn";

/// Assumes a RAM role with STS `AssumeRole`.
///
/// ```no_run
/// # async fn demo() -> Result<(), oss_credentials::CredentialsError> {
/// use oss_credentials::{CachingProvider, RamRoleArnProvider, RoleSpec, StaticProvider, StsEndpoint};
///
/// let key = oss_sign::Credentials::new("LTAI5tExample", "secret").unwrap();
/// let role = RamRoleArnProvider::new(
///     StaticProvider::new(key, "a key pair"),
///     RoleSpec::new("acs:ram::1234567890123456:role/oss-reader"),
///     StsEndpoint::region("cn-hangzhou", true),
/// )?;
/// let provider = CachingProvider::new(role); // refreshes ahead of expiry
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct RamRoleArnProvider {
    source: Arc<dyn FetchCredentials>,
    role: RoleSpec,
    sts: StsClient,
}

impl RamRoleArnProvider {
    /// Assumes `role` with the credentials `source` gives, at `endpoint`.
    ///
    /// # Errors
    /// [`CredentialsError::InvalidSetting`] for a role STS would refuse (empty ARN, a
    /// duration outside 900-43200 s, a bad session name).
    pub fn new(
        source: impl FetchCredentials + 'static,
        role: RoleSpec,
        endpoint: StsEndpoint,
    ) -> Result<Self, CredentialsError> {
        Self::with_http(Arc::new(source), role, endpoint, HttpSettings::service())
    }

    /// [`new`](Self::new) with other timeouts or TLS trust.
    ///
    /// # Errors
    /// As [`new`](Self::new), and an unusable TLS trust.
    pub fn with_http(
        source: Arc<dyn FetchCredentials>,
        role: RoleSpec,
        endpoint: StsEndpoint,
        http: HttpSettings,
    ) -> Result<Self, CredentialsError> {
        role.validate(NAME)?;
        Ok(Self {
            source,
            role,
            sts: StsClient::new(NAME, endpoint, http)?,
        })
    }

    async fn assume(&self) -> Result<Fetched, CredentialsError> {
        // The source is asked every time: its own credentials may be temporary too.
        let source = self.source.fetch().await?;
        let credentials = self
            .sts
            .assume_role(&source.credentials, &self.role)
            .await?;
        Ok(Fetched {
            credentials,
            source: format!(
                "{NAME} `{}` via {} (signed by {})",
                self.role.role_arn,
                self.sts.endpoint().url(),
                source.source
            ),
        })
    }
}

impl FetchCredentials for RamRoleArnProvider {
    fn name(&self) -> &'static str {
        NAME
    }

    fn fetch(&self) -> BoxFuture<'_, Result<Fetched, CredentialsError>> {
        Box::pin(self.assume())
    }
}
