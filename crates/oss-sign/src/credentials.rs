//! Credentials (access key, optional STS token, optional expiry, or anonymous) and the
//! provider seam that refreshing sources plug into.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use zeroize::Zeroizing;

use crate::SignError;

/// Environment variable holding the access key id.
///
/// ```
/// assert_eq!(oss_sign::ENV_ACCESS_KEY_ID, "OSS_ACCESS_KEY_ID");
/// ```
pub const ENV_ACCESS_KEY_ID: &str = "OSS_ACCESS_KEY_ID";
/// Environment variable holding the access key secret.
///
/// ```
/// assert_eq!(oss_sign::ENV_ACCESS_KEY_SECRET, "OSS_ACCESS_KEY_SECRET");
/// ```
pub const ENV_ACCESS_KEY_SECRET: &str = "OSS_ACCESS_KEY_SECRET";
/// Environment variable holding the optional STS security token.
///
/// ```
/// assert_eq!(oss_sign::ENV_SESSION_TOKEN, "OSS_SESSION_TOKEN");
/// ```
pub const ENV_SESSION_TOKEN: &str = "OSS_SESSION_TOKEN";

/// What signs a request: an access key (id + secret), with an STS security token when the
/// key is temporary, or nothing at all ([`Credentials::anonymous`]) for public objects.
///
/// `Debug` and `Display` never show the secret or the token; the secret and token are
/// overwritten with zeros when the last clone is dropped (best effort: copies the caller,
/// the OS environment or the HMAC implementation made are out of reach). Cloning is cheap
/// (one reference count).
///
/// ```
/// use oss_sign::Credentials;
///
/// let creds = Credentials::new("LTAI5tExampleAccessKeyId", "ExampleSecret")?
///     .with_security_token("STS.token")?;
/// let shown = format!("{creds:?} {creds}");
/// assert!(shown.contains("LTAI5tExampleAccessKeyId"));
/// assert!(!shown.contains("ExampleSecret") && !shown.contains("STS.token"));
/// # Ok::<(), oss_sign::SignError>(())
/// ```
#[derive(Clone)]
pub struct Credentials {
    keys: Option<Arc<Keys>>,
}

#[derive(Clone)]
struct Keys {
    access_key_id: String,
    secret: Secret,
    security_token: Option<Secret>,
    expiry: Option<SystemTime>,
}

/// A secret string, zeroed (its whole allocation) on drop.
type Secret = Zeroizing<String>;

impl Credentials {
    /// A long-term access key.
    ///
    /// # Errors
    /// [`SignError::InvalidAccessKeyId`] if the id is empty or holds characters that cannot
    /// appear in `OSS id:sig` / `Credential=id/scope` (whitespace, control, non-ASCII, `:`,
    /// `/`, `,`); [`SignError::EmptySecret`] if the secret is empty. The secret itself may be
    /// any text.
    ///
    /// ```
    /// use oss_sign::Credentials;
    ///
    /// let creds = Credentials::new("LTAI5tExampleAccessKeyId", "secret")?;
    /// assert_eq!(creds.access_key_id(), Some("LTAI5tExampleAccessKeyId"));
    /// assert!(Credentials::new("id with space", "secret").is_err());
    /// assert!(Credentials::new("id", "").is_err());
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn new(
        access_key_id: impl Into<String>,
        access_key_secret: impl Into<String>,
    ) -> Result<Self, SignError> {
        let access_key_id = access_key_id.into();
        let secret = Secret::new(access_key_secret.into());
        validate_access_key_id(&access_key_id)?;
        if secret.is_empty() {
            return Err(SignError::EmptySecret);
        }
        Ok(Self {
            keys: Some(Arc::new(Keys {
                access_key_id,
                secret,
                security_token: None,
                expiry: None,
            })),
        })
    }

    /// No credentials: requests go out unsigned (public-read objects). Signing returns
    /// nothing to apply; presigning and verification refuse.
    ///
    /// ```
    /// let anon = oss_sign::Credentials::anonymous();
    /// assert!(anon.is_anonymous());
    /// assert_eq!(anon.to_string(), "anonymous");
    /// ```
    pub fn anonymous() -> Self {
        Self { keys: None }
    }

