//! From parsed arguments to a ready download: endpoint, credentials, client, destination.
//! Every problem found here is a usage error (exit 2) and nothing has been requested yet.

use std::ffi::OsString;
use std::net::IpAddr;
use std::path::PathBuf;

use oss_resume::oss_credentials::{CachingProvider, DefaultChain, Environment, HttpSettings};
use oss_resume::oss_http::{Proxy, RetryPolicy, ThrottlePolicy, TlsTrust};
use oss_resume::{Client, Download, Durability, OnChange, SignatureVersion};

use crate::cli::{AddressingArg, Args, DurabilityArg, OnChangeArg, SignatureArg, parse_header};
use crate::dest::resolve_destination;
use crate::failure::chain;
use crate::url::{ObjectUrl, parse_source};

/// A download ready to start.
pub struct Job {
    /// What to download.
    pub source: ObjectUrl,
    /// Where to (as the user will recognise it: relative when given relative).
    pub destination: PathBuf,
    /// Where the checkpoint lives, when checkpointing.
    pub checkpoint_path: Option<PathBuf>,
    /// The endpoint used (given, from OSS_ENDPOINT, from the URL, or derived from the
    /// region).
    pub endpoint: String,
    /// The configured client.
    pub client: Client,
    /// Things to say on every run before the download (`--insecure`).
    pub warnings: Vec<String>,
    /// `--on-complete`, split into words.
    pub hook: Option<Vec<String>>,
}

