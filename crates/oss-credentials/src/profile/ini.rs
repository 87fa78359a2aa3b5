//! The credentials SDKs' INI file: `[section]` per profile with `type = access_key |
//! ram_role_arn | ecs_ram_role | oidc_role_arn` and that type's keys.
//!
//! Syntax: `key = value` lines; `#` and `;` start a comment line; a ` #` or ` ;` (after
//! whitespace) starts an inline comment, so a secret may contain `#` or `;` as long as no space
//! precedes them (credentials-python cuts at any `#`, credentials-go at any `#` or `;`, which
//! makes such secrets impossible there). Values may be quoted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Place, RoleFields};
use crate::CredentialsError;
use crate::fetch::FetchCredentials;

const NAME: &str = "ini_profile";
const TYPES: &str = "access_key, ram_role_arn, ecs_ram_role, oidc_role_arn";

/// Sections of an INI file, each a map of keys to values.
type Sections = BTreeMap<String, BTreeMap<String, String>>;

/// Parses `text`; errors name the line.
pub(crate) fn parse(file: &Path, text: &str) -> Result<Sections, CredentialsError> {
    let mut sections = Sections::new();
    let mut current: Option<String> = None;
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        let error = |problem: String| CredentialsError::Config {
            file: file.to_owned(),
            profile: current.clone(),
            field: None,
            problem: format!("line {}: {problem}", n + 1),
        };
        if let Some(rest) = line.strip_prefix('[') {
            let name = rest
                .strip_suffix(']')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| error("a section header must be `[name]`".into()))?;
            sections.entry(name.to_owned()).or_default();
            current = Some(name.to_owned());
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| error("expected `key = value` or `[section]`".into()))?;
        let Some(section) = current.as_ref().and_then(|c| sections.get_mut(c)) else {
            return Err(error("a key before any `[section]`".into()));
        };
        section.insert(key.trim().to_owned(), clean_value(value));
    }
    Ok(sections)
}

