//! `ossget oss://BUCKET/KEY [DEST]`: download an object from Alibaba Cloud OSS in parallel
//! ranged parts, verified, and resumable after Ctrl-C, a crash or a reboot — the command
//! line on top of the `oss-resume` library. `ossget --help` documents the behaviour; this
//! crate only turns arguments into a download and its outcome into output and an exit
//! status.

mod batch;
mod cli;
mod config;
mod dest;
mod existing;
mod failure;
mod help;
mod hook;
mod job;
mod logging;
mod progress;
mod scrub;
mod signals;
mod size;
mod stream;
mod summary;
mod url;

use std::ffi::OsString;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Instant;

use clap::{CommandFactory, FromArgMatches, Parser};
use oss_resume::{CheckpointUse, Error, FreshReason, Report};

use crate::cli::{Args, Command};
use crate::existing::Skip;
use crate::failure::{EXIT_FAILED, Failure};
use crate::job::Job;
use crate::progress::{Display, Style};
use crate::signals::Signal;
use crate::size::format_size;
use crate::summary::{Common, Summary, summary_line};

fn main() -> ExitCode {
    let args = parse_args();
    if let Some(command) = &args.command {
        return print_command(command);
    }
    let style = if args.quiet || args.no_progress {
        Style::Off
    } else if std::io::stderr().is_terminal() {
        Style::Bar
    } else {
        Style::Lines
    };
    let display = Display::new(style, args.quiet);
    logging::init(args.verbose, args.quiet, display.clone());

    register_secrets(&args, |name| std::env::var_os(name));
    if batch::requested(&args) {
        return ExitCode::from(batch::main(&args, &display));
    }
    let job = match Job::prepare(&args, |name| std::env::var_os(name)) {
        Ok(job) => job,
        Err(problem) => usage_error(&problem),
    };
    // Loud on every run, even with -q: the user asked for no certificate checks.
    for warning in &job.warnings {
        display.print(&format!("ossget: WARNING: {warning}"));
    }
    let runtime = match runtime(args.threads.count()) {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ossget: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let started = Instant::now();
    let common = |elapsed| Common {
        source: job.source.to_string(),
        destination: &job.destination,
        threads: args.threads.count(),
        elapsed,
        checkpoint_path: job.checkpoint_path.as_deref(),
        warnings: &job.warnings,
    };
    if let Some(skip) = runtime.block_on(should_skip(&args, &job)) {
        let code = match skip {
            Ok(skip) => skipped(&args, &display, &common(started.elapsed()), &skip),
            Err(e) => failed(
                &args,
                &display,
                &common(started.elapsed()),
                &failure::describe(&e, &job.source, job.checkpoint_path.is_some()),
            ),
        };
        display.finish();
        runtime.shutdown_background();
        return ExitCode::from(code);
    }
    if stream::streams(&args) {
        let code = stream::run(&args, &job, &display, &runtime);
        runtime.shutdown_background();
        return ExitCode::from(code);
    }
    let (result, stop) = runtime.block_on(run(&args, &job, &display));
    display.finish();
    let common = common(started.elapsed());
    let code = match (result, stop) {
        (Ok(report), _) => done(&args, &display, &common, &job, &report),
        (
            Err(Error::Cancelled {
                checkpoint_saved,
                object,
            }),
            Some(stop),
        ) => interrupted(
            &args,
            &display,
            &common,
            &job,
            stop,
            checkpoint_saved,
            object.as_deref(),
        ),
        (Err(e), _) => failed(
            &args,
            &display,
            &common,
            &failure::describe(&e, &job.source, job.checkpoint_path.is_some()),
        ),
    };
    // Do not wait for blocking-pool threads (a write that outlived a cancelled download).
    runtime.shutdown_background();
    ExitCode::from(code)
}

/// The command line, with the config file's defaults for what it does not set (flags and
/// their environment variables win; see [`config`]). Exits on a usage error.
fn parse_args() -> Args {
    let argv: Vec<OsString> = std::env::args_os().collect();
    let matches = Args::command().get_matches_from(&argv);
    let args = Args::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if args.command.is_some() {
        return args;
    }
    let env = |name: &str| std::env::var_os(name);
    let path = match config::locate(args.config.as_deref(), env) {
        Ok(Some(path)) => path,
        Ok(None) => return args,
        Err(problem) => usage_error(&problem),
    };
    let extra = config::arguments(&path, &matches, env).unwrap_or_else(|p| usage_error(&p));
    if extra.is_empty() {
        return args;
    }
    let mut all = argv;
    all.extend(extra);
    Args::try_parse_from(all).unwrap_or_else(|e| e.exit())
}

/// `ossget completions SHELL`, `ossget man`: generated from the options themselves.
fn print_command(command: &Command) -> ExitCode {
    let mut out = std::io::stdout().lock();
    let written = match command {
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Args::command(), "ossget", &mut out);
            Ok(())
        }
        Command::Man => help::man_page(&mut out),
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        // A closed pipe (`ossget man | head`) is not worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ossget: {e}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}

/// `--no-clobber` and `--update`: `Some` when the download is not needed (or the check
/// failed: `--update` asks OSS about the object first).
async fn should_skip(args: &Args, job: &Job) -> Option<Result<Skip, Error>> {
    if args.no_clobber {
        return existing::no_clobber(&job.destination).map(Ok);
    }
    if !args.update || std::fs::symlink_metadata(&job.destination).is_err() {
        return None;
    }
    let http = job.client.http();
    let (bucket, key) = (&job.source.bucket, &job.source.key);
    match http
        .head_object(bucket, key, args.version_id.as_deref())
        .await
    {
        Ok(object) => existing::unchanged(&job.destination, &object).map(Ok),
        Err(e) => Some(Err(Error::Head { source: e })),
    }
}

/// Prints a usage error the way clap prints its own (made safe to print), and exits with
/// status 2.
fn usage_error(problem: &str) -> ! {
    Args::command()
        .error(clap::error::ErrorKind::InvalidValue, scrub::text(problem))
        .exit()
}

/// Tells [`scrub`] every secret this run knows of, before anything is printed: the access
/// key secret and STS token, secret-looking `--header` values (SSE-C keys and their MD5),
/// and the password of the endpoint or of a proxy URL in the environment.
fn register_secrets(args: &Args, env: impl Fn(&str) -> Option<OsString>) {
    let text = |name: &str| env(name).and_then(|v| v.into_string().ok());
    for name in [
        "OSS_ACCESS_KEY_SECRET",
        "OSS_SESSION_TOKEN",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        "ALIBABA_CLOUD_SECURITY_TOKEN",
    ] {
        if let Some(value) = text(name) {
            scrub::register(&value);
        }
    }
    for header in &args.header {
        if let Some((name, value)) = header.split_once(':')
            && scrub::is_secret_header(name)
        {
            scrub::register(value);
        }
    }
    let urls = [
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
    ]
    .iter()
    .filter_map(|name| text(name))
    .chain(args.endpoint.clone())
    .chain(args.proxy.clone());
    for url in urls {
        if let Some(password) = scrub::url_password(&url) {
            scrub::register(password);
        }
    }
    // A presigned URL's signature, credential and token, wherever a message might quote
    // the whole URL.
    if let Some((_, query)) = args.source.as_deref().and_then(|s| s.split_once('?')) {
        for pair in query.split('&') {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = name.to_ascii_lowercase();
            if ["signature", "credential", "token", "accesskeyid"]
                .iter()
                .any(|s| name.contains(s))
            {
                scrub::register(value);
            }
        }
    }
}

/// A runtime with no more worker threads than the download can use.
fn runtime(threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cores.min(threads).max(1))
        .enable_all()
        .build()
}

