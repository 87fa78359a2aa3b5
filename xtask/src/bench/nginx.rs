//! The bench server: nginx on loopback from `xtask/bench/nginx.conf.template`, started as
//! our child, checked before use, stopped when dropped.

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::data::Object;
use super::peers::BUCKET;
use super::rate_limit::RateLimit;

const TEMPLATE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/bench/nginx.conf.template"
));

/// Where Debian's libnginx-mod-http-headers-more-filter puts the module.
const HEADERS_MORE: &str = "/usr/lib/nginx/modules/ngx_http_headers_more_filter_module.so";

/// A running nginx.
#[derive(Debug)]
pub struct Nginx {
    binary: PathBuf,
    conf: PathBuf,
    child: Option<Child>,
    /// Port of the unlogged server (timed runs).
    pub port: u16,
    /// The logged twin (resume runs), on `port + 1`.
    pub twin: LoggedServer,
    /// The rate-limited logged twin (`--resume-rate` rounds), on `port + 2`.
    pub limited: Option<LoggedServer>,
    /// `nginx/1.22.1`.
    pub version: String,
    /// Whether headers-more is loaded and verified (SDK peers need it).
    pub headers_more: bool,
}

/// A server block that logs `$body_bytes_sent` per request, for the resume rounds.
#[derive(Debug, Clone)]
pub struct LoggedServer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Its `bench_bytes` access log.
    pub bytes_log: PathBuf,
    /// Its `limit_rate`, when it has one.
    pub rate: Option<RateLimit>,
}

impl LoggedServer {
    /// Current length of the bytes log (a resume run counts the lines after it).
    pub fn bytes_log_len(&self) -> u64 {
        fs::metadata(&self.bytes_log).map(|m| m.len()).unwrap_or(0)
    }

    /// Bytes this server sent (`$body_bytes_sent`, summed) in requests logged after
    /// `offset`, and how many requests that was.
    pub fn served_since(&self, offset: u64) -> Result<(u64, u64), String> {
        let text = match fs::read(&self.bytes_log) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(format!("cannot read {}: {e}", self.bytes_log.display())),
        };
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(text.len());
        let tail = String::from_utf8_lossy(text.get(start..).unwrap_or_default()).into_owned();
        Ok(sum_body_bytes(&tail))
    }
}

impl Nginx {
    /// Renders the config under `prefix`, starts nginx, and checks that it serves every
    /// object with its CRC header and ignores the SDKs' conditional headers. With
    /// `rate`, a third server on `port + 2` serves like the twin at that limit.
    pub fn start(
        prefix: &Path,
        port: u16,
        data_dir: &Path,
        objects: &[Object],
        rate: Option<RateLimit>,
    ) -> Result<Nginx, String> {
        let binary = find_nginx().ok_or(
            "nginx is not installed (bash xtask/bench/install-peers.sh installs nginx-light)",
        )?;
        let port_after = |n: u16| {
            port.checked_add(n)
                .ok_or_else(|| format!("--port {port}: port {port}+{n} does not exist"))
        };
        let twin = LoggedServer {
            port: port_after(1)?,
            bytes_log: prefix.join("logs/bytes.log"),
            rate: None,
        };
        let limited = match rate {
            Some(rate) => Some(LoggedServer {
                port: port_after(2)?,
                bytes_log: prefix.join("logs/bytes-limited.log"),
                rate: Some(rate),
            }),
            None => None,
        };
        let ports: Vec<u16> = [port, twin.port]
            .into_iter()
            .chain(limited.as_ref().map(|l| l.port))
            .collect();
        // A previous bench that died may still hold the ports.
        stop_stale(&binary, prefix);
        for &p in &ports {
            TcpListener::bind(("127.0.0.1", p)).map_err(|e| {
                format!("port {p} on 127.0.0.1 is taken ({e}); pick others with --port")
            })?;
        }
        for sub in ["logs", "tmp"] {
            fs::create_dir_all(prefix.join(sub))
                .map_err(|e| format!("cannot create {}: {e}", prefix.join(sub).display()))?;
        }

        let headers_more = Path::new(HEADERS_MORE).exists();
        let conf = prefix.join("nginx.conf");
        let text = render(
            prefix,
            Ports {
                timed: port,
                twin: twin.port,
                limited: limited.as_ref().and_then(|l| Some((l.port, l.rate?))),
            },
            data_dir,
            objects,
            headers_more,
            is_root(),
        )?;
        fs::write(&conf, text).map_err(|e| format!("cannot write {}: {e}", conf.display()))?;
        for logged in std::iter::once(&twin).chain(limited.as_ref()) {
            let _ = fs::remove_file(&logged.bytes_log);
        }

        let test = Command::new(&binary)
            .args(["-t", "-q", "-e"])
            .arg(prefix.join("logs/error.log"))
            .arg("-c")
            .arg(&conf)
            .output()
            .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
        if !test.status.success() {
            return Err(format!(
                "nginx rejects {}: {}",
                conf.display(),
                String::from_utf8_lossy(&test.stderr).trim()
            ));
        }
        let version = String::from_utf8_lossy(
            &Command::new(&binary)
                .arg("-v")
                .output()
                .map(|o| o.stderr)
                .unwrap_or_default(),
        )
        .trim()
        .trim_start_matches("nginx version: ")
        .to_string();

        let child = Command::new(&binary)
            .arg("-e")
            .arg(prefix.join("logs/error.log"))
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let mut server = Nginx {
            binary,
            conf,
            child: Some(child),
            port,
            twin,
            limited,
            version,
            headers_more,
        };
        server.wait_ready(&ports)?;
        for object in objects {
            for &p in &ports {
                server.self_check(p, object)?;
            }
        }
        Ok(server)
    }

