//! The environment a provider reads: variables and the home directory, as an input (so tests
//! and embedders pass their own instead of the process's).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Every variable a provider of this crate reads (and `HOME`), for
/// [`Environment::from_lookup`].
pub const KNOWN_VARIABLES: &[&str] = &[
    "HOME",
    "OSS_ACCESS_KEY_ID",
    "OSS_ACCESS_KEY_SECRET",
    "OSS_SESSION_TOKEN",
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABA_CLOUD_SECURITY_TOKEN",
    "ALIBABA_CLOUD_PROFILE",
    "ALIBABA_CLOUD_CONFIG_FILE",
    "ALIBABA_CLOUD_CLI_PROFILE_DISABLED",
    "ALIBABA_CLOUD_CREDENTIALS_FILE",
    "ALIBABA_CLOUD_ECS_METADATA",
    "ALIBABA_CLOUD_ECS_METADATA_DISABLED",
    "ALIBABA_CLOUD_IMDSV1_DISABLED",
    "ALIBABA_CLOUD_ROLE_ARN",
    "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
    "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
    "ALIBABA_CLOUD_ROLE_SESSION_NAME",
    "ALIBABA_CLOUD_STS_REGION",
    "ALIBABA_CLOUD_STS_ENDPOINT",
    "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED",
    "ALIBABA_CLOUD_CREDENTIALS_URI",
];

/// Environment variables and the home directory that providers read.
///
/// Empty values count as unset, as in the official SDKs. [`Environment::from_process`]
/// snapshots the process; [`Environment::new`] starts empty for tests.
///
/// ```
/// use oss_credentials::Environment;
///
/// let env = Environment::new()
///     .var("OSS_ACCESS_KEY_ID", "LTAI5tExample")
///     .var("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "TRUE")
///     .home("/home/ci");
/// assert_eq!(env.get("OSS_ACCESS_KEY_ID"), Some("LTAI5tExample"));
/// assert!(env.flag("ALIBABA_CLOUD_ECS_METADATA_DISABLED"));
/// assert_eq!(env.home_dir().unwrap().to_str(), Some("/home/ci"));
/// ```
#[derive(Clone, Default)]
pub struct Environment {
    vars: HashMap<String, String>,
    home: Option<PathBuf>,
}

impl std::fmt::Debug for Environment {
    // Values may be secrets (`OSS_ACCESS_KEY_SECRET`): only the names are shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&str> = self.vars.keys().map(String::as_str).collect();
        names.sort_unstable();
        f.debug_struct("Environment")
            .field("vars", &names)
            .field("home", &self.home)
            .finish()
    }
}

impl Environment {
    /// No variables, no home directory.
    pub fn new() -> Self {
        Self::default()
    }

    /// The process's variables (those that are valid UTF-8) and `HOME`.
    pub fn from_process() -> Self {
        let vars: HashMap<String, String> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        let home = vars
            .get("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from);
        Self { vars, home }
    }

    /// The [`KNOWN_VARIABLES`] as `lookup` gives them (`HOME` as the home directory): a
    /// caller with its own view of the environment (a CLI's tests) builds one without
    /// touching the process's.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let vars: HashMap<String, String> = KNOWN_VARIABLES
            .iter()
            .filter_map(|name| Some(((*name).to_owned(), lookup(name)?)))
            .collect();
        let home = vars
            .get("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from);
        Self { vars, home }
    }

    /// Sets a variable.
    pub fn var(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.vars.insert(name.into(), value.into());
        self
    }

    /// Removes a variable.
    pub fn without(mut self, name: &str) -> Self {
        self.vars.remove(name);
        self
    }

    /// Sets the home directory (`~` in `~/.aliyun/config.json`).
    pub fn home(mut self, dir: impl Into<PathBuf>) -> Self {
        self.home = Some(dir.into());
        self
    }

    /// A variable's value, `None` when unset or empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// Whether a switch variable is `true` (case-insensitive), as the SDKs test them.
    pub fn flag(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
    }

    /// The home directory, if known.
    pub fn home_dir(&self) -> Option<&Path> {
        self.home.as_deref()
    }
}