async fn run(args: &Args, job: &Job, display: &Display) -> (Result<Report, Error>, Option<Signal>) {
    let (token, received) = signals::stops(args.max_time, display);
    tracing::info!(
        "{} -> {}: endpoint {}, {} threads, part size {}, checkpoint {}, {} mode",
        job.source,
        job.destination.display(),
        job.endpoint,
        args.threads,
        args.part_size
            .map_or_else(|| "8 MiB (default)".to_owned(), size::format_size),
        job.checkpoint_path
            .as_ref()
            .map_or_else(|| "off".to_owned(), |p| p.display().to_string()),
        match args.durability {
            cli::DurabilityArg::Durable => "durable",
            cli::DurabilityArg::Fast => "fast",
        }
    );
    let result = job
        .download(args)
        .on_progress(display.callback())
        .cancel_token(token)
        .await;
    (result, received.get().copied())
}

fn done(args: &Args, display: &Display, common: &Common<'_>, job: &Job, report: &Report) -> u8 {
    tracing::info!(
        "object: {} bytes, ETag {}, version {}, CRC-64 {}; plan {} x {} bytes; checkpoint {}",
        report.bytes_total,
        report.object.etag,
        report.object.version_id.as_deref().unwrap_or("none"),
        report
            .object
            .crc64
            .map_or_else(|| "none".to_owned(), |c| c.to_string()),
        report.parts_total,
        report.part_size,
        summary::checkpoint_use(&report.checkpoint).0
    );
    match &report.checkpoint {
        CheckpointUse::Fresh {
            reason: Some(FreshReason::Restarted),
        } => display.note(&format!(
            "--restart: discarded the checkpoint {}",
            common
                .checkpoint_path
                .map_or_else(String::new, |p| p.display().to_string())
        )),
        CheckpointUse::Fresh {
            reason: Some(reason),
        } => display.note(&format!("started over: {reason}")),
        _ => {}
    }
    for warning in &report.warnings {
        display.note(&format!("warning: {warning}"));
    }
    display.note(&summary_line(report, common.destination));
    let hook = job.hook.as_ref().map(|words| {
        let ran = hook::run(words, &job.destination, &job.source.to_string());
        if let Err(problem) = &ran {
            display.print(&format!("ossget: warning: {problem}"));
        }
        ran
    });
    if args.json {
        let mut summary = Summary::done(common, report);
        if let Some(Err(problem)) = hook {
            summary.warnings.push(problem);
        }
        println!("{}", summary.to_json());
    }
    0
}