/// The endpoint, the client every option of `args` describes for `source`, and warnings to
/// print (`--insecure`); shared by one-object and many-object runs. Every problem is a
/// usage error; nothing is requested except, for the credentials chain, the credentials.
pub fn build_client(
    args: &Args,
    source: &ObjectUrl,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<(String, Client, Vec<String>), String> {
    let endpoint = endpoint(args, source)?;
    let user_agent = format!("ossget/{}", env!("CARGO_PKG_VERSION"));
    let text_env = |name: &str| env(name).and_then(|v| v.into_string().ok());
    let proxy = proxy(args, &text_env)?;
    let (tls, warnings) = tls(args)?;
    let mut builder = Client::builder()
        .endpoint(&endpoint)
        .http(|http| {
            http.user_agent(user_agent)
                .proxy(proxy.clone())
                .tls_trust(tls.clone())
                .connect_timeout(args.connect_timeout)
                .stall_timeout(args.stall_timeout)
        })
        .signature_version(match args.signature_version {
            SignatureArg::V1 => SignatureVersion::V1,
            SignatureArg::V4 => SignatureVersion::V4,
        });
    let presigned = source.presigned().cloned();
    if let Some(url) = presigned.clone() {
        builder = builder.http(|http| http.presigned(url));
    } else if let Some(region) = &args.region {
        builder = builder.region(region);
    } else if args.signature_version == SignatureArg::V4
        && !args.anonymous
        && !names_region(&endpoint)
    {
        return Err(format!(
            "signature V4 needs the bucket's region and the endpoint `{endpoint}` does not name one; pass --region (or set OSS_REGION), e.g. --region cn-hangzhou, or use --signature-version 1"
        ));
    }
    if let Some((bytes_per_sec, window)) = args.min_rate.0 {
        builder = builder.http(|http| http.min_rate(bytes_per_sec, window));
    }
    match addressing(args, source) {
        Some(AddressingArg::Cname) => builder = builder.http(|http| http.cname(true)),
        Some(AddressingArg::Path) => builder = builder.http(|http| http.path_style(true)),
        Some(AddressingArg::Virtual) | None => {}
    }
    for text in &args.resolve {
        let (host, addrs) = parse_resolve(text, endpoint_port(&endpoint))?;
        builder = builder.http(|http| http.resolve(&host, addrs));
    }
    for text in &args.header {
        let (name, value) = parse_header(text)?;
        builder = builder.header(&name, &value);
    }
    if let Some(payer) = &args.payer {
        builder = builder.header("x-oss-request-payer", payer);
    }
    if let Some(bits) = args.traffic_limit {
        builder = builder.header("x-oss-traffic-limit", &bits.to_string());
    }
    builder = if args.anonymous || presigned.is_some() {
        builder.anonymous()
    } else {
        let http = HttpSettings {
            tls: tls.clone(),
            proxy: proxy.clone(),
            ..HttpSettings::service()
        };
        builder.credentials_provider(credentials(args, &env, http)?)
    };
    let client = builder.build().map_err(|e| match (&presigned, e) {
        (Some(_), oss_resume::Error::Client(inner)) => format!(
            "{}; a presigned URL's signature covers the x-oss-* headers it was signed with, so --header x-oss-*, --payer and --traffic-limit need a URL signed with them",
            chain(&inner)
        ),
        (_, e) => chain(&e),
    })?;
    Ok((endpoint, client, warnings))
}

impl Job {
    /// Checks the arguments and the environment and builds the client. `env` reads an
    /// environment variable (the process environment in `main`).
    pub fn prepare(args: &Args, env: impl Fn(&str) -> Option<OsString>) -> Result<Self, String> {
        crate::stream::check(args)?;
        let text = args.source.as_deref().unwrap_or_default();
        let source = parse_source(text)?;
        let hook = args
            .on_complete
            .as_deref()
            .map(crate::hook::split)
            .transpose()?;
        let destination = resolve_destination(args.destination(), &source.key)?;
        let checkpoint_path = checkpoint_path(args, &destination)?;
        let (endpoint, client, warnings) = build_client(args, &source, env)?;
        Ok(Self {
            source,
            destination,
            checkpoint_path,
            endpoint,
            client,
            warnings,
            hook,
        })
    }

    /// The download with every option from `args` (progress and cancellation are added by
    /// the caller).
    pub fn download(&self, args: &Args) -> Download {
        let (retry, throttle) = self.retry_policies(args);
        let mut d = self
            .client
            .download(&self.source.bucket, &self.source.key, &self.destination)
            .threads(args.threads.count())
            .checkpoint(self.checkpoint_path.is_some())
            .on_change(match args.on_change {
                OnChangeArg::Fail => OnChange::Fail,
                OnChangeArg::Restart => OnChange::Restart,
            })
            .durability(match args.durability {
                DurabilityArg::Durable => Durability::Durable,
                DurabilityArg::Fast => Durability::Fast,
            })
            .restart(args.restart)
            .verify_on_resume(args.verify_resume)
            .preallocate(!args.no_preallocate)
            .check_free_space(!args.no_space_check)
            .preserve_mtime(!args.no_preserve_mtime)
            // A range's file is not the object: recording the object's ETag and CRC-64 on it
            // would let a later --update take it for the whole object.
            .record_source(args.range.is_none())
            .retry_policy(retry)
            .throttle_policy(throttle);
        if let Some(path) = &self.checkpoint_path {
            d = d.checkpoint_path(path);
        }
        if let Some(bytes) = args.part_size {
            d = d.part_size(bytes);
        }
        if args.threads == crate::cli::Threads::Auto {
            d = d.threads_auto(crate::cli::AUTO_MAX_THREADS);
        }
        if let Some(bytes) = args.max_request_size {
            d = d.max_request_size(bytes);
        }
        if let Some(version) = &args.version_id {
            d = d.version_id(version);
        }
        if let Some(rate) = args.limit_rate {
            d = d.bandwidth_limit(rate);
        }
        if let Some(range) = args.range {
            d = d.range(range.object_range());
        }
        d
    }
}

impl Job {
    /// `--retries N`: N retries of a part after faults; with 0, no retry after throttling
    /// either.
    pub fn retry_policies(&self, args: &Args) -> (RetryPolicy, ThrottlePolicy) {
        let retry = RetryPolicy {
            max_attempts: args.retries + 1,
            ..RetryPolicy::default()
        };
        let mut throttle = ThrottlePolicy::default();
        if args.retries == 0 {
            throttle.max_attempts = 1;
        }
        (retry, throttle)
    }
}

/// The checkpoint's path: `--checkpoint-path`, in `--checkpoint-dir` (created if missing),
/// or beside DEST; `None` with the checkpoint off.
fn checkpoint_path(args: &Args, destination: &std::path::Path) -> Result<Option<PathBuf>, String> {
    if !args.checkpoint_enabled() {
        return Ok(None);
    }
    if let Some(path) = &args.checkpoint_path {
        return Ok(Some(path.clone()));
    }
    if let Some(dir) = &args.checkpoint_dir {
        std::fs::create_dir_all(dir).map_err(|e| {
            format!(
                "--checkpoint-dir `{}` cannot be created: {e}; give a writable directory",
                dir.display()
            )
        })?;
        return Ok(Some(oss_resume::checkpoint_path_in(dir, destination)));
    }
    Ok(Some(oss_resume::default_checkpoint_path(destination)))
}

/// The addressing style: a URL's own (virtual-hosted, or path style for an IP host), else
/// `--addressing-style` (or `--cname`/`--path-style`).
fn addressing(args: &Args, source: &ObjectUrl) -> Option<AddressingArg> {
    use oss_resume::oss_http::AddressingStyle;
    match source.web.as_ref().map(|w| w.style()) {
        Some(AddressingStyle::Path) => Some(AddressingArg::Path),
        Some(_) => Some(AddressingArg::Virtual),
        None => args.addressing(),
    }
}

/// The proxy: `--proxy` (with `--noproxy`, or `NO_PROXY`), else the environment's
/// (`https_proxy`, `http_proxy`, `all_proxy`, `no_proxy`, either case), with `--noproxy`
/// replacing its exceptions.
fn proxy(args: &Args, env: &impl Fn(&str) -> Option<String>) -> Result<Proxy, String> {
    let no_proxy = args.noproxy.clone().or_else(|| {
        ["no_proxy", "NO_PROXY"]
            .into_iter()
            .find_map(|n| env(n).filter(|v| !v.trim().is_empty()))
    });
    let proxy = match &args.proxy {
        Some(url) if url.trim().is_empty() => Ok(Proxy::none()),
        Some(url) => Proxy::url(url, no_proxy.as_deref()),
        None => Proxy::from_env(env).map(|p| match &args.noproxy {
            Some(list) => p.with_no_proxy(list),
            None => p,
        }),
    };
    proxy.map_err(|e| chain(&e).replace("invalid client configuration: proxy: ", ""))
}

/// The TLS trust, and the warning `--insecure` prints on every run.
fn tls(args: &Args) -> Result<(TlsTrust, Vec<String>), String> {
    if args.insecure {
        let warning = "--insecure: TLS certificates are NOT checked; anyone on the network path can read and change this download (and see its signed requests)".to_owned();
        return Ok((TlsTrust::InsecureAcceptAnyCertificate, vec![warning]));
    }
    if let Some(path) = &args.cacert {
        let trust = TlsTrust::from_pem_file(path).map_err(|e| {
            format!(
                "--cacert: {}",
                chain(&e).replace("invalid client configuration: tls: ", "")
            )
        })?;
        return Ok((trust, Vec::new()));
    }
    if args.ca_native {
        return Ok((TlsTrust::Native, Vec::new()));
    }
    Ok((TlsTrust::WebPki, Vec::new()))
}

/// A URL source's endpoint, else `--endpoint`, `OSS_ENDPOINT`, or the public endpoint of
/// `--region`.
fn endpoint(args: &Args, source: &ObjectUrl) -> Result<String, String> {
    if let Some(web) = &source.web {
        return Ok(web.endpoint().to_owned());
    }
    match (&args.endpoint, &args.region) {
        (Some(e), _) if !e.trim().is_empty() => Ok(e.trim().to_owned()),
        (_, Some(r)) if !r.trim().is_empty() => {
            Ok(format!("https://oss-{}.aliyuncs.com", r.trim()))
        }
        _ => Err(
            "no endpoint: pass --endpoint URL (or set OSS_ENDPOINT), e.g. --endpoint https://oss-cn-hangzhou.aliyuncs.com, or just --region cn-hangzhou"
                .to_owned(),
        ),
    }
}

/// Whether the endpoint's host is `oss-<region>[-internal].aliyuncs.com`, from which the
/// region is inferred.
fn names_region(endpoint: &str) -> bool {
    let host = host_and_port(endpoint).0.to_ascii_lowercase();
    host.strip_prefix("oss-")
        .and_then(|rest| rest.strip_suffix(".aliyuncs.com"))
        .is_some_and(|region| !region.is_empty() && !region.contains('.'))
}

/// `(host, port)` of an endpoint text (`https://` assumed).
fn host_and_port(endpoint: &str) -> (&str, Option<&str>) {
    let rest = endpoint
        .split_once("://")
        .map_or(endpoint, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']').unwrap_or((v6, ""));
        return (host, after.strip_prefix(':'));
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    }
}

