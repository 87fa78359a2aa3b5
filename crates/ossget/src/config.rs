//! The config file: defaults for options, in TOML, at `--config FILE`, `$OSSGET_CONFIG`,
//! `$XDG_CONFIG_HOME/ossget/config.toml` or `~/.config/ossget/config.toml`.
//!
//! Precedence: a flag on the command line, then its environment variable (`OSS_ENDPOINT`,
//! `OSS_REGION`; `HTTPS_PROXY`... for `proxy`), then the config file, then the built-in
//! default. A key is a long option's name (`part-size`, or `part_size`) and its value what
//! the option takes; each value is checked by the option's own parser before any request,
//! and a problem names the file, the key (and its line) and the fix (exit 2).
//!
//! Credentials do not belong here (the credentials chain's profile files hold them:
//! `profile = "NAME"` picks one), nor `insecure`, which must be typed on each run.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap::parser::ValueSource;

use crate::cli::Args;

/// What a key takes.
#[derive(Clone, Copy)]
enum Kind {
    /// A string (or a number, for sizes and durations).
    Text,
    /// A whole number.
    Number,
    /// A connection count: a whole number or the string `"auto"`.
    Connections,
    /// `true` adds the flag; `false` leaves it out.
    Flag,
    /// `false` adds the (negating) flag; `true` leaves it out.
    NegatedFlag,
    /// A path, relative to the config file's directory.
    Path,
}

/// One key: its name, the argument id it sets, the option's flag, and its kind.
struct Key {
    name: &'static str,
    id: &'static str,
    flag: &'static str,
    kind: Kind,
    example: &'static str,
}

/// Options that, given on the command line, make a key moot besides its own (the other
/// spelling of an on/off pair, or an option it conflicts with).
const ALSO: &[(&str, &[&str])] = &[
    (
        "checkpoint",
        &["checkpoint", "checkpoint_path", "checkpoint_dir"],
    ),
    ("checkpoint-dir", &["checkpoint_path", "no_checkpoint"]),
    ("cacert", &["ca_native", "insecure"]),
    ("ca-native", &["cacert", "insecure"]),
    ("addressing-style", &["cname", "path_style"]),
    ("profile", &["anonymous"]),
];

/// Environment variables that beat a key (flags > environment > config file).
const ENV_BEATS: &[(&str, &[&str])] = &[
    (
        "proxy",
        &[
            "https_proxy",
            "HTTPS_PROXY",
            "http_proxy",
            "HTTP_PROXY",
            "all_proxy",
            "ALL_PROXY",
        ],
    ),
    ("noproxy", &["no_proxy", "NO_PROXY"]),
];

const fn key(
    name: &'static str,
    id: &'static str,
    flag: &'static str,
    kind: Kind,
    example: &'static str,
) -> Key {
    Key {
        name,
        id,
        flag,
        kind,
        example,
    }
}