    /// Adds an STS security token (temporary credentials). Signing then sends it as
    /// `x-oss-security-token` (or the presign query's token parameter) and signs it.
    ///
    /// # Errors
    /// [`SignError::InvalidSecurityToken`] if it is empty or cannot be a header value
    /// (control characters, non-ASCII); [`SignError::AnonymousCredentials`] on anonymous
    /// credentials.
    ///
    /// ```
    /// let creds = oss_sign::Credentials::new("STS.id", "secret")?.with_security_token("tok")?;
    /// assert!(creds.has_security_token());
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn with_security_token(self, token: impl Into<String>) -> Result<Self, SignError> {
        let token = Secret::new(token.into());
        if token.is_empty() {
            return Err(SignError::InvalidSecurityToken { reason: "empty" });
        }
        if !token.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return Err(SignError::InvalidSecurityToken {
                reason: "not printable ASCII",
            });
        }
        self.map_keys("adding a security token", |keys| {
            keys.security_token = Some(token)
        })
    }

    /// Records when these credentials stop working (STS tokens do), so a transport can
    /// ask its provider for fresh ones first (see [`expires_within`](Self::expires_within)).
    ///
    /// # Errors
    /// [`SignError::AnonymousCredentials`] on anonymous credentials.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    ///
    /// let at = UNIX_EPOCH + Duration::from_secs(1_705_310_000);
    /// let creds = oss_sign::Credentials::new("id", "secret")?.with_expiry(at)?;
    /// assert_eq!(creds.expiry(), Some(at));
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn with_expiry(self, expiry: SystemTime) -> Result<Self, SignError> {
        self.map_keys("setting an expiry", |keys| keys.expiry = Some(expiry))
    }

    /// Reads `OSS_ACCESS_KEY_ID`, `OSS_ACCESS_KEY_SECRET` and the optional
    /// `OSS_SESSION_TOKEN` from the process environment.
    ///
    /// # Errors
    /// [`SignError::MissingEnvVar`] naming the first missing variable; the validation
    /// errors of [`new`](Self::new) and [`with_security_token`](Self::with_security_token).
    ///
    /// ```no_run
    /// let creds = oss_sign::Credentials::from_env()?;
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn from_env() -> Result<Self, SignError> {
        Self::from_env_with(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with the variables read through `lookup`, so tests (and
    /// callers with their own configuration source) need not touch the process environment.
    /// An empty value counts as unset.
    ///
    /// # Errors
    /// As [`from_env`](Self::from_env).
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use oss_sign::{Credentials, SignError};
    ///
    /// let env = HashMap::from([
    ///     ("OSS_ACCESS_KEY_ID", "LTAI5tExampleAccessKeyId"),
    ///     ("OSS_ACCESS_KEY_SECRET", "secret"),
    /// ]);
    /// let creds = Credentials::from_env_with(|k| env.get(k).map(|v| v.to_string()))?;
    /// assert!(!creds.has_security_token());
    ///
    /// let err = Credentials::from_env_with(|k| {
    ///     (k == "OSS_ACCESS_KEY_ID").then(|| "id".to_string())
    /// }).unwrap_err();
    /// assert!(matches!(err, SignError::MissingEnvVar { name: "OSS_ACCESS_KEY_SECRET" }));
    /// # Ok::<(), SignError>(())
    /// ```
    pub fn from_env_with(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SignError> {
        let get = |name: &'static str| lookup(name).filter(|v| !v.is_empty());
        let id = get(ENV_ACCESS_KEY_ID).ok_or(SignError::MissingEnvVar {
            name: ENV_ACCESS_KEY_ID,
        })?;
        let secret = get(ENV_ACCESS_KEY_SECRET).ok_or(SignError::MissingEnvVar {
            name: ENV_ACCESS_KEY_SECRET,
        })?;
        let creds = Self::new(id, secret)?;
        match get(ENV_SESSION_TOKEN) {
            Some(token) => creds.with_security_token(token),
            None => Ok(creds),
        }
    }

    /// Whether these are anonymous (no signing).
    ///
    /// ```
    /// assert!(!oss_sign::Credentials::new("id", "s")?.is_anonymous());
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn is_anonymous(&self) -> bool {
        self.keys.is_none()
    }

    /// The access key id (not a secret: it travels in every signed request), or `None`
    /// when anonymous.
    ///
    /// ```
    /// assert_eq!(oss_sign::Credentials::anonymous().access_key_id(), None);
    /// ```
    pub fn access_key_id(&self) -> Option<&str> {
        self.keys.as_deref().map(|k| k.access_key_id.as_str())
    }

    /// `text` with this credential's secret and security token replaced by `<redacted>`:
    /// for text that came from elsewhere (a server's error message that echoes the request,
    /// a proxy's error page) before it is shown or logged. The secrets are not otherwise
    /// readable; secrets shorter than 6 characters are left alone (they would mangle
    /// ordinary words, and no real AccessKey secret or token is that short).
    ///
    /// ```
    /// let creds = oss_sign::Credentials::new("LTAI5tExampleId", "Secret-Of-30-Characters-Long")?
    ///     .with_security_token("CAIS-token-value")?;
    /// let echoed = "you sent x-oss-security-token: CAIS-token-value, key Secret-Of-30-Characters-Long";
    /// assert_eq!(
    ///     creds.redact(echoed),
    ///     "you sent x-oss-security-token: <redacted>, key <redacted>"
    /// );
    /// assert_eq!(creds.redact("nothing secret"), "nothing secret");
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn redact<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        const SHORTEST: usize = 6;
        let Some(keys) = self.keys.as_deref() else {
            return std::borrow::Cow::Borrowed(text);
        };
        let mut out = std::borrow::Cow::Borrowed(text);
        let secrets = [
            Some(keys.secret.as_str()),
            keys.security_token.as_deref().map(String::as_str),
        ];
        for secret in secrets.into_iter().flatten() {
            if secret.len() >= SHORTEST && out.contains(secret) {
                out = std::borrow::Cow::Owned(out.replace(secret, "<redacted>"));
            }
        }
        out
    }

    /// Whether an STS security token is attached.
    ///
    /// ```
    /// assert!(!oss_sign::Credentials::anonymous().has_security_token());
    /// ```
    pub fn has_security_token(&self) -> bool {
        self.security_token().is_some()
    }

    /// When these credentials expire, if known.
    ///
    /// ```
    /// assert_eq!(oss_sign::Credentials::new("id", "s")?.expiry(), None);
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn expiry(&self) -> Option<SystemTime> {
        self.keys.as_deref().and_then(|k| k.expiry)
    }

    /// Whether these credentials expire within `margin` of `now` (or already have):
    /// the transport's cue to ask its provider again before signing. Credentials without
    /// an expiry never expire.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    ///
    /// let now = UNIX_EPOCH + Duration::from_secs(1_000);
    /// let creds = oss_sign::Credentials::new("id", "s")?
    ///     .with_expiry(now + Duration::from_secs(60))?;
    /// assert!(!creds.expires_within(now, Duration::from_secs(30)));
    /// assert!(creds.expires_within(now, Duration::from_secs(300)));
    /// # Ok::<(), oss_sign::SignError>(())
    /// ```
    pub fn expires_within(&self, now: SystemTime, margin: Duration) -> bool {
        match self.expiry() {
            Some(expiry) => now.checked_add(margin).is_none_or(|limit| limit >= expiry),
            None => false,
        }
    }

    /// The access key id and secret bytes, or an error naming `operation`.
    pub(crate) fn keys_for(&self, operation: &'static str) -> Result<(&str, &[u8]), SignError> {
        self.keys
            .as_deref()
            .map(|k| (k.access_key_id.as_str(), k.secret.as_bytes()))
            .ok_or(SignError::AnonymousCredentials { operation })
    }

    pub(crate) fn security_token(&self) -> Option<&str> {
        self.keys
            .as_deref()
            .and_then(|k| k.security_token.as_ref())
            .map(|t| t.as_str())
    }

    fn map_keys(
        self,
        operation: &'static str,
        change: impl FnOnce(&mut Keys),
    ) -> Result<Self, SignError> {
        let mut arc = self
            .keys
            .ok_or(SignError::AnonymousCredentials { operation })?;
        change(Arc::make_mut(&mut arc));
        Ok(Self { keys: Some(arc) })
    }
}

fn validate_access_key_id(id: &str) -> Result<(), SignError> {
    if id.is_empty() {
        return Err(SignError::InvalidAccessKeyId { reason: "empty" });
    }
    let bad = |b: u8| !(0x21..0x7f).contains(&b) || matches!(b, b':' | b'/' | b',');
    if id.bytes().any(bad) {
        return Err(SignError::InvalidAccessKeyId {
            reason: "holding characters that cannot be sent in a signature",
        });
    }
    Ok(())
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.keys.as_deref() {
            None => f.write_str("Credentials::Anonymous"),
            Some(k) => f
                .debug_struct("Credentials")
                .field("access_key_id", &k.access_key_id)
                .field("access_key_secret", &"** redacted **")
                .field(
                    "security_token",
                    &k.security_token.as_ref().map(|_| "** redacted **"),
                )
                .field("expiry", &k.expiry)
                .finish(),
        }
    }
}

/// `anonymous`, or `access key <id>` plus ` (STS)` for temporary credentials.
impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.keys.as_deref() {
            None => f.write_str("anonymous"),
            Some(k) => {
                write!(f, "access key {}", k.access_key_id)?;
                if k.security_token.is_some() {
                    f.write_str(" (STS)")?;
                }
                Ok(())
            }
        }
    }
}

