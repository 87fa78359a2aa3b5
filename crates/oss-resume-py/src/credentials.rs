//! What signs the requests: the `credentials=` argument of `Client`, turned into oss-resume's
//! credentials or credentials provider.
//!
//! Accepted forms (the contract `python/oss_resume/__init__.pyi` documents):
//! - `None`: the environment's `OSS_ACCESS_KEY_ID`, `OSS_ACCESS_KEY_SECRET` and
//!   `OSS_SESSION_TOKEN` when set (read when the client is made), otherwise the default
//!   credentials chain of oss-credentials (the `ALIBABA_CLOUD_*` variables, the Alibaba Cloud
//!   CLI's profile, `credentials.ini`, OIDC, the credentials URI, the ECS RAM role), asked
//!   before requests and refreshed ahead of expiry — the same chain ossget uses;
//! - a [`PyCredentials`] (`oss_resume.Credentials(id, secret, security_token=None)`);
//! - a tuple `(id, secret)` or `(id, secret, token)`;
//! - a *provider*: any object with a `get_credentials()` method, asked before every request
//!   (so refreshed STS tokens are picked up during a long download). It may return any of
//!   the forms above, or an object with `access_key_id`, `access_key_secret` and
//!   `security_token` attributes — which is what oss2's and alibabacloud-oss-v2's providers
//!   return, so theirs plug in as they are.

use oss_resume::{Credentials, ProvideCredentials, SignError};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use crate::errors::invalid_argument;

/// An access key (id and secret), with a security token for STS credentials.
///
/// `repr()` shows the access key id only; the secret and the token are never shown.
#[pyclass(module = "oss_resume._native", name = "Credentials", frozen)]
pub(crate) struct PyCredentials {
    pub(crate) inner: Credentials,
}

#[pymethods]
impl PyCredentials {
    /// Checks the key: the id must be printable ASCII without `:`, `/`, `,` or spaces, the
    /// secret non-empty, the token (when given) printable ASCII.
    #[new]
    #[pyo3(signature = (access_key_id, access_key_secret, security_token = None))]
    fn new(
        access_key_id: String,
        access_key_secret: String,
        security_token: Option<String>,
    ) -> PyResult<Self> {
        let inner = build(access_key_id, access_key_secret, security_token)
            .map_err(|e| invalid_argument("credentials", &e))?;
        Ok(Self { inner })
    }

    /// `OSS_ACCESS_KEY_ID`, `OSS_ACCESS_KEY_SECRET` and the optional `OSS_SESSION_TOKEN`.
    #[staticmethod]
    fn from_env() -> PyResult<Self> {
        let inner = Credentials::from_env().map_err(|e| invalid_argument("credentials", &e))?;
        Ok(Self { inner })
    }

    /// The access key id (not a secret: every signed request carries it).
    #[getter]
    fn access_key_id(&self) -> Option<String> {
        self.inner.access_key_id().map(str::to_owned)
    }

    /// Whether these are STS credentials (a security token is set).
    #[getter]
    fn has_security_token(&self) -> bool {
        self.inner.has_security_token()
    }

    fn __repr__(&self) -> String {
        format!("Credentials({})", self.inner)
    }
}

/// How a client signs.
pub(crate) enum Signing {
    /// Unsigned requests.
    Anonymous,
    /// One access key for the client's life.
    Static(Credentials),
    /// A Python provider asked before every request.
    Provider(PyProvider),
    /// oss-credentials' default chain (no credentials given, none in `OSS_*`).
    DefaultChain,
}

