//! `oss-emulator`: the standalone OSS emulator (streaming server behind the chaos proxy).
//!
//! Prints exactly one line on stdout, `listening on http://127.0.0.1:PORT`, once it accepts
//! connections (and every CRC is ready with `--crc64`); logs to stderr only with `-v`.
//! The credential services (`--sts`, `--imds ROLE`, `--credentials-uri`) answer on that same
//! address, so that one line is all a caller needs.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use oss_emulator::{
    BucketSpec, ChaosProxy, CrcMode, Credentials, CutMode, Emulator, EmulatorError, FaultAction,
    ImdsSettings, LinkModel, NetFault, ObjectPattern, ObjectSpec, OidcTrust, ServiceFault,
    StsSettings, Versioning,
};
use oss_parts::parse_size;

const FAULT_HELP: &str = "\
FAULTS (fixed meanings; body bytes are response-body payload bytes, /-/stats excluded):
  --cut-every-connection-after N   cut every connection once it has relayed N body bytes
                                   (clients must reconnect and resume)
  --cut-once-at N                  cut once: the connection that relays the N-th body byte
                                   served in total (counting from 1) is cut right after it
  --cut-mode fin|rst               how cuts close: FIN, or RST via SO_LINGER=0 [default: rst]
  --stall-after N --stall-secs S   stall each connection for S seconds after it has relayed
                                   N body bytes (once per connection)
  --throttle RATE                  throttle all relayed traffic to RATE bytes/s (e.g. 20MiB)
  --refuse K                       refuse (reset at accept) the next K connections
  --fail-every N --fail-status S --fail-code CODE
                                   answer every N-th object request with status S and OSS
                                   error CODE (e.g. 503 ServiceUnavailable)
  --replace-after N                replace each --object with a new version (new content,
                                   new ETag) after N requests for it (the N+1-th sees it)
  --corrupt-byte N                 flip the byte at offset N of every ranged response's
                                   body; status and headers (CRC-64 included) stay right
  --random-cut P                   cut each response with probability P at a random body
                                   offset, decided by --seed
  --seed N                         seed for the random variants (printed on stderr whenever
                                   --random-cut or -v is given; a random one when absent)
/-/stats (GET, JSON) has the model's counters under \"model\" and the proxy's under \"proxy\".";