/// A value without an inline comment and surrounding quotes.
fn clean_value(value: &str) -> String {
    let bytes = value.as_bytes();
    let cut = (1..bytes.len())
        .find(|&i| {
            matches!(bytes.get(i), Some(b'#' | b';'))
                && bytes.get(i - 1).is_some_and(u8::is_ascii_whitespace)
        })
        .unwrap_or(bytes.len());
    let v = value.get(..cut).unwrap_or(value).trim();
    let unquoted = v
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .or_else(|| v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')));
    unquoted.unwrap_or(v).to_owned()
}

profile_provider!(
    /// A profile (section) of the credentials SDKs' INI file.
    ///
    /// The file: [`file`](Self::file), else `ALIBABA_CLOUD_CREDENTIALS_FILE`, else
    /// `~/.alibabacloud/credentials.ini` (credentials-python's name) or, when that does not exist,
    /// `~/.alibabacloud/credentials` (credentials-go's). The section: [`profile`](Self::profile),
    /// else `ALIBABA_CLOUD_PROFILE`, else `default`.
    IniProfileProvider,
    NAME
);

impl IniProfileProvider {
    fn path(&self) -> Option<PathBuf> {
        if let Some(p) = self.file.clone().or_else(|| {
            self.ctx
                .env
                .get("ALIBABA_CLOUD_CREDENTIALS_FILE")
                .map(PathBuf::from)
        }) {
            return Some(p);
        }
        let ini = super::in_home(&self.ctx.env, ".alibabacloud/credentials.ini")?;
        if ini.exists() {
            return Some(ini);
        }
        super::in_home(&self.ctx.env, ".alibabacloud/credentials")
    }

    fn build(&self) -> Result<(Arc<dyn FetchCredentials>, String), CredentialsError> {
        let (path, text) = super::read_profile_file(
            NAME,
            self.path(),
            "no home directory to find ~/.alibabacloud/credentials.ini in",
        )?;
        let sections = parse(&path, &text)?;
        let named = self
            .profile
            .clone()
            .or_else(|| self.ctx.env.get("ALIBABA_CLOUD_PROFILE").map(str::to_owned));
        let name = named.clone().unwrap_or_else(|| "default".to_owned());
        let Some(section) = sections.get(&name) else {
            if named.is_none() {
                return Err(CredentialsError::not_applicable(
                    NAME,
                    format!("{} has no [default] section", path.display()),
                ));
            }
            return Err(CredentialsError::ProfileNotFound {
                file: path.clone(),
                profile: name,
                available: sections.keys().cloned().collect(),
            });
        };
        let place = Place {
            file: &path,
            profile: &name,
        };
        let inner = self.provider(&place, section)?;
        let kind = section.get("type").cloned().unwrap_or_default();
        Ok((
            inner,
            format!("{NAME} `{name}` ({kind}) in {}", path.display()),
        ))
    }

    fn provider(
        &self,
        place: &Place<'_>,
        section: &BTreeMap<String, String>,
    ) -> Result<Arc<dyn FetchCredentials>, CredentialsError> {
        let get = |key: &str| section.get(key).filter(|v| !v.is_empty()).cloned();
        let required = |key: &str| {
            get(key).ok_or_else(|| {
                place.error(Some(key), "missing or empty; this section's type needs it")
            })
        };
        let role = |session_key: &str| -> Result<RoleFields, CredentialsError> {
            Ok(RoleFields {
                role_arn: required("role_arn")?,
                session_name: get(session_key),
                duration: None,
                policy: get("policy"),
                external_id: None,
                sts_endpoint: None,
                sts_region: None,
                enable_vpc: false,
            })
        };
        let kind = get("type").unwrap_or_default();
        match kind.as_str() {
            "access_key" => {
                let creds = super::key_pair(
                    place,
                    &required("access_key_id")?,
                    &required("access_key_secret")?,
                    None,
                )?;
                Ok(super::static_provider(
                    creds,
                    format!("section `{}`", place.profile),
                ))
            }
            "ram_role_arn" => {
                let creds = super::key_pair(
                    place,
                    &required("access_key_id")?,
                    &required("access_key_secret")?,
                    None,
                )?;
                let source = super::static_provider(
                    creds,
                    format!("the key pair of section `{}`", place.profile),
                );
                super::ram_role(&self.ctx, source, &role("role_session_name")?)
            }
            "ecs_ram_role" => super::ecs_ram_role(&self.ctx, get("role_name")),
            "oidc_role_arn" => super::oidc(
                &self.ctx,
                &required("oidc_provider_arn")?,
                &required("oidc_token_file_path")?,
                &role("role_session_name")?,
            ),
            "" => Err(place.error(Some("type"), format!("missing; set it to one of {TYPES}"))),
            other => Err(place.error(
                Some("type"),
                format!("`{other}` is not supported here (supported: {TYPES})"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sections_comments_and_quotes() {
        let text = "# a comment\n[default]\ntype = access_key\naccess_key_id = LTAI  # inline\naccess_key_secret = \"se#cr;et\"\n\n; another\n[other]\nkey=v;x\n";
        let s = parse(Path::new("/f"), text).unwrap();
        assert_eq!(s["default"]["access_key_id"], "LTAI");
        assert_eq!(s["default"]["access_key_secret"], "se#cr;et");
        assert_eq!(s["other"]["key"], "v;x");
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let e = parse(
            Path::new("/home/u/.alibabacloud/credentials.ini"),
            "[default]\nnot a pair\n",
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("credentials.ini")
                && text.contains("line 2")
                && !text.contains("[default]"),
            "{text}"
        );
        assert!(text.contains("profile `default`"), "{text}");
        let e = parse(Path::new("/f"), "key = v\n").unwrap_err();
        assert!(e.to_string().contains("before any `[section]`"), "{e}");
        let e = parse(Path::new("/f"), "[broken\n").unwrap_err();
        assert!(e.to_string().contains("`[name]`"), "{e}");
    }
}
