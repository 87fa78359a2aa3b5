//! What a many-object run prints: with `--json`, one JSON line per object on stdout and a
//! summary line at the end; otherwise failures and skipped keys on stderr as they happen,
//! dry-run entries on stdout, and a summary line on stderr.

use std::path::Path;
use std::time::Duration;

use oss_resume::BatchReport;
use oss_resume::batch::{BatchProgress, Change, ObjectOutcome, ObjectStatus};
use serde::Serialize;

use crate::failure::chain;
use crate::size::{format_duration, format_rate, format_size};

/// One object's `--json` line.
#[derive(Debug, Serialize)]
pub struct ObjectLine<'a> {
    /// Always `"object"`.
    pub r#type: &'static str,
    /// The key.
    pub key: &'a str,
    /// Where it went (or would go), when it maps to a path.
    pub path: Option<String>,
    /// Its size, when known.
    pub size: Option<u64>,
    /// `downloaded`, `already_done`, `directory`, `would_download`, `unsafe` or `failed`.
    pub status: &'static str,
    /// `since_journal` or `since_listing` when it was downloaded again because it changed.
    pub changed: Option<&'static str>,
    /// The ETag downloaded.
    pub etag: Option<&'a str>,
    /// The CRC-64 checked, as a decimal string.
    pub crc64: Option<String>,
    /// Why it was skipped or failed.
    pub error: Option<String>,
    /// OSS's error code.
    pub oss_code: Option<&'a str>,
    /// OSS's request id.
    pub request_id: Option<&'a str>,
}

impl<'a> ObjectLine<'a> {
    /// The line for `o`.
    pub fn of(o: &'a ObjectOutcome) -> Self {
        let mut line = ObjectLine {
            r#type: "object",
            key: &o.key,
            path: o.path.as_ref().map(|p| p.display().to_string()),
            size: o.size,
            status: "",
            changed: None,
            etag: None,
            crc64: None,
            error: None,
            oss_code: None,
            request_id: None,
        };
        line.status = match &o.status {
            ObjectStatus::Downloaded {
                change,
                etag,
                crc64,
                ..
            } => {
                line.changed = change.as_ref().map(|c| match c {
                    Change::SinceJournal { .. } => "since_journal",
                    _ => "since_listing",
                });
                line.etag = Some(etag);
                line.crc64 = crc64.map(|c| c.to_string());
                "downloaded"
            }
            ObjectStatus::AlreadyDone => "already_done",
            ObjectStatus::Directory => "directory",
            ObjectStatus::WouldDownload => "would_download",
            ObjectStatus::Unsafe(why) => {
                line.error = Some(format!("unsafe key: {why}"));
                "unsafe"
            }
            ObjectStatus::Failed(e) => {
                line.error = Some(chain(e));
                line.oss_code = e.oss_code();
                line.request_id = e.request_id();
                "failed"
            }
            _ => "other",
        };
        line
    }
}

/// The human line for an object worth telling about on stderr (failures, skips, changes),
/// or `None`.
pub fn human_line(o: &ObjectOutcome) -> Option<String> {
    let key = &o.key;
    match &o.status {
        ObjectStatus::Failed(e) => {
            // OSS's code and request id, unless the message already names them.
            let text = chain(e);
            let mut ids = Vec::new();
            if let Some(code) = e.oss_code().filter(|c| !text.contains(c)) {
                ids.push(format!("OSS {code}"));
            }
            if let Some(id) = e.request_id().filter(|id| !text.contains(id)) {
                ids.push(format!("request id {id}"));
            }
            let ids = if ids.is_empty() {
                String::new()
            } else {
                format!(" ({})", ids.join(", "))
            };
            Some(format!("failed: {key}: {text}{ids}"))
        }
        ObjectStatus::Unsafe(why) => Some(format!("skipped {key}: unsafe key: {why}")),
        ObjectStatus::Downloaded {
            change: Some(Change::SinceJournal { .. }),
            ..
        } => Some(format!(
            "{key} changed since it was downloaded; downloaded again"
        )),
        ObjectStatus::Downloaded {
            change: Some(_), ..
        } => Some(format!(
            "{key} changed since it was listed; downloaded the new version"
        )),
        _ => None,
    }
}

