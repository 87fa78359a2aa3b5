//! How a run ended: the one-line summary on stderr and the `--json` object on stdout (its
//! fields are documented in `--help`; keep the two in step).

use std::path::Path;
use std::time::Duration;

use oss_resume::{AdaptiveConnections, CheckpointUse, ObjectMeta, Progress, Report};
use serde::Serialize;

use crate::failure::Failure;
use crate::signals::Signal;

use crate::size::{format_duration, format_rate, format_size};

/// The `--json` object.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// `done`, `skipped`, `failed`, `interrupted` or `timed-out`.
    pub status: &'static str,
    /// The process's exit status.
    pub exit_code: u8,
    /// `oss://BUCKET/KEY`.
    pub source: String,
    /// The file's absolute path.
    pub destination: String,
    /// The object's size.
    pub bytes_total: Option<u64>,
    /// Bytes on disk when the run ended.
    pub bytes_done: Option<u64>,
    /// Body bytes received in this run.
    pub bytes_transferred: Option<u64>,
    /// Bytes already on disk from an earlier run.
    pub bytes_resumed: Option<u64>,
    /// Part requests retried.
    pub retries: Option<u64>,
    /// Ranged GETs sent (each covers a run of parts; retries included).
    pub requests: Option<u64>,
    /// Connections opened (kept alive between requests).
    pub connections_opened: Option<u64>,
    /// Restarts on a changed object.
    pub restarts: Option<u32>,
    /// Parts in the plan.
    pub parts_total: Option<u64>,
    /// Bytes per part.
    pub part_size: Option<u64>,
    /// Concurrent part downloads.
    pub threads: usize,
    /// Wall time of this run.
    pub elapsed_secs: f64,
    /// `bytes_transferred / elapsed_secs`.
    pub rate_bytes_per_sec: Option<f64>,
    /// The version's ETag.
    pub etag: Option<String>,
    /// The version id (versioned buckets).
    pub version_id: Option<String>,
    /// The object's CRC-64/XZ as a decimal string (u64 does not fit a JSON number safely).
    pub crc64: Option<String>,
    /// Whether the file was checked against `crc64`.
    pub crc64_verified: bool,
    /// `off`, `fresh`, `resumed` or `already-complete` (null when the run did not get that
    /// far).
    pub checkpoint: Option<&'static str>,
    /// Where progress is kept.
    pub checkpoint_path: Option<String>,
    /// Why an existing checkpoint was not used.
    pub checkpoint_note: Option<String>,
    /// Notes that did not stop the download.
    pub warnings: Vec<String>,
    /// `SIGINT` / `SIGTERM` when interrupted.
    pub signal: Option<&'static str>,
    /// Why the download was skipped (`exists`, `unchanged`).
    pub skipped: Option<&'static str>,
    /// The object's `Content-Type`.
    pub content_type: Option<String>,
    /// The object's `Last-Modified`, ISO 8601 UTC (`2026-01-15T08:30:00Z`).
    pub last_modified: Option<String>,
    /// The object's user metadata (`x-oss-meta-*`, the prefix removed), by name.
    pub metadata: Option<std::collections::BTreeMap<String, String>>,
    /// With `--range`: the object's bytes written, `FIRST-LAST` (inclusive).
    pub range: Option<String>,
    /// Runs far behind whose rest another connection took over (tail splitting).
    pub tail_splits: Option<u64>,
    /// With `--threads auto`: what the adaptive connection count did.
    pub connections_auto: Option<AutoJson>,
    /// The error, when failed.
    pub error: Option<ErrorJson>,
}

/// `error` in the `--json` object.
#[derive(Debug, Serialize)]
pub struct ErrorJson {
    /// What happened.
    pub message: String,
    /// What to do.
    pub hint: Option<String>,
    /// The OSS error code.
    pub oss_code: Option<String>,
    /// The OSS request id.
    pub request_id: Option<String>,
}

