//! The command line: every option, its default and its parser. Only parsing happens here;
//! [`crate::job`] turns the result into a download.

use std::path::PathBuf;

use clap::{ArgAction, Parser, ValueEnum};

use crate::help;
use crate::size::{
    DEFAULT_MIN_RATE, MinRate, parse_max_request_size, parse_min_rate, parse_part_size, parse_rate,
};
use crate::url::{ObjectUrl, parse_object_url};

/// The CLI's default number of concurrent part downloads (the library's is the C SDK's 1).
pub const DEFAULT_THREADS: usize = 4;

/// Everything on the command line.
#[derive(Parser, Debug)]
#[command(
    name = "ossget",
    version,
    about = help::ABOUT,
    long_about = help::LONG_ABOUT,
    after_help = help::AFTER_HELP,
    after_long_help = help::AFTER_LONG_HELP,
    max_term_width = 100
)]
pub struct Args {
    /// The object to download
    #[arg(value_name = "oss://BUCKET/KEY", value_parser = parse_object_url)]
    pub source: ObjectUrl,

    /// The file to write, or a directory to put the key's file name in [default: the key's
    /// file name in the current directory]
    #[arg(value_name = "DEST")]
    pub dest: Option<PathBuf>,

    // ---- Connection ----------------------------------------------------------------------
    /// OSS endpoint, e.g. https://oss-cn-hangzhou.aliyuncs.com [default: derived from
    /// --region]
    #[arg(
        long,
        value_name = "URL",
        env = "OSS_ENDPOINT",
        hide_env_values = true,
        help_heading = "Connection"
    )]
    pub endpoint: Option<String>,

    /// The bucket's region, e.g. cn-hangzhou (signature V4 needs it unless the endpoint
    /// names it)
    #[arg(
        long,
        value_name = "REGION",
        env = "OSS_REGION",
        hide_env_values = true,
        help_heading = "Connection"
    )]
    pub region: Option<String>,

    /// Signature version
    #[arg(
        long,
        value_name = "1|4",
        value_enum,
        default_value = "4",
        help_heading = "Connection"
    )]
    pub signature_version: SignatureArg,

    /// The endpoint is a custom domain bound to the bucket (CNAME)
    #[arg(long, conflicts_with = "path_style", help_heading = "Connection")]
    pub cname: bool,

    /// Address the bucket as ENDPOINT/BUCKET/KEY (automatic for IP and localhost endpoints;
    /// real OSS refuses it)
    #[arg(long, help_heading = "Connection")]
    pub path_style: bool,

    /// Connect to ADDR[,ADDR...] for HOST (like curl's --resolve; PORT must be the
    /// endpoint's; HOST may be *.DOMAIN). Repeatable
    #[arg(long, value_name = "HOST:PORT:ADDR", action = ArgAction::Append,
          help_heading = "Connection")]
    pub resolve: Vec<String>,

    /// Send unsigned requests (public-read objects); no credentials needed
    #[arg(long, conflicts_with = "profile", help_heading = "Connection")]
    pub anonymous: bool,

    /// Sign with this profile of ~/.aliyun/config.json (or ~/.alibabacloud/credentials.ini)
    /// and nothing else [default: the default credentials chain: OSS_ACCESS_KEY_ID/SECRET,
    /// ALIBABA_CLOUD_* keys, OIDC, the current profile, the ECS RAM role, a credentials URI]
    #[arg(long, value_name = "NAME", help_heading = "Connection")]
    pub profile: Option<String>,

    /// Send this header with every request, e.g. 'x-oss-request-payer: requester'.
    /// Repeatable
    //
    // Kept as text and parsed by `parse_header` in `Job::prepare`: a clap value parser's
    // error quotes the whole argument, and a value may be a secret (an SSE-C key).
    #[arg(long, value_name = "'NAME: VALUE'", action = ArgAction::Append,
          help_heading = "Connection")]
    pub header: Vec<String>,

    // ---- Download ------------------------------------------------------------------------
    /// Concurrent part downloads (connections), 1-1024
    #[arg(long, value_name = "N", default_value_t = DEFAULT_THREADS, value_parser = parse_threads,
          help_heading = "Download")]
    pub threads: usize,

    /// Bytes per part, the unit of progress and of what a resume may fetch again (a request
    /// covers a run of parts), 1 B to 5GiB, e.g. 100KiB, 8MiB [default: 8MiB, raised only
    /// for objects over 128 TiB]
    #[arg(long, value_name = "SIZE", value_parser = parse_part_size, help_heading = "Download")]
    pub part_size: Option<u64>,

    /// The most one ranged GET asks for; it covers whole parts, so a SIZE at or below the part
    /// size means a request per part [default: sized by each connection's rate and latency,
    /// 4MiB to 64MiB]
    #[arg(long, value_name = "SIZE", value_parser = parse_max_request_size,
          hide_short_help = true, help_heading = "Download")]
    pub max_request_size: Option<u64>,

    /// Download this version of the object (versioned buckets)
    #[arg(long, value_name = "ID", value_parser = parse_version_id, help_heading = "Download")]
    pub version_id: Option<String>,

    /// Limit the whole download to SIZE per second, e.g. 50MiB
    #[arg(long, value_name = "SIZE", value_parser = parse_rate, help_heading = "Download")]
    pub limit_rate: Option<u64>,

    /// Give up on a connection (and retry on a new one) that averages under RATE per second
    /// over a whole WINDOW of waiting for the network, e.g. 10KiB/30s; off to disable
    #[arg(long, value_name = "RATE/WINDOW", default_value = DEFAULT_MIN_RATE,
          value_parser = parse_min_rate, hide_short_help = true, help_heading = "Download")]
    pub min_rate: MinRate,

    /// What to do when the object changes during the download or since the checkpoint:
    /// fail (the partial data is discarded) or start over on the new version
    #[arg(long, value_name = "POLICY", value_enum, default_value_t = OnChangeArg::Fail,
          help_heading = "Download")]
    pub on_change: OnChangeArg,

    /// durable: fdatasync the data every 100 ms and before the final rename, so not even
    /// a power cut leaves a wrong file; fast: never fsync (a reboot restarts the download)
    #[arg(long, value_name = "MODE", value_enum, default_value_t = DurabilityArg::Durable,
          help_heading = "Download")]
    pub durability: DurabilityArg,

    /// Do not preallocate the file's blocks (fallocate) before downloading
    #[arg(long, help_heading = "Download")]
    pub no_preallocate: bool,

    /// Do not check for enough free space before downloading (then an object too big for
    /// the disk is caught by preallocation, which on ext4 fills the disk for a moment)
    #[arg(long, help_heading = "Download")]
    pub no_space_check: bool,

    // ---- Resume --------------------------------------------------------------------------
    /// Record progress in a checkpoint (DEST.cp) and resume from it [default: on]
    #[arg(long, overrides_with = "no_checkpoint", help_heading = "Resume")]
    pub checkpoint: bool,

    /// Keep no checkpoint: an interrupted download starts over next time
    #[arg(long, overrides_with = "checkpoint", help_heading = "Resume")]
    pub no_checkpoint: bool,

    /// Keep the checkpoint at PATH instead of DEST.cp (implies --checkpoint)
    #[arg(
        long,
        value_name = "PATH",
        conflicts_with = "no_checkpoint",
        help_heading = "Resume"
    )]
    pub checkpoint_path: Option<PathBuf>,

    /// Discard an existing checkpoint (even another download's) and start over
    #[arg(long, conflicts_with = "no_checkpoint", help_heading = "Resume")]
    pub restart: bool,

    /// When resuming, re-read the data already on disk and check it against the
    /// checkpoint's CRCs first (for disks you distrust)
    #[arg(long, help_heading = "Resume")]
    pub verify_resume: bool,

    // ---- Output --------------------------------------------------------------------------
    /// No progress bar or progress lines (the summary is still printed)
    #[arg(long, help_heading = "Output")]
    pub no_progress: bool,

    /// Print one JSON object describing the outcome on stdout (fields: see --help)
    #[arg(long, help_heading = "Output")]
    pub json: bool,

    /// Log what happens on stderr: -v the plan and decisions, -vv retries, -vvv everything
    #[arg(short, long, action = ArgAction::Count, help_heading = "Output")]
    pub verbose: u8,

    /// Print nothing but errors (and the --json object)
    #[arg(short, long, conflicts_with = "verbose", help_heading = "Output")]
    pub quiet: bool,
}