/// A dry run's stdout line: `SIZE  KEY -> PATH`.
pub fn dry_run_line(o: &ObjectOutcome) -> String {
    format!(
        "{:>10}  {} -> {}",
        o.size.map_or_else(|| "?".to_owned(), format_size),
        o.key,
        o.path
            .as_ref()
            .map_or_else(String::new, |p| p.display().to_string())
    )
}

/// The progress text: `1234/10000 objects  12.3 MiB  4.5 MiB/s  ETA 20 s  2 failed`.
pub fn progress_text(p: &BatchProgress) -> String {
    let secs = p.elapsed.as_secs_f64().max(1e-3);
    let total = if p.listing_complete {
        p.objects_listed.to_string()
    } else {
        format!("{}+", p.objects_listed)
    };
    let settled = p.objects_done + p.objects_failed;
    let eta = if p.listing_complete && settled > 0 {
        let left = p.objects_listed.saturating_sub(settled) as f64;
        format_duration(left * secs / settled as f64)
    } else {
        "?".to_owned()
    };
    format!(
        "{settled}/{total} objects  {}  {}  ETA {eta}  {} failed",
        format_size(p.bytes_transferred),
        format_rate(p.bytes_transferred as f64 / secs),
        p.objects_failed
    )
}

/// The `--json` summary line.
#[derive(Debug, Serialize)]
pub struct SummaryLine {
    /// Always `"summary"`.
    pub r#type: &'static str,
    /// `done`, `failed` or `interrupted`.
    pub status: &'static str,
    /// The exit status.
    pub exit_code: u8,
    /// `oss://BUCKET/PREFIX`, or the manifest.
    pub source: String,
    /// The destination directory.
    pub destination: String,
    /// Objects listed (after filters and the shard).
    pub objects: u64,
    /// Downloaded in this run.
    pub downloaded: u64,
    /// ... of which because they changed.
    pub changed: u64,
    /// Skipped: the journal had them.
    pub already_done: u64,
    /// Directory markers.
    pub directories: u64,
    /// Dry run: would be downloaded.
    pub would_download: u64,
    /// Unsafe keys skipped.
    pub unsafe_keys: u64,
    /// Failed objects (and unreadable manifest lines).
    pub failed: u64,
    /// Body bytes received in this run.
    pub bytes_transferred: u64,
    /// Wall time.
    pub elapsed_secs: f64,
    /// Objects settled per second.
    pub objects_per_sec: f64,
    /// `bytes_transferred / elapsed_secs`.
    pub rate_bytes_per_sec: f64,
    /// The connection budget.
    pub threads: usize,
    /// `K/N`.
    pub shard: Option<String>,
    /// `SIGINT` or `SIGTERM` when interrupted.
    pub signal: Option<&'static str>,
    /// A problem that stopped the run, when one did.
    pub error: Option<String>,
    /// The first failures: key and message.
    pub failures: Vec<(String, String)>,
}

/// `10000 objects: 9998 downloaded (1.2 GiB in 3.4 s, 350 MiB/s), 2 failed`.
pub fn summary_text(r: &BatchReport, bad_lines: u64, elapsed: Duration, dest: &Path) -> String {
    let secs = elapsed.as_secs_f64().max(1e-3);
    let mut parts = vec![format!(
        "{} downloaded ({} in {}, {})",
        r.downloaded,
        format_size(r.bytes_transferred),
        format_duration(secs),
        format_rate(r.bytes_transferred as f64 / secs)
    )];
    for (n, what) in [
        (r.already_done, "already there"),
        (r.changed, "of them changed"),
        (r.directories, "directories"),
        (r.would_download, "would be downloaded"),
        (r.unsafe_keys, "skipped as unsafe"),
        (r.failed, "failed"),
        (bad_lines, "manifest line(s) skipped"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    format!(
        "{} objects into {}: {}",
        r.objects,
        dest.display(),
        parts.join(", ")
    )
}
