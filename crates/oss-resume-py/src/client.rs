//! `oss_resume.Client`: Python arguments in, oss-resume's builders out. Every setting is
//! checked here or by oss-resume before anything is requested; a bad one raises
//! `InvalidArgument` naming it.

use std::path::PathBuf;

use oss_resume::{Client, Durability, OnChange, RetryPolicy, SignatureVersion};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;

use crate::credentials::{Signing, signing};
use crate::errors::{invalid_argument, to_py};
use crate::transfer::{self, PyCancelToken, Transfer};
use crate::wait;

/// An OSS client: endpoint, region, how to sign, and one connection pool shared by every
/// download started from it. The Python class `oss_resume.Client` adds `download()` and
/// `download_async()` on top of [`PyClient::start`].
#[pyclass(module = "oss_resume._native", name = "Client", subclass, frozen)]
pub(crate) struct PyClient {
    inner: Client,
    /// For `repr()`: the endpoint and how requests are signed (never a secret).
    endpoint: String,
    signing: String,
}

#[pymethods]
impl PyClient {
    #[new]
    #[pyo3(signature = (
        endpoint = None, *, region = None, credentials = None, anonymous = false,
        signature_version = None, path_style = false, cname = false, headers = None,
        user_agent = None, connect_timeout = None, stall_timeout = None,
    ))]
    #[allow(clippy::too_many_arguments, reason = "Python keyword arguments")]
    fn new(
        endpoint: Option<String>,
        region: Option<String>,
        credentials: Option<&Bound<'_, PyAny>>,
        anonymous: bool,
        signature_version: Option<&Bound<'_, PyAny>>,
        path_style: bool,
        cname: bool,
        headers: Option<&Bound<'_, PyAny>>,
        user_agent: Option<String>,
        connect_timeout: Option<f64>,
        stall_timeout: Option<f64>,
    ) -> PyResult<Self> {
        let endpoint = match (endpoint, &region) {
            (Some(e), _) if !e.trim().is_empty() => e.trim().to_owned(),
            (_, Some(r)) if !r.trim().is_empty() => {
                format!("https://oss-{}.aliyuncs.com", r.trim())
            }
            _ => {
                return Err(invalid_argument(
                    "endpoint",
                    &"none given; pass endpoint=\"https://oss-cn-hangzhou.aliyuncs.com\" (or \
                      just region=\"cn-hangzhou\"), or http://127.0.0.1:PORT for a local emulator",
                ));
            }
        };
        let mut builder = Client::builder()
            .endpoint(&endpoint)
            .signature_version(parse_signature_version(signature_version)?)
            .http(|h| h.path_style(path_style).cname(cname));
        if let Some(region) = region {
            builder = builder.region(region);
        }
        let user_agent = user_agent
            .unwrap_or_else(|| concat!("oss-resume-py/", env!("CARGO_PKG_VERSION")).to_owned());
        builder = builder.http(|h| h.user_agent(user_agent));
        if let Some(s) = connect_timeout {
            let t = wait::seconds("connect_timeout", s)?;
            builder = builder.http(|h| h.connect_timeout(t));
        }
        if let Some(s) = stall_timeout {
            let t = wait::seconds("stall_timeout", s)?;
            builder = builder.http(|h| h.stall_timeout(t));
        }
        for (name, value) in header_pairs(headers)? {
            builder = builder.header(&name, &value);
        }
        let (builder, signing) = match signing(credentials, anonymous)? {
            Signing::Anonymous => (builder.anonymous(), "anonymous".to_owned()),
            Signing::Static(c) => {
                let shown = c.to_string();
                (builder.credentials(c), shown)
            }
            Signing::Provider(p) => (
                builder.credentials_provider(p),
                "a credentials provider".to_owned(),
            ),
            Signing::DefaultChain => (
                builder.credentials_chain(),
                "the default credentials chain".to_owned(),
            ),
        };
        let inner = builder
            .build()
            .map_err(|e| Python::attach(|py| to_py(py, &e)))?;
        Ok(Self {
            inner,
            endpoint,
            signing,
        })
    }

    /// Starts downloading `bucket`/`key` to `filename` on the runtime's threads and returns
    /// at once; see `Client.download()` for the options.
    #[pyo3(signature = (
        bucket, key, filename, *, part_size = None, threads = 4, checkpoint = true,
        checkpoint_path = None, version_id = None, headers = None, bandwidth_limit = None,
        durability = "durable", on_change = "fail", restart = false, verify_on_resume = false,
        retries = None, cancel = None,
    ))]
    #[allow(clippy::too_many_arguments, reason = "Python keyword arguments")]
    fn start(
        &self,
        bucket: String,
        key: String,
        filename: PathBuf,
        part_size: Option<i64>,
        threads: i64,
        checkpoint: bool,
        checkpoint_path: Option<PathBuf>,
        version_id: Option<String>,
        headers: Option<&Bound<'_, PyAny>>,
        bandwidth_limit: Option<i64>,
        durability: &str,
        on_change: &str,
        restart: bool,
        verify_on_resume: bool,
        retries: Option<i64>,
        cancel: Option<PyRef<'_, PyCancelToken>>,
    ) -> PyResult<Transfer> {
        let mut d = self
            .inner
            .download(bucket, key, filename)
            .threads(usize::try_from(count("threads", threads)?).unwrap_or(usize::MAX))
            .checkpoint(checkpoint)
            .durability(parse_durability(durability)?)
            .on_change(parse_on_change(on_change)?)
            .restart(restart)
            .verify_on_resume(verify_on_resume);
        if let Some(bytes) = part_size {
            d = d.part_size(count("part_size", bytes)?);
        }
        if let Some(path) = checkpoint_path {
            d = d.checkpoint_path(path);
        }
        if let Some(version) = version_id {
            d = d.version_id(version);
        }
        for (name, value) in header_pairs(headers)? {
            d = d.header(name, value);
        }
        if let Some(rate) = bandwidth_limit {
            d = d.bandwidth_limit(count("bandwidth_limit", rate)?);
        }
        if let Some(n) = retries {
            let retries = u32::try_from(count("retries", n)?).unwrap_or(u32::MAX);
            d = d.retry_policy(RetryPolicy {
                max_attempts: retries.saturating_add(1),
                ..RetryPolicy::default()
            });
        }
        // The transfer's own token, a child of the caller's: cancelling one download (Ctrl-C,
        // its progress callback raising) never cancels the others sharing the caller's token.
        let token = match &cancel {
            Some(c) => c.token.child_token(),
            None => oss_resume::CancellationToken::new(),
        };
        transfer::start(d, token)
    }

    fn __repr__(&self) -> String {
        format!(
            "Client(endpoint={:?}, signing={})",
            self.endpoint, self.signing
        )
    }
}

