//! Many objects: `ossget oss://BUCKET/PREFIX/ DIR/` (a trailing `/`, or `--recursive`) and
//! `ossget --manifest FILE oss://BUCKET/ DIR/` download into DIR with the library's batch
//! engine (`oss_resume::Client::download_batch`): one connection budget (`--threads`), a
//! journal in DIR that makes the same command resume, `--include`/`--exclude`,
//! `--shard K/N`, `--dry-run`, progress in objects, `--json` lines. `docs/batch.md` is the
//! user's guide.

mod filter;
mod manifest;
mod output;

use std::io::BufRead;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Instant;

use clap::CommandFactory;
use oss_resume::batch::{BatchProgress, BatchSource, ObjectStatus};
use oss_resume::{BatchDownload, CancellationToken, Client, Durability, Error};

use crate::cli::{Args, DurabilityArg};
use crate::failure::{self, EXIT_FAILED};
use crate::progress::Display;
use crate::signals::{self, Signal};
use crate::url::{ObjectUrl, parse_source};
use filter::Rules;
use manifest::{Manifest, Problems};
use output::{ObjectLine, SummaryLine};

/// Whether the command line asks for many objects: `--recursive`, `--manifest`, or a
/// source ending in `/` (`oss://BUCKET/` included).
pub fn requested(args: &Args) -> bool {
    args.recursive
        || args.manifest.is_some()
        || args.source.as_deref().is_some_and(|s| s.ends_with('/'))
}

/// What the arguments ask for, checked (every problem is a usage error).
struct Plan {
    source: ObjectUrl,
    client: Client,
    destination: PathBuf,
    rules: Rules,
    manifest: Option<(Manifest, Arc<Mutex<Problems>>)>,
    /// `oss://BUCKET/PREFIX` or `--manifest FILE`, for messages.
    source_text: String,
}

impl Plan {
    fn prepare(args: &Args, rules: Rules) -> Result<Self, String> {
        let source = parse_source(args.source.as_deref().unwrap_or_default())?;
        if source.presigned().is_some() {
            return Err(
                "a presigned URL names one object; many objects need oss://BUCKET/PREFIX/ and credentials"
                    .to_owned(),
            );
        }
        let Some(destination) = args.dest.clone() else {
            return Err(format!(
                "downloading many objects needs a destination directory: ossget {source} DIR/"
            ));
        };
        for (given, flag) in [
            (args.checkpoint_path.is_some(), "--checkpoint-path"),
            (args.version_id.is_some(), "--version-id"),
            (args.no_checkpoint, "--no-checkpoint"),
        ] {
            if given {
                return Err(format!(
                    "{flag} applies to one object; a many-object download keeps a journal in DEST and a checkpoint beside each large file"
                ));
            }
        }
        if destination.is_file() {
            return Err(format!(
                "{} is a file; downloading many objects needs a directory",
                destination.display()
            ));
        }
        let manifest = match &args.manifest {
            None => None,
            Some(_) if !source.key.is_empty() => {
                return Err(format!(
                    "with --manifest, name the bucket alone: oss://{}/ (the manifest names the keys)",
                    source.bucket
                ));
            }
            Some(path) => Some(open_manifest(path, &source.bucket)?),
        };
        let (_, client, warnings) =
            crate::job::build_client(args, &source, |name| std::env::var_os(name))?;
        for warning in warnings {
            eprintln!("ossget: warning: {warning}");
        }
        let source_text = match &args.manifest {
            Some(path) => format!("--manifest {}", path.display()),
            None => source.to_string(),
        };
        Ok(Self {
            source,
            client,
            destination,
            rules,
            manifest,
            source_text,
        })
    }

