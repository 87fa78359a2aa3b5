//! The command line: every option, its default and its parser. Only parsing happens here;
//! [`crate::job`] turns the result into a download.

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Parser, Subcommand, ValueEnum};

use crate::help;
use crate::size::{
    DEFAULT_MIN_RATE, MinRate, parse_duration_for, parse_max_request_size, parse_min_rate,
    parse_part_size, parse_rate,
};

/// Everything on the command line.
///
/// Options are grouped under the headings of `--help`; rarely used ones show in the long
/// help only (`hide_short_help`). The batch-download options (`--recursive`/`-r`,
/// `--include`/`--exclude`, `--manifest`, `--shard`, `--dry-run`) will join a "Batch" group.
#[derive(Parser, Debug)]
#[command(
    name = "ossget",
    version,
    about = help::ABOUT,
    long_about = help::LONG_ABOUT,
    after_help = help::AFTER_HELP,
    after_long_help = help::AFTER_LONG_HELP,
    max_term_width = 100,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    subcommand_value_name = "COMMAND",
    subcommand_help_heading = "Commands"
)]
pub struct Args {
    /// What to download: oss://BUCKET/KEY, https://BUCKET.ENDPOINT/KEY, or a presigned URL;
    /// oss://BUCKET/PREFIX/ (a trailing /, or --recursive) downloads every object under it
    //
    // Kept as text and parsed in `Job::prepare`: a clap value parser's error quotes the
    // whole argument, and a presigned URL's query is a signature.
    #[arg(value_name = "SOURCE", required = true)]
    pub source: Option<String>,

    /// The file to write, a directory to put the key's file name in, or - for stdout
    /// [default: the key's file name in the current directory]; for many objects, the
    /// directory to fill
    #[arg(value_name = "DEST", conflicts_with = "output")]
    pub dest: Option<PathBuf>,

    /// Shell completions and the manual page
    #[command(subcommand)]
    pub command: Option<Command>,

    // ---- Download ------------------------------------------------------------------------
    /// Write to FILE (- for stdout), as curl and aria2c spell it; the same as DEST
    #[arg(short = 'o', long, value_name = "FILE", help_heading = "Download")]
    pub output: Option<PathBuf>,