/// A local Alibaba Cloud OSS emulator for demos and tests.
#[derive(Parser, Debug)]
#[command(name = "oss-emulator", version, after_help = FAULT_HELP)]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// AccessKeyId accepted by the emulator.
    #[arg(long, requires = "access_key_secret")]
    access_key_id: Option<String>,
    /// AccessKeySecret for --access-key-id.
    #[arg(long, requires = "access_key_id")]
    access_key_secret: Option<String>,
    /// Refuse V4 signatures scoped to another region (as a real endpoint does), e.g.
    /// cn-hangzhou. Without it any region is accepted.
    #[arg(long)]
    region: Option<String>,
    /// Make the credentials STS credentials that need this security token.
    #[arg(long, requires = "access_key_id")]
    security_token: Option<String>,
    /// An object: BUCKET/KEY=SIZE[,seed=N] (SIZE like 100KiB or 1GiB; synthetic content).
    #[arg(long = "object", value_name = "BUCKET/KEY=SIZE[,seed=N]")]
    objects: Vec<String>,
    /// Many objects at once: BUCKET/PREFIX{LO..HI}SUFFIX=SIZE[,seed=N], e.g.
    /// 'bkt/data/part-{0..99999}=64KiB,seed=1' ({00000..99999} pads). They cost the memory
    /// of the line, listed in key order and made when requested.
    #[arg(long = "objects", value_name = "BUCKET/PATTERN=SIZE[,seed=N]")]
    patterns: Vec<String>,
    /// Make every bucket public-read (anonymous GET/HEAD allowed).
    #[arg(long)]
    public_read: bool,
    /// Compute every object's CRC-64 (x-oss-hash-crc64ecma) before listening.
    #[arg(long)]
    crc64: bool,
    /// Enable versioning on every bucket.
    #[arg(long)]
    versioning: bool,
    /// Turn on OSS's on-the-fly gzip of text types for Accept-Encoding: gzip.
    #[arg(long)]
    gzip_quirk: bool,
    /// Log requests to stderr.
    #[arg(short, long)]
    verbose: bool,
    /// Play a real link in the proxy: lan, region, cross-region or throttled (round trips,
    /// per-connection and total rate caps, stragglers, 503 above a concurrency limit; see
    /// docs/link-model.md). Stragglers follow --seed.
    #[arg(long, value_name = "PROFILE", value_parser = parse_link)]
    link: Option<LinkModel>,
    /// Run only the chaos proxy (its faults and --link) in front of another HTTP server at
    /// HOST:PORT, e.g. the bench's nginx: no model, no objects, `/-/stats` goes upstream.
    #[arg(long, value_name = "HOST:PORT", conflicts_with_all = ["objects", "sts", "imds", "credentials_uri"])]
    proxy_to: Option<SocketAddr>,

    /// Serve STS on the same port (`/?Action=AssumeRole...`, signed by --access-key-id;
    /// `AssumeRoleWithOIDC` with --oidc-token or --oidc-issuer)
    #[arg(long, help_heading = "Credential services")]
    sts: bool,
    /// Accept AssumeRoleWithOIDC with exactly this token (e.g. a token file's content)
    #[arg(
        long,
        value_name = "TOKEN",
        requires = "sts",
        help_heading = "Credential services"
    )]
    oidc_token: Option<String>,
    /// Accept AssumeRoleWithOIDC with a JWT whose `iss` claim is ISSUER
    #[arg(
        long,
        value_name = "ISSUER",
        requires = "sts",
        help_heading = "Credential services"
    )]
    oidc_issuer: Option<String>,
    /// Serve the ECS metadata service (`/latest/...`) with this RAM role attached
    #[arg(long, value_name = "ROLE", help_heading = "Credential services")]
    imds: Option<String>,
    /// Enforce the metadata service's hardened mode (requests without a session token: 401)
    #[arg(long, requires = "imds", help_heading = "Credential services")]
    imds_hardened: bool,
    /// Serve a credentials URI at /-/credentials
    #[arg(long, help_heading = "Credential services")]
    credentials_uri: bool,
    /// How long issued temporary credentials live, e.g. 20s, 15m, 1h [default: what the
    /// request asks, or 1 h]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration,
          help_heading = "Credential services")]
    credential_lifetime: Option<Duration>,

    #[arg(long, value_name = "N", hide = true)]
    cut_every_connection_after: Option<String>,
    #[arg(long, value_name = "N", hide = true)]
    cut_once_at: Option<String>,
    #[arg(long, value_name = "fin|rst", default_value = "rst", hide = true)]
    cut_mode: String,
    #[arg(long, value_name = "N", requires = "stall_secs", hide = true)]
    stall_after: Option<String>,
    #[arg(long, value_name = "S", requires = "stall_after", hide = true)]
    stall_secs: Option<f64>,
    #[arg(long, value_name = "RATE", hide = true)]
    throttle: Option<String>,
    #[arg(long, value_name = "K", hide = true)]
    refuse: Option<u64>,
    #[arg(long, value_name = "N", requires_all = ["fail_status", "fail_code"], hide = true)]
    fail_every: Option<u64>,
    #[arg(long, value_name = "S", hide = true)]
    fail_status: Option<u16>,
    #[arg(long, value_name = "CODE", hide = true)]
    fail_code: Option<String>,
    #[arg(long, value_name = "N", hide = true)]
    replace_after: Option<u64>,
    #[arg(long, value_name = "N", hide = true)]
    corrupt_byte: Option<u64>,
    #[arg(long, value_name = "P", hide = true)]
    random_cut: Option<f64>,
    #[arg(long, value_name = "N", hide = true)]
    seed: Option<u64>,
}

struct ObjectArg {
    bucket: String,
    key: String,
    size: u64,
    seed: u64,
}

fn parse_object(text: &str, index: usize) -> Result<ObjectArg, EmulatorError> {
    let bad = || {
        EmulatorError::InvalidArgument(format!(
            "--object `{text}`: write BUCKET/KEY=SIZE[,seed=N], e.g. bkt/data.bin=1GiB,seed=7"
        ))
    };
    let (path, spec) = text.split_once('=').ok_or_else(bad)?;
    let (bucket, key) = path.split_once('/').ok_or_else(bad)?;
    if key.is_empty() {
        return Err(bad());
    }
    let mut parts = spec.split(',');
    let size = parse_size(parts.next().ok_or_else(bad)?)?;
    let mut seed = index as u64 + 1;
    for p in parts {
        match p.split_once('=') {
            Some(("seed", v)) => seed = v.parse().map_err(|_| bad())?,
            _ => return Err(bad()),
        }
    }
    Ok(ObjectArg {
        bucket: bucket.to_owned(),
        key: key.to_owned(),
        size,
        seed,
    })
}

/// A `--link` profile name.
fn parse_link(name: &str) -> Result<LinkModel, String> {
    LinkModel::profile(name).ok_or_else(|| {
        format!(
            "unknown link profile `{name}`; use one of: {}",
            LinkModel::PROFILES.join(", ")
        )
    })
}