/// What [`ProvideCredentials::ready`] returns: a plain `std` future, so this crate needs no
/// async runtime to describe it.
pub type ReadyFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// A source of credentials, asked before each signing: static keys, the environment, or
/// (in an I/O crate such as `oss-credentials`) a refreshing source such as STS AssumeRole or
/// an ECS RAM role, which returns credentials with an [`expiry`](Credentials::expiry).
///
/// [`provide_credentials`](Self::provide_credentials) is synchronous on purpose: a refreshing
/// provider answers from its cache, so signing never blocks on I/O and this crate needs no
/// async runtime. Two hooks, both with defaults that suit static credentials, let a
/// transport cooperate with a refreshing provider:
/// - [`ready`](Self::ready), awaited before signing: resolves at once while usable
///   credentials are cached, and waits for the provider's refresh only when it has none
///   (the first fetch, or credentials that expired before a refresh succeeded);
/// - [`credentials_rejected`](Self::credentials_rejected): the service refused credentials
///   as unknown or expired; a refreshing provider refreshes and says whether a retry can
///   succeed.
///
/// Implemented for [`Credentials`] (static) and for closures.
///
/// ```
/// use oss_sign::{Credentials, ProvideCredentials, SignError};
///
/// let fixed = Credentials::new("id", "secret")?;
/// assert_eq!(fixed.provide_credentials()?.access_key_id(), Some("id"));
/// // Static keys that the service refused stay refused: no retry.
/// assert!(!fixed.credentials_rejected(&fixed));
///
/// let from_env = || Credentials::from_env_with(|_| None);
/// assert!(matches!(from_env.provide_credentials(), Err(SignError::MissingEnvVar { .. })));
/// # Ok::<(), SignError>(())
/// ```
pub trait ProvideCredentials: Send + Sync {
    /// The credentials to sign the next request with.
    ///
    /// # Errors
    /// Whatever stops the provider; use
    /// [`SignError::credentials_unavailable`] for a provider's own failures.
    ///
    /// ```
    /// use oss_sign::{Credentials, ProvideCredentials, SignError};
    ///
    /// struct Rotating;
    /// impl ProvideCredentials for Rotating {
    ///     fn provide_credentials(&self) -> Result<Credentials, SignError> {
    ///         Err(SignError::credentials_unavailable("STS endpoint unreachable", true, None))
    ///     }
    /// }
    /// assert!(Rotating.provide_credentials().unwrap_err().is_retryable());
    /// ```
    fn provide_credentials(&self) -> Result<Credentials, SignError>;