    /// Concurrent connections (parallel ranged GETs), 1-1024 (-j and -x as in aria2c), or
    /// auto: start at 8 (16 on a long path) and double while the rate rises, backing off on
    /// throttling answers, up to 32 (a stream to stdout: 8; a batch: 32 shared)
    #[arg(long, short = 'j', short_alias = 'x', value_name = "N|auto",
          default_value_t = Threads::Auto, value_parser = parse_threads,
          help_heading = "Download")]
    pub threads: Threads,

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

    /// Download only bytes START-END of the object (inclusive), START- (to the end) or
    /// -SUFFIX (the last SUFFIX bytes): to DEST resumably, or streamed to stdout (see
    /// --help)
    #[arg(long, value_name = "START-END", value_parser = parse_range, allow_hyphen_values = true,
          help_heading = "Download")]
    pub range: Option<RangeArg>,

    /// Download this version of the object (versioned buckets)
    #[arg(long, value_name = "ID", value_parser = parse_version_id, help_heading = "Download")]
    pub version_id: Option<String>,

    /// Limit the whole download to RATE bytes per second, e.g. 50MiB
    #[arg(long, alias = "bandwidth-limit", value_name = "RATE", value_parser = parse_rate,
          help_heading = "Download")]
    pub limit_rate: Option<u64>,

    /// Ask OSS to limit each request to RATE bytes per second (x-oss-traffic-limit, sent in
    /// bit/s; OSS allows 30KiB to 100MiB per second, per connection)
    #[arg(long, value_name = "RATE", value_parser = parse_traffic_limit, hide_short_help = true,
          help_heading = "Download")]
    pub traffic_limit: Option<u64>,

    /// Replace DEST if it exists (the default; the old file stays until the new one is
    /// complete and verified)
    #[arg(short = 'f', long, alias = "allow-overwrite", conflicts_with_all = ["no_clobber", "update"],
          help_heading = "Download")]
    pub force: bool,

    /// Leave an existing DEST alone: report it as skipped (exit 0) without a request
    #[arg(
        short = 'n',
        long,
        conflicts_with = "update",
        help_heading = "Download"
    )]
    pub no_clobber: bool,

    /// Skip the download when DEST already holds this object: its size, and the CRC-64 or
    /// ETag recorded when ossget wrote it (see --help)
    #[arg(short = 'u', long, help_heading = "Download")]
    pub update: bool,

    /// Leave the file's modification time at the download's end instead of the object's
    /// Last-Modified
    #[arg(long, help_heading = "Download")]
    pub no_preserve_mtime: bool,

    /// Run CMD with the file's path as its last argument when the download is complete
    /// (not through a shell: CMD is split into words, with quotes; for a shell, write
    /// sh -c '...' sh)
    #[arg(
        long,
        value_name = "CMD",
        hide_short_help = true,
        help_heading = "Download"
    )]
    pub on_complete: Option<String>,

    /// What to do when the object changes during the download or since the checkpoint:
    /// fail (the partial data is discarded) or start over on the new version
    #[arg(long, value_name = "POLICY", value_enum, default_value_t = OnChangeArg::Fail,
          hide_short_help = true, help_heading = "Download")]
    pub on_change: OnChangeArg,

    /// durable: fdatasync the data every 100 ms and before the final rename, so not even
    /// a power cut leaves a wrong file; fast: never fsync (a reboot restarts the download)
    #[arg(long, value_name = "MODE", value_enum, default_value_t = DurabilityArg::Durable,
          help_heading = "Download")]
    pub durability: DurabilityArg,

    /// Do not preallocate the file's blocks (fallocate) before downloading
    #[arg(long, hide_short_help = true, help_heading = "Download")]
    pub no_preallocate: bool,

    /// Do not check for enough free space before downloading (then an object too big for
    /// the disk is caught by preallocation, which on ext4 fills the disk for a moment)
    #[arg(long, hide_short_help = true, help_heading = "Download")]
    pub no_space_check: bool,

    // ---- Checkpoint ----------------------------------------------------------------------
    /// Accepted for curl/aria2c habits: resuming is automatic (the checkpoint is on)
    #[arg(short = 'c', long = "continue", help_heading = "Checkpoint")]
    pub continue_: bool,

    /// Record progress in a checkpoint (DEST.cp) and resume from it [default: on]
    #[arg(
        long,
        overrides_with = "no_checkpoint",
        hide_short_help = true,
        help_heading = "Checkpoint"
    )]
    pub checkpoint: bool,

    /// Keep no checkpoint: an interrupted download starts over next time
    #[arg(long, overrides_with = "checkpoint", help_heading = "Checkpoint")]
    pub no_checkpoint: bool,

    /// Keep the checkpoint at PATH instead of DEST.cp (implies --checkpoint)
    #[arg(long, value_name = "PATH", conflicts_with_all = ["no_checkpoint", "checkpoint_dir"],
          help_heading = "Checkpoint")]
    pub checkpoint_path: Option<PathBuf>,

    /// Keep the checkpoint in DIR (as ossutil does), named after DEST
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with = "no_checkpoint",
        help_heading = "Checkpoint"
    )]
    pub checkpoint_dir: Option<PathBuf>,

    /// Discard an existing checkpoint (even another download's) and start over
    #[arg(long, conflicts_with = "no_checkpoint", help_heading = "Checkpoint")]
    pub restart: bool,

    /// When resuming, re-read the data already on disk and check it against the
    /// checkpoint's CRCs first (for disks you distrust)
    #[arg(long, hide_short_help = true, help_heading = "Checkpoint")]
    pub verify_resume: bool,

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
        alias = "sign-version",
        value_name = "1|4",
        value_enum,
        default_value = "4",
        help_heading = "Connection"
    )]
    pub signature_version: SignatureArg,

    /// How the URL names the bucket: virtual (BUCKET.ENDPOINT, the default; path for IP
    /// and localhost endpoints), path (ENDPOINT/BUCKET; real OSS refuses it) or cname (the
    /// endpoint is a custom domain bound to the bucket)
    #[arg(
        long,
        value_name = "STYLE",
        value_enum,
        hide_short_help = true,
        help_heading = "Connection"
    )]
    pub addressing_style: Option<AddressingArg>,

    /// The same as --addressing-style cname
    #[arg(long, hide = true, conflicts_with_all = ["path_style", "addressing_style"])]
    pub cname: bool,

    /// The same as --addressing-style path
    #[arg(long, hide = true, conflicts_with = "addressing_style")]
    pub path_style: bool,

    /// Connect to ADDR[,ADDR...] for HOST (like curl's --resolve; PORT must be the
    /// endpoint's; HOST may be *.DOMAIN). Repeatable
    #[arg(long, value_name = "HOST:PORT:ADDR", action = ArgAction::Append,
          hide_short_help = true, help_heading = "Connection")]
    pub resolve: Vec<String>,

    /// Send this header with every request, e.g. 'x-oss-request-payer: requester'.
    /// Repeatable
    //
    // Kept as text and parsed by `parse_header` in `Job::prepare`: a clap value parser's
    // error quotes the whole argument, and a value may be a secret (an SSE-C key).
    #[arg(short = 'H', long, value_name = "'NAME: VALUE'", action = ArgAction::Append,
          help_heading = "Connection")]
    pub header: Vec<String>,

    /// Pay for the download as the requester (x-oss-request-payer), for requester-pays
    /// buckets
    #[arg(long, value_name = "requester", value_parser = ["requester"], hide_short_help = true,
          help_heading = "Connection")]
    pub payer: Option<String>,

    /// Read defaults from this TOML file [default: $OSSGET_CONFIG, else
    /// $XDG_CONFIG_HOME/ossget/config.toml or ~/.config/ossget/config.toml if it exists]
    #[arg(long, value_name = "FILE", help_heading = "Connection")]
    pub config: Option<PathBuf>,

    // ---- Credentials ---------------------------------------------------------------------
    /// Send unsigned requests (public-read objects); no credentials needed
    #[arg(long, conflicts_with = "profile", help_heading = "Credentials")]
    pub anonymous: bool,

    /// Sign with this profile of ~/.aliyun/config.json (or ~/.alibabacloud/credentials.ini)
    /// and nothing else [default: the default credentials chain: OSS_ACCESS_KEY_ID/SECRET,
    /// ALIBABA_CLOUD_* keys, OIDC, the current profile, the ECS RAM role, a credentials URI]
    #[arg(long, value_name = "NAME", help_heading = "Credentials")]
    pub profile: Option<String>,

    // ---- Network/TLS ---------------------------------------------------------------------
    /// Reach OSS through this HTTP proxy, http://[USER:PASSWORD@]HOST[:PORT] (a CONNECT
    /// tunnel; overrides HTTPS_PROXY/HTTP_PROXY/ALL_PROXY)
    #[arg(long, value_name = "URL", help_heading = "Network/TLS")]
    pub proxy: Option<String>,

    /// Hosts to reach directly, comma-separated (curl's NO_PROXY syntax: names match their
    /// subdomains, IPs and CIDR ranges, * for all)
    #[arg(long, value_name = "LIST", help_heading = "Network/TLS")]
    pub noproxy: Option<String>,

    /// Trust only the CA certificates of this PEM file (e.g. a corporate proxy's CA)
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "ca_native",
        help_heading = "Network/TLS"
    )]
    pub cacert: Option<PathBuf>,

    /// Trust the operating system's certificate store instead of the built-in roots (on
    /// Unix, SSL_CERT_FILE or SSL_CERT_DIR replace the store when set, as with OpenSSL)
    #[arg(long, hide_short_help = true, help_heading = "Network/TLS")]
    pub ca_native: bool,

    /// Accept any TLS certificate (anyone on the path can read and change the traffic);
    /// warns on every run
    #[arg(short = 'k', long, conflicts_with_all = ["cacert", "ca_native"],
          help_heading = "Network/TLS")]
    pub insecure: bool,

    // ---- Retries -------------------------------------------------------------------------
    /// Retries of a part (or of HEAD) after a network fault, in a row without progress;
    /// progress refills them. OSS's throttling answers have their own budget (16)
    #[arg(long, value_name = "N", default_value_t = DEFAULT_RETRIES, value_parser = parse_retries,
          help_heading = "Retries")]
    pub retries: u32,

    /// Give up on making a TCP connection after DURATION, e.g. 10s
    #[arg(long, value_name = "DURATION", default_value = "10s",
          value_parser = |t: &str| parse_duration_for("--connect-timeout", t),
          help_heading = "Retries")]
    pub connect_timeout: Duration,

    /// Give up on a connection (and retry on a new one) when no byte arrives for DURATION
    #[arg(long, value_name = "DURATION", default_value = "30s",
          value_parser = |t: &str| parse_duration_for("--stall-timeout", t),
          help_heading = "Retries")]
    pub stall_timeout: Duration,

    /// Give up on a connection (and retry on a new one) that averages under RATE per second
    /// over a whole WINDOW of waiting for the network, e.g. 10KiB/30s; off to disable
    #[arg(long, value_name = "RATE/WINDOW", default_value = DEFAULT_MIN_RATE,
          value_parser = parse_min_rate, hide_short_help = true, help_heading = "Retries")]
    pub min_rate: MinRate,

    /// Stop the whole run after DURATION (progress is kept in the checkpoint; exit 124)
    #[arg(short = 'm', long, value_name = "DURATION",
          value_parser = |t: &str| parse_duration_for("--max-time", t),
          help_heading = "Retries")]
    pub max_time: Option<Duration>,

    // ---- Batch (crate::batch) -------------------------------------------------------------
    /// Download every object under the prefix into the directory DEST (implied by a source
    /// ending in /)
    #[arg(short, long, help_heading = "Batch")]
    pub recursive: bool,

    /// Only objects whose file name (the key after its last /) matches this glob (* ? [a-z]
    /// [^a-z]); rules apply in order as ossutil's do. Repeatable
    #[arg(long, value_name = "GLOB", action = ArgAction::Append, help_heading = "Batch")]
    pub include: Vec<String>,

    /// Skip objects whose file name matches this glob (see --include). Repeatable
    #[arg(long, value_name = "GLOB", action = ArgAction::Append, help_heading = "Batch")]
    pub exclude: Vec<String>,

    /// Download the keys listed in FILE (- for stdin): one oss://BUCKET/KEY or KEY per
    /// line, optionally a tab and the path to write it to under DEST
    #[arg(long, value_name = "FILE", help_heading = "Batch")]
    pub manifest: Option<PathBuf>,

    /// Take only shard K of N (0 <= K < N) by a stable hash of each key, so N machines
    /// split one prefix with no overlap
    #[arg(long, value_name = "K/N", value_parser = parse_shard, help_heading = "Batch")]
    pub shard: Option<oss_resume::batch::Shard>,

    /// List what would be downloaded (with sizes) and download nothing
    #[arg(long, help_heading = "Batch")]
    pub dry_run: bool,

    /// Stop at the first object that fails (default: go on, report every failure)
    #[arg(long, hide_short_help = true, help_heading = "Batch")]
    pub fail_fast: bool,

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

