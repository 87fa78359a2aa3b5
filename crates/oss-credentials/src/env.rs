//! The environment a provider reads: variables and the home directory, as an input (so tests
//! and embedders pass their own instead of the process's).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

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
