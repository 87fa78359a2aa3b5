//! The default chain: the credentials SDKs' order (`docs/credentials.md` cites it), with the
//! OSS SDKs' `OSS_*` variables first:
//!
//! 1. `env`: `OSS_ACCESS_KEY_ID`/`OSS_ACCESS_KEY_SECRET` (+ `OSS_SESSION_TOKEN`), then
//!    `ALIBABA_CLOUD_ACCESS_KEY_ID`/`_SECRET` (+ `ALIBABA_CLOUD_SECURITY_TOKEN`);
//! 2. `oidc_role_arn`: `ALIBABA_CLOUD_ROLE_ARN` + `_OIDC_PROVIDER_ARN` + `_OIDC_TOKEN_FILE`;
//! 3. `cli_profile`: `~/.aliyun/config.json` (unless `ALIBABA_CLOUD_CLI_PROFILE_DISABLED`);
//! 4. `ini_profile`: `~/.alibabacloud/credentials.ini`;
//! 5. `ecs_ram_role`: the instance metadata service (unless
//!    `ALIBABA_CLOUD_ECS_METADATA_DISABLED`);
//! 6. `credentials_uri`: `ALIBABA_CLOUD_CREDENTIALS_URI`.
//!
//! A provider that is not configured is skipped, with the reason recorded. Where the SDKs also
//! skip a provider that *is* configured but fails (a malformed profile, half of the OIDC
//! variables, an STS refusal) and so may sign with another identity without a word, this chain
//! stops there with that provider's error. The one exception is the metadata service: an
//! address that does not answer means "not on ECS" and is skipped quickly. Once a provider has
//! supplied credentials, every later fetch (a refresh) asks that provider only.

use std::sync::{Arc, Mutex};

use crate::error::Why;
use crate::fetch::{BoxFuture, FetchCredentials, Fetched};
use crate::http::HttpSettings;
use crate::imds::EcsRamRoleProvider;
use crate::oidc::OidcProvider;
use crate::profile::{CliProfileProvider, IniProfileProvider};
use crate::uri::CredentialsUriProvider;
use crate::{CredentialsError, Environment, EnvironmentProvider};

/// One link of the chain: its provider, or why it could not even be built.
struct Link {
    name: &'static str,
    provider: Result<Arc<dyn FetchCredentials>, CredentialsError>,
    /// A profile file: a profile it lacks may be in the next one.
    is_profile: bool,
    /// The metadata service: no answer means "not on an instance".
    skip_unreachable: bool,
}

/// Builds a [`DefaultChain`].
#[derive(Debug, Clone)]
#[must_use]
pub struct ChainBuilder {
    env: Environment,
    profile: Option<String>,
    metadata_endpoint: Option<String>,
    http: HttpSettings,
    metadata_http: HttpSettings,
}

impl ChainBuilder {
    /// Use only this profile, from `~/.aliyun/config.json` or else the INI file
    /// (`--profile NAME`): no other source is tried, and a profile in neither is an error.
    pub fn profile(mut self, name: impl Into<String>) -> Self {
        self.profile = Some(name.into());
        self
    }

