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
    /// Port of the logged twin (resume runs).
    pub log_port: u16,
    /// `nginx/1.22.1`.
    pub version: String,
    /// Whether headers-more is loaded and verified (SDK peers need it).
    pub headers_more: bool,
    /// The `$body_bytes_sent` log of the twin.
    pub bytes_log: PathBuf,
}

impl Nginx {
    /// Renders the config under `prefix`, starts nginx, and checks that it serves every
    /// object with its CRC header and ignores the SDKs' conditional headers.
    pub fn start(
        prefix: &Path,
        port: u16,
        data_dir: &Path,
        objects: &[Object],
    ) -> Result<Nginx, String> {
        let binary = find_nginx().ok_or(
            "nginx is not installed (bash xtask/bench/install-peers.sh installs nginx-light)",
        )?;
        let log_port = port + 1;
        // A previous bench that died may still hold the ports.
        stop_stale(&binary, prefix);
        for p in [port, log_port] {
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
            port,
            log_port,
            data_dir,
            objects,
            headers_more,
            is_root(),
        )?;
        fs::write(&conf, text).map_err(|e| format!("cannot write {}: {e}", conf.display()))?;
        let bytes_log = prefix.join("logs/bytes.log");
        let _ = fs::remove_file(&bytes_log);

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
            log_port,
            version,
            headers_more,
            bytes_log,
        };
        server.wait_ready()?;
        for object in objects {
            for p in [port, log_port] {
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

    /// Current length of the bytes log (a resume run counts the lines after it).
    pub fn bytes_log_len(&self) -> u64 {
        fs::metadata(&self.bytes_log).map(|m| m.len()).unwrap_or(0)
    }

    /// Bytes the logged twin sent (`$body_bytes_sent`, summed) in requests logged after
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

    fn wait_ready(&mut self) -> Result<(), String> {
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
            let up = [self.port, self.log_port]
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

/// The rendered config (pure: no I/O).
pub fn render(
    prefix: &Path,
    port: u16,
    log_port: u16,
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
        ("PORT", port.to_string()),
        ("LOG_PORT", log_port.to_string()),
        ("BUCKET", BUCKET.to_string()),
        ("DATA_DIR", data_dir.display().to_string()),
        ("CRC_MAP", crc_map.trim_end().to_string()),
    ];
    let mut text = TEMPLATE.to_string();
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

    #[test]
    fn renders_every_field_and_the_crc_map() {
        let objects = [Object {
            key: "bench-64MiB.bin".to_string(),
            path: PathBuf::from("/d/bench-64MiB.bin"),
            size: 64 << 20,
            crc64: 42,
        }];
        let text = render(
            Path::new("/p"),
            18080,
            18081,
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
        let without = render(
            Path::new("/p"),
            1,
            2,
            Path::new("/d"),
            &objects,
            false,
            true,
        )
        .unwrap();
        assert!(!without.contains("more_clear_input_headers"));
        assert!(without.contains("user root root;"));
    }

    #[test]
    fn sums_body_bytes() {
        let log =
            "1.0 206 100 \"bytes=0-99\" \"ua\"\n1.1 200 0 \"-\" \"ua\"\n1.2 206 5 \"-\" \"a b\"\n";
        assert_eq!(sum_body_bytes(log), (105, 3));
    }
}