/// `ossget completions SHELL`, `ossget man`.
#[derive(Subcommand, Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Print a completion script for SHELL (e.g. ossget completions bash > /etc/bash_completion.d/ossget)
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. ossget man | man -l -
    Man,
}

/// The CLI's default number of retries of a part after a fault (oss-http's default budget:
/// 6 attempts).
pub const DEFAULT_RETRIES: u32 = 5;

impl Args {
    /// Whether progress is recorded in a checkpoint (on unless `--no-checkpoint`; never
    /// when streaming to stdout).
    pub fn checkpoint_enabled(&self) -> bool {
        (!self.no_checkpoint || self.checkpoint_path.is_some()) && !self.to_stdout()
    }

    /// DEST, given as the positional argument or as `-o`.
    pub fn destination(&self) -> Option<&std::path::Path> {
        self.dest.as_deref().or(self.output.as_deref())
    }

    /// Whether DEST is `-`: the object streams to stdout.
    pub fn to_stdout(&self) -> bool {
        self.destination()
            .is_some_and(|d| d.as_os_str() == std::ffi::OsStr::new("-"))
    }

    /// The addressing style asked for, by either spelling.
    pub fn addressing(&self) -> Option<AddressingArg> {
        if self.cname {
            Some(AddressingArg::Cname)
        } else if self.path_style {
            Some(AddressingArg::Path)
        } else {
            self.addressing_style
        }
    }
}