impl Args {
    /// Whether progress is recorded in a checkpoint (on unless `--no-checkpoint`).
    pub fn checkpoint_enabled(&self) -> bool {
        !self.no_checkpoint || self.checkpoint_path.is_some()
    }
}

/// `--signature-version`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SignatureArg {
    /// HMAC-SHA1, for old endpoints and tools
    #[value(name = "1")]
    V1,
    /// OSS4-HMAC-SHA256, region-scoped
    #[value(name = "4")]
    V4,
}

/// `--on-change`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnChangeArg {
    /// Stop with an error
    Fail,
    /// Start over on the new version (at most 3 times)
    Restart,
}

/// `--durability`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DurabilityArg {
    /// Never a wrong file, even after a power cut
    Durable,
    /// No fsync: faster on slow disks, restarts after a reboot
    Fast,
}

fn parse_threads(text: &str) -> Result<usize, String> {
    let max = oss_resume::MAX_THREADS;
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        Ok(_) | Err(_) => Err(format!("threads must be a whole number from 1 to {max}")),
    }
}

/// `--version-id`: not empty (an empty id would mean the current version to some tools and
/// an error to OSS: leave the option out for the current version).
fn parse_version_id(text: &str) -> Result<String, String> {
    if text.trim().is_empty() {
        return Err(
            "the version id is empty; give the version's id, or leave --version-id out for the current version"
                .to_owned(),
        );
    }
    Ok(text.to_owned())
}