    /// Resolves when [`provide_credentials`](Self::provide_credentials) is worth calling. A
    /// refreshing provider with usable credentials cached resolves at once (starting a
    /// refresh in the background when they are about to expire); one with none waits for its
    /// refresh, bounded by its own timeouts. The default resolves at once.
    fn ready(&self) -> ReadyFuture<'_> {
        Box::pin(std::future::ready(()))
    }

    /// The service refused `rejected` as unknown or expired (OSS's `403 InvalidAccessKeyId`
    /// or `SecurityTokenExpired`). Returns whether asking again may give credentials the
    /// service accepts: a refreshing provider drops `rejected`, refreshes (once: fresh
    /// credentials refused in turn are not an expiry problem) and returns `true`. The
    /// default, for static credentials, returns `false`: the same keys would be refused
    /// again.
    fn credentials_rejected(&self, rejected: &Credentials) -> bool {
        let _ = rejected;
        false
    }
}

impl ProvideCredentials for Credentials {
    fn provide_credentials(&self) -> Result<Credentials, SignError> {
        Ok(self.clone())
    }
}

impl<F> ProvideCredentials for F
where
    F: Fn() -> Result<Credentials, SignError> + Send + Sync,
{
    fn provide_credentials(&self) -> Result<Credentials, SignError> {
        self()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        move |k| map.get(k).map(|v| v.to_string())
    }

    #[test]
    fn from_env_reads_all_three() {
        let creds = Credentials::from_env_with(env(&[
            ("OSS_ACCESS_KEY_ID", "ak"),
            ("OSS_ACCESS_KEY_SECRET", "sk"),
            ("OSS_SESSION_TOKEN", "tok"),
        ]))
        .unwrap();
        assert_eq!(creds.access_key_id(), Some("ak"));
        assert_eq!(creds.keys_for("t").unwrap().1, b"sk");
        assert_eq!(creds.security_token(), Some("tok"));
    }

    #[test]
    fn from_env_names_the_missing_variable() {
        let err = Credentials::from_env_with(env(&[])).unwrap_err();
        assert!(matches!(
            err,
            SignError::MissingEnvVar {
                name: "OSS_ACCESS_KEY_ID"
            }
        ));
        let err = Credentials::from_env_with(env(&[
            ("OSS_ACCESS_KEY_ID", "ak"),
            ("OSS_ACCESS_KEY_SECRET", ""),
        ]))
        .unwrap_err();
        assert!(matches!(
            err,
            SignError::MissingEnvVar {
                name: "OSS_ACCESS_KEY_SECRET"
            }
        ));
        // An empty token is no token.
        let creds = Credentials::from_env_with(env(&[
            ("OSS_ACCESS_KEY_ID", "ak"),
            ("OSS_ACCESS_KEY_SECRET", "sk"),
            ("OSS_SESSION_TOKEN", ""),
        ]))
        .unwrap();
        assert!(!creds.has_security_token());
    }

    #[test]
    fn secrets_never_shown() {
        let creds = Credentials::new("AKID", "TOPSECRET")
            .unwrap()
            .with_security_token("TOKENVALUE")
            .unwrap();
        for text in [
            format!("{creds:?}"),
            format!("{creds:#?}"),
            creds.to_string(),
        ] {
            assert!(text.contains("AKID"), "{text}");
            assert!(!text.contains("TOPSECRET"), "{text}");
            assert!(!text.contains("TOKENVALUE"), "{text}");
        }
        let err = Credentials::new("AKID", "TOPSECRET")
            .unwrap()
            .with_security_token("bad\ntoken")
            .unwrap_err();
        assert!(!format!("{err} {err:?}").contains("bad\ntoken"));
    }

    #[test]
    fn validation() {
        for bad in ["", "a b", "a:b", "a/b", "a,b", "é", "a\tb"] {
            assert!(Credentials::new(bad, "s").is_err(), "{bad:?}");
        }
        assert!(Credentials::new("STS.NUx-y_z", "s").is_ok());
        let c = Credentials::new("id", "s").unwrap();
        assert!(c.clone().with_security_token("").is_err());
        assert!(c.with_security_token("ok token+/=").is_ok());
        assert!(Credentials::anonymous().with_security_token("t").is_err());
        assert!(Credentials::anonymous().keys_for("x").is_err());
    }

    #[test]
    fn clones_share_and_survive() {
        let a = Credentials::new("id", "secret").unwrap();
        let b = a.clone();
        drop(a);
        assert_eq!(b.keys_for("t").unwrap().1, b"secret");
        // Changing a clone does not change the original.
        let c = b.clone().with_security_token("tok").unwrap();
        assert!(!b.has_security_token() && c.has_security_token());
    }

    #[test]
    fn expiry_window() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let c = Credentials::new("id", "s").unwrap();
        assert!(!c.expires_within(now, Duration::MAX));
        let c = c.with_expiry(now).unwrap();
        assert!(c.expires_within(now, Duration::ZERO));
        assert!(c.expires_within(now, Duration::MAX));
        assert!(!c.expires_within(now - Duration::from_secs(2), Duration::from_secs(1)));
    }
}