    /// Ask the metadata service at this address instead of `http://100.100.100.200`.
    pub fn metadata_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.metadata_endpoint = Some(endpoint.into());
        self
    }

    /// Timeouts and TLS trust for STS and credentials URIs.
    pub fn http(mut self, settings: HttpSettings) -> Self {
        self.http = settings;
        self
    }

    /// Timeouts for the metadata service (default [`HttpSettings::metadata`]).
    pub fn metadata_http(mut self, settings: HttpSettings) -> Self {
        self.metadata_http = settings;
        self
    }

    fn cli(&self) -> CliProfileProvider {
        let mut p = CliProfileProvider::new(self.env.clone()).http(self.http.clone());
        if let Some(e) = &self.metadata_endpoint {
            p = p.metadata_endpoint(e);
        }
        match &self.profile {
            Some(name) => p.profile(name),
            None => p,
        }
    }

    fn ini(&self) -> IniProfileProvider {
        let mut p = IniProfileProvider::new(self.env.clone()).http(self.http.clone());
        if let Some(e) = &self.metadata_endpoint {
            p = p.metadata_endpoint(e);
        }
        match &self.profile {
            Some(name) => p.profile(name),
            None => p,
        }
    }

    /// The chain (nothing is read or requested yet).
    pub fn build(self) -> DefaultChain {
        let env = &self.env;
        let link = |name, provider: Result<Arc<dyn FetchCredentials>, CredentialsError>| Link {
            name,
            provider,
            is_profile: false,
            skip_unreachable: false,
        };
        let profile_link = |name, provider: Arc<dyn FetchCredentials>| Link {
            name,
            provider: Ok(provider),
            is_profile: true,
            skip_unreachable: false,
        };
        let mut links = Vec::new();
        if self.profile.is_none() {
            links.push(link(
                "env",
                Ok(Arc::new(EnvironmentProvider::new(env.clone()))),
            ));
            links.push(link(
                "oidc_role_arn",
                OidcProvider::from_env(env, self.http.clone()).map(|p| Arc::new(p) as _),
            ));
        }
        if self.profile.is_none() && env.flag("ALIBABA_CLOUD_CLI_PROFILE_DISABLED") {
            links.push(link(
                "cli_profile",
                Err(CredentialsError::not_applicable(
                    "cli_profile",
                    "disabled by ALIBABA_CLOUD_CLI_PROFILE_DISABLED",
                )),
            ));
        } else {
            links.push(profile_link("cli_profile", Arc::new(self.cli())));
        }
        links.push(profile_link("ini_profile", Arc::new(self.ini())));
        if self.profile.is_none() {
            let imds = EcsRamRoleProvider::from_env(env).and_then(|p| {
                let p = p.http(self.metadata_http.clone())?;
                Ok(match &self.metadata_endpoint {
                    Some(e) => p.endpoint(e),
                    None => p,
                })
            });
            links.push(Link {
                name: "ecs_ram_role",
                provider: imds.map(|p| Arc::new(p) as _),
                is_profile: false,
                skip_unreachable: true,
            });
            links.push(link(
                "credentials_uri",
                CredentialsUriProvider::from_env(env, self.http.clone()).map(|p| Arc::new(p) as _),
            ));
        }
        let profile_named = self.profile.is_some() || env.get("ALIBABA_CLOUD_PROFILE").is_some();
        DefaultChain {
            links,
            profile_named,
            winner: Mutex::new(None),
        }
    }
}

/// The default credentials chain, as one [`FetchCredentials`]: wrap it in a
/// [`crate::CachingProvider`] to sign with it.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use oss_credentials::{DefaultChain, Environment, FetchCredentials};
///
/// let env = Environment::new()
///     .var("OSS_ACCESS_KEY_ID", "LTAI5tExample")
///     .var("OSS_ACCESS_KEY_SECRET", "secret");
/// let fetched = DefaultChain::builder(env).build().fetch().await.unwrap();
/// assert_eq!(fetched.source, "env (OSS_ACCESS_KEY_ID)");
///
/// // Nothing configured, and no metadata service: the error lists what was tried.
/// let env = Environment::new().var("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true");
/// let e = DefaultChain::builder(env).build().fetch().await.unwrap_err();
/// assert!(e.to_string().contains("env (neither OSS_ACCESS_KEY_ID"));
/// # }
/// ```
pub struct DefaultChain {
    links: Vec<Link>,
    profile_named: bool,
    /// The link that supplied credentials first; later fetches ask it only.
    winner: Mutex<Option<usize>>,
}

impl std::fmt::Debug for DefaultChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.links.iter().map(|l| l.name).collect();
        f.debug_struct("DefaultChain")
            .field("links", &names)
            .field("winner", &self.winner())
            .finish()
    }
}