/// What every outcome shares.
pub struct Common<'a> {
    /// `oss://BUCKET/KEY`.
    pub source: String,
    /// The destination as the library resolves it.
    pub destination: &'a Path,
    /// `--threads`.
    pub threads: usize,
    /// Wall time.
    pub elapsed: Duration,
    /// The checkpoint's path, when on.
    pub checkpoint_path: Option<&'a Path>,
    /// Warnings of every run (`--insecure`).
    pub warnings: &'a [String],
}

impl Summary {
    fn base(c: &Common<'_>, status: &'static str, exit_code: u8) -> Self {
        Self {
            status,
            exit_code,
            source: c.source.clone(),
            destination: absolute(c.destination),
            bytes_total: None,
            bytes_done: None,
            bytes_transferred: None,
            bytes_resumed: None,
            retries: None,
            requests: None,
            connections_opened: None,
            restarts: None,
            parts_total: None,
            part_size: None,
            threads: c.threads,
            elapsed_secs: round3(c.elapsed.as_secs_f64()),
            rate_bytes_per_sec: None,
            etag: None,
            version_id: None,
            crc64: None,
            crc64_verified: false,
            checkpoint: None,
            checkpoint_path: c.checkpoint_path.map(absolute),
            checkpoint_note: None,
            warnings: c.warnings.to_vec(),
            signal: None,
            skipped: None,
            content_type: None,
            last_modified: None,
            metadata: None,
            range: None,
            tail_splits: None,
            connections_auto: None,
            error: None,
        }
    }

    /// A finished download.
    pub fn done(c: &Common<'_>, r: &Report) -> Self {
        let mut s = Self::base(c, "done", 0);
        let (checkpoint, note) = checkpoint_use(&r.checkpoint);
        let elapsed = r.elapsed.as_secs_f64();
        s.elapsed_secs = round3(elapsed);
        s.bytes_total = Some(r.bytes_total);
        s.bytes_done = Some(r.bytes_total);
        s.bytes_transferred = Some(r.bytes_transferred);
        s.bytes_resumed = Some(r.bytes_resumed);
        s.retries = Some(r.retries);
        s.requests = Some(r.requests);
        s.connections_opened = Some(r.connections_opened);
        s.restarts = Some(r.restarts);
        s.parts_total = Some(r.parts_total);
        s.part_size = Some(r.part_size);
        s.rate_bytes_per_sec = Some(rate(r.bytes_transferred, elapsed));
        s.etag = Some(r.object.etag.clone());
        s.version_id = r.object.version_id.clone();
        s.crc64 = r.object.crc64.map(|c| c.to_string());
        if let Some(range) = &r.range {
            // OSS has no CRC-64 for a range: the one of the bytes written, unverified
            // unless the range is the whole object.
            s.range = Some(format!("{}-{}", range.start, range.end.saturating_sub(1)));
            s.crc64 = r.crc64.map(|c| c.to_string());
        }
        s.crc64_verified = r.crc64_verified;
        s.checkpoint = Some(checkpoint);
        s.checkpoint_note = note;
        s.warnings.extend(r.warnings.iter().cloned());
        s.describe_object(&r.object);
        s.tail_splits = Some(r.tail_splits);
        s.connections_auto = r.adaptive.as_ref().map(AutoJson::from);
        s
    }

    /// A download not needed (`--no-clobber`, `--update`).
    pub fn skipped(c: &Common<'_>, skip: &crate::existing::Skip) -> Self {
        let mut s = Self::base(c, "skipped", 0);
        s.skipped = Some(skip.reason);
        s
    }