/// `--addressing-style`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AddressingArg {
    /// BUCKET.ENDPOINT/KEY
    Virtual,
    /// ENDPOINT/BUCKET/KEY
    Path,
    /// ENDPOINT/KEY: the endpoint is the bucket's custom domain
    Cname,
}

/// `--range`: what part of the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeArg {
    /// `START-END` (inclusive) or `START-` (`end: None`).
    From {
        /// The first byte.
        start: u64,
        /// The last byte, inclusive.
        end: Option<u64>,
    },
    /// `-N`: the last N bytes.
    Suffix(u64),
}

impl RangeArg {
    /// The range as oss-resume takes it (for a stream and for a download alike).
    pub fn object_range(self) -> oss_resume::ObjectRange {
        match self {
            RangeArg::From { start, end } => oss_resume::ObjectRange::From {
                first: start,
                last: end,
            },
            RangeArg::Suffix(n) => oss_resume::ObjectRange::Last(n),
        }
    }
}

/// `START-END`, `START-`, `-SUFFIX`: byte offsets as plain numbers or sizes (`1MiB-2MiB`).
fn parse_range(text: &str) -> Result<RangeArg, String> {
    let t = text.trim();
    let bad = || {
        format!(
            "`{t}` is not a range; write START-END (inclusive, e.g. 0-1048575), START- or -SUFFIX"
        )
    };
    let (a, b) = t.split_once('-').ok_or_else(bad)?;
    let num = |s: &str| crate::size::parse_size(s).map_err(|_| bad());
    match (a.trim(), b.trim()) {
        ("", "") => Err(bad()),
        ("", suffix) => match num(suffix)? {
            0 => Err(format!(
                "`{t}` asks for the last 0 bytes; give a positive SUFFIX"
            )),
            n => Ok(RangeArg::Suffix(n)),
        },
        (start, "") => Ok(RangeArg::From {
            start: num(start)?,
            end: None,
        }),
        (start, end) => {
            let (start, end) = (num(start)?, num(end)?);
            if end < start {
                return Err(format!(
                    "`{t}` ends before it starts; write START-END with END >= START"
                ));
            }
            Ok(RangeArg::From {
                start,
                end: Some(end),
            })
        }
    }
}

