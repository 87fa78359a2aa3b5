//! A TCP relay that records what crosses it, per connection and direction: the secret
//! tests learn from it the signatures really sent (so they can look for them in every
//! output) and prove that the emulator's answers really echoed the secrets back (so
//! "nothing leaked" is not vacuous).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The bytes of one connection: `(to the server, to the client)`.
type Conversation = Arc<Mutex<(Vec<u8>, Vec<u8>)>>;

pub struct Recorder {
    addr: SocketAddr,
    conversations: Arc<Mutex<Vec<Conversation>>>,
    task: JoinHandle<()>,
}

/// Copies `from` to `to`, appending what passes to `log`.
async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    log: Conversation,
    to_server: bool,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        {
            let mut l = log.lock().unwrap();
            let side = if to_server { &mut l.0 } else { &mut l.1 };
            side.extend_from_slice(&buf[..n]);
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

impl Recorder {
    /// Listens on 127.0.0.1 and relays every connection to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let conversations: Arc<Mutex<Vec<Conversation>>> = Arc::default();
        let all = Arc::clone(&conversations);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    continue;
                };
                let log: Conversation = Arc::default();
                all.lock().unwrap().push(Arc::clone(&log));
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::spawn(pump(cr, sw, Arc::clone(&log), true));
                tokio::spawn(pump(sr, cw, log, false));
            }
        });
        Self {
            addr,
            conversations,
            task,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Everything sent to the server (`true`) or to the client (`false`), as text.
    pub fn text(&self, to_server: bool) -> String {
        let mut out = String::new();
        for c in self.conversations.lock().unwrap().iter() {
            let c = c.lock().unwrap();
            out.push_str(&String::from_utf8_lossy(if to_server {
                &c.0
            } else {
                &c.1
            }));
            out.push('\n');
        }
        out
    }

    /// The OSS error documents the server answered with: `<Error>...</Error>` bodies, and
    /// HEAD errors' `x-oss-err` headers (the document, base64) decoded. Object bodies are
    /// left out (megabytes that hold no secret).
    pub fn error_documents(&self) -> String {
        let answers = self.text(false);
        let mut docs = String::new();
        let mut rest = answers.as_str();
        while let Some(at) = rest.find("<Error>") {
            let end = rest[at..]
                .find("</Error>")
                .map_or(rest.len(), |e| at + e + 8);
            docs.push_str(&rest[at..end]);
            docs.push('\n');
            rest = &rest[end..];
        }
        // ASCII lowercasing keeps byte offsets, so a match in `lower` indexes `answers`.
        let lower = answers.to_ascii_lowercase();
        for (at, m) in lower.match_indices("\r\nx-oss-err:") {
            let value = answers[at + m.len()..]
                .split("\r\n")
                .next()
                .unwrap_or_default();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(value.trim())
                .unwrap_or_default();
            docs.push_str(&String::from_utf8_lossy(&bytes));
            docs.push('\n');
        }
        docs
    }

    /// Every signature the clients sent: V1's `OSS id:SIGNATURE` and V4's `Signature=HEX`
    /// in `Authorization`, and presigned URLs' `Signature=` / `x-oss-signature=`.
    pub fn signatures(&self) -> Vec<String> {
        let mut sigs = Vec::new();
        for line in self.text(true).split("\r\n") {
            let lower = line.to_ascii_lowercase();
            if let Some(value) = lower
                .starts_with("authorization:")
                .then(|| line["authorization:".len()..].trim())
            {
                if let Some(v1) = value.strip_prefix("OSS ") {
                    if let Some((_, sig)) = v1.rsplit_once(':') {
                        sigs.push(sig.trim().to_owned());
                    }
                } else if let Some((_, rest)) = value.split_once("Signature=") {
                    sigs.push(rest.split(',').next().unwrap_or(rest).trim().to_owned());
                }
            }
            for key in ["Signature=", "x-oss-signature="] {
                if lower.starts_with("get ") || lower.starts_with("head ") {
                    for (i, _) in line.match_indices(key) {
                        let rest = &line[i + key.len()..];
                        let end = rest.find(['&', ' ']).unwrap_or(rest.len());
                        sigs.push(rest[..end].to_owned());
                    }
                }
            }
        }
        sigs.retain(|s| s.len() >= 16);
        sigs.sort();
        sigs.dedup();
        sigs
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}