/// Every key the file may hold.
const KEYS: &[Key] = &[
    key(
        "endpoint",
        "endpoint",
        "--endpoint",
        Kind::Text,
        "\"https://oss-cn-hangzhou.aliyuncs.com\"",
    ),
    key(
        "region",
        "region",
        "--region",
        Kind::Text,
        "\"cn-hangzhou\"",
    ),
    key(
        "signature-version",
        "signature_version",
        "--signature-version",
        Kind::Text,
        "4",
    ),
    key(
        "addressing-style",
        "addressing_style",
        "--addressing-style",
        Kind::Text,
        "\"virtual\"",
    ),
    key("profile", "profile", "--profile", Kind::Text, "\"dev\""),
    key("payer", "payer", "--payer", Kind::Text, "\"requester\""),
    key("threads", "threads", "--threads", Kind::Connections, "8"),
    key(
        "part-size",
        "part_size",
        "--part-size",
        Kind::Text,
        "\"16MiB\"",
    ),
    key(
        "limit-rate",
        "limit_rate",
        "--limit-rate",
        Kind::Text,
        "\"50MiB\"",
    ),
    key(
        "traffic-limit",
        "traffic_limit",
        "--traffic-limit",
        Kind::Text,
        "\"10MiB\"",
    ),
    key(
        "durability",
        "durability",
        "--durability",
        Kind::Text,
        "\"fast\"",
    ),
    key(
        "on-change",
        "on_change",
        "--on-change",
        Kind::Text,
        "\"restart\"",
    ),
    key(
        "preserve-mtime",
        "no_preserve_mtime",
        "--no-preserve-mtime",
        Kind::NegatedFlag,
        "false",
    ),
    key(
        "checkpoint",
        "no_checkpoint",
        "--no-checkpoint",
        Kind::NegatedFlag,
        "false",
    ),
    key(
        "checkpoint-dir",
        "checkpoint_dir",
        "--checkpoint-dir",
        Kind::Path,
        "\"/var/tmp/ossget\"",
    ),
    key(
        "proxy",
        "proxy",
        "--proxy",
        Kind::Text,
        "\"http://proxy.example:3128\"",
    ),
    key(
        "noproxy",
        "noproxy",
        "--noproxy",
        Kind::Text,
        "\"localhost,.internal\"",
    ),
    key(
        "cacert",
        "cacert",
        "--cacert",
        Kind::Path,
        "\"/etc/ssl/corp-ca.pem\"",
    ),
    key("ca-native", "ca_native", "--ca-native", Kind::Flag, "true"),
    key("retries", "retries", "--retries", Kind::Number, "10"),
    key(
        "connect-timeout",
        "connect_timeout",
        "--connect-timeout",
        Kind::Text,
        "\"5s\"",
    ),
    key(
        "stall-timeout",
        "stall_timeout",
        "--stall-timeout",
        Kind::Text,
        "\"60s\"",
    ),
    key(
        "min-rate",
        "min_rate",
        "--min-rate",
        Kind::Text,
        "\"10KiB/30s\"",
    ),
    key("max-time", "max_time", "--max-time", Kind::Text, "\"2h\""),
];

/// Keys that are refused with their own reason.
const REFUSED: &[(&str, &str)] = &[
    ("access-key-id", CREDENTIALS),
    ("access-key-secret", CREDENTIALS),
    ("secret", CREDENTIALS),
    ("security-token", CREDENTIALS),
    ("sts-token", CREDENTIALS),
    ("session-token", CREDENTIALS),
    (
        "insecure",
        "--insecure turns certificate checks off, so it is never read from a file: give it on the command line of each run that needs it",
    ),
];

const CREDENTIALS: &str = "credentials do not belong in ossget's config file; keep them in a profile (aliyun configure writes ~/.aliyun/config.json) and name it with profile = \"NAME\" here or --profile NAME, or use the OSS_ACCESS_KEY_ID/OSS_ACCESS_KEY_SECRET variables";

