//! `ossget SOURCE -` (or `-o -`): the object, or a byte range of it (`--range`), through
//! oss-resume's `Client::stream` to stdout. Parts are fetched in parallel and written in
//! order through a window of `--threads` parts, so memory stays under threads × part size.
//! There is no checkpoint: a pipe cannot be rewound. (A `--range` to a file is a resumable
//! download, as the whole object is: `job.rs`.)

use std::path::Path;
use std::time::Instant;

use oss_resume::{Error, StreamReport};
use tokio::io::AsyncWrite;

use crate::cli::Args;
use crate::failure;
use crate::job::Job;
use crate::progress::Display;
use crate::signals::{self, Signal};
use crate::size::{format_duration, format_rate, format_size};
use crate::summary::{Common, Summary};

/// Exit status when stdout's reader went away (`ossget ... - | head -c 100`): 141, as a
/// shell reports a process killed by SIGPIPE, without a message, as `cat` and `curl` end.
pub const EXIT_BROKEN_PIPE: u8 = 141;

/// Whether this run streams (to stdout).
pub fn streams(args: &Args) -> bool {
    args.to_stdout()
}

/// Options that mean nothing for a stream (or for a `--range` to a file), refused before
/// any request: exit 2 with the option and the fix.
pub fn check(args: &Args) -> Result<(), String> {
    if args.range.is_some() && args.update && !streams(args) {
        return Err(
            "--update cannot be used with --range: it compares the whole object's size and CRC-64 with the file, and a range's file holds part of it; drop --update (an interrupted range resumes from its checkpoint by itself)"
                .to_owned(),
        );
    }
    if !streams(args) {
        return Ok(());
    }
    let what = "streaming to stdout";
    let checkpoint_flags = [
        ("--checkpoint-path", args.checkpoint_path.is_some()),
        ("--checkpoint-dir", args.checkpoint_dir.is_some()),
        ("--restart", args.restart),
        ("--verify-resume", args.verify_resume),
        ("--update", args.update),
    ];
    if let Some((flag, _)) = checkpoint_flags.iter().find(|(_, given)| *given) {
        return Err(format!(
            "{flag} cannot be used with {what}: a stream keeps no checkpoint and is not compared with a file; drop {flag}"
        ));
    }
    {
        let stdout_flags = [
            (
                "--json",
                args.json,
                "the JSON summary would be mixed into the data on stdout",
            ),
            ("--no-clobber", args.no_clobber, "there is no file to keep"),
            (
                "--on-complete",
                args.on_complete.is_some(),
                "there is no file to hand it",
            ),
        ];
        if let Some((flag, _, why)) = stdout_flags.iter().find(|(_, given, _)| *given) {
            return Err(format!(
                "{flag} cannot be used when streaming to stdout ({why}); drop it, or give a file as DEST"
            ));
        }
    }
    Ok(())
}

/// Runs the stream and reports its outcome; returns the exit status.
pub fn run(args: &Args, job: &Job, display: &Display, runtime: &tokio::runtime::Runtime) -> u8 {
    let started = Instant::now();
    let (result, stop) = runtime.block_on(async {
        let (token, received) = signals::stops(args.max_time, display);
        let result = stream(args, job, display, tokio::io::stdout(), token).await;
        (result, received.get().copied())
    });
    display.finish();
    let common = Common {
        source: job.source.to_string(),
        destination: &job.destination,
        threads: args.threads.stream_count(),
        elapsed: started.elapsed(),
        checkpoint_path: None,
        warnings: &job.warnings,
    };
    match (result, stop) {
        (Ok(report), _) => {
            display.note(&summary_line(&report, Path::new("stdout")));
            0
        }
        (Err(e), _) if e.io_kind() == Some(std::io::ErrorKind::BrokenPipe) => {
            tracing::info!("stdout was closed by its reader: {e}");
            EXIT_BROKEN_PIPE
        }
        (Err(Error::Cancelled { object, .. }), Some(signal)) => {
            interrupted(args, display, &common, signal, object.as_deref())
        }
        (Err(e), _) => {
            let f = failure::describe(&e, &job.source, false);
            display.print(&format!("ossget: {}", f.message));
            if let Some(hint) = &f.hint {
                display.print(&format!("ossget: hint: {hint}"));
            }
            let written = display.last().map_or(0, |p| p.bytes_done);
            if written > 0 && !matches!(e, Error::StreamCorrupt { .. }) {
                display.print(&format!(
                    "ossget: {} had already been written to stdout: an incomplete stream, discard it",
                    format_size(written)
                ));
            }
            if args.json {
                println!(
                    "{}",
                    Summary::failed(&common, &f, display.last().as_ref()).to_json()
                );
            }
            f.exit_code
        }
    }
}

/// The stream with every option from `args` that applies to one.
async fn stream<W: AsyncWrite + Unpin + Send + 'static>(
    args: &Args,
    job: &Job,
    display: &Display,
    writer: W,
    token: oss_resume::CancellationToken,
) -> Result<StreamReport, Error> {
    let (retry, throttle) = job.retry_policies(args);
    let mut s = job
        .client
        .stream(&job.source.bucket, &job.source.key, writer)
        .threads(args.threads.stream_count())
        .retry_policy(retry)
        .throttle_policy(throttle)
        .on_progress(display.callback())
        .cancel_token(token);
    if let Some(range) = args.range {
        s = s.range(range.object_range());
    }
    if let Some(bytes) = args.part_size {
        s = s.part_size(bytes);
    }
    if let Some(version) = &args.version_id {
        s = s.version_id(version);
    }
    if let Some(rate) = args.limit_rate {
        s = s.bandwidth_limit(rate);
    }
    s.await
}

/// `done: stdout (1.0 MiB) in 0.4 s, ...` on stderr.
fn summary_line(r: &StreamReport, shown: &Path) -> String {
    let elapsed = r.elapsed.as_secs_f64();
    let range = if r.range.start == 0 && r.range.end == r.object.size {
        String::new()
    } else {
        format!(
            " = bytes {}-{} of {}",
            r.range.start,
            r.range.end.saturating_sub(1),
            format_size(r.object.size)
        )
    };
    let rate = if elapsed > 0.0 {
        r.bytes_written as f64 / elapsed
    } else {
        0.0
    };
    let crc = if r.crc64_verified {
        "CRC-64 verified".to_owned()
    } else if range.is_empty() {
        "no CRC-64 from OSS to verify against".to_owned()
    } else {
        format!(
            "CRC-64 of the range {} (OSS gives none for a range, so it is not verified)",
            r.crc64
        )
    };
    format!(
        "done: {} ({}{range}) in {}, at {}, {} {}, {crc}",
        shown.display(),
        format_size(r.bytes_written),
        format_duration(elapsed),
        format_rate(rate),
        r.retries,
        if r.retries == 1 { "retry" } else { "retries" },
    )
}

fn interrupted(
    args: &Args,
    display: &Display,
    common: &Common<'_>,
    signal: Signal,
    object: Option<&oss_resume::ObjectMeta>,
) -> u8 {
    let written = display.last().map_or(0, |p| p.bytes_done);
    let by = match signal {
        Signal::MaxTime(limit) => format!(
            "stopped by --max-time {}",
            format_duration(limit.as_secs_f64())
        ),
        other => format!("interrupted by {}", other.name()),
    };
    display.print(&format!(
        "ossget: {by} after {}; a stream keeps no checkpoint, so running the same command starts over",
        format_size(written)
    ));
    if args.json {
        let last = display.last();
        println!(
            "{}",
            Summary::interrupted(common, signal, last.as_ref(), object).to_json()
        );
    }
    signal.exit_code()
}