fn skipped(args: &Args, display: &Display, common: &Common<'_>, skip: &Skip) -> u8 {
    display.note(&format!("skipped: {}", skip.detail));
    if args.json {
        println!("{}", Summary::skipped(common, skip).to_json());
    }
    0
}

fn interrupted(
    args: &Args,
    display: &Display,
    common: &Common<'_>,
    job: &Job,
    signal: Signal,
    checkpoint_saved: bool,
    object: Option<&oss_resume::ObjectMeta>,
) -> u8 {
    let last = display.last();
    let at = last.map(|p| {
        format!(
            " at {} of {} ({:.0}%)",
            format_size(p.bytes_done),
            format_size(p.bytes_total),
            if p.bytes_total == 0 {
                100.0
            } else {
                p.bytes_done as f64 * 100.0 / p.bytes_total as f64
            }
        )
    });
    let kept = match (&job.checkpoint_path, checkpoint_saved) {
        (Some(path), true) => format!("progress is saved in {}", path.display()),
        (Some(path), false) if path.exists() => format!(
            "it stopped before downloading; the checkpoint {} is kept as it was",
            path.display()
        ),
        (Some(_), false) => "it stopped before downloading anything".to_owned(),
        (None, _) => "--no-checkpoint was given, so nothing is kept".to_owned(),
    };
    let by = match signal {
        Signal::MaxTime(limit) => format!(
            "stopped by --max-time {}",
            size::format_duration(limit.as_secs_f64())
        ),
        other => format!("interrupted by {}", other.name()),
    };
    display.print(&format!("ossget: {by}{}; {kept}", at.unwrap_or_default()));
    let again = if job.checkpoint_path.is_some() {
        "to resume, run the same command again"
    } else {
        "to download it from the start, run the same command again"
    };
    display.print(&format!(
        "ossget: {again}: {}",
        resume_command(std::env::args_os())
    ));
    if args.json {
        println!(
            "{}",
            Summary::interrupted(common, signal, last.as_ref(), object).to_json()
        );
    }
    signal.exit_code()
}

