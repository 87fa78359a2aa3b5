//! `ossr_config`: what the C SDK's `oss_config_t` holds (endpoint, keys, STS token, region,
//! signature version, cname), set field by field and read once by `ossr_client_new`.
//!
//! A setter that fails returns its status *and* records the problem in the config, so
//! `ossr_client_new` reports it with its message even when the caller ignored the return
//! value (the C SDK's examples ignore every return value). Setting the same field again
//! successfully clears its recorded problem.

use std::ffi::{c_char, c_int};

use oss_resume::{Credentials, SignatureVersion};
use zeroize::Zeroizing;

use crate::ffi::{guard, str_arg};
use crate::status::{Failure, chain, ossr_status};

/// The access key the client signs with: id, secret and optional STS token (the secret and
/// the token zeroed on drop). The other source of credentials, the default chain, is
/// `ossr_config::chain`; `ossr_config::builder` turns either into what oss-resume's client
/// builder takes.
#[derive(Default)]
struct Keys {
    id: Option<String>,
    secret: Option<Zeroizing<String>>,
    token: Option<Zeroizing<String>>,
}

/// A client configuration. Made by `ossr_config_new`, filled by the `ossr_config_set_...`
/// functions (each copies its string: the caller's may be freed after the call), read by
/// `ossr_client_new` (which copies what it needs: the config may be freed or reused after
/// it), freed by `ossr_config_free`. Not for use from two threads at once.
pub struct ossr_config {
    endpoint: Option<String>,
    region: Option<String>,
    keys: Keys,
    /// Sign with oss-resume's default credentials chain instead of `keys`
    /// (`ossr_config_credentials_from_chain`; any key setter turns it off again).
    chain: bool,
    signature_version: SignatureVersion,
    is_cname: bool,
    /// Problems from failed setters, by setting name, in the order they happened.
    problems: Vec<(&'static str, Failure)>,
}

impl ossr_config {
    fn new() -> Self {
        Self {
            endpoint: None,
            region: None,
            keys: Keys::default(),
            chain: false,
            signature_version: SignatureVersion::V4,
            is_cname: false,
            problems: Vec::new(),
        }
    }

    /// Records the outcome of setting `setting`: a success clears its earlier problem.
    fn record(&mut self, setting: &'static str, outcome: Result<(), Failure>) -> ossr_status {
        self.problems.retain(|(s, _)| *s != setting);
        match outcome {
            Ok(()) => ossr_status::OSSR_OK,
            Err(f) => {
                let status = f.status;
                self.problems.push((setting, f));
                status
            }
        }
    }

    /// The settings as oss-resume's client builder takes them; the first recorded problem,
    /// or a missing setting, is the error.
    pub(crate) fn builder(&self) -> Result<oss_resume::ClientBuilder, Failure> {
        if let Some((_, problem)) = self.problems.first() {
            return Err(problem.clone());
        }
        let endpoint = self.endpoint.clone().ok_or_else(|| {
            Failure::invalid(
                "config",
                "no endpoint is set; call ossr_config_set_endpoint (e.g. \
                 \"https://oss-cn-hangzhou.aliyuncs.com\")",
            )
        })?;
        let is_cname = self.is_cname;
        let mut builder = oss_resume::Client::builder().endpoint(endpoint);
        builder = if self.chain {
            builder.credentials_chain()
        } else {
            builder.credentials(self.credentials()?)
        };
        builder = builder
            .signature_version(self.signature_version)
            .http(|b| b.cname(is_cname));
        if let Some(region) = &self.region {
            builder = builder.region(region.clone());
        }
        Ok(builder)
    }