/// Where the config file is, if there is one to read: `--config`, `$OSSGET_CONFIG` (both must
/// exist), else the platform's config directory (read only if it exists).
pub fn locate(
    flag: Option<&Path>,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<Option<PathBuf>, String> {
    let given = flag.map(|p| (p.to_path_buf(), "--config")).or_else(|| {
        env("OSSGET_CONFIG")
            .filter(|v| !v.is_empty())
            .map(|v| (PathBuf::from(v), "OSSGET_CONFIG"))
    });
    if let Some((path, origin)) = given {
        if !path.is_file() {
            return Err(format!(
                "{origin} names `{}`, which is not a file; create it or fix the path",
                path.display()
            ));
        }
        return Ok(Some(path));
    }
    let dir = env("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".config")));
    Ok(dir
        .map(|d| d.join("ossget").join("config.toml"))
        .filter(|p| p.is_file()))
}

/// The command-line arguments the config file at `path` adds: one option per key that the
/// command line (or its environment variable) did not set already. Every value is checked
/// by the option's own parser; the error names the file, the key, its line and the fix.
pub fn arguments(
    path: &Path,
    matches: &clap::ArgMatches,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<Vec<OsString>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the config file `{}`: {e}", path.display()))?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| {
        format!(
            "the config file `{}` is not valid TOML: {}",
            path.display(),
            e.to_string().trim_end()
        )
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let mut out = Vec::new();
    for (name, value) in &table {
        let at = |problem: String| {
            let line = line_of(&text, name).map_or(String::new(), |n| format!(" (line {n})"));
            format!(
                "config file `{}`: key `{name}`{line}: {problem}",
                path.display()
            )
        };
        let normal = name.replace('_', "-");
        if let Some((_, why)) = REFUSED.iter().find(|(k, _)| *k == normal) {
            return Err(at((*why).to_owned()));
        }
        let Some(key) = KEYS.iter().find(|k| k.name == normal) else {
            let names: Vec<&str> = KEYS.iter().map(|k| k.name).collect();
            return Err(at(format!(
                "unknown key; remove it, or use one of: {}",
                names.join(", ")
            )));
        };
        let args = key_arguments(key, value, base).map_err(&at)?;
        check(&args).map_err(&at)?;
        let given = |id: &str| {
            matches!(
                matches.value_source(id),
                Some(ValueSource::CommandLine | ValueSource::EnvVariable)
            )
        };
        let also = ALSO
            .iter()
            .find(|(k, _)| *k == key.name)
            .map_or(&[][..], |(_, ids)| ids);
        let beaten_by_env = ENV_BEATS
            .iter()
            .find(|(k, _)| *k == key.name)
            .is_some_and(|(_, vars)| vars.iter().any(|v| env(v).is_some_and(|x| !x.is_empty())));
        if !given(key.id) && !also.iter().any(|id| given(id)) && !beaten_by_env {
            out.extend(args);
        }
    }
    Ok(out)
}

/// The arguments `value` stands for, or what is wrong with its type.
fn key_arguments(key: &Key, value: &toml::Value, base: &Path) -> Result<Vec<OsString>, String> {
    use toml::Value as V;
    let wrong = |what: &str| {
        format!(
            "expected {what}, found {}; write e.g. {} = {}",
            describe(value),
            key.name,
            key.example
        )
    };
    let text = match (key.kind, value) {
        (Kind::Flag, V::Boolean(true)) | (Kind::NegatedFlag, V::Boolean(false)) => {
            return Ok(vec![key.flag.into()]);
        }
        (Kind::Flag | Kind::NegatedFlag, V::Boolean(_)) => return Ok(Vec::new()),
        (Kind::Flag | Kind::NegatedFlag, _) => return Err(wrong("true or false")),
        (Kind::Number, V::Integer(n)) => n.to_string(),
        (Kind::Number, _) => return Err(wrong("a whole number")),
        (Kind::Connections, V::Integer(n)) => n.to_string(),
        (Kind::Connections, V::String(s)) if s.trim().eq_ignore_ascii_case("auto") => s.clone(),
        (Kind::Connections, _) => return Err(wrong("a whole number or \"auto\"")),
        (Kind::Text, V::String(s)) => s.clone(),
        (Kind::Text, V::Integer(n)) => n.to_string(),
        (Kind::Text, _) => return Err(wrong("a string")),
        (Kind::Path, V::String(s)) => base.join(s).display().to_string(),
        (Kind::Path, _) => return Err(wrong("a path (a string)")),
    };
    Ok(vec![key.flag.into(), text.into()])
}

/// Runs `args` through the options' own parsers; clap's message (without its `error: `
/// and usage lines) when one refuses.
fn check(args: &[OsString]) -> Result<(), String> {
    let mut argv: Vec<OsString> = vec!["ossget".into(), "oss://bkt/k".into()];
    argv.extend(args.iter().cloned());
    match Args::command().try_get_matches_from(argv) {
        Ok(_) => Ok(()),
        Err(e) => {
            let text = e.to_string();
            let first = text.lines().next().unwrap_or_default();
            Err(first.trim_start_matches("error: ").to_owned())
        }
    }
}

fn describe(value: &toml::Value) -> &'static str {
    match value {
        toml::Value::String(_) => "a string",
        toml::Value::Integer(_) => "a number",
        toml::Value::Float(_) => "a fraction",
        toml::Value::Boolean(_) => "true/false",
        toml::Value::Datetime(_) => "a date",
        toml::Value::Array(_) => "a list",
        toml::Value::Table(_) => "a table",
    }
}

/// The line (from 1) where `key` is set.
fn line_of(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            let l = line.trim_start();
            l.strip_prefix(key)
                .or_else(|| l.strip_prefix(&format!("\"{key}\"")))
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let p = dir.join("config.toml");
        std::fs::write(&p, text).unwrap();
        p
    }

    fn matches(argv: &[&str]) -> clap::ArgMatches {
        Args::command().try_get_matches_from(argv).unwrap()
    }

    #[test]
    fn flags_win_and_values_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "threads = 8\npart_size = \"16MiB\"\nregion = \"cn-beijing\"\ncacert = \"ca.pem\"\npreserve-mtime = false\nca-native = false\n",
        );
        let m = matches(&["ossget", "oss://b/k", "--threads", "2"]);
        let extra = arguments(&p, &m, |_| None).unwrap();
        let texts: Vec<String> = extra
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert!(!texts.contains(&"--threads".to_owned()), "{texts:?}");
        assert!(
            texts
                .windows(2)
                .any(|w| w[0] == "--part-size" && w[1] == "16MiB")
        );
        assert!(texts.contains(&"--no-preserve-mtime".to_owned()));
        assert!(!texts.contains(&"--ca-native".to_owned()));
        let ca = dir.path().join("ca.pem").display().to_string();
        assert!(texts.contains(&ca), "{texts:?}");
        let mut argv: Vec<OsString> = vec![
            "ossget".into(),
            "oss://b/k".into(),
            "--threads".into(),
            "2".into(),
        ];
        argv.extend(extra);
        let a = Args::try_parse_from(argv).unwrap();
        assert_eq!(
            (a.threads, a.part_size),
            (crate::cli::Threads::Fixed(2), Some(16 << 20))
        );
        assert_eq!(a.region.as_deref(), Some("cn-beijing"));
        // The environment beats the file for the proxy; a flag beats both spellings.
        let p = write(dir.path(), "proxy = \"http://p:1\"\ncheckpoint = false\n");
        let m = matches(&["ossget", "oss://b/k", "--checkpoint"]);
        let env = |n: &str| (n == "HTTPS_PROXY").then(|| OsString::from("http://e:2"));
        assert!(arguments(&p, &m, env).unwrap().is_empty());
        // A connection count in the file may be adaptive, as on the command line.
        let p = write(dir.path(), "threads = \"auto\"\n");
        let m = matches(&["ossget", "oss://b/k"]);
        let mut argv: Vec<OsString> = vec!["ossget".into(), "oss://b/k".into()];
        argv.extend(arguments(&p, &m, |_| None).unwrap());
        let a = Args::try_parse_from(argv).unwrap();
        assert_eq!(a.threads, crate::cli::Threads::Auto);
    }

    #[test]
    fn mistakes_name_the_file_the_key_and_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let m = matches(&["ossget", "oss://b/k"]);
        let e = |text: &str| arguments(&write(dir.path(), text), &m, |_| None).unwrap_err();
        let unknown = e("# c\nthreds = 4\n");
        assert!(
            unknown.contains("config.toml")
                && unknown.contains("`threds` (line 2)")
                && unknown.contains("one of: endpoint"),
            "{unknown}"
        );
        let wrong = e("threads = \"many\"\n");
        assert!(
            wrong.contains(
                "expected a whole number or \"auto\", found a string; write e.g. threads = 8"
            ),
            "{wrong}"
        );
        let range = e("threads = 0\n");
        assert!(range.contains("from 1 to 1024"), "{range}");
        let secret = e("access_key_secret = \"x\"\n");
        assert!(
            secret.contains("--profile") && !secret.contains("\"x\""),
            "{secret}"
        );
        assert!(e("insecure = true\n").contains("command line"));
        assert!(e("threads = [").contains("not valid TOML"));
        assert!(e("part-size = \"8XB\"\n").contains("not a size"));
    }

    #[test]
    fn where_it_is_looked_for() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().to_owned();
        let env = |vars: Vec<(&'static str, OsString)>| {
            move |n: &str| vars.iter().find(|(k, _)| *k == n).map(|(_, v)| v.clone())
        };
        assert_eq!(
            locate(None, env(vec![("HOME", home.clone().into())])).unwrap(),
            None
        );
        let cfg = home.join(".config/ossget/config.toml");
        std::fs::create_dir_all(cfg.parent().unwrap()).unwrap();
        std::fs::write(&cfg, "").unwrap();
        assert_eq!(
            locate(None, env(vec![("HOME", home.clone().into())])).unwrap(),
            Some(cfg.clone())
        );
        let e = locate(Some(Path::new("/nonexistent/x.toml")), env(vec![])).unwrap_err();
        assert!(e.contains("--config names `/nonexistent/x.toml`"), "{e}");
        let e = locate(None, env(vec![("OSSGET_CONFIG", "/nope.toml".into())])).unwrap_err();
        assert!(e.contains("OSSGET_CONFIG"), "{e}");
    }
}