fn failed(args: &Args, display: &Display, common: &Common<'_>, f: &Failure) -> u8 {
    display.print(&format!("ossget: {}", f.message));
    if let Some(hint) = &f.hint {
        display.print(&format!("ossget: hint: {hint}"));
    }
    if args.json {
        println!(
            "{}",
            Summary::failed(common, f, display.last().as_ref()).to_json()
        );
    }
    f.exit_code
}

/// The command line that resumes this run: the same one, without `--restart` (which would
/// throw the saved progress away), with secret-looking `--header` values masked.
fn resume_command(argv: impl Iterator<Item = OsString>) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut header_value_next = false;
    for arg in argv {
        let text = arg.to_string_lossy().into_owned();
        if text == "--restart" {
            continue;
        }
        let shown = if header_value_next {
            header_value_next = false;
            mask_header(&text)
        } else if text == "--header" {
            header_value_next = true;
            text
        } else if let Some(value) = text.strip_prefix("--header=") {
            format!("--header={}", mask_header(value))
        } else {
            text
        };
        out.push(shell_quote(&shown));
    }
    out.join(" ")
}

/// `Name: value` with the value replaced when the name suggests a secret (SSE-C keys,
/// tokens, authorization).
fn mask_header(header: &str) -> String {
    let Some((name, _)) = header.split_once(':') else {
        return header.to_owned();
    };
    if scrub::is_secret_header(name) {
        format!("{}: <the same value>", name.trim())
    } else {
        header.to_owned()
    }
}

/// `text` as a shell word: bare when it is plain, in single quotes otherwise, and as
/// `$'...'` with escapes when it holds a character a terminal must not get raw (a key with
/// a control or bidi character: bash, zsh, ksh and POSIX.1-2024 shells read it back).
fn shell_quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_@%+=:,./-".contains(&b));
    if plain {
        return text.to_owned();
    }
    if !text.chars().any(scrub::needs_escape) {
        return format!("'{}'", text.replace('\'', r"'\''"));
    }
    let mut out = String::from("$'");
    for c in text.chars() {
        match c {
            '\'' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if scrub::needs_escape(c) => {
                let code = u32::from(c);
                if code < 0x80 {
                    out.push_str(&format!("\\x{code:02x}"));
                } else {
                    out.push_str(&format!("\\u{code:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resume_command_is_the_same_minus_restart() {
        let argv = [
            "ossget",
            "oss://bkt/a b.bin",
            "--restart",
            "--header",
            "x-oss-server-side-encryption-customer-key: c2VjcmV0",
            "--header=x-oss-request-payer: requester",
            "--threads",
            "4",
        ]
        .map(OsString::from);
        let cmd = resume_command(argv.into_iter());
        assert_eq!(
            cmd,
            "ossget 'oss://bkt/a b.bin' --header 'x-oss-server-side-encryption-customer-key: <the same value>' '--header=x-oss-request-payer: requester' --threads 4"
        );
        assert!(!cmd.contains("c2VjcmV0"));
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
        // A key with a control or bidi character: escaped, never raw on the terminal.
        assert_eq!(
            shell_quote("oss://b/a\u{1b}[2J\u{202e}'x"),
            r"$'oss://b/a\x1b[2J\u202e\'x'"
        );
    }
}