    /// The keys, checked by oss-sign's rules.
    fn credentials(&self) -> Result<Credentials, Failure> {
        let Keys { id, secret, token } = &self.keys;
        let (id, secret) = match (id, secret) {
            (Some(id), Some(secret)) => (id, secret),
            (None, None) => {
                return Err(Failure::invalid(
                    "config",
                    "no credentials are set; call ossr_config_credentials_from_env, or \
                     ossr_config_credentials_from_chain, or ossr_config_set_access_key_id and \
                     ossr_config_set_access_key_secret",
                ));
            }
            (Some(_), None) => {
                return Err(Failure::invalid(
                    "config",
                    "the access key id is set but not its secret; call \
                     ossr_config_set_access_key_secret",
                ));
            }
            (None, Some(_)) => {
                return Err(Failure::invalid(
                    "config",
                    "the access key secret is set but not its id; call \
                     ossr_config_set_access_key_id",
                ));
            }
        };
        let keys = Credentials::new(id.as_str(), secret.as_str())
            .map_err(|e| Failure::invalid("access_key_id", chain(&e)))?;
        match token {
            Some(t) => keys
                .with_security_token(t.as_str())
                .map_err(|e| Failure::invalid("security_token", chain(&e))),
            None => Ok(keys),
        }
    }
}

/// A new configuration: no endpoint, no credentials, no region, signature version 4, not a
/// cname. Free it with `ossr_config_free`. Returns NULL only if memory ran out.
#[unsafe(no_mangle)]
pub extern "C" fn ossr_config_new() -> *mut ossr_config {
    guard(std::ptr::null_mut, || {
        Box::into_raw(Box::new(ossr_config::new()))
    })
}

/// Frees a configuration (NULL is ignored). Clients made from it are unaffected.
///
/// # Safety
/// `config` is NULL or was returned by `ossr_config_new` and not freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_config_free(config: *mut ossr_config) {
    guard(
        || (),
        || {
            if !config.is_null() {
                // SAFETY: made by Box::into_raw in ossr_config_new, not freed yet (contract).
                drop(unsafe { Box::from_raw(config) });
            }
        },
    );
}

/// Runs `change` on the config behind `config` (under the panic guard) and records its
/// outcome as `setting`; NULL is `OSSR_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `config` is NULL or a live config used by one thread at a time.
unsafe fn update(
    config: *mut ossr_config,
    setting: &'static str,
    change: impl FnOnce(&mut ossr_config) -> Result<(), Failure>,
) -> ossr_status {
    guard(
        || ossr_status::OSSR_ERR_INTERNAL,
        || {
            // SAFETY: NULL or a live config made by ossr_config_new (contract), used by
            // one thread at a time (the header says so).
            let Some(config) = (unsafe { config.as_mut() }) else {
                return ossr_status::OSSR_ERR_INVALID_ARGUMENT;
            };
            let outcome = change(config);
            config.record(setting, outcome)
        },
    )
}

/// [`update`] with the string argument `value`, read as `setting` (NULL and invalid UTF-8
/// are the recorded problem).
///
/// # Safety
/// `config` is NULL or a live config; `value` is NULL or a NUL-terminated string.
unsafe fn set_string(
    config: *mut ossr_config,
    value: *const c_char,
    setting: &'static str,
    set: impl FnOnce(&mut ossr_config, &str) -> Result<(), Failure>,
) -> ossr_status {
    // SAFETY: NULL or NUL-terminated, valid for this call (contract).
    let value = unsafe { str_arg(value, setting) };
    // SAFETY: the same contract as this function's.
    unsafe { update(config, setting, |c| set(c, value?)) }
}

/// Sets the endpoint (the C SDK's `config->endpoint`): `"oss-cn-hangzhou.aliyuncs.com"`,
/// `"https://oss-cn-hangzhou.aliyuncs.com"`, or `"http://127.0.0.1:9000"` for a local
/// emulator (IP and `localhost` endpoints use path-style addressing). Required.
///
/// # Safety
/// `config` is NULL or a live config; `endpoint` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_config_set_endpoint(
    config: *mut ossr_config,
    endpoint: *const c_char,
) -> ossr_status {
    // SAFETY: the same contract as this function's.
    unsafe {
        set_string(config, endpoint, "endpoint", |c, v| {
            if v.trim().is_empty() {
                return Err(Failure::invalid(
                    "endpoint",
                    "it is empty; name the OSS endpoint",
                ));
            }
            c.endpoint = Some(v.to_owned());
            Ok(())
        })
    }
}

