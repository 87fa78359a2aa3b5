//! aliyun-cli's `~/.aliyun/config.json`: `{"current": NAME, "profiles": [{"name", "mode",
//! ...fields}]}`. Modes: `AK`, `StsToken`, `RamRoleArn`, `ChainableRamRoleArn`, `EcsRamRole`,
//! `OIDC`, `CredentialsURI` (compared without regard to case, as aliyun-cli does).

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::{Context, Place, RoleFields};
use crate::CredentialsError;
use crate::fetch::FetchCredentials;

const NAME: &str = "cli_profile";
const MODES: &str =
    "AK, StsToken, RamRoleArn, ChainableRamRoleArn, EcsRamRole, OIDC, CredentialsURI";

profile_provider!(
    /// A profile of aliyun-cli's `config.json`.
    ///
    /// The file: [`file`](Self::file), else `ALIBABA_CLOUD_CONFIG_FILE`, else
    /// `~/.aliyun/config.json`. The profile: [`profile`](Self::profile), else
    /// `ALIBABA_CLOUD_PROFILE`, else the file's `current`. A missing file (or no `current` when no
    /// profile is named) is not applicable; a profile named but missing is an error listing the
    /// file's profiles.
    CliProfileProvider,
    NAME
);

impl CliProfileProvider {
    fn path(&self) -> Option<PathBuf> {
        self.file
            .clone()
            .or_else(|| {
                self.ctx
                    .env
                    .get("ALIBABA_CLOUD_CONFIG_FILE")
                    .map(PathBuf::from)
            })
            .or_else(|| super::in_home(&self.ctx.env, ".aliyun/config.json"))
    }

    fn build(&self) -> Result<(Arc<dyn FetchCredentials>, String), CredentialsError> {
        let (path, text) = super::read_profile_file(
            NAME,
            self.path(),
            "no home directory to find ~/.aliyun/config.json in",
        )?;
        let file_error = |problem: String| CredentialsError::Config {
            file: path.clone(),
            profile: None,
            field: None,
            problem,
        };
        let doc: Value = serde_json::from_str(&text)
            .map_err(|e| file_error(format!("not valid JSON ({e}); fix it or remove the file")))?;
        let profiles = doc
            .get("profiles")
            .and_then(Value::as_array)
            .ok_or_else(|| file_error("no `profiles` list".into()))?;
        let named = self
            .profile
            .clone()
            .or_else(|| self.ctx.env.get("ALIBABA_CLOUD_PROFILE").map(str::to_owned));
        let name = match (&named, doc.get("current").and_then(Value::as_str)) {
            (Some(n), _) => n.clone(),
            (None, Some(c)) if !c.is_empty() => c.to_owned(),
            (None, _) => {
                return Err(CredentialsError::not_applicable(
                    NAME,
                    format!("{} names no current profile", path.display()),
                ));
            }
        };
        let build = Build {
            ctx: &self.ctx,
            path: &path,
            profiles,
        };
        let inner = build.profile(&name, 0)?;
        let mode = build
            .find(&name)?
            .get("mode")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Ok((
            inner,
            format!("{NAME} `{name}` ({mode}) in {}", path.display()),
        ))
    }
}

/// Builds the provider a profile describes (recursively for `ChainableRamRoleArn`).
struct Build<'a> {
    ctx: &'a Context,
    path: &'a PathBuf,
    profiles: &'a [Value],
}

