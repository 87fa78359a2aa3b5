//! Profile files: aliyun-cli's `~/.aliyun/config.json` ([`CliProfileProvider`]) and the
//! credentials SDKs' INI file ([`IniProfileProvider`]). Each names, per profile, a *mode*
//! that picks one of this crate's providers (a key pair, an STS token, a RAM role ARN, the
//! ECS RAM role, OIDC, a credentials URI); the file is read once, at the first fetch, and the
//! provider it describes is kept (the official SDKs do the same). Files are never written.
//!
//! Errors name the file, the profile and the field, and how to fix them; a profile that is
//! asked for by name (`--profile`, `ALIBABA_CLOUD_PROFILE`) and missing is an error, never a
//! silent fall-through to another identity.

/// The parts both profile providers share: the struct, its builder methods, `Debug`, and
/// `FetchCredentials` (its provider built from the file at the first fetch, then kept). Each
/// file format supplies `fn build(&self)`.
macro_rules! profile_provider {
    ($(#[$doc:meta])* $name:ident, $provider:expr) => {
        $(#[$doc])*
        pub struct $name {
            ctx: $crate::profile::Context,
            file: Option<std::path::PathBuf>,
            profile: Option<String>,
            lazy: $crate::profile::Lazy,
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("file", &self.file)
                    .field("profile", &self.profile)
                    .finish_non_exhaustive()
            }
        }

        impl $name {
            /// Reads the file `env` points to.
            pub fn new(env: $crate::Environment) -> Self {
                Self {
                    ctx: $crate::profile::Context::new(env),
                    file: None,
                    profile: None,
                    lazy: $crate::profile::Lazy::new(),
                }
            }

            /// Another file.
            pub fn file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
                self.file = Some(path.into());
                self
            }

            /// This profile (`--profile NAME`).
            pub fn profile(mut self, name: impl Into<String>) -> Self {
                self.profile = Some(name.into());
                self
            }

            /// Timeouts and TLS trust for the services the profile calls (STS, a URI).
            pub fn http(mut self, settings: $crate::HttpSettings) -> Self {
                self.ctx.http = settings;
                self
            }

            /// The metadata service's address for ECS RAM role profiles.
            pub fn metadata_endpoint(mut self, endpoint: impl Into<String>) -> Self {
                self.ctx.metadata_endpoint = Some(endpoint.into());
                self
            }
        }

        impl $crate::FetchCredentials for $name {
            fn name(&self) -> &'static str {
                $provider
            }

            fn fetch(
                &self,
            ) -> $crate::BoxFuture<'_, Result<$crate::Fetched, $crate::CredentialsError>> {
                Box::pin(async move {
                    let (inner, described) = self.lazy.get(|| self.build())?;
                    $crate::profile::fetch_described(inner, described).await
                })
            }
        }
    };
}

mod cli;
mod ini;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use oss_sign::Credentials;

pub use cli::CliProfileProvider;
pub use ini::IniProfileProvider;

use crate::fetch::{FetchCredentials, Fetched, StaticProvider};
use crate::http::HttpSettings;
use crate::imds::EcsRamRoleProvider;
use crate::oidc::OidcProvider;
use crate::ram_role::RamRoleArnProvider;
use crate::sts::{RoleSpec, StsEndpoint};
use crate::uri::CredentialsUriProvider;
use crate::{CredentialsError, Environment};

/// What every profile-built provider shares: the environment, timeouts and TLS trust, and
/// the metadata service's address.
#[derive(Clone, Debug)]
pub(crate) struct Context {
    pub(crate) env: Environment,
    pub(crate) http: HttpSettings,
    pub(crate) metadata_endpoint: Option<String>,
}

impl Context {
    pub(crate) fn new(env: Environment) -> Self {
        Self {
            env,
            http: HttpSettings::service(),
            metadata_endpoint: None,
        }
    }
}

/// Where in a file a value came from, for errors.
#[derive(Clone, Debug)]
pub(crate) struct Place<'a> {
    pub(crate) file: &'a Path,
    pub(crate) profile: &'a str,
}

impl Place<'_> {
    pub(crate) fn error(
        &self,
        field: Option<&str>,
        problem: impl Into<String>,
    ) -> CredentialsError {
        CredentialsError::Config {
            file: self.file.to_owned(),
            profile: Some(self.profile.to_owned()),
            field: field.map(str::to_owned),
            problem: problem.into(),
        }
    }
}

/// The settings of a role a profile assumes.
pub(crate) struct RoleFields {
    pub(crate) role_arn: String,
    pub(crate) session_name: Option<String>,
    pub(crate) duration: Option<u64>,
    pub(crate) policy: Option<String>,
    pub(crate) external_id: Option<String>,
    pub(crate) sts_endpoint: Option<String>,
    pub(crate) sts_region: Option<String>,
    pub(crate) enable_vpc: bool,
}

impl RoleFields {
    fn spec(&self) -> RoleSpec {
        let mut spec = RoleSpec::new(&self.role_arn);
        if let Some(name) = &self.session_name {
            spec.session_name.clone_from(name);
        }
        if let Some(secs) = self.duration.filter(|s| *s > 0) {
            spec.duration = Duration::from_secs(secs);
        }
        spec.policy.clone_from(&self.policy);
        spec.external_id.clone_from(&self.external_id);
        spec
    }