/// The x-oss-traffic-limit bounds OSS documents, in bit/s: 245760 (30 KiB/s) to 838860800
/// (100 MiB/s).
pub const TRAFFIC_LIMIT_BITS: std::ops::RangeInclusive<u64> = 245_760..=838_860_800;

/// `--traffic-limit RATE`: bytes per second, returned in bit/s (what OSS takes), within
/// OSS's bounds.
fn parse_traffic_limit(text: &str) -> Result<u64, String> {
    let bytes = crate::size::parse_size(text)?;
    let bits = bytes.saturating_mul(8);
    if !TRAFFIC_LIMIT_BITS.contains(&bits) {
        return Err(format!(
            "{} bytes/s is {bits} bit/s; OSS's x-oss-traffic-limit takes 30KiB to 100MiB per second (245760-838860800 bit/s)",
            text.trim()
        ));
    }
    Ok(bits)
}

fn parse_retries(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(n) if n <= 100 => Ok(n),
        _ => Err("retries must be a whole number from 0 to 100".to_owned()),
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

/// `--threads`: a fixed count, or `auto` (adaptive, at most [`AUTO_MAX_THREADS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Threads {
    /// Exactly this many connections.
    Fixed(usize),
    /// An adaptive count (`oss_resume::Download::threads_auto`).
    Auto,
}

