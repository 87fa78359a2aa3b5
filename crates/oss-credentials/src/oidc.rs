//! OIDC (ACK RRSA, CI systems): STS `AssumeRoleWithOIDC` with the token in a file that the
//! platform rotates, so the file is read again at every refresh.

use std::path::PathBuf;

use crate::fetch::{BoxFuture, FetchCredentials, Fetched};
use crate::http::HttpSettings;
use crate::sts::{RoleSpec, StsClient, StsEndpoint};
use crate::{CredentialsError, Environment};

const NAME: &str = "oidc_role_arn";

/// The three variables the OIDC provider needs, all or none.
pub const OIDC_VARIABLES: [&str; 3] = [
    "ALIBABA_CLOUD_ROLE_ARN",
    "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
    "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
];

/// Assumes a RAM role with an OIDC token (`AssumeRoleWithOIDC`, not signed).
#[derive(Debug, Clone)]
pub struct OidcProvider {
    provider_arn: String,
    token_file: PathBuf,
    role: RoleSpec,
    sts: StsClient,
}

impl OidcProvider {
    /// Assumes `role` as the OIDC provider `provider_arn`, with the token in `token_file`.
    ///
    /// # Errors
    /// [`CredentialsError::InvalidSetting`] for a role STS would refuse or an empty provider
    /// ARN.
    pub fn new(
        provider_arn: impl Into<String>,
        token_file: impl Into<PathBuf>,
        role: RoleSpec,
        endpoint: StsEndpoint,
        http: HttpSettings,
    ) -> Result<Self, CredentialsError> {
        let provider_arn = provider_arn.into();
        if provider_arn.trim().is_empty() {
            return Err(CredentialsError::invalid_setting(
                NAME,
                "OIDC provider ARN",
                "it is empty; write acs:ram::<account id>:oidc-provider/<name>",
            ));
        }
        role.validate(NAME)?;
        Ok(Self {
            provider_arn,
            token_file: token_file.into(),
            role,
            sts: StsClient::new(NAME, endpoint, http)?,
        })
    }

    /// From `ALIBABA_CLOUD_ROLE_ARN`, `ALIBABA_CLOUD_OIDC_PROVIDER_ARN` and
    /// `ALIBABA_CLOUD_OIDC_TOKEN_FILE` (plus `ALIBABA_CLOUD_ROLE_SESSION_NAME` and the STS
    /// endpoint variables).
    ///
    /// # Errors
    /// [`CredentialsError::NotApplicable`] when none of the three is set;
    /// [`CredentialsError::Incomplete`] naming the missing ones when only some are.
    pub fn from_env(env: &Environment, http: HttpSettings) -> Result<Self, CredentialsError> {
        let (present, missing): (Vec<&str>, Vec<&str>) =
            OIDC_VARIABLES.iter().partition(|v| env.get(v).is_some());
        if present.is_empty() {
            return Err(CredentialsError::not_applicable(
                NAME,
                "ALIBABA_CLOUD_ROLE_ARN, ALIBABA_CLOUD_OIDC_PROVIDER_ARN and ALIBABA_CLOUD_OIDC_TOKEN_FILE are not set",
            ));
        }
        if !missing.is_empty() {
            return Err(CredentialsError::Incomplete {
                provider: NAME,
                present: present.iter().map(|s| (*s).to_owned()).collect(),
                missing: missing.iter().map(|s| (*s).to_owned()).collect(),
            });
        }
        let get = |name: &str| env.get(name).unwrap_or_default().to_owned();
        let mut role = RoleSpec::new(get("ALIBABA_CLOUD_ROLE_ARN"));
        if let Some(name) = env.get("ALIBABA_CLOUD_ROLE_SESSION_NAME") {
            role.session_name = name.to_owned();
        }
        Self::new(
            get("ALIBABA_CLOUD_OIDC_PROVIDER_ARN"),
            get("ALIBABA_CLOUD_OIDC_TOKEN_FILE"),
            role,
            StsEndpoint::from_env(env)?,
            http,
        )
    }

    async fn assume(&self) -> Result<Fetched, CredentialsError> {
        // Read at every refresh: the platform replaces the token before it expires. Small,
        // local file: a blocking read is shorter than a hop to the blocking pool.
        let token =
            std::fs::read_to_string(&self.token_file).map_err(|source| CredentialsError::File {
                provider: NAME,
                path: self.token_file.clone(),
                source,
            })?;
        if token.trim().is_empty() {
            return Err(CredentialsError::invalid_setting(
                NAME,
                "OIDC token file",
                format!("`{}` is empty", self.token_file.display()),
            ));
        }
        let credentials = self
            .sts
            .assume_role_with_oidc(&self.provider_arn, &token, &self.role)
            .await?;
        Ok(Fetched {
            credentials,
            source: format!(
                "{NAME} `{}` via {}",
                self.role.role_arn,
                self.sts.endpoint().url()
            ),
        })
    }
}

impl FetchCredentials for OidcProvider {
    fn name(&self) -> &'static str {
        NAME
    }

    fn fetch(&self) -> BoxFuture<'_, Result<Fetched, CredentialsError>> {
        Box::pin(self.assume())
    }
}
