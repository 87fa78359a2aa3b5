//! Access keys in environment variables: the OSS SDKs' `OSS_ACCESS_KEY_ID`,
//! `OSS_ACCESS_KEY_SECRET` and `OSS_SESSION_TOKEN` first, then the credentials SDKs'
//! `ALIBABA_CLOUD_ACCESS_KEY_ID`, `ALIBABA_CLOUD_ACCESS_KEY_SECRET` and
//! `ALIBABA_CLOUD_SECURITY_TOKEN`. An id without its secret (or the reverse) is an error
//! naming the missing variable, not a silent fall-through to another identity.

use oss_sign::Credentials;

use crate::fetch::{BoxFuture, FetchCredentials, Fetched};
use crate::{CredentialsError, Environment};

const NAME: &str = "env";

/// The two families of variables, in the order they are tried: (id, secret, token).
const FAMILIES: [(&str, &str, &str); 2] = [
    (
        "OSS_ACCESS_KEY_ID",
        "OSS_ACCESS_KEY_SECRET",
        "OSS_SESSION_TOKEN",
    ),
    (
        "ALIBABA_CLOUD_ACCESS_KEY_ID",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "ALIBABA_CLOUD_SECURITY_TOKEN",
    ),
];

/// Credentials from environment variables (read when fetched; they do not expire).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use oss_credentials::{EnvironmentProvider, Environment, FetchCredentials};
///
/// let env = Environment::new()
///     .var("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAI5tExample")
///     .var("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "secret");
/// let fetched = EnvironmentProvider::new(env).fetch().await.unwrap();
/// assert_eq!(fetched.credentials.access_key_id(), Some("LTAI5tExample"));
/// assert_eq!(fetched.source, "env (ALIBABA_CLOUD_ACCESS_KEY_ID)");
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct EnvironmentProvider {
    env: Environment,
}

impl EnvironmentProvider {
    /// Reads `env`.
    pub fn new(env: Environment) -> Self {
        Self { env }
    }

    fn read(&self) -> Result<Fetched, CredentialsError> {
        for (id_var, secret_var, token_var) in FAMILIES {
            let (id, secret) = (self.env.get(id_var), self.env.get(secret_var));
            let (id, secret) = match (id, secret) {
                (None, None) => continue,
                (Some(id), Some(secret)) => (id, secret),
                (Some(_), None) | (None, Some(_)) => {
                    let (present, missing) = if id.is_some() {
                        (id_var, secret_var)
                    } else {
                        (secret_var, id_var)
                    };
                    return Err(CredentialsError::Incomplete {
                        provider: NAME,
                        present: vec![present.to_owned()],
                        missing: vec![missing.to_owned()],
                    });
                }
            };
            let invalid = |source| CredentialsError::InvalidCredentials {
                provider: NAME,
                source,
            };
            let mut credentials = Credentials::new(id, secret).map_err(invalid)?;
            if let Some(token) = self.env.get(token_var) {
                credentials = credentials.with_security_token(token).map_err(invalid)?;
            }
            return Ok(Fetched {
                credentials,
                source: format!("{NAME} ({id_var})"),
            });
        }
        Err(CredentialsError::not_applicable(
            NAME,
            "neither OSS_ACCESS_KEY_ID/OSS_ACCESS_KEY_SECRET nor ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET is set",
        ))
    }
}

impl FetchCredentials for EnvironmentProvider {
    fn name(&self) -> &'static str {
        NAME
    }

    fn fetch(&self) -> BoxFuture<'_, Result<Fetched, CredentialsError>> {
        Box::pin(std::future::ready(self.read()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(env: Environment) -> Result<Fetched, CredentialsError> {
        EnvironmentProvider::new(env).read()
    }

    #[test]
    fn oss_variables_come_first_and_tokens_are_optional() {
        let env = Environment::new()
            .var("OSS_ACCESS_KEY_ID", "LTAIoss")
            .var("OSS_ACCESS_KEY_SECRET", "s1")
            .var("OSS_SESSION_TOKEN", "tok")
            .var("ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIali")
            .var("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "s2");
        let f = read(env.clone()).unwrap();
        assert_eq!(f.credentials.access_key_id(), Some("LTAIoss"));
        assert!(f.credentials.has_security_token());
        let f = read(
            env.without("OSS_ACCESS_KEY_ID")
                .without("OSS_ACCESS_KEY_SECRET"),
        )
        .unwrap();
        assert_eq!(f.credentials.access_key_id(), Some("LTAIali"));
        assert!(!f.credentials.has_security_token());
    }

    #[test]
    fn half_a_pair_names_the_missing_variable_and_none_is_not_applicable() {
        let e = read(Environment::new().var("ALIBABA_CLOUD_ACCESS_KEY_ID", "x")).unwrap_err();
        assert!(
            e.to_string()
                .contains("set ALIBABA_CLOUD_ACCESS_KEY_SECRET too"),
            "{e}"
        );
        assert!(!e.is_not_applicable());
        let e = read(Environment::new().var("OSS_ACCESS_KEY_SECRET", "TopSecret")).unwrap_err();
        assert!(
            e.to_string().contains("set OSS_ACCESS_KEY_ID too")
                && !e.to_string().contains("TopSecret"),
            "{e}"
        );
        assert!(read(Environment::new()).unwrap_err().is_not_applicable());
    }
}