impl Build<'_> {
    fn find(&self, name: &str) -> Result<&Map<String, Value>, CredentialsError> {
        self.profiles
            .iter()
            .filter_map(Value::as_object)
            .find(|p| p.get("name").and_then(Value::as_str) == Some(name))
            .ok_or_else(|| CredentialsError::ProfileNotFound {
                file: self.path.clone(),
                profile: name.to_owned(),
                available: self
                    .profiles
                    .iter()
                    .filter_map(|p| p.get("name").and_then(Value::as_str))
                    .map(str::to_owned)
                    .collect(),
            })
    }

    fn profile(
        &self,
        name: &str,
        depth: usize,
    ) -> Result<Arc<dyn FetchCredentials>, CredentialsError> {
        let fields = self.find(name)?;
        let place = Place {
            file: self.path,
            profile: name,
        };
        if depth > 8 {
            return Err(place.error(
                Some("source_profile"),
                "the source profiles form a loop (or a chain deeper than 8)",
            ));
        }
        let f = Fields {
            fields,
            place: &place,
        };
        let mode = f.string("mode")?.unwrap_or_default();
        let described = format!("profile `{name}`");
        match mode.to_ascii_lowercase().as_str() {
            "ak" => {
                let creds = super::key_pair(&place, &f.required("access_key_id")?, &f.required("access_key_secret")?, None)?;
                Ok(super::static_provider(creds, described))
            }
            "ststoken" => {
                let token = f.required("sts_token")?;
                let creds = super::key_pair(&place, &f.required("access_key_id")?, &f.required("access_key_secret")?, Some(&token))?;
                Ok(super::static_provider(creds, described))
            }
            "ramrolearn" => {
                let token = f.string("sts_token")?;
                let creds = super::key_pair(&place, &f.required("access_key_id")?, &f.required("access_key_secret")?, token.as_deref())?;
                let source = super::static_provider(creds, format!("the key pair of {described}"));
                super::ram_role(self.ctx, source, &f.role(&["ram_session_name"])?)
            }
            "chainableramrolearn" => {
                let source_name = f.required("source_profile")?;
                let source = self.profile(&source_name, depth + 1)?;
                super::ram_role(self.ctx, source, &f.role(&["ram_session_name"])?)
            }
            "ecsramrole" => super::ecs_ram_role(self.ctx, f.string("ram_role_name")?),
            "oidc" => {
                let provider_arn = f.required("oidc_provider_arn")?;
                let token_file = f.required("oidc_token_file")?;
                // credentials-go and aliyun-cli read `ram_session_name`, credentials-python
                // `role_session_name`: either works here.
                super::oidc(self.ctx, &provider_arn, &token_file, &f.role(&["ram_session_name", "role_session_name"])?)
            }
            "credentialsuri" => {
                let uri = f
                    .string("credentials_uri")?
                    .or_else(|| self.ctx.env.get("ALIBABA_CLOUD_CREDENTIALS_URI").map(str::to_owned))
                    .ok_or_else(|| place.error(Some("credentials_uri"), "missing; set it to the URI that serves credentials"))?;
                super::credentials_uri(self.ctx, &uri)
            }
            "" => Err(place.error(Some("mode"), format!("missing; set it to one of {MODES}"))),
            _ => Err(place.error(
                Some("mode"),
                format!("`{mode}` is not supported here (supported: {MODES}); run `aliyun configure` with one of those, or use another profile"),
            )),
        }
    }
}

/// Typed access to a profile's fields, with errors naming the field.
struct Fields<'a> {
    fields: &'a Map<String, Value>,
    place: &'a Place<'a>,
}

impl Fields<'_> {
    fn string(&self, name: &str) -> Result<Option<String>, CredentialsError> {
        match self.fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(self.place.error(Some(name), "expected a string")),
        }
    }

    fn required(&self, name: &str) -> Result<String, CredentialsError> {
        self.string(name)?.ok_or_else(|| {
            self.place
                .error(Some(name), "missing or empty; this profile's mode needs it")
        })
    }

    fn seconds(&self, name: &str) -> Result<Option<u64>, CredentialsError> {
        match self.fields.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => n.as_u64().map(Some).ok_or_else(|| {
                self.place
                    .error(Some(name), "expected a whole number of seconds")
            }),
            Some(_) => Err(self
                .place
                .error(Some(name), "expected a number of seconds, e.g. 3600")),
        }
    }

    fn boolean(&self, name: &str) -> Result<bool, CredentialsError> {
        match self.fields.get(name) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(self.place.error(Some(name), "expected true or false")),
        }
    }

    fn role(&self, session_fields: &[&str]) -> Result<RoleFields, CredentialsError> {
        let mut session_name = None;
        for field in session_fields {
            if session_name.is_none() {
                session_name = self.string(field)?;
            }
        }
        Ok(RoleFields {
            role_arn: self.required("ram_role_arn")?,
            session_name,
            duration: self.seconds("expired_seconds")?,
            policy: self.string("policy")?,
            external_id: self.string("external_id")?,
            sts_endpoint: self.string("sts_endpoint")?,
            sts_region: self.string("sts_region")?,
            enable_vpc: self.boolean("enable_vpc")?,
        })
    }
}