    /// Content type, `Last-Modified` and user metadata, from the object's headers (text
    /// that is not valid UTF-8 is shown lossily; printing escapes control characters).
    fn describe_object(&mut self, object: &ObjectMeta) {
        let h = &object.other_headers;
        self.content_type = h
            .get("content-type")
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        self.last_modified = object.last_modified.map(iso8601);
        let meta: std::collections::BTreeMap<String, String> = h
            .iter()
            .filter_map(|(name, value)| {
                name.as_str().strip_prefix("x-oss-meta-").map(|n| {
                    (
                        n.to_owned(),
                        String::from_utf8_lossy(value.as_bytes()).into_owned(),
                    )
                })
            })
            .collect();
        self.metadata = Some(meta);
    }

    /// A download stopped by a signal; `last` is the last progress seen, `object` what
    /// HEAD said (when it had answered).
    pub fn interrupted(
        c: &Common<'_>,
        signal: Signal,
        last: Option<&Progress>,
        object: Option<&ObjectMeta>,
    ) -> Self {
        let status = match signal {
            Signal::MaxTime(_) => "timed-out",
            _ => "interrupted",
        };
        let mut s = Self::base(c, status, signal.exit_code());
        s.signal = Some(signal.name());
        s.fill_progress(last, c.elapsed);
        if let Some(object) = object {
            s.describe_object(object);
            s.bytes_total = Some(object.size);
            s.etag = Some(object.etag.clone());
            s.version_id = object.version_id.clone();
            s.crc64 = object.crc64.map(|c| c.to_string());
        }
        s
    }

    /// A failed download.
    pub fn failed(c: &Common<'_>, f: &Failure, last: Option<&Progress>) -> Self {
        let mut s = Self::base(c, "failed", f.exit_code);
        s.fill_progress(last, c.elapsed);
        s.error = Some(ErrorJson {
            message: f.message.clone(),
            hint: f.hint.clone(),
            oss_code: f.oss_code.clone(),
            request_id: f.request_id.clone(),
        });
        s
    }

    fn fill_progress(&mut self, last: Option<&Progress>, elapsed: Duration) {
        if let Some(p) = last {
            let transferred = p.bytes_done.saturating_sub(p.bytes_resumed);
            self.bytes_total = Some(p.bytes_total);
            self.bytes_done = Some(p.bytes_done);
            self.bytes_transferred = Some(transferred);
            self.bytes_resumed = Some(p.bytes_resumed);
            self.parts_total = Some(p.parts_total);
            self.part_size = Some(p.part_size);
            self.retries = Some(p.retries);
            self.rate_bytes_per_sec = Some(rate(transferred, elapsed.as_secs_f64()));
        }
    }

    /// The object as one line of JSON, made safe to print ([`crate::scrub::json`]: secrets
    /// redacted, control and bidi characters as `\uXXXX` escapes).
    pub fn to_json(&self) -> String {
        crate::scrub::json(self).unwrap_or_else(|e| {
            format!(
                "{{\"status\":\"{}\",\"error\":\"cannot encode the summary: {e}\"}}",
                self.status
            )
        })
    }
}

/// `connections_auto` in `--json`: what `--threads auto` did.
#[derive(Debug, Serialize)]
pub struct AutoJson {
    /// Connections at the start.
    pub started: usize,
    /// The most allowed at once.
    pub peak: usize,
    /// The count at the end.
    pub ended: usize,
    /// How many times the count changed.
    pub changes: u64,
    /// The first changes, in order.
    pub history: Vec<AutoChangeJson>,
}

/// One change of the adaptive connection count.
#[derive(Debug, Serialize)]
pub struct AutoChangeJson {
    /// Seconds since the transfer started.
    pub at_secs: f64,
    /// The new count.
    pub to: usize,
    /// `rate rose`, `no gain` or `throttled`.
    pub reason: String,
}

impl From<&AdaptiveConnections> for AutoJson {
    fn from(a: &AdaptiveConnections) -> Self {
        Self {
            started: a.started,
            peak: a.peak,
            ended: a.ended,
            changes: a.changes,
            history: a
                .history
                .iter()
                .map(|h| AutoChangeJson {
                    at_secs: round3(h.at.as_secs_f64()),
                    to: h.to,
                    reason: h.reason.to_string(),
                })
                .collect(),
        }
    }
}

