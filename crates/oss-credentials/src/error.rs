//! The crate's one error type. No variant carries a secret: access key secrets, security
//! tokens, OIDC tokens and signatures never reach an error (what a service answers is kept as
//! its code, message and request id only).

use std::fmt;
use std::path::PathBuf;
use std::time::SystemTime;

/// A boxed cause from a lower layer (hyper, the OS, oss-sign).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Why a provider produced no credentials.
///
/// [`is_not_applicable`](Self::is_not_applicable) separates "this source is not configured
/// here" (the default chain moves on) from a source that is configured but failing (the chain
/// stops with it); [`is_retryable`](Self::is_retryable) says whether asking again later may
/// work. Each message describes this layer only; the cause is reached through `source()`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialsError {
    /// The provider is not configured here (a variable unset, no file, no metadata service);
    /// `reason` says what it looked for.
    #[error("{provider}: {reason}")]
    NotApplicable {
        /// The provider (`env`, `ecs_ram_role`...).
        provider: &'static str,
        /// What it looked for and did not find.
        reason: String,
    },

    /// Some of the settings a provider needs are set and others are not (for example two of
    /// the three OIDC variables).
    #[error("{provider}: {} set but {} missing; set {} too (or unset the others)", present.join(", "), missing.join(", "), missing.join(" and "))]
    Incomplete {
        /// The provider.
        provider: &'static str,
        /// The settings that are set.
        present: Vec<String>,
        /// The settings that are missing.
        missing: Vec<String>,
    },

    /// A configuration file (`~/.aliyun/config.json`, `~/.alibabacloud/credentials.ini`) is
    /// unusable; `file`, `profile` and `field` say where.
    #[error("{}{}{}: {problem}", file.display(), profile.as_ref().map(|p| format!(", profile `{p}`")).unwrap_or_default(), field.as_ref().map(|f| format!(", field `{f}`")).unwrap_or_default())]
    Config {
        /// The file.
        file: PathBuf,
        /// The profile (or INI section), when the problem is inside one.
        profile: Option<String>,
        /// The field (or key), when one is at fault.
        field: Option<String>,
        /// What is wrong and how to fix it.
        problem: String,
    },

    /// The profile asked for (`--profile`, `ALIBABA_CLOUD_PROFILE`) is not in the file.
    #[error("{}: no profile `{profile}` (the file has: {}); pick one of those or add it", file.display(), if available.is_empty() { "none".to_owned() } else { available.join(", ") })]
    ProfileNotFound {
        /// The file.
        file: PathBuf,
        /// The profile asked for.
        profile: String,
        /// The profiles (or sections) the file has.
        available: Vec<String>,
    },

    /// A setting given to a provider is unusable (a duration under 900 s, a bad endpoint...).
    #[error("{provider}: invalid {setting}: {problem}")]
    InvalidSetting {
        /// The provider.
        provider: &'static str,
        /// The setting.
        setting: &'static str,
        /// What is wrong and how to fix it.
        problem: String,
    },

    /// A file the provider reads each time (the OIDC token file) could not be read.
    #[error("{provider}: cannot read `{}`", path.display())]
    File {
        /// The provider.
        provider: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },

    /// The service could not be reached, or did not answer in time.
    #[error("{provider}: no answer from {endpoint}")]
    Unreachable {
        /// The provider.
        provider: &'static str,
        /// Where it sent the request (no query: it may carry a signature or a token).
        endpoint: String,
        /// The transport error.
        #[source]
        source: BoxError,
    },

    /// The service answered with an error (STS: its code, message and request id).
    #[error("{provider}: {endpoint} refused the request: HTTP {status}{}{}{}", code.as_ref().map(|c| format!(" {c}")).unwrap_or_default(), message.as_ref().map(|m| format!(": {m}")).unwrap_or_default(), request_id.as_ref().map(|r| format!(" (request id {r})")).unwrap_or_default())]
    Service {
        /// The provider.
        provider: &'static str,
        /// The service's address (no query).
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// The service's error code (`InvalidParameter.RoleSessionName`...).
        code: Option<String>,
        /// The service's message.
        message: Option<String>,
        /// The service's request id (quote it to Alibaba Cloud support).
        request_id: Option<String>,
    },

    /// The service answered 200 with something that is not credentials.
    #[error("{provider}: unusable answer from {endpoint}: {problem}")]
    InvalidResponse {
        /// The provider.
        provider: &'static str,
        /// The service's address.
        endpoint: String,
        /// What is wrong with it.
        problem: String,
    },

    /// The credentials received had already expired by the local clock, and the answer had
    /// no `Date` to correct it by: the local clock (or the service's) is wrong.
    #[error("{provider}: the credentials received expire at {}, which has passed by the local clock ({}); check the clock", fmt_time(*expiration), fmt_time(*local_now))]
    ExpiredOnArrival {
        /// The provider.
        provider: &'static str,
        /// Their `Expiration`.
        expiration: SystemTime,
        /// The local time when they arrived.
        local_now: SystemTime,
    },

    /// The provider's key id, secret or token cannot sign requests.
    #[error("{provider}: the credentials are unusable")]
    InvalidCredentials {
        /// The provider.
        provider: &'static str,
        /// oss-sign's reason (never contains a secret).
        #[source]
        source: oss_sign::SignError,
    },

    /// The default chain found no credentials: every provider, in order, and why it did not
    /// apply.
    #[error(
        "no credentials found; tried, in order: {}. Set OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET, pick a profile, or see docs/credentials.md",
        tried_list(tried)
    )]
    NoCredentials {
        /// `(provider, why it did not apply)`, in chain order.
        tried: Vec<(String, String)>,
    },

    /// A provider of the default chain is configured but failed, so the chain stopped there
    /// rather than use another identity silently; `skipped` are the providers before it.
    #[error("the credentials chain stopped at {provider}{}", if skipped.is_empty() { String::new() } else { format!(" (not configured before it: {})", tried_list(skipped)) })]
    ChainStopped {
        /// The provider that failed.
        provider: String,
        /// The providers before it and why they did not apply.
        skipped: Vec<(String, String)>,
        /// Its error.
        #[source]
        source: Box<CredentialsError>,
    },
}

