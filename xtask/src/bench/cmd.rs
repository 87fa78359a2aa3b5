//! A command line as data: what a row runs, shown exactly as it is run.

use std::path::Path;
use std::process::Command;

/// A program, its arguments and environment changes.
#[derive(Debug, Clone)]
pub struct Cmd {
    /// The program (a path or a name looked up on `PATH`).
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// Environment variables set for it.
    pub env: Vec<(String, String)>,
    /// Environment variables removed for it.
    pub env_remove: Vec<String>,
}

impl Cmd {
    /// `program` with no arguments yet.
    pub fn new(program: impl AsRef<str>) -> Self {
        Self {
            program: program.as_ref().to_string(),
            args: Vec::new(),
            env: Vec::new(),
            env_remove: Vec::new(),
        }
    }

    /// Appends arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_string()));
        self
    }

    /// Appends one path argument.
    pub fn path(self, path: &Path) -> Self {
        let text = path.display().to_string();
        self.args([text])
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    /// Removes an environment variable.
    pub fn env_remove(mut self, key: &str) -> Self {
        self.env_remove.push(key.to_string());
        self
    }

    /// A `std::process::Command` running exactly this, with `wrapper` (e.g. `timeout`,
    /// GNU time) put in front.
    pub fn to_command(&self, wrapper: &[String]) -> Command {
        let mut parts = wrapper
            .iter()
            .cloned()
            .chain(std::iter::once(self.program.clone()));
        let first = parts.next().unwrap_or_default();
        let mut cmd = Command::new(first);
        cmd.args(parts).args(&self.args);
        for key in &self.env_remove {
            cmd.env_remove(key);
        }
        for (key, value) in &self.env {
            cmd.env(key, value);
        }
        cmd
    }

    /// The command as a shell line (env changes first), for the report and the JSON.
    pub fn shell(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if !self.env.is_empty() || !self.env_remove.is_empty() {
            parts.push("env".to_string());
            for key in &self.env_remove {
                parts.push(format!("-u {}", quote(key)));
            }
            for (key, value) in &self.env {
                parts.push(quote(&format!("{key}={value}")));
            }
        }
        parts.push(quote(&self.program));
        parts.extend(self.args.iter().map(|a| quote(a)));
        parts.join(" ")
    }
}

/// Single-quotes `s` for a POSIX shell when it holds anything but safe characters.
pub fn quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, '-' | '_' | '.' | '/' | ':' | '=' | ',' | '@' | '+' | '%')
        });
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_line_quotes_what_needs_it() {
        let cmd = Cmd::new("s5cmd")
            .env("AWS_REGION", "us-east-1")
            .env_remove("AWS_CA_BUNDLE")
            .args(["cp", "s3://b/k", "a b", "it's"]);
        assert_eq!(
            cmd.shell(),
            "env -u AWS_CA_BUNDLE AWS_REGION=us-east-1 s5cmd cp s3://b/k 'a b' 'it'\\''s'"
        );
    }

    #[test]
    fn wrapper_goes_first() {
        let cmd = Cmd::new("curl").args(["-s"]);
        let std_cmd = cmd.to_command(&["timeout".to_string(), "5".to_string()]);
        assert_eq!(std_cmd.get_program(), "timeout");
        let args: Vec<_> = std_cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(args, ["5", "curl", "-s"]);
    }
}