/// Sets the region (the C SDK's `config->region`), e.g. `"cn-hangzhou"`; signature version
/// 4 needs it unless the endpoint names it.
///
/// # Safety
/// `config` is NULL or a live config; `region` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_config_set_region(
    config: *mut ossr_config,
    region: *const c_char,
) -> ossr_status {
    // SAFETY: the same contract as this function's.
    unsafe {
        set_string(config, region, "region", |c, v| {
            c.region = Some(v.to_owned());
            Ok(())
        })
    }
}

/// Sets the AccessKey ID (the C SDK's `config->access_key_id`).
///
/// # Safety
/// `config` is NULL or a live config; `access_key_id` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_config_set_access_key_id(
    config: *mut ossr_config,
    access_key_id: *const c_char,
) -> ossr_status {
    // SAFETY: the same contract as this function's.
    unsafe {
        set_string(config, access_key_id, "access_key_id", |c, v| {
            c.keys.id = Some(v.to_owned());
            c.chain = false;
            Ok(())
        })
    }
}

/// Sets the AccessKey secret (the C SDK's `config->access_key_secret`). The copy is zeroed
/// when the config is freed; the secret never appears in any message.
///
/// # Safety
/// `config` is NULL or a live config; `access_key_secret` is NULL or a NUL-terminated
/// string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_config_set_access_key_secret(
    config: *mut ossr_config,
    access_key_secret: *const c_char,
) -> ossr_status {
    // SAFETY: the same contract as this function's.
    unsafe {
        set_string(config, access_key_secret, "access_key_secret", |c, v| {
            c.keys.secret = Some(Zeroizing::new(v.to_owned()));
            c.chain = false;
            Ok(())
        })
    }
}

/// Sets the STS security token (the C SDK's `config->sts_token`) for temporary
/// credentials; NULL removes it. Zeroed when the config is freed.
///
/// # Safety
/// `config` is NULL or a live config; `security_token` is NULL or a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_config_set_security_token(
    config: *mut ossr_config,
    security_token: *const c_char,
) -> ossr_status {
    if security_token.is_null() {
        // SAFETY: the same contract as this function's.
        return unsafe {
            update(config, "security_token", |c| {
                c.keys.token = None;
                c.chain = false;
                Ok(())
            })
        };
    }
    // SAFETY: the same contract as this function's.
    unsafe {
        set_string(config, security_token, "security_token", |c, v| {
            c.keys.token = Some(Zeroizing::new(v.to_owned()));
            c.chain = false;
            Ok(())
        })
    }
}

/// Reads the credentials from the environment as the C SDK's examples do:
/// `OSS_ACCESS_KEY_ID`, `OSS_ACCESS_KEY_SECRET`, and `OSS_SESSION_TOKEN` when set (an empty
/// variable counts as unset). A missing variable is `OSSR_ERR_INVALID_ARGUMENT`, and
/// `ossr_client_new` names it — where the C SDK's examples crash.
///
/// # Safety
/// `config` is NULL or a live config.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_config_credentials_from_env(config: *mut ossr_config) -> ossr_status {
    // SAFETY: the same contract as this function's.
    unsafe {
        update(config, "credentials_from_env", |c| {
            // The keys' own setters' problems are replaced by this call's outcome.
            c.problems.retain(|(s, _)| {
                !matches!(*s, "access_key_id" | "access_key_secret" | "security_token")
            });
            credentials_from(c, |name| std::env::var(name).ok())
        })
    }
}