    fn batch(self, args: &Args) -> (BatchDownload, Option<Arc<Mutex<Problems>>>) {
        let (source, problems) = match self.manifest {
            Some((manifest, problems)) => (BatchSource::items(manifest), Some(problems)),
            None => (BatchSource::prefix(self.source.key.clone()), None),
        };
        let mut batch = self
            .client
            .download_batch(&self.source.bucket, source, &self.destination)
            .threads(args.threads.count())
            .durability(match args.durability {
                DurabilityArg::Durable => Durability::Durable,
                DurabilityArg::Fast => Durability::Fast,
            })
            .restart(args.restart)
            .fail_fast(args.fail_fast)
            .dry_run(args.dry_run);
        if let Some(bytes) = args.part_size {
            batch = batch.part_size(bytes);
        }
        if let Some(rate) = args.limit_rate {
            batch = batch.bandwidth_limit(rate);
        }
        if let Some(shard) = args.shard {
            batch = batch.shard(shard);
        }
        if !self.rules.is_empty() {
            let rules = self.rules;
            batch = batch.filter(move |key| rules.keeps(key));
        }
        (batch, problems)
    }
}

fn open_manifest(
    path: &std::path::Path,
    bucket: &str,
) -> Result<(Manifest, Arc<Mutex<Problems>>), String> {
    let reader: Box<dyn BufRead + Send> = if path.as_os_str() == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        let file = std::fs::File::open(path)
            .map_err(|e| format!("cannot open the manifest {}: {e}", path.display()))?;
        Box::new(std::io::BufReader::new(file))
    };
    Ok(Manifest::new(reader, bucket))
}

/// `--include`/`--exclude` in command-line order (clap knows each value's position).
fn rules(args: &Args) -> Result<Rules, String> {
    match Args::command().try_get_matches_from(std::env::args_os()) {
        Ok(matches) => Rules::from_matches(&matches),
        Err(e) => Err(e.to_string()),
    }
    .or_else(|e| {
        if args.include.is_empty() && args.exclude.is_empty() {
            Ok(Rules::default())
        } else {
            Err(e)
        }
    })
}

/// Runs a many-object download; returns the exit status.
pub fn main(args: &Args, display: &Display) -> u8 {
    let plan = match rules(args).and_then(|rules| Plan::prepare(args, rules)) {
        Ok(plan) => plan,
        Err(problem) => crate::usage_error(&problem),
    };
    let runtime = match crate::runtime(args.threads.count()) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ossget: cannot start the async runtime: {e}");
            return EXIT_FAILED;
        }
    };
    let code = runtime.block_on(run(args, plan, display));
    runtime.shutdown_background();
    code
}