/// `Name: value` (the value may be empty; spaces around both are dropped).
///
/// Errors never echo the argument whole: a value may be a secret (an SSE-C key), and a
/// mistyped header (a space for the colon) would otherwise print it.
pub fn parse_header(text: &str) -> Result<(String, String), String> {
    let Some((name, value)) = text.split_once(':') else {
        return Err("a --header argument has no `:`; write 'Name: value'".to_owned());
    };
    let name = name.trim();
    let is_token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(is_token) {
        return Err(format!(
            "`{}` is not a header name; write 'Name: value'",
            name.escape_debug()
        ));
    }
    Ok((name.to_owned(), value.trim().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_is_well_formed() {
        Args::command().debug_assert();
    }

    #[test]
    fn headers_and_threads() {
        assert_eq!(
            parse_header("x-oss-request-payer: requester"),
            Ok(("x-oss-request-payer".into(), "requester".into()))
        );
        assert_eq!(
            parse_header("X-Empty:"),
            Ok(("X-Empty".into(), String::new()))
        );
        assert!(parse_header("no colon").is_err());
        assert!(parse_header(": v").is_err());
        assert!(parse_header("bad name: v").is_err());
        // A colon typed as a space must not print the (perhaps secret) value.
        let e = parse_header("x-oss-server-side-encryption-customer-key c2VjcmV0").unwrap_err();
        assert!(e.contains("no `:`") && !e.contains("c2VjcmV0"), "{e}");
        let e = parse_header("bad name: c2VjcmV0").unwrap_err();
        assert!(e.contains("`bad name`") && !e.contains("c2VjcmV0"), "{e}");
        assert_eq!(parse_threads("4"), Ok(4));
        assert!(parse_threads("0").unwrap_err().contains("from 1 to 1024"));
        assert!(parse_threads("1025").is_err());
        assert!(parse_threads("x").is_err());
    }

    #[test]
    fn defaults_and_the_bench_spelling() {
        let a = Args::try_parse_from(["ossget", "oss://bkt/k"]).unwrap();
        assert_eq!(a.threads, 4);
        assert_eq!(a.part_size, None);
        assert!(a.checkpoint_enabled());
        assert_eq!(a.signature_version, SignatureArg::V4);
        let a = Args::try_parse_from([
            "ossget",
            "oss://bkt/k",
            "out",
            "--endpoint",
            "http://127.0.0.1:1",
            "--region",
            "cn-hangzhou",
            "--threads",
            "8",
            "--part-size",
            "8MiB",
            "--checkpoint",
            "--durability",
            "fast",
            "--anonymous",
        ])
        .unwrap();
        assert_eq!((a.threads, a.part_size), (8, Some(8 << 20)));
        assert_eq!(a.durability, DurabilityArg::Fast);
        assert!(a.checkpoint_enabled() && a.anonymous);
        let p = Args::try_parse_from(["ossget", "oss://bkt/k", "--profile", "dev"]).unwrap();
        assert_eq!(p.profile.as_deref(), Some("dev"));
        assert!(
            Args::try_parse_from(["ossget", "oss://bkt/k", "--profile", "dev", "--anonymous"])
                .is_err()
        );
        let off = Args::try_parse_from(["ossget", "oss://bkt/k", "--no-checkpoint"]).unwrap();
        assert!(!off.checkpoint_enabled());
        let last_wins =
            Args::try_parse_from(["ossget", "oss://bkt/k", "--no-checkpoint", "--checkpoint"])
                .unwrap();
        assert!(last_wins.checkpoint_enabled());
        assert!(
            Args::try_parse_from(["ossget", "oss://bkt/k", "--no-checkpoint", "--restart"])
                .is_err()
        );
        assert!(Args::try_parse_from(["ossget", "oss://bkt/k", "-q", "-v"]).is_err());
    }
}
