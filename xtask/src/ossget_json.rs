//! ossget's `--json` summary as demo and e2e read it: the members they check, each
//! optional, so a run that failed early (fewer members, nulls) still parses. The full
//! object is documented by `ossget --help` and `crates/ossget/src/summary.rs`; xtask keeps
//! its own copy of the shape because it depends on no workspace crate.

use serde::Deserialize;

/// The `--json` object (the members xtask reads).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Summary {
    /// `done`, `failed` or `interrupted`.
    pub status: Option<String>,
    /// Bytes on disk when the run ended.
    pub bytes_done: Option<u64>,
    /// Body bytes received in this run.
    pub bytes_transferred: Option<u64>,
    /// Bytes already on disk from an earlier run.
    pub bytes_resumed: Option<u64>,
    /// Part requests retried.
    pub retries: Option<u64>,
    /// Ranged GETs sent (each covers a run of parts).
    pub requests: Option<u64>,
    /// Connections opened.
    pub connections_opened: Option<u64>,
    /// Parts in the plan.
    pub parts_total: Option<u64>,
    /// Restarts on a changed object.
    pub restarts: Option<u64>,
    /// Wall time of this run.
    pub elapsed_secs: Option<f64>,
    /// Whether the file was checked against the object's CRC-64.
    pub crc64_verified: Option<bool>,
    /// `off`, `fresh`, `resumed` or `already-complete`.
    pub checkpoint: Option<String>,
    /// Why an existing checkpoint was not used.
    pub checkpoint_note: Option<String>,
    /// The error, when the run failed.
    pub error: Option<SummaryError>,
}

/// `error` in the `--json` object.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct SummaryError {
    /// What happened (one line).
    pub message: Option<String>,
    /// What to do.
    pub hint: Option<String>,
    /// The OSS error code.
    pub oss_code: Option<String>,
}

impl Summary {
    /// Parses one `--json` line.
    pub fn parse(line: &str) -> Result<Self, String> {
        serde_json::from_str(line.trim()).map_err(|e| format!("ossget --json: {e}"))
    }

    /// The last line of `stdout` that is a JSON object, parsed (ossget prints it last).
    pub fn last_in(stdout: &str) -> Option<Self> {
        stdout
            .lines()
            .rev()
            .find(|l| l.trim_start().starts_with('{'))
            .and_then(|l| Self::parse(l).ok())
    }

    /// `error.message`.
    pub fn error_message(&self) -> Option<&str> {
        self.error.as_ref()?.message.as_deref()
    }

    /// `error.hint`.
    pub fn error_hint(&self) -> Option<&str> {
        self.error.as_ref()?.hint.as_deref()
    }

    /// `error.oss_code`.
    pub fn oss_code(&self) -> Option<&str> {
        self.error.as_ref()?.oss_code.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_ossget_prints() {
        let s = Summary::parse(
            r#"{"status":"failed","exit_code":1,"bytes_transferred":1073741824,
                "bytes_resumed":null,"elapsed_secs":1.557,"crc64":"6656326114163777111",
                "crc64_verified":false,"checkpoint":"resumed","warnings":[],
                "error":{"message":"a \"quoted\" \u00e9 \ud83d\ude00\n","oss_code":null,
                "hint":"retry"}}"#,
        )
        .unwrap();
        assert_eq!(s.status.as_deref(), Some("failed"));
        assert_eq!(s.bytes_transferred, Some(1 << 30));
        assert_eq!(s.bytes_resumed, None);
        assert_eq!(s.elapsed_secs, Some(1.557));
        assert_eq!(s.crc64_verified, Some(false));
        assert_eq!(s.checkpoint.as_deref(), Some("resumed"));
        assert_eq!(s.error_message(), Some("a \"quoted\" é 😀\n"));
        assert_eq!(s.error_hint(), Some("retry"));
        assert_eq!(s.oss_code(), None);
    }

    #[test]
    fn finds_the_last_object_line() {
        let out = "noise\n{\"status\":\"interrupted\"}\n";
        assert_eq!(
            Summary::last_in(out).and_then(|s| s.status),
            Some("interrupted".into())
        );
        assert_eq!(Summary::last_in("no json here"), None);
        assert!(Summary::parse("{").is_err());
        assert!(Summary::parse("{\"bytes_done\":-1}").is_err());
    }
}
