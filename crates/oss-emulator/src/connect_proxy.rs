//! A small HTTP `CONNECT` proxy for tests: it opens a TCP tunnel to whatever `host:port` a
//! client asks for (on this machine only: tests point it at the emulator), or refuses the
//! way a real proxy does — `407` without the right `Proxy-Authorization: Basic`, or a fixed
//! status (`403` for a forbidden port). It records every `CONNECT` target and whether the
//! request carried credentials, so a test can prove traffic went through it (or did not).
//!
//! Only `CONNECT` is served; any other method gets `405`, so a client that sends requests
//! in absolute form to it fails loudly.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::error::EmulatorError;

/// How the proxy answers `CONNECT`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectPolicy {
    /// Opens every tunnel.
    Open,
    /// Opens tunnels only for `Proxy-Authorization: Basic base64(user:password)`; `407`
    /// with `Proxy-Authenticate` otherwise.
    Basic {
        /// The user name.
        user: String,
        /// The password.
        password: String,
    },
    /// Answers every `CONNECT` with this status (e.g. 403) and closes.
    Refuse(u16),
}

/// One `CONNECT` the proxy received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectRecord {
    /// `host:port` asked for.
    pub target: String,
    /// Whether a `Proxy-Authorization` header came with it.
    pub had_credentials: bool,
    /// The status answered.
    pub status: u16,
}

/// A running `CONNECT` proxy; stops when dropped.
#[derive(Debug)]
pub struct ConnectProxy {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<ConnectRecord>>>,
    task: JoinHandle<()>,
}

impl Drop for ConnectProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ConnectProxy {
    /// Starts a proxy on 127.0.0.1 (an ephemeral port) with `policy`.
    pub async fn start(policy: ConnectPolicy) -> Result<Self, EmulatorError> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let log = Arc::new(Mutex::new(Vec::new()));
        let task_log = Arc::clone(&log);
        let policy = Arc::new(policy);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let log = Arc::clone(&task_log);
                let policy = Arc::clone(&policy);
                tokio::spawn(async move {
                    let _ = serve(client, &policy, &log).await;
                });
            }
        });
        Ok(Self { addr, log, task })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `http://user:password@127.0.0.1:PORT`.
    pub fn url_with_credentials(&self, user: &str, password: &str) -> String {
        format!("http://{user}:{password}@{}", self.addr)
    }

    /// Every `CONNECT` received so far, in order.
    pub fn connects(&self) -> Vec<ConnectRecord> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

/// Reads the request head, answers, and relays the tunnel until either side closes.
async fn serve(
    mut client: TcpStream,
    policy: &ConnectPolicy,
    log: &Mutex<Vec<ConnectRecord>>,
) -> std::io::Result<()> {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 {
            return Ok(());
        }
        match client.read_u8().await {
            Ok(b) => head.push(b),
            Err(_) => return Ok(()),
        }
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut words = request_line.split(' ');
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let auth = lines.find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("proxy-authorization")
            .then(|| value.trim().to_owned())
    });
    let status = if method != "CONNECT" {
        405
    } else {
        match policy {
            ConnectPolicy::Open => 200,
            ConnectPolicy::Refuse(status) => *status,
            ConnectPolicy::Basic { user, password } => {
                let want = format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
                );
                if auth.as_deref() == Some(want.as_str()) {
                    200
                } else {
                    407
                }
            }
        }
    };
    if let Ok(mut l) = log.lock() {
        l.push(ConnectRecord {
            target: target.to_owned(),
            had_credentials: auth.is_some(),
            status,
        });
    }
    let upstream = if status == 200 {
        TcpStream::connect(target).await.ok()
    } else {
        None
    };
    let (status, reason) = match (status, &upstream) {
        (200, Some(_)) => (200, "Connection established"),
        (200, None) => (502, "Bad Gateway"),
        (403, _) => (403, "Forbidden"),
        (405, _) => (405, "Method Not Allowed"),
        (407, _) => (407, "Proxy Authentication Required"),
        (other, _) => (other, "Refused"),
    };
    let mut answer = format!("HTTP/1.1 {status} {reason}\r\n");
    if status == 407 {
        answer.push_str("Proxy-Authenticate: Basic realm=\"test\"\r\n");
    }
    if status != 200 {
        answer.push_str("Content-Length: 0\r\nConnection: close\r\n");
    }
    answer.push_str("\r\n");
    client.write_all(answer.as_bytes()).await?;
    let Some(mut upstream) = upstream.filter(|_| status == 200) else {
        return client.shutdown().await;
    };
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}