    /// One line for the report: what served the rows.
    pub fn describe(&self) -> String {
        format!(
            "{} on 127.0.0.1:{} (sendfile, 2 workers, access_log off{})",
            self.version,
            self.port,
            if self.headers_more {
                ", headers-more clears If-Match/If-Unmodified-Since"
            } else {
                ", NO headers-more: SDK rows skipped"
            }
        )
    }

    /// The resume servers' line for the report: where `logged` is and what limits it.
    pub fn describe_logged(&self, logged: &LoggedServer) -> String {
        match &logged.rate {
            None => format!(
                "{}; resume runs on its logged twin, 127.0.0.1:{}",
                self.describe(),
                logged.port
            ),
            Some(rate) => format!(
                "{}; rate-limited resume runs on a logged twin at 127.0.0.1:{}, {}",
                self.describe(),
                logged.port,
                rate.describe()
            ),
        }
    }

    fn wait_ready(&mut self, ports: &[u16]) -> Result<(), String> {
        let started = Instant::now();
        loop {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.child = None;
                return Err(format!(
                    "nginx exited at start ({status}); see {}",
                    self.conf.with_file_name("logs/error.log").display()
                ));
            }
            let up = ports
                .iter()
                .all(|p| TcpStream::connect(("127.0.0.1", *p)).is_ok());
            if up {
                return Ok(());
            }
            if started.elapsed() > Duration::from_secs(10) {
                return Err("nginx did not start listening within 10 s".to_string());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A HEAD carrying the conditionals the SDKs send (a stale If-Match, an old
    /// If-Unmodified-Since) must still answer 200 with the object's length and CRC.
    fn self_check(&mut self, port: u16, object: &Object) -> Result<(), String> {
        let head = http_head(
            port,
            &format!("/{BUCKET}/{}", object.key),
            "If-Match: not-the-etag\r\nIf-Unmodified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n",
        )?;
        let status = head.lines().next().unwrap_or_default().to_string();
        let header = |name: &str| {
            head.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_string())
            })
        };
        if self.headers_more {
            if !status.contains(" 200 ") {
                self.headers_more = false;
                eprintln!(
                    "==> bench: nginx answered `{status}` to a HEAD with If-Match: headers-more is \
                     not clearing it, so the SDK rows will be skipped"
                );
            }
        } else if !status.contains(" 412 ") && !status.contains(" 200 ") {
            return Err(format!("nginx self-check on port {port}: `{status}`"));
        }
        if self.headers_more {
            let crc = header("x-oss-hash-crc64ecma");
            let len = header("content-length");
            if crc.as_deref() != Some(object.crc64.to_string().as_str())
                || len.as_deref() != Some(object.size.to_string().as_str())
            {
                return Err(format!(
                    "nginx self-check on port {port}: {} answered CRC {crc:?} length {len:?}, \
                     expected {} and {}",
                    object.key, object.crc64, object.size
                ));
            }
        }
        Ok(())
    }

    fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // `-s quit` signals the master named in our own pid file: a graceful stop that
        // takes the workers down too (a SIGKILL to the master would orphan them).
        let _ = Command::new(&self.binary)
            .arg("-c")
            .arg(&self.conf)
            .args(["-s", "quit"])
            .stderr(Stdio::null())
            .status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = Command::new(&self.binary)
            .arg("-c")
            .arg(&self.conf)
            .args(["-s", "stop"])
            .stderr(Stdio::null())
            .status();
        let _ = child.wait();
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Where the config's server blocks listen.
#[derive(Debug, Clone, Copy)]
pub struct Ports {
    /// The unlogged server (timed runs).
    pub timed: u16,
    /// The logged twin (resume rounds).
    pub twin: u16,
    /// The rate-limited logged twin and its rate; `None` leaves that server out.
    pub limited: Option<(u16, RateLimit)>,
}

/// The rendered config (pure: no I/O).
pub fn render(
    prefix: &Path,
    ports: Ports,
    data_dir: &Path,
    objects: &[Object],
    headers_more: bool,
    root: bool,
) -> Result<String, String> {
    let crc_map: String = objects
        .iter()
        .map(|o| format!("        /{BUCKET}/{} {};\n", o.key, o.crc64))
        .collect();
    let fields = [
        (
            "USER",
            // As root, nginx would run its workers as `nobody`, who may not reach the data
            // under the checkout; otherwise it runs as whoever started it anyway.
            if root { "user root root;" } else { "" }.to_string(),
        ),
        (
            "LOAD_HEADERS_MORE",
            if headers_more {
                format!("load_module {HEADERS_MORE};")
            } else {
                String::new()
            },
        ),
        (
            "CLEAR_CONDITIONALS",
            if headers_more {
                "            more_clear_input_headers If-Match If-Unmodified-Since;".to_string()
            } else {
                String::new()
            },
        ),
        ("PREFIX", prefix.display().to_string()),
        ("PORT", ports.timed.to_string()),
        ("LOG_PORT", ports.twin.to_string()),
        ("BUCKET", BUCKET.to_string()),
        ("DATA_DIR", data_dir.display().to_string()),
        ("CRC_MAP", crc_map.trim_end().to_string()),
        (
            "LIMITED_PORT",
            ports.limited.map_or(String::new(), |(p, _)| p.to_string()),
        ),
        (
            "LIMIT_RATE",
            ports
                .limited
                .map_or(String::new(), |(_, r)| r.per_request.to_string()),
        ),
        (
            "SEND_CHUNK",
            ports
                .limited
                .map_or(String::new(), |(_, r)| r.send_chunk().to_string()),
        ),
    ];
    let mut text = section(TEMPLATE, "LIMITED", ports.limited.is_some())?;
    for (name, value) in fields {
        text = text.replace(&format!("{{{{{name}}}}}"), &value);
    }
    if let Some(at) = text.find("{{") {
        let rest = text.get(at..).unwrap_or_default();
        let field = rest.split("}}").next().unwrap_or(rest);
        return Err(format!("nginx template field {field}}}}} has no value"));
    }
    Ok(text)
}

/// Keeps or drops the template lines between `{{#NAME}}` and `{{/NAME}}` (each on a line
/// of its own); the marker lines go either way.
fn section(template: &str, name: &str, keep: bool) -> Result<String, String> {
    let open = format!("{{{{#{name}}}}}\n");
    let close = format!("{{{{/{name}}}}}\n");
    let (before, rest) = template
        .split_once(&open)
        .ok_or_else(|| format!("nginx template has no {}", open.trim_end()))?;
    let (inner, after) = rest
        .split_once(&close)
        .ok_or_else(|| format!("nginx template has no {}", close.trim_end()))?;
    Ok(format!("{before}{}{after}", if keep { inner } else { "" }))
}

/// Sums the `$body_bytes_sent` field (third) of `bench_bytes` log lines.
fn sum_body_bytes(log: &str) -> (u64, u64) {
    let mut total = 0;
    let mut requests = 0;
    for line in log.lines() {
        if let Some(bytes) = line
            .split_whitespace()
            .nth(2)
            .and_then(|f| f.parse::<u64>().ok())
        {
            total += bytes;
            requests += 1;
        }
    }
    (total, requests)
}

fn http_head(port: u16, path: &str, extra: &str) -> Result<String, String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .map_err(|e| format!("cannot connect to nginx on {port}: {e}"))?;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!(
        "HEAD {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}Connection: close\r\n\r\n"
    );
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("nginx self-check: {e}"))?;
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .map_err(|e| format!("nginx self-check: {e}"))?;
    Ok(response)
}

fn find_nginx() -> Option<PathBuf> {
    super::tools::which("nginx").or_else(|| {
        let sbin = PathBuf::from("/usr/sbin/nginx");
        sbin.exists().then_some(sbin)
    })
}

fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("Uid:")
                    .map(|v| v.split_whitespace().nth(1) == Some("0"))
            })
        })
        .unwrap_or(false)
}