/// `20s`, `1500ms`, `15m`, `1h`, or bare seconds.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (number, unit) = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map_or((t, "s"), |i| t.split_at(i));
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration; write e.g. 20s, 1500ms, 15m or 1h"))?;
    let secs = match unit {
        "ms" => value / 1000.0,
        "s" => value,
        "m" => value * 60.0,
        "h" => value * 3600.0,
        _ => return Err(format!("`{text}`: the unit must be ms, s, m or h")),
    };
    Duration::try_from_secs_f64(secs).map_err(|_| format!("`{text}` is out of range"))
}

/// `--sts`, `--imds`, `--credentials-uri` and `--credential-lifetime`.
fn enable_credential_services(emu: &Emulator, args: &Args) {
    if args.sts {
        let mut settings = StsSettings::new();
        if args.oidc_token.is_some() || args.oidc_issuer.is_some() {
            let mut trust = OidcTrust::new();
            if let Some(token) = &args.oidc_token {
                trust = trust.token(token);
            }
            if let Some(issuer) = &args.oidc_issuer {
                trust = trust.issuer(issuer);
            }
            settings = settings.oidc(trust);
        }
        emu.enable_sts(settings);
    }
    if let Some(role) = &args.imds {
        emu.enable_imds(ImdsSettings::new(role).hardened_only(args.imds_hardened));
    }
    if args.credentials_uri {
        emu.enable_credentials_uri();
    }
    emu.set_credential_lifetime(args.credential_lifetime);
}

/// `--objects BUCKET/PATTERN=SIZE[,seed=N]`: the bucket and the pattern.
fn parse_pattern(text: &str, index: usize) -> Result<(String, ObjectPattern), EmulatorError> {
    // The same shape as --object, the key being a pattern (its `{..}` holds no `=`).
    let o = parse_object(text, index).map_err(|_| {
        EmulatorError::InvalidArgument(format!(
            "--objects `{text}`: write BUCKET/PREFIX{{LO..HI}}SUFFIX=SIZE[,seed=N], e.g. bkt/data/part-{{0..99999}}=64KiB,seed=1"
        ))
    })?;
    let pattern = ObjectPattern::parse(&o.key)?.size(o.size).seed(o.seed);
    Ok((o.bucket, pattern))
}

fn cut_mode(text: &str) -> Result<CutMode, EmulatorError> {
    match text.to_ascii_lowercase().as_str() {
        "fin" => Ok(CutMode::Fin),
        "rst" => Ok(CutMode::Rst),
        _ => Err(EmulatorError::InvalidArgument(format!(
            "--cut-mode `{text}`: use fin or rst"
        ))),
    }
}

/// The seed: `--seed`, or the clock's nanoseconds.
fn seed_of(args: &Args) -> u64 {
    args.seed.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
    })
}

/// `--proxy-to`: the chaos proxy alone in front of `upstream`.
async fn run_proxy_only(args: Args, upstream: SocketAddr) -> Result<(), EmulatorError> {
    let seed = seed_of(&args);
    let proxy = ChaosProxy::start_on(args.listen, upstream, net_faults(&args)?, seed).await?;
    proxy.set_link(args.link.clone());
    eprintln!("oss-emulator: seed {seed}, proxy to {upstream}");
    println!("listening on {}", proxy.endpoint());
    let _ = tokio::signal::ctrl_c().await;
    proxy.shutdown().await;
    Ok(())
}

async fn run(args: Args) -> Result<(), EmulatorError> {
    if let Some(upstream) = args.proxy_to {
        return run_proxy_only(args, upstream).await;
    }
    let emu = Emulator::new();
    if let (Some(id), Some(secret)) = (&args.access_key_id, &args.access_key_secret) {
        emu.add_credentials(match &args.security_token {
            Some(t) => Credentials::sts(id, secret, t),
            None => Credentials::new(id, secret),
        });
    }
    let objects = load_objects(&emu, &args).await?;
    emu.set_gzip_quirk(args.gzip_quirk);
    emu.set_region(args.region.as_deref());
    emu.set_request_log(args.verbose);
    enable_credential_services(&emu, &args);
    add_service_faults(&emu, &args, &objects);
    let faults = net_faults(&args)?;
    let seed = seed_of(&args);
    let server = emu.start_server().await?;
    let proxy = ChaosProxy::start_on(args.listen, server.local_addr(), faults, seed).await?;
    proxy.set_link(args.link.clone());
    emu.add_stats_section("proxy", proxy.stats_hook());
    // The seed is told (on stderr: stdout carries only the ready line) whenever a random
    // variant uses it, so a failing run can be replayed with --seed.
    if args.verbose || args.random_cut.is_some() || args.link.is_some() {
        eprintln!("oss-emulator: seed {seed}");
    }
    if args.verbose {
        eprintln!(
            "oss-emulator: model server {} behind proxy {}",
            server.endpoint(),
            proxy.endpoint()
        );
    }
    println!("listening on {}", proxy.endpoint());
    let _ = tokio::signal::ctrl_c().await;
    proxy.shutdown().await;
    server.shutdown().await;
    Ok(())
}