/// The port the endpoint connects to.
fn endpoint_port(endpoint: &str) -> Option<u16> {
    match host_and_port(endpoint).1 {
        Some(port) => port.parse().ok(),
        None if endpoint.to_ascii_lowercase().starts_with("http://") => Some(80),
        None => Some(443),
    }
}

/// `HOST:PORT:ADDR[,ADDR...]`; PORT must be the endpoint's (the override is by host name).
fn parse_resolve(text: &str, endpoint_port: Option<u16>) -> Result<(String, Vec<IpAddr>), String> {
    let bad = || {
        format!(
            "--resolve `{text}`: write HOST:PORT:ADDR[,ADDR...], e.g. bkt.oss-cn-hangzhou.aliyuncs.com:443:127.0.0.1"
        )
    };
    let (host, rest) = text.split_once(':').ok_or_else(bad)?;
    let (port, addrs) = rest.split_once(':').ok_or_else(bad)?;
    if host.is_empty() {
        return Err(bad());
    }
    let port: u16 = port.parse().map_err(|_| bad())?;
    if Some(port) != endpoint_port {
        return Err(format!(
            "--resolve `{text}`: port {port} is not the endpoint's port{}; the override applies to the endpoint's host names",
            endpoint_port.map(|p| format!(" {p}")).unwrap_or_default()
        ));
    }
    let addrs = addrs
        .split(',')
        .map(|a| {
            let a = a.trim();
            let a = a
                .strip_prefix('[')
                .and_then(|a| a.strip_suffix(']'))
                .unwrap_or(a);
            a.parse::<IpAddr>().map_err(|_| bad())
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((host.to_owned(), addrs))
}

/// The default credentials chain (or `--profile`'s profile alone), fetched now: a missing or
/// broken source is a usage error before any request, and `-v` logs which source signs and
/// until when. Refreshed ahead of expiry during the download. Errors list what the chain
/// tried; they never contain a secret.
fn credentials(
    args: &Args,
    env: &impl Fn(&str) -> Option<OsString>,
    http: HttpSettings,
) -> Result<CachingProvider, String> {
    let environment = Environment::from_lookup(|name| env(name).and_then(|v| v.into_string().ok()));
    // STS and credentials URIs through the same proxy and TLS trust as OSS requests (the
    // metadata service is always asked directly).
    let mut chain_builder = DefaultChain::builder(environment).http(http);
    if let Some(profile) = &args.profile {
        chain_builder = chain_builder.profile(profile);
    }
    let provider = CachingProvider::new(chain_builder.build());
    // A runtime of its own for the first fetch (the download's starts later); the provider's
    // refreshes run on whichever runtime signs then.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime to fetch credentials: {e}"))?;
    runtime.block_on(provider.credentials()).map_err(|e| {
        format!(
            "{}; or pass --anonymous for a public-read object",
            chain(&e)
        )
    })?;
    Ok(provider)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let map: HashMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), OsString::from(v)))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn args(extra: &[&str]) -> Args {
        let mut argv = vec!["ossget", "oss://bkt/dir/k.bin", "out.bin"];
        argv.extend_from_slice(extra);
        Args::try_parse_from(argv).unwrap()
    }

    const ENV_ID: &str = "OSS_ACCESS_KEY_ID";
    const ENV_SECRET: &str = "OSS_ACCESS_KEY_SECRET";
    const KEYS: &[(&str, &str)] = &[(ENV_ID, "AKID"), (ENV_SECRET, "TopSecret123")];
    /// Tests never ask a metadata service (nor read a real home directory).
    const NO_IMDS: (&str, &str) = ("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true");

    #[test]
    fn missing_credentials_name_the_variable() {
        let a = args(&[
            "--endpoint",
            "http://127.0.0.1:9",
            "--region",
            "cn-hangzhou",
        ]);
        let e = |vars: &[(&str, &str)]| {
            let mut vars = vars.to_vec();
            vars.push(NO_IMDS);
            Job::prepare(&a, env(&vars)).err().unwrap()
        };
        let none = e(&[]);
        assert!(
            none.contains(ENV_ID) && none.contains(ENV_SECRET) && none.contains("--anonymous"),
            "{none}"
        );
        assert!(none.contains("ecs_ram_role (disabled by"), "{none}");
        let no_id = e(&[(ENV_SECRET, "TopSecret123")]);
        assert!(no_id.contains("set OSS_ACCESS_KEY_ID too"), "{no_id}");
        assert!(e(&[(ENV_ID, "AKID")]).contains("set OSS_ACCESS_KEY_SECRET too"));
        assert!(e(&[(ENV_ID, ""), (ENV_SECRET, "x")]).contains("set OSS_ACCESS_KEY_ID too"));
        let bad_id = e(&[(ENV_ID, "has space"), (ENV_SECRET, "TopSecret123")]);
        assert!(
            bad_id.contains("access key id") && !bad_id.contains("TopSecret123"),
            "{bad_id}"
        );
        // --profile NAME with no profile files: an error naming the profile.
        let p = args(&[
            "--endpoint",
            "http://127.0.0.1:9",
            "--region",
            "cn-hangzhou",
            "--profile",
            "dev",
        ]);
        let home = tempfile::tempdir().unwrap();
        let home_dir = home.path().to_str().unwrap();
        let e = Job::prepare(&p, env(&[("HOME", home_dir), KEYS[0], KEYS[1]]))
            .err()
            .unwrap();
        assert!(
            e.contains("cli_profile") && e.contains("--anonymous"),
            "{e}"
        );
        assert!(Job::prepare(&a, env(KEYS)).is_ok());
        let anon = args(&["--endpoint", "http://127.0.0.1:9", "--anonymous"]);
        assert!(Job::prepare(&anon, env(&[])).is_ok());
    }

    #[test]
    fn endpoint_and_region() {
        let ok = |extra: &[&str]| Job::prepare(&args(extra), env(KEYS));
        assert!(ok(&[]).err().unwrap().contains("no endpoint"));
        assert!(ok(&["--region", "cn-hangzhou"]).is_ok());
        assert!(ok(&["--endpoint", "oss-cn-hangzhou.aliyuncs.com"]).is_ok());
        let e = ok(&["--endpoint", "http://127.0.0.1:9"]).err().unwrap();
        assert!(
            e.contains("--region") && e.contains("--signature-version 1"),
            "{e}"
        );
        assert!(
            ok(&[
                "--endpoint",
                "http://127.0.0.1:9",
                "--signature-version",
                "1"
            ])
            .is_ok()
        );
        assert!(names_region("https://oss-cn-hangzhou.aliyuncs.com"));
        assert!(names_region("oss-cn-beijing-internal.aliyuncs.com:443"));
        assert!(!names_region("https://files.example.com"));
        assert!(!names_region("https://oss.aliyuncs.com"));
    }

    #[test]
    fn resolve_overrides() {
        assert_eq!(endpoint_port("http://127.0.0.1:9000"), Some(9000));
        assert_eq!(endpoint_port("http://[::1]:9000/"), Some(9000));
        assert_eq!(endpoint_port("http://example.com"), Some(80));
        assert_eq!(endpoint_port("oss-cn-hangzhou.aliyuncs.com"), Some(443));
        let (host, addrs) =
            parse_resolve("bkt.example.com:9000:127.0.0.1,[::1]", Some(9000)).unwrap();
        assert_eq!(host, "bkt.example.com");
        assert_eq!(addrs.len(), 2);
        assert!(parse_resolve("*.example.com:443:10.0.0.1", Some(443)).is_ok());
        assert!(
            parse_resolve("h:80:127.0.0.1", Some(443))
                .unwrap_err()
                .contains("443")
        );
        assert!(parse_resolve("h:443:nope", Some(443)).is_err());
        assert!(parse_resolve("h:443", Some(443)).is_err());
    }

    /// The minimum-rate rule is on by default (a 1 byte/s body used to never end), and
    /// `--min-rate` sets or disables it.
    #[test]
    fn min_rate_defaults_on_and_the_flag_sets_it() {
        use std::time::Duration;
        let min_rate = |extra: &[&str]| {
            let mut all = vec!["--region", "cn-hangzhou"];
            all.extend_from_slice(extra);
            let job = Job::prepare(&args(&all), env(KEYS)).unwrap();
            job.client
                .http()
                .timeouts()
                .stall
                .min_rate
                .map(|r| (r.bytes_per_sec, r.window))
        };
        assert_eq!(min_rate(&[]), Some((1024, Duration::from_secs(60))));
        assert_eq!(
            min_rate(&["--min-rate", "10KiB/30s"]),
            Some((10240, Duration::from_secs(30)))
        );
        assert_eq!(min_rate(&["--min-rate", "off"]), None);
        assert_eq!(min_rate(&["--min-rate", "0"]), None);
    }

    #[test]
    fn checkpoint_paths() {
        let j = Job::prepare(&args(&["--region", "cn-hangzhou"]), env(KEYS)).unwrap();
        assert_eq!(j.checkpoint_path, Some(PathBuf::from("out.bin.cp")));
        let j = Job::prepare(
            &args(&["--region", "cn-hangzhou", "--checkpoint-path", "/tmp/x.cp"]),
            env(KEYS),
        )
        .unwrap();
        assert_eq!(j.checkpoint_path, Some(PathBuf::from("/tmp/x.cp")));
        let j = Job::prepare(
            &args(&["--region", "cn-hangzhou", "--no-checkpoint"]),
            env(KEYS),
        )
        .unwrap();
        assert_eq!(j.checkpoint_path, None);
    }
}