/// The `credentials=` and `anonymous=` arguments of `Client`, checked.
pub(crate) fn signing(
    credentials: Option<&Bound<'_, PyAny>>,
    anonymous: bool,
) -> PyResult<Signing> {
    match (credentials, anonymous) {
        (Some(c), true) if !c.is_none() => Err(invalid_argument(
            "anonymous",
            &"anonymous=True and credentials were both given; pass one of them",
        )),
        (_, true) => Ok(Signing::Anonymous),
        (Some(c), false) if !c.is_none() => {
            if c.hasattr("get_credentials")? && !c.is_instance_of::<PyCredentials>() {
                Ok(Signing::Provider(PyProvider {
                    provider: c.clone().unbind(),
                }))
            } else {
                Ok(Signing::Static(credentials_from(c)?))
            }
        }
        // `OSS_*` first, as before the chain existed (and as the chain itself does): a
        // client made from them shows its key id; otherwise the chain decides per request.
        _ if std::env::var_os("OSS_ACCESS_KEY_ID").is_none() => Ok(Signing::DefaultChain),
        _ => Credentials::from_env().map(Signing::Static).map_err(|e| {
            invalid_argument(
                "credentials",
                &format!(
                    "OSS_ACCESS_KEY_ID is set but the environment's key is unusable ({e}); set \
                     OSS_ACCESS_KEY_SECRET too, or unset OSS_ACCESS_KEY_ID to use the default \
                     credentials chain"
                ),
            )
        }),
    }
}

/// Credentials from one of the static forms: [`PyCredentials`], a tuple or list
/// `(id, secret[, token])`, or an object with `access_key_id`, `access_key_secret` and
/// `security_token` attributes (an empty or `None` token means none).
fn credentials_from(value: &Bound<'_, PyAny>) -> PyResult<Credentials> {
    if let Ok(c) = value.cast::<PyCredentials>() {
        return Ok(c.get().inner.clone());
    }
    let (id, secret, token) = if value.is_instance_of::<PyTuple>()
        || value.is_instance_of::<PyList>()
    {
        let len = value.len()?;
        if !(2..=3).contains(&len) {
            return Err(PyTypeError::new_err(format!(
                "credentials: a tuple of (access_key_id, access_key_secret[, security_token]) has 2 or 3 items, not {len}"
            )));
        }
        let token = if len == 3 {
            value.get_item(2)?.extract::<Option<String>>()?
        } else {
            None
        };
        (
            value.get_item(0)?.extract::<String>()?,
            value.get_item(1)?.extract::<String>()?,
            token,
        )
    } else if value.hasattr("access_key_id")? && value.hasattr("access_key_secret")? {
        let token = if value.hasattr("security_token")? {
            value
                .getattr("security_token")?
                .extract::<Option<String>>()?
        } else {
            None
        };
        (
            value.getattr("access_key_id")?.extract::<String>()?,
            value.getattr("access_key_secret")?.extract::<String>()?,
            token,
        )
    } else {
        return Err(PyTypeError::new_err(format!(
            "credentials: expected oss_resume.Credentials, a tuple (access_key_id, \
             access_key_secret[, security_token]), or a provider with a get_credentials() \
             method; got {}",
            value.get_type().name()?
        )));
    };
    build(id, secret, token).map_err(|e| invalid_argument("credentials", &e))
}

/// oss-sign's checks; an empty token (oss2's static providers store `''`) means none.
fn build(id: String, secret: String, token: Option<String>) -> Result<Credentials, SignError> {
    let credentials = Credentials::new(id, secret)?;
    match token.filter(|t| !t.is_empty()) {
        Some(token) => credentials.with_security_token(token),
        None => Ok(credentials),
    }
}

/// A Python credentials provider: `get_credentials()` is called (holding the GIL, on the
/// runtime thread that signs) before every request.
pub(crate) struct PyProvider {
    provider: Py<PyAny>,
}

impl ProvideCredentials for PyProvider {
    fn provide_credentials(&self) -> Result<Credentials, SignError> {
        let asked = Python::try_attach(|py| {
            let provider = self.provider.bind(py);
            provider
                .call_method0("get_credentials")
                .and_then(|value| credentials_from(&value))
        });
        match asked {
            Some(Ok(credentials)) => Ok(credentials),
            // The exception travels as the source, so the binding raises it as the cause of
            // the download's error (errors.rs).
            Some(Err(raised)) => Err(SignError::credentials_unavailable(
                "the credentials provider's get_credentials() raised an exception",
                false,
                Some(Box::new(raised)),
            )),
            None => Err(SignError::credentials_unavailable(
                "the Python interpreter is shutting down",
                false,
                None,
            )),
        }
    }
}