impl DefaultChain {
    /// A builder reading `env` (use [`Environment::from_process`] for the process's).
    pub fn builder(env: Environment) -> ChainBuilder {
        ChainBuilder {
            env,
            profile: None,
            metadata_endpoint: None,
            http: HttpSettings::service(),
            metadata_http: HttpSettings::metadata(),
        }
    }

    /// The providers in the order they are tried.
    pub fn providers(&self) -> Vec<&'static str> {
        self.links.iter().map(|l| l.name).collect()
    }

    fn winner(&self) -> Option<usize> {
        *self
            .winner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn discover(&self) -> Result<Fetched, CredentialsError> {
        if let Some(i) = self.winner() {
            let Some(Ok(provider)) = self.links.get(i).map(|l| &l.provider) else {
                return Err(CredentialsError::NoCredentials { tried: Vec::new() });
            };
            return provider.fetch().await;
        }
        let mut skipped: Vec<(String, String)> = Vec::new();
        let mut missing_profile: Option<CredentialsError> = None;
        for (i, link) in self.links.iter().enumerate() {
            let outcome = match &link.provider {
                Ok(provider) => provider.fetch().await,
                Err(e) => Err(clone_reason(e)),
            };
            let error = match outcome {
                Ok(fetched) => {
                    *self
                        .winner
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(i);
                    tracing::info!("credentials: using {}", fetched.source);
                    return Ok(fetched);
                }
                Err(e) => e,
            };
            let skip = error.is_not_applicable()
                || (link.is_profile && matches!(error, CredentialsError::ProfileNotFound { .. }))
                || (link.skip_unreachable && matches!(error, CredentialsError::Unreachable { .. }));
            if !skip {
                return Err(CredentialsError::ChainStopped {
                    provider: link.name.to_owned(),
                    skipped,
                    source: Box::new(error),
                });
            }
            let why = match &error {
                CredentialsError::Unreachable {
                    endpoint, source, ..
                } => {
                    format!(
                        "no metadata service at {endpoint}: {}",
                        crate::error::error_chain(source.as_ref())
                    )
                }
                other => Why(other).to_string(),
            };
            tracing::debug!("credentials: {} skipped: {why}", link.name);
            skipped.push((link.name.to_owned(), why));
            if matches!(error, CredentialsError::ProfileNotFound { .. }) {
                missing_profile = Some(error);
            }
            let last_profile_link =
                link.is_profile && !self.links.get(i + 1).is_some_and(|next| next.is_profile);
            if last_profile_link
                && self.profile_named
                && let Some(missing) = missing_profile.take()
            {
                // A profile asked for by name and found in no file: an error, not another
                // identity.
                return Err(CredentialsError::ChainStopped {
                    provider: "profile".to_owned(),
                    skipped,
                    source: Box::new(missing),
                });
            }
        }
        Err(CredentialsError::NoCredentials { tried: skipped })
    }
}

/// A provider that could not be built is reported again at each attempt (errors are not
/// `Clone`; the not-applicable ones and the incomplete ones are all that can happen here).
fn clone_reason(e: &CredentialsError) -> CredentialsError {
    match e {
        CredentialsError::NotApplicable { provider, reason } => CredentialsError::NotApplicable {
            provider,
            reason: reason.clone(),
        },
        CredentialsError::Incomplete {
            provider,
            present,
            missing,
        } => CredentialsError::Incomplete {
            provider,
            present: present.clone(),
            missing: missing.clone(),
        },
        other => CredentialsError::invalid_setting("chain", "provider", other.to_string()),
    }
}

impl FetchCredentials for DefaultChain {
    fn name(&self) -> &'static str {
        "default chain"
    }

    fn fetch(&self) -> BoxFuture<'_, Result<Fetched, CredentialsError>> {
        Box::pin(self.discover())
    }
}