/// Fills the keys from `lookup` (the environment, or a test's map).
fn credentials_from(
    config: &mut ossr_config,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<(), Failure> {
    let get = |name: &str| lookup(name).filter(|v| !v.is_empty());
    let missing = |name: &str| {
        Failure::invalid(
            "credentials_from_env",
            format!("the environment variable {name} is not set (or empty); export it"),
        )
    };
    let id = get("OSS_ACCESS_KEY_ID").ok_or_else(|| missing("OSS_ACCESS_KEY_ID"))?;
    let secret = Zeroizing::new(
        get("OSS_ACCESS_KEY_SECRET").ok_or_else(|| missing("OSS_ACCESS_KEY_SECRET"))?,
    );
    let token = get("OSS_SESSION_TOKEN").map(Zeroizing::new);
    config.keys = Keys {
        id: Some(id),
        secret: Some(secret),
        token,
    };
    config.chain = false;
    Ok(())
}

/// Signs with the default credentials chain instead of keys set here, trying in order:
/// `OSS_ACCESS_KEY_ID`/`OSS_ACCESS_KEY_SECRET` (+ `OSS_SESSION_TOKEN`), then
/// `ALIBABA_CLOUD_ACCESS_KEY_ID`/`_SECRET` (+ `ALIBABA_CLOUD_SECURITY_TOKEN`), OIDC
/// (`ALIBABA_CLOUD_ROLE_ARN`, `_OIDC_PROVIDER_ARN`, `_OIDC_TOKEN_FILE`),
/// `~/.aliyun/config.json`, `~/.alibabacloud/credentials.ini`, the ECS RAM role, and
/// `ALIBABA_CLOUD_CREDENTIALS_URI`. The chain is asked at the first request and its
/// temporary credentials are refreshed ahead of expiry, for every download of the client.
/// When no source has credentials, the download fails with a message naming each source
/// and why it had none. Replaces keys set before; a key setter called after it replaces the
/// chain.
///
/// # Safety
/// `config` is NULL or a live config.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_config_credentials_from_chain(
    config: *mut ossr_config,
) -> ossr_status {
    // SAFETY: the same contract as this function's.
    unsafe {
        update(config, "credentials_from_chain", |c| {
            // Problems of earlier key settings no longer matter: the keys are not used.
            c.problems.retain(|(s, _)| {
                !matches!(
                    *s,
                    "access_key_id"
                        | "access_key_secret"
                        | "security_token"
                        | "credentials_from_env"
                )
            });
            c.keys = Keys::default();
            c.chain = true;
            Ok(())
        })
    }
}

/// Sets the signature version (the C SDK's `config->signature_version`): 1 (HMAC-SHA1) or
/// 4 (`OSS4-HMAC-SHA256`, the default). Anything else is `OSSR_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `config` is NULL or a live config.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_config_set_signature_version(
    config: *mut ossr_config,
    version: c_int,
) -> ossr_status {
    // SAFETY: the same contract as this function's.
    unsafe {
        update(config, "signature_version", |c| {
            c.signature_version = match version {
                1 => SignatureVersion::V1,
                4 => SignatureVersion::V4,
                other => {
                    return Err(Failure::invalid(
                        "signature_version",
                        format!("it is {other}; use 1 or 4 (4 is the default)"),
                    ));
                }
            };
            Ok(())
        })
    }
}