/// How the checkpoint was used, as `--json` names it, and why an existing one was not.
pub fn checkpoint_use(used: &CheckpointUse) -> (&'static str, Option<String>) {
    match used {
        CheckpointUse::Disabled => ("off", None),
        CheckpointUse::Fresh { reason } => ("fresh", reason.as_ref().map(ToString::to_string)),
        CheckpointUse::Resumed { .. } => ("resumed", None),
        CheckpointUse::AlreadyComplete => ("already-complete", None),
        _ => ("fresh", None),
    }
}

/// `done: big.bin (1 GiB) in 3.2 s, 612 MiB fetched at 191 MiB/s in 31 requests over 4
/// connections, 412 MiB resumed, 3 retries, CRC-64 verified`.
pub fn summary_line(r: &Report, destination: &Path) -> String {
    let elapsed = r.elapsed.as_secs_f64();
    let range = match &r.range {
        Some(range) if range.end - range.start != r.object.size => format!(
            " = bytes {}-{} of {}",
            range.start,
            range.end.saturating_sub(1),
            format_size(r.object.size)
        ),
        _ => String::new(),
    };
    let mut line = format!(
        "done: {} ({}{range}) in {}",
        destination.display(),
        format_size(r.bytes_total),
        format_duration(elapsed),
    );
    if let CheckpointUse::AlreadyComplete = r.checkpoint {
        line.push_str(", already complete: nothing fetched");
    } else {
        line.push_str(&format!(
            ", {} fetched at {} in {} {} over {} {}, {} resumed, {} {}",
            format_size(r.bytes_transferred),
            format_rate(rate(r.bytes_transferred, elapsed)),
            r.requests,
            if r.requests == 1 {
                "request"
            } else {
                "requests"
            },
            r.connections_opened,
            if r.connections_opened == 1 {
                "connection"
            } else {
                "connections"
            },
            format_size(r.bytes_resumed),
            r.retries,
            if r.retries == 1 { "retry" } else { "retries" }
        ));
    }
    if r.tail_splits > 0 {
        line.push_str(&format!(
            ", {} straggling {} split",
            r.tail_splits,
            if r.tail_splits == 1 { "run" } else { "runs" }
        ));
    }
    if let Some(a) = &r.adaptive {
        // `, connections auto 8 -> 16 -> 8`: the path the count took (the first changes).
        line.push_str(&format!(", connections auto {}", a.started));
        for h in &a.history {
            line.push_str(&format!(" -> {}", h.to));
        }
    }
    if r.restarts > 0 {
        line.push_str(&format!(", {} restart(s) on a changed object", r.restarts));
    }
    if r.crc64_verified {
        line.push_str(", CRC-64 verified");
    } else if let (false, Some(crc)) = (range.is_empty(), r.crc64) {
        line.push_str(&format!(
            ", CRC-64 of the range {crc} (OSS gives none for a range, so it is not verified)"
        ));
    } else {
        line.push_str(", no CRC-64 from OSS to verify against");
    }
    line
}

/// `time` as ISO 8601 UTC, whole seconds (`1970-01-01T00:00:00Z` for times before it).
pub fn iso8601(time: std::time::SystemTime) -> String {
    let secs = time
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rest) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days, for days since 1970-01-01 (never negative here).
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

fn rate(bytes: u64, secs: f64) -> f64 {
    if secs > 0.0 {
        (bytes as f64 / secs).round()
    } else {
        0.0
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn absolute(path: &Path) -> String {
    std::path::absolute(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso8601_dates() {
        use std::time::{Duration, UNIX_EPOCH};
        assert_eq!(super::iso8601(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_705_307_400);
        assert_eq!(super::iso8601(t), "2024-01-15T08:30:00Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400 + 86_399);
        assert_eq!(super::iso8601(leap), "2000-02-29T23:59:59Z");
    }
}