/// The cap of `--threads auto`: a cross-region link (80 ms, 12 MiB/s per connection, 200 MiB/s
/// in all; `docs/link-model.md`) needs 17 connections to fill, a straggler more.
pub const AUTO_MAX_THREADS: usize = 32;

/// What `--threads auto` means for a stream to stdout, which has no adaptive count: the
/// adaptive count's start. A stream holds up to threads × part size in its reorder window,
/// so its connections stay fixed and modest (64 MiB at the default part size).
pub const AUTO_STREAM_THREADS: usize = 8;

impl Threads {
    /// The most connections this setting opens (for a batch: its shared budget).
    pub fn count(self) -> usize {
        match self {
            Threads::Fixed(n) => n,
            Threads::Auto => AUTO_MAX_THREADS,
        }
    }

    /// The connections of a stream to stdout ([`AUTO_STREAM_THREADS`] for `auto`).
    pub fn stream_count(self) -> usize {
        match self {
            Threads::Fixed(n) => n,
            Threads::Auto => AUTO_STREAM_THREADS,
        }
    }
}

impl std::fmt::Display for Threads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Threads::Fixed(n) => write!(f, "{n}"),
            Threads::Auto => f.write_str("auto"),
        }
    }
}

fn parse_threads(text: &str) -> Result<Threads, String> {
    let max = oss_resume::MAX_THREADS;
    if text.trim().eq_ignore_ascii_case("auto") {
        return Ok(Threads::Auto);
    }
    if text.contains("://") || text.contains(':') {
        return Err(format!(
            "-x/-j/--threads takes a number of connections (aria2c's meaning), 1 to {max}; for a proxy (curl's -x), use --proxy URL"
        ));
    }
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=max).contains(&n) => Ok(Threads::Fixed(n)),
        Ok(_) | Err(_) => Err(format!(
            "threads must be a whole number from 1 to {max}, or auto"
        )),
    }
}

/// `--shard K/N`.
fn parse_shard(text: &str) -> Result<oss_resume::batch::Shard, String> {
    text.parse().map_err(|e: oss_resume::Error| match e {
        oss_resume::Error::InvalidArgument { problem, .. } => problem,
        other => other.to_string(),
    })
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
        assert_eq!(parse_threads("4"), Ok(Threads::Fixed(4)));
        assert_eq!(parse_threads("auto"), Ok(Threads::Auto));
        assert!(parse_threads("0").unwrap_err().contains("from 1 to 1024"));
        assert!(parse_threads("1025").is_err());
        assert!(parse_threads("x").is_err());
    }

    #[test]
    fn defaults_and_the_bench_spelling() {
        let a = Args::try_parse_from(["ossget", "oss://bkt/k"]).unwrap();
        assert_eq!(a.threads, Threads::Auto);
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
        assert_eq!((a.threads, a.part_size), (Threads::Fixed(8), Some(8 << 20)));
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
