//! ossget's command line: `oss://BUCKET/KEY`, sizes and rates, `--header`, and a whole
//! argument vector through clap and `Job::prepare` (endpoint, region, `--resolve`,
//! credentials, destination, the client's own checks) — everything that happens before the
//! first request.
//!
//! ossget is a binary. Rather than give it a library target (a public API on crates.io and
//! docs.rs for what are private modules), this target compiles ossget's argument modules
//! from their source files with `#[path]`: the exact code `main` runs, and no change to
//! ossget. If ossget's argument code starts to use another of its modules, add that module
//! here the same way (the build names it).
//!
//! The input is an argument vector, arguments separated by NUL bytes (which no real
//! argument can contain); each argument is also given to each argument parser on its own.
//!
//! Properties beyond "no panic":
//! - `oss://` URLs, headers and sizes that parse re-render to text that parses to the same
//!   value;
//! - part sizes are within 1 B ..= 5 GiB and rates positive, each the workspace parser's value;
//! - a `--header` error never echoes the header's value (it may be a key), and no error
//!   from `Job::prepare` contains the access key secret it was given.
#![no_main]
#![allow(dead_code)]

#[path = "../../crates/ossget/src/cli.rs"]
mod cli;
#[path = "../../crates/ossget/src/dest.rs"]
mod dest;
#[path = "../../crates/ossget/src/existing.rs"]
mod existing;
#[path = "../../crates/ossget/src/failure.rs"]
mod failure;
#[path = "../../crates/ossget/src/help.rs"]
mod help;
#[path = "../../crates/ossget/src/hook.rs"]
mod hook;
#[path = "../../crates/ossget/src/job.rs"]
mod job;
#[path = "../../crates/ossget/src/progress.rs"]
mod progress;
#[path = "../../crates/ossget/src/scrub.rs"]
mod scrub;
#[path = "../../crates/ossget/src/signals.rs"]
mod signals;
#[path = "../../crates/ossget/src/size.rs"]
mod size;
#[path = "../../crates/ossget/src/stream.rs"]
mod stream;
#[path = "../../crates/ossget/src/summary.rs"]
mod summary;
#[path = "../../crates/ossget/src/url.rs"]
mod url;

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt as _;

use clap::Parser as _;
use libfuzzer_sys::fuzz_target;

/// The secret `Job::prepare` finds in its environment.
const SECRET: &str = "fuzz-Secret-9f8e7d6c5b4a";

fuzz_target!(|data: &[u8]| {
    let args: Vec<&[u8]> = data.split(|&b| b == 0).take(64).collect();
    for arg in &args {
        let text = String::from_utf8_lossy(arg);
        object_url(&text);
        header(&text);
        sizes(&text);
    }
    let argv = std::iter::once(OsString::from("ossget"))
        .chain(args.iter().map(|a| OsStr::from_bytes(a).to_owned()));
    if let Ok(parsed) = cli::Args::try_parse_from(argv) {
        // The default chain's first source, so it never reaches a file or the network.
        let env = |name: &str| match name {
            "OSS_ACCESS_KEY_ID" => Some(OsString::from("LTAIfuzzaccesskey")),
            "OSS_ACCESS_KEY_SECRET" => Some(OsString::from(SECRET)),
            _ => None,
        };
        if let Err(problem) = job::Job::prepare(&parsed, env) {
            assert!(
                !problem.contains(SECRET),
                "the secret in a usage error: {problem}"
            );
        }
    }
});

fn object_url(text: &str) {
    let Ok(parsed) = url::parse_object_url(text) else {
        return;
    };
    let shown = parsed.to_string();
    assert_eq!(
        url::parse_object_url(&shown).as_ref(),
        Ok(&parsed),
        "`{text}` -> `{shown}`"
    );
    // An empty key only as `oss://BUCKET/`: the whole bucket, for a batch download.
    assert!(!parsed.key.is_empty() || text.ends_with('/'), "`{text}`");
    assert!(parsed.key.len() <= url::MAX_KEY_BYTES);
    assert!(!parsed.key.starts_with(['/', '\\']));
    assert!(oss_resume::validate_bucket_name(&parsed.bucket).is_ok());
}

fn header(text: &str) {
    match cli::parse_header(text) {
        Ok((name, value)) => {
            let shown = format!("{name}: {value}");
            assert_eq!(
                cli::parse_header(&shown),
                Ok((name.clone(), value.clone())),
                "`{text}` -> `{shown}`"
            );
            assert!(!name.is_empty());
        }
        Err(problem) => {
            // What follows the first colon (or, with no colon, the whole argument) may be a
            // secret: it must not be shown, unless the message would contain that text anyway.
            let (name, value) = text.split_once(':').unwrap_or(("", text));
            let value = value.trim();
            let template =
                "a --header argument has no `:`; write 'Name: value' is not a header name";
            let shown_name = name.trim().escape_debug().to_string();
            if value.len() >= 6 && !template.contains(value) && !shown_name.contains(value) {
                assert!(
                    !problem.contains(value),
                    "a --header value echoed: {problem}"
                );
            }
        }
    }
}

fn sizes(text: &str) {
    let general = oss_parts::parse_size(text).ok();
    assert_eq!(size::parse_size(text).ok(), general);
    if let Ok(part) = size::parse_part_size(text) {
        assert_eq!(Some(part), general);
        assert!((size::MIN_PART_SIZE..=size::MAX_PART_SIZE).contains(&part));
    }
    if let Ok(rate) = size::parse_rate(text) {
        assert_eq!(Some(rate), general);
        assert!(rate > 0);
    }
    if let Some(bytes) = general {
        assert_eq!(size::parse_size(&bytes.to_string()), Ok(bytes));
    }
}