/// A count argument (bytes, threads, retries): a negative one is refused here, with its
/// name; the range checks are oss-resume's.
fn count(argument: &str, value: i64) -> PyResult<u64> {
    u64::try_from(value).map_err(|_| invalid_argument(argument, &format!("{value} is negative")))
}

/// `signature_version=`: 1 or 4 (also `"v1"`, `"v4"`, `"1"`, `"4"`); default 4.
fn parse_signature_version(value: Option<&Bound<'_, PyAny>>) -> PyResult<SignatureVersion> {
    let Some(value) = value.filter(|v| !v.is_none()) else {
        return Ok(SignatureVersion::V4);
    };
    let text = value.str()?.to_string();
    match text.trim().to_ascii_lowercase().trim_start_matches('v') {
        "1" => Ok(SignatureVersion::V1),
        "4" => Ok(SignatureVersion::V4),
        _ => Err(invalid_argument(
            "signature_version",
            &format!("{text} is not a signature version; use 4 (the default) or 1"),
        )),
    }
}

/// `durability=`: `"durable"` (the default) or `"fast"`.
fn parse_durability(text: &str) -> PyResult<Durability> {
    match text {
        "durable" => Ok(Durability::Durable),
        "fast" => Ok(Durability::Fast),
        _ => Err(invalid_argument(
            "durability",
            &format!(
                "{text:?} is not a durability; use \"durable\" (fsync as it goes, the default) or \"fast\" (never fsync)"
            ),
        )),
    }
}

/// `on_change=`: `"fail"` (the default) or `"restart"`.
fn parse_on_change(text: &str) -> PyResult<OnChange> {
    match text {
        "fail" => Ok(OnChange::Fail),
        "restart" => Ok(OnChange::Restart),
        _ => Err(invalid_argument(
            "on_change",
            &format!("{text:?} is not a policy; use \"fail\" (the default) or \"restart\""),
        )),
    }
}

/// `headers=`: a mapping (anything with `items()`: a dict, oss2's `CaseInsensitiveDict`) or
/// an iterable of `(name, value)` pairs, in order.
fn header_pairs(headers: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<(String, String)>> {
    let Some(headers) = headers.filter(|h| !h.is_none()) else {
        return Ok(Vec::new());
    };
    let pairs = if headers.hasattr("items")? {
        headers.call_method0("items")?
    } else {
        headers.clone()
    };
    pairs
        .try_iter()?
        .map(|pair| {
            pair?.extract::<(String, String)>().map_err(|_| {
                PyTypeError::new_err(
                    "headers: expected a dict of str to str, or (name, value) pairs of str",
                )
            })
        })
        .collect()
}