/// Whether the endpoint is a custom domain bound to the bucket (the C SDK's
/// `config->is_cname`): non-zero sends requests to `endpoint/object` instead of
/// `bucket.endpoint/object`. Default 0.
///
/// # Safety
/// `config` is NULL or a live config.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ossr_config_set_is_cname(
    config: *mut ossr_config,
    is_cname: c_int,
) -> ossr_status {
    // SAFETY: the same contract as this function's.
    unsafe {
        update(config, "is_cname", |c| {
            c.is_cname = is_cname != 0;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn message(config: &ossr_config) -> String {
        match config.builder() {
            Ok(_) => String::new(),
            Err(f) => f.message,
        }
    }

    #[test]
    fn missing_settings_are_named_with_the_fix() {
        let mut c = ossr_config::new();
        assert!(
            message(&c).contains("ossr_config_set_endpoint"),
            "{}",
            message(&c)
        );
        c.endpoint = Some("http://127.0.0.1:9".into());
        assert!(
            message(&c).contains("ossr_config_credentials_from_env"),
            "{}",
            message(&c)
        );
        c.keys.id = Some("id".into());
        assert!(
            message(&c).contains("ossr_config_set_access_key_secret"),
            "{}",
            message(&c)
        );
        c.keys.secret = Some(Zeroizing::new("secret".into()));
        assert_eq!(message(&c), "");
    }

    #[test]
    fn a_failed_setter_is_reported_until_set_again() {
        let mut c = ossr_config::new();
        let status = c.record("endpoint", Err(Failure::invalid("endpoint", "it is NULL")));
        assert_eq!(status, ossr_status::OSSR_ERR_INVALID_ARGUMENT);
        assert!(message(&c).contains("it is NULL"), "{}", message(&c));
        c.endpoint = Some("http://127.0.0.1:9".into());
        assert_eq!(c.record("endpoint", Ok(())), ossr_status::OSSR_OK);
        assert!(!message(&c).contains("it is NULL"), "{}", message(&c));
    }

    #[test]
    fn environment_credentials_name_the_missing_variable() {
        let env = HashMap::from([("OSS_ACCESS_KEY_ID", "id"), ("OSS_ACCESS_KEY_SECRET", "")]);
        let mut c = ossr_config::new();
        let e = credentials_from(&mut c, |k| env.get(k).map(|v| v.to_string())).unwrap_err();
        assert!(
            e.message.contains("OSS_ACCESS_KEY_SECRET is not set"),
            "{}",
            e.message
        );
        let env = HashMap::from([
            ("OSS_ACCESS_KEY_ID", "id"),
            ("OSS_ACCESS_KEY_SECRET", "s3cr3t-value"),
            ("OSS_SESSION_TOKEN", "tok"),
        ]);
        credentials_from(&mut c, |k| env.get(k).map(|v| v.to_string())).unwrap();
        c.endpoint = Some("http://127.0.0.1:9".into());
        assert!(c.builder().is_ok());
        assert!(c.credentials().unwrap().has_security_token());
    }

    #[test]
    fn the_chain_replaces_keys_and_a_key_setter_replaces_the_chain() {
        let config = ossr_config_new();
        let endpoint = c"http://127.0.0.1:9";
        // SAFETY: a live config from ossr_config_new, NUL-terminated strings.
        unsafe {
            assert_eq!(
                ossr_config_set_endpoint(config, endpoint.as_ptr()),
                ossr_status::OSSR_OK
            );
            assert_eq!(
                ossr_config_set_access_key_id(config, std::ptr::null()),
                ossr_status::OSSR_ERR_INVALID_ARGUMENT
            );
            assert_eq!(
                ossr_config_credentials_from_chain(config),
                ossr_status::OSSR_OK
            );
            // No keys, and the NULL id's problem is gone: the chain signs.
            assert!((*config).builder().is_ok());
            assert!((*config).keys.id.is_none());
            assert_eq!(
                ossr_config_set_access_key_id(config, c"id".as_ptr()),
                ossr_status::OSSR_OK
            );
            // Keys again, and half of them is an error naming the other half.
            assert!(!(*config).chain);
            assert!(message(&*config).contains("ossr_config_set_access_key_secret"));
            assert_eq!(
                ossr_config_credentials_from_chain(std::ptr::null_mut()),
                ossr_status::OSSR_ERR_INVALID_ARGUMENT
            );
            ossr_config_free(config);
        }
    }
}