/// A previous bench that died left its nginx running: stop it through its own config.
fn stop_stale(binary: &Path, prefix: &Path) {
    let pid_file = prefix.join("nginx.pid");
    let Ok(pid) = fs::read_to_string(&pid_file) else {
        return;
    };
    let pid = pid.trim();
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let conf = prefix.join("nginx.conf");
    if String::from_utf8_lossy(&cmdline).contains(&*conf.to_string_lossy()) {
        eprintln!("==> bench: stopping the nginx (pid {pid}) a previous bench left running");
        let _ = Command::new(binary)
            .arg("-c")
            .arg(&conf)
            .args(["-s", "quit"])
            .status();
        let started = Instant::now();
        while Path::new(&format!("/proc/{pid}")).exists()
            && started.elapsed() < Duration::from_secs(10)
        {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objects() -> [Object; 1] {
        [Object {
            key: "bench-64MiB.bin".to_string(),
            path: PathBuf::from("/d/bench-64MiB.bin"),
            size: 64 << 20,
            crc64: 42,
        }]
    }

    fn ports(timed: u16, twin: u16, limited: Option<(u16, RateLimit)>) -> Ports {
        Ports {
            timed,
            twin,
            limited,
        }
    }

    #[test]
    fn renders_every_field_and_the_crc_map() {
        let objects = objects();
        let text = render(
            Path::new("/p"),
            ports(18080, 18081, None),
            Path::new("/d"),
            &objects,
            true,
            false,
        )
        .unwrap();
        assert!(text.contains("listen 127.0.0.1:18080;"));
        assert!(text.contains("listen 127.0.0.1:18081;"));
        assert!(text.contains("/bench/bench-64MiB.bin 42;"));
        assert!(text.contains("more_clear_input_headers If-Match If-Unmodified-Since;"));
        assert!(text.contains("load_module /usr/lib/nginx/modules/"));
        assert!(text.contains("alias /d/;"));
        assert!(text.contains("sendfile on;") && text.contains("worker_processes 2;"));
        assert!(!text.contains("{{"));
        // No --resume-rate: today's two servers, nothing limited.
        assert_eq!(text.matches("    server {").count(), 2);
        assert!(!text.contains("limit_rate") && !text.contains("bytes-limited.log"));
        let without = render(
            Path::new("/p"),
            ports(1, 2, None),
            Path::new("/d"),
            &objects,
            false,
            true,
        )
        .unwrap();
        assert!(!without.contains("more_clear_input_headers"));
        assert!(without.contains("user root root;"));
    }

    /// The `location` block of the server listening on `port` (its body up to the
    /// server's closing brace).
    fn location_of(text: &str, port: u16) -> &str {
        let listen = format!("listen 127.0.0.1:{port};");
        let server = text.split(&listen).nth(1).unwrap();
        let location = server.split_once("location ").unwrap().1;
        location.split("\n    }\n").next().unwrap()
    }

    #[test]
    fn renders_the_limited_twin_only_with_a_rate() {
        let objects = objects();
        let rate = RateLimit::split(64 << 20, 4).unwrap();
        for headers_more in [true, false] {
            let text = render(
                Path::new("/p"),
                ports(18080, 18081, Some((18082, rate))),
                Path::new("/d"),
                &objects,
                headers_more,
                false,
            )
            .unwrap();
            assert!(!text.contains("{{"), "{text}");
            assert_eq!(text.matches("    server {").count(), 3);
            let limited = text.split("listen 127.0.0.1:18082;").nth(1).unwrap();
            // Per request: 64 MiB/s over N=4, from the first byte, logged to its own file
            // in the twin's format so re-fetched bytes are counted the same way.
            assert!(limited.contains("        limit_rate 16777216;\n"));
            assert!(limited.contains("        limit_rate_after 0;\n"));
            assert!(limited.contains("        sendfile_max_chunk 167773;\n"));
            assert!(limited.contains("access_log /p/logs/bytes-limited.log bench_bytes;"));
            // Serves exactly like the twin otherwise; the twin itself stays unlimited.
            assert_eq!(location_of(&text, 18082), location_of(&text, 18081));
            let twin = text
                .split("listen 127.0.0.1:18081;")
                .nth(1)
                .unwrap()
                .split("listen 127.0.0.1:18082;")
                .next()
                .unwrap();
            assert!(
                !twin
                    .lines()
                    .any(|l| l.trim_start().starts_with("limit_rate")),
                "{twin}"
            );
            assert!(twin.contains("access_log /p/logs/bytes.log bench_bytes;"));
        }
    }

    #[test]
    fn sections_keep_or_drop_their_lines() {
        let t = "a\n{{#X}}\nb\n{{/X}}\nc\n";
        assert_eq!(section(t, "X", true).unwrap(), "a\nb\nc\n");
        assert_eq!(section(t, "X", false).unwrap(), "a\nc\n");
        assert!(section(t, "Y", true).is_err());
        assert!(section("a\n{{#X}}\nb\n", "X", false).is_err());
    }

    #[test]
    fn sums_body_bytes() {
        let log =
            "1.0 206 100 \"bytes=0-99\" \"ua\"\n1.1 200 0 \"-\" \"ua\"\n1.2 206 5 \"-\" \"a b\"\n";
        assert_eq!(sum_body_bytes(log), (105, 3));
    }
}