/// Puts every `--object` (each in its bucket, made as the flags say) and waits for their
/// CRCs, computed in parallel on background threads, when `--crc64` asks for them.
async fn load_objects(emu: &Emulator, args: &Args) -> Result<Vec<ObjectArg>, EmulatorError> {
    let objects: Vec<ObjectArg> = args
        .objects
        .iter()
        .enumerate()
        .map(|(i, o)| parse_object(o, i))
        .collect::<Result<_, _>>()?;
    let crc = if args.crc64 {
        CrcMode::Background
    } else {
        CrcMode::Off
    };
    let bucket = |name: &str| {
        let mut b = BucketSpec::new(name);
        if args.public_read {
            b = b.public_read();
        }
        if args.versioning {
            b = b.versioning(Versioning::Enabled);
        }
        b
    };
    for o in &objects {
        emu.add_bucket(bucket(&o.bucket))?;
        emu.put_object(
            &o.bucket,
            &o.key,
            ObjectSpec::synthetic(o.size, o.seed).crc64(crc),
        )?;
    }
    for (i, text) in args.patterns.iter().enumerate() {
        let (name, pattern) = parse_pattern(text, objects.len() + i)?;
        emu.add_bucket(bucket(&name))?;
        emu.add_objects(&name, pattern)?;
    }
    for o in &objects {
        emu.wait_crc_ready(&o.bucket, &o.key).await?;
    }
    Ok(objects)
}

/// `--fail-every`, `--replace-after` and `--corrupt-byte`: faults the model plays.
fn add_service_faults(emu: &Emulator, args: &Args, objects: &[ObjectArg]) {
    if let Some(offset) = args.corrupt_byte {
        emu.add_fault(ServiceFault::new(FaultAction::CorruptByte(offset)).ranged_only());
    }
    if let (Some(n), Some(status), Some(code)) =
        (args.fail_every, args.fail_status, &args.fail_code)
    {
        emu.add_fault(ServiceFault::new(FaultAction::error_for_code(status, code)).every(n));
    }
    if let Some(n) = args.replace_after {
        for o in objects {
            emu.add_fault(
                ServiceFault::new(FaultAction::ReplaceObject(None))
                    .key(&o.bucket, &o.key)
                    .on_request(n + 1),
            );
        }
    }
}

/// The cut, stall, throttle, refuse and random-cut flags: faults the chaos proxy plays.
fn net_faults(args: &Args) -> Result<Vec<NetFault>, EmulatorError> {
    let mode = cut_mode(&args.cut_mode)?;
    let mut faults = Vec::new();
    if let Some(n) = &args.cut_every_connection_after {
        faults.push(NetFault::CutEveryConnectionAfter {
            bytes: parse_size(n)?,
            mode,
        });
    }
    if let Some(n) = &args.cut_once_at {
        faults.push(NetFault::CutOnceAtTotal {
            byte: parse_size(n)?,
            mode,
        });
    }
    if let (Some(n), Some(s)) = (&args.stall_after, args.stall_secs) {
        faults.push(NetFault::StallAfter {
            connection: None,
            bytes: parse_size(n)?,
            duration: Some(Duration::from_secs_f64(s.max(0.0))),
        });
    }
    if let Some(r) = &args.throttle {
        faults.push(NetFault::Throttle {
            bytes_per_sec: parse_size(r)?,
        });
    }
    if let Some(k) = args.refuse {
        faults.push(NetFault::Refuse { count: k });
    }
    if let Some(p) = args.random_cut {
        faults.push(NetFault::RandomCut {
            probability: p,
            mode,
        });
    }
    Ok(faults)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("oss-emulator: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("oss-emulator: {}", chain(&e));
            ExitCode::from(if e.is_usage_error() { 2 } else { 1 })
        }
    }
}

/// `error: cause: cause`, each layer's text once (an error's message never repeats its
/// source's; see the error-chain convention in `EmulatorError`).
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut next = error.source();
    while let Some(cause) = next {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        next = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("20s"), Ok(Duration::from_secs(20)));
        assert_eq!(parse_duration("20"), Ok(Duration::from_secs(20)));
        assert_eq!(parse_duration("1500ms"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("1h"), Ok(Duration::from_secs(3600)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("3d").is_err());
    }

    #[test]
    fn link_profiles_parse_by_name() {
        for name in LinkModel::PROFILES {
            assert_eq!(parse_link(name).map(|m| m.name), Ok(name.to_owned()));
        }
        let e = parse_link("moon").unwrap_err();
        assert!(e.contains("cross-region"), "{e}");
    }

    #[test]
    fn the_command_is_well_formed() {
        use clap::CommandFactory as _;
        Args::command().debug_assert();
    }
}