fn tried_list(tried: &[(String, String)]) -> String {
    tried
        .iter()
        .map(|(p, why)| format!("{p} ({why})"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// `error: cause: cause`, each layer's text once (messages never repeat their source's).
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(cause) = next {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        next = cause.source();
    }
    text
}

/// `2026-01-15T08:30:00Z`.
pub(crate) fn fmt_time(t: SystemTime) -> String {
    oss_sign::SigningTime::from_system_time(t)
        .map(|t| t.iso8601())
        .unwrap_or_else(|_| format!("{t:?}"))
}

impl CredentialsError {
    /// Whether the provider is simply not configured here (the default chain moves on).
    pub fn is_not_applicable(&self) -> bool {
        matches!(self, Self::NotApplicable { .. })
    }

    /// Whether asking again later may succeed: the service was unreachable, or answered with
    /// a server error or a throttling code. Configuration errors and refusals are not.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Unreachable { .. } => true,
            Self::Service { status, code, .. } => {
                *status >= 500
                    || *status == 429
                    || code.as_deref().is_some_and(|c| c.starts_with("Throttling"))
            }
            Self::ChainStopped { source, .. } => source.is_retryable(),
            _ => false,
        }
    }

    pub(crate) fn not_applicable(provider: &'static str, reason: impl Into<String>) -> Self {
        Self::NotApplicable {
            provider,
            reason: reason.into(),
        }
    }

    pub(crate) fn invalid_response(
        provider: &'static str,
        endpoint: &str,
        problem: impl Into<String>,
    ) -> Self {
        Self::InvalidResponse {
            provider,
            endpoint: endpoint.to_owned(),
            problem: problem.into(),
        }
    }

    pub(crate) fn invalid_setting(
        provider: &'static str,
        setting: &'static str,
        problem: impl Into<String>,
    ) -> Self {
        Self::InvalidSetting {
            provider,
            setting,
            problem: problem.into(),
        }
    }
}

/// Shows a provider's outcome for the chain's list: the reason of a not-applicable error.
pub(crate) struct Why<'a>(pub(crate) &'a CredentialsError);

impl fmt::Display for Why<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            CredentialsError::NotApplicable { reason, .. } => f.write_str(reason),
            other => write!(f, "{other}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_what_to_fix() {
        let e = CredentialsError::Incomplete {
            provider: "oidc_role_arn",
            present: vec!["ALIBABA_CLOUD_ROLE_ARN".into()],
            missing: vec![
                "ALIBABA_CLOUD_OIDC_PROVIDER_ARN".into(),
                "ALIBABA_CLOUD_OIDC_TOKEN_FILE".into(),
            ],
        };
        let text = e.to_string();
        assert!(
            text.contains("ALIBABA_CLOUD_OIDC_PROVIDER_ARN and ALIBABA_CLOUD_OIDC_TOKEN_FILE"),
            "{text}"
        );
        let e = CredentialsError::Config {
            file: "/home/u/.aliyun/config.json".into(),
            profile: Some("dev".into()),
            field: Some("expired_seconds".into()),
            problem: "expected a number".into(),
        };
        assert_eq!(
            e.to_string(),
            "/home/u/.aliyun/config.json, profile `dev`, field `expired_seconds`: expected a number"
        );
        let e = CredentialsError::Service {
            provider: "ram_role_arn",
            endpoint: "https://sts.aliyuncs.com".into(),
            status: 400,
            code: Some("InvalidParameter.RoleSessionName".into()),
            message: Some("The parameter RoleSessionName is wrongly formed.".into()),
            request_id: Some("5E1D7B8C".into()),
        };
        let text = e.to_string();
        assert!(
            text.contains("HTTP 400 InvalidParameter.RoleSessionName: The parameter")
                && text.contains("request id 5E1D7B8C"),
            "{text}"
        );
        assert!(!e.is_retryable());
        let stopped = CredentialsError::ChainStopped {
            provider: "cli_profile".into(),
            skipped: vec![("env".into(), "OSS_ACCESS_KEY_ID is not set".into())],
            source: Box::new(e),
        };
        // The chain's text does not repeat its source's.
        assert!(
            !stopped.to_string().contains("RoleSessionName"),
            "{stopped}"
        );
    }
}
