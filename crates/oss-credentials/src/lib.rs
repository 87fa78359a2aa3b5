//! Alibaba Cloud credentials for OSS clients, the way OSS users have them: access keys in the
//! environment, aliyun-cli profiles, an ECS instance's RAM role, a RAM role assumed through STS,
//! OIDC (ACK RRSA, CI), a credentials URI — and the default chain that tries them in the
//! official SDKs' order. Temporary credentials are cached and refreshed ahead of expiry while
//! requests keep signing.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use oss_credentials::{CachingProvider, DefaultChain, Environment};
//!
//! // The default chain over the process's environment and home directory, refreshed ahead
//! // of expiry: hand it to oss-http's or oss-resume's `credentials_provider`.
//! let provider = CachingProvider::new(DefaultChain::builder(Environment::from_process()).build());
//! let credentials = provider.credentials().await?; // the first fetch, now
//! println!("signing as {credentials} from {}", provider.source().unwrap_or_default());
//! # Ok(()) }
//! ```
//!
//! - Providers, each usable alone, each a [`FetchCredentials`] (one uncached fetch):
//!   [`EnvironmentProvider`], [`CliProfileProvider`], [`IniProfileProvider`],
//!   [`EcsRamRoleProvider`], [`RamRoleArnProvider`], [`OidcProvider`],
//!   [`CredentialsUriProvider`], [`StaticProvider`]; [`DefaultChain`] tries them in order.
//! - [`CachingProvider`] turns any of them into the `oss_sign::ProvideCredentials` a client
//!   signs with: a cache read per request, refreshes in the background, a forced refresh when
//!   OSS refuses credentials as expired (the module docs of `cache` give the policy).
//! - Inputs are explicit: [`Environment`] (variables and home directory), endpoints
//!   ([`StsEndpoint`], a metadata address), timeouts and TLS trust ([`HttpSettings`]).
//!
//! # What this crate promises
//!
//! - **No secret out**: access key secrets, security tokens, OIDC tokens and signatures never
//!   appear in an error, a log event or `Debug` output; files are read, never written.
//! - **Clear errors**: a malformed file names the file, the profile and the field; an STS
//!   refusal carries STS's code, message and request id; the chain's error lists every
//!   provider it tried and why each did not apply. A provider that is configured but broken
//!   stops the chain instead of letting another identity sign silently.
//! - **Fast off ECS**: the metadata service gets 300 ms to connect, so a machine without one
//!   falls through the chain in a fraction of a second.
//!
//! `docs/credentials.md` describes the chain (with the official SDKs' sources), the refresh
//! policy, and the emulator's STS and metadata service the tests run against.

mod cache;
mod chain;
mod env;
mod env_provider;
mod error;
mod expiry;
mod fetch;
mod http;
mod imds;
mod oidc;
mod profile;
mod ram_role;
mod sts;
mod uri;

pub use cache::{CachingProvider, Clock};
pub use chain::{ChainBuilder, DefaultChain};
pub use env::{Environment, KNOWN_VARIABLES};
pub use env_provider::EnvironmentProvider;
pub use error::{BoxError, CredentialsError};
pub use fetch::{BoxFuture, FetchCredentials, Fetched, StaticProvider};
pub use http::HttpSettings;
pub use imds::{DEFAULT_METADATA_ENDPOINT, EcsRamRoleProvider};
pub use oidc::{OIDC_VARIABLES, OidcProvider};
/// The TLS trust setting [`HttpSettings`] takes (oss-http's).
pub use oss_http::TlsTrust;
pub use profile::{CliProfileProvider, IniProfileProvider};
pub use ram_role::RamRoleArnProvider;
pub use sts::{RoleSpec, StsEndpoint};
pub use uri::CredentialsUriProvider;