    /// The profile's STS endpoint: its own settings, else the environment's.
    fn endpoint(&self, ctx: &Context) -> Result<StsEndpoint, CredentialsError> {
        if self.sts_endpoint.is_some() || self.sts_region.is_some() {
            StsEndpoint::resolve(
                self.sts_endpoint.as_deref(),
                self.sts_region.as_deref(),
                self.enable_vpc,
            )
        } else {
            StsEndpoint::from_env(&ctx.env)
        }
    }
}

/// A key pair, with a token for temporary keys.
pub(crate) fn key_pair(
    place: &Place<'_>,
    id: &str,
    secret: &str,
    token: Option<&str>,
) -> Result<Credentials, CredentialsError> {
    let creds = Credentials::new(id, secret)
        .map_err(|e| place.error(Some("access_key_id"), e.to_string()))?;
    match token.filter(|t| !t.is_empty()) {
        Some(token) => creds
            .with_security_token(token)
            .map_err(|e| place.error(Some("sts_token"), e.to_string())),
        None => Ok(creds),
    }
}

pub(crate) fn static_provider(
    credentials: Credentials,
    described: String,
) -> Arc<dyn FetchCredentials> {
    Arc::new(StaticProvider::new(credentials, described))
}

pub(crate) fn ram_role(
    ctx: &Context,
    source: Arc<dyn FetchCredentials>,
    fields: &RoleFields,
) -> Result<Arc<dyn FetchCredentials>, CredentialsError> {
    Ok(Arc::new(RamRoleArnProvider::with_http(
        source,
        fields.spec(),
        fields.endpoint(ctx)?,
        ctx.http.clone(),
    )?))
}

pub(crate) fn oidc(
    ctx: &Context,
    provider_arn: &str,
    token_file: &str,
    fields: &RoleFields,
) -> Result<Arc<dyn FetchCredentials>, CredentialsError> {
    Ok(Arc::new(OidcProvider::new(
        provider_arn,
        token_file,
        fields.spec(),
        fields.endpoint(ctx)?,
        ctx.http.clone(),
    )?))
}

pub(crate) fn ecs_ram_role(
    ctx: &Context,
    role: Option<String>,
) -> Result<Arc<dyn FetchCredentials>, CredentialsError> {
    let mut p = EcsRamRoleProvider::new(role)?
        .imdsv1_disabled(ctx.env.flag("ALIBABA_CLOUD_IMDSV1_DISABLED"));
    if let Some(endpoint) = &ctx.metadata_endpoint {
        p = p.endpoint(endpoint);
    }
    Ok(Arc::new(p))
}

pub(crate) fn credentials_uri(
    ctx: &Context,
    uri: &str,
) -> Result<Arc<dyn FetchCredentials>, CredentialsError> {
    Ok(Arc::new(CredentialsUriProvider::new(
        uri,
        ctx.http.clone(),
    )?))
}

/// A profile's provider, built at the first fetch and kept.
pub(crate) struct Lazy {
    built: Mutex<Option<(Arc<dyn FetchCredentials>, String)>>,
}

impl Lazy {
    pub(crate) fn new() -> Self {
        Self {
            built: Mutex::new(None),
        }
    }

    /// The kept provider and its description, or `build()`'s.
    pub(crate) fn get(
        &self,
        build: impl FnOnce() -> Result<(Arc<dyn FetchCredentials>, String), CredentialsError>,
    ) -> Result<(Arc<dyn FetchCredentials>, String), CredentialsError> {
        let mut built = self
            .built
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(b) = built.as_ref() {
            return Ok(b.clone());
        }
        let b = build()?;
        *built = Some(b.clone());
        Ok(b)
    }
}

/// Fetches from a profile's provider, saying which profile in the source.
pub(crate) async fn fetch_described(
    inner: Arc<dyn FetchCredentials>,
    described: String,
) -> Result<Fetched, CredentialsError> {
    let mut fetched = inner.fetch().await?;
    fetched.source = format!("{described}: {}", fetched.source);
    Ok(fetched)
}

/// `~/<relative>`, or `None` without a home directory.
pub(crate) fn in_home(env: &Environment, relative: &str) -> Option<PathBuf> {
    env.home_dir().map(|h| h.join(relative))
}

/// A profile file's path and text for `provider`: not applicable (the chain moves on) when
/// there is no path (`no_home` says which file a home directory would have held) or no file
/// there; any other read failure is [`CredentialsError::File`].
pub(crate) fn read_profile_file(
    provider: &'static str,
    path: Option<PathBuf>,
    no_home: &str,
) -> Result<(PathBuf, String), CredentialsError> {
    let Some(path) = path else {
        return Err(CredentialsError::not_applicable(provider, no_home));
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok((path, text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(
            CredentialsError::not_applicable(provider, format!("no {}", path.display())),
        ),
        Err(source) => Err(CredentialsError::File {
            provider,
            path,
            source,
        }),
    }
}