async fn run(args: &Args, plan: Plan, display: &Display) -> u8 {
    let started = Instant::now();
    let token = CancellationToken::new();
    let received = signals::install(token.clone(), display.clone()).unwrap_or_else(|e| {
        tracing::warn!("cannot listen for SIGINT/SIGTERM ({e}); Ctrl-C will not stop cleanly");
        Arc::new(OnceLock::new())
    });
    let destination = plan.destination.clone();
    let source_text = plan.source_text.clone();
    let source_url = plan.source.clone();
    let (batch, problems) = plan.batch(args);
    let last: Arc<Mutex<Option<BatchProgress>>> = Arc::default();
    let (json, dry_run) = (args.json, args.dry_run);
    let shown = display.clone();
    let progress_display = display.clone();
    let last_seen = Arc::clone(&last);
    let result = batch
        .cancel_token(token)
        .on_object(move |o| {
            if json {
                print_json(&ObjectLine::of(o));
            } else if dry_run && matches!(o.status, ObjectStatus::WouldDownload) {
                println!("{}", crate::scrub::text(&output::dry_run_line(o)));
            } else if let Some(line) = output::human_line(o) {
                shown.print(&format!("ossget: {line}"));
            } else {
                tracing::debug!("{}: {:?}", o.key, o.status);
            }
        })
        .on_progress(move |p| {
            *last_seen.lock().unwrap_or_else(PoisonError::into_inner) = Some(*p);
            let settled = p.objects_done + p.objects_failed;
            let total = p.listing_complete.then_some(p.objects_listed);
            progress_display.batch_status(settled, total, &output::progress_text(p));
        })
        .await;
    display.finish();
    let elapsed = started.elapsed();
    let (bad_lines, bad_first) = problems.map_or((0, Vec::new()), |p| {
        let p = p.lock().unwrap_or_else(PoisonError::into_inner);
        (p.count, p.first.clone())
    });
    for line in &bad_first {
        display.print(&format!("ossget: manifest: {line}"));
    }
    let mut summary = SummaryLine {
        r#type: "summary",
        status: "done",
        exit_code: 0,
        source: source_text,
        destination: destination.display().to_string(),
        objects: 0,
        downloaded: 0,
        changed: 0,
        already_done: 0,
        directories: 0,
        would_download: 0,
        unsafe_keys: 0,
        failed: bad_lines,
        bytes_transferred: 0,
        elapsed_secs: elapsed.as_secs_f64(),
        objects_per_sec: 0.0,
        rate_bytes_per_sec: 0.0,
        threads: args.threads.count(),
        shard: args.shard.map(|s| s.to_string()),
        signal: None,
        error: None,
        failures: Vec::new(),
    };
    let secs = elapsed.as_secs_f64().max(1e-3);
    match result {
        Ok(report) => {
            summary.objects = report.objects;
            summary.downloaded = report.downloaded;
            summary.changed = report.changed;
            summary.already_done = report.already_done;
            summary.directories = report.directories;
            summary.would_download = report.would_download;
            summary.unsafe_keys = report.unsafe_keys;
            summary.failed += report.failed;
            summary.bytes_transferred = report.bytes_transferred;
            summary.objects_per_sec = (report.downloaded + report.already_done) as f64 / secs;
            summary.rate_bytes_per_sec = report.bytes_transferred as f64 / secs;
            summary.failures = report
                .failures
                .iter()
                .map(|(k, e)| (k.clone(), failure::chain(e)))
                .collect();
            let ok = report.is_success() && bad_lines == 0;
            if !ok {
                summary.status = "failed";
                summary.exit_code = EXIT_FAILED;
            }
            if report.stopped_early {
                display.print("ossget: --fail-fast: stopped at the first failure");
            }
            display.note(&output::summary_text(
                &report,
                bad_lines,
                elapsed,
                &destination,
            ));
            if !ok && !args.json {
                display.print(&format!(
                    "ossget: {} object(s) did not download; run the same command again to retry them (finished objects are not fetched again)",
                    report.failed + report.unsafe_keys + bad_lines
                ));
            }
        }
        Err(Error::Cancelled { .. }) if received.get().is_some() => {
            let signal = received.get().copied().unwrap_or(Signal::Interrupt);
            if let Some(p) = *last.lock().unwrap_or_else(PoisonError::into_inner) {
                summary.objects = p.objects_listed;
                summary.downloaded = p.objects_done;
                summary.failed += p.objects_failed;
                summary.bytes_transferred = p.bytes_transferred;
            }
            summary.status = "interrupted";
            summary.exit_code = signal.exit_code();
            summary.signal = Some(signal.name());
            display.print(&format!(
                "ossget: interrupted by {}; the journal in {} keeps every finished object",
                signal.name(),
                destination.display()
            ));
            display.print(&format!(
                "ossget: to resume, run the same command again: {}",
                crate::resume_command(std::env::args_os())
            ));
        }
        Err(e) => {
            let f = failure::describe(&e, &source_url, true);
            display.print(&format!("ossget: {}", f.message));
            if let Some(hint) = &f.hint {
                display.print(&format!("ossget: hint: {hint}"));
            }
            summary.status = "failed";
            summary.exit_code = f.exit_code;
            summary.error = Some(f.message);
        }
    }
    if args.json {
        print_json(&summary);
    }
    summary.exit_code
}

fn print_json(value: &impl serde::Serialize) {
    match crate::scrub::json(value) {
        Ok(line) => println!("{line}"),
        Err(e) => tracing::warn!("cannot write a --json line: {e}"),
    }
}
