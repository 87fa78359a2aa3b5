//! oss-http's client against a hostile server: whatever bytes come back over the socket
//! (status line, headers, bodies, error documents, `Date`s, short or long bodies), through
//! the public API as oss-resume drives it — HEAD, then a ranged GET pinned to what HEAD said,
//! and HEAD again after a clock correction.
//!
//! The input is a script of raw HTTP responses separated by `\n~~~~\n`; a loopback server
//! answers the client's requests in turn with them, closing each connection after its
//! response. The client's clock starts one hour before the seeds' `Date` and advances one
//! second at every reading, as a real clock would between a correction and the next request.
//!
//! Properties beyond "no panic":
//! - a GET that succeeds delivered exactly the range asked for, and the CRC-64 it returns
//!   covers exactly the bytes the sink received; one that fails reports as delivered exactly
//!   what the sink received;
//! - no error's text, along its whole source chain, contains the access key secret.
#![no_main]

use std::collections::VecDeque;
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use oss_http::{ByteRange, Client, Collect, Crc64, Credentials, Error, GetRange};
use oss_resume_fuzz::SCRIPT_SEPARATOR as SEPARATOR;

const SECRET: &str = "client-fuzz-Secret-0a1b2c3d";

/// The responses still to be served in this input.
static SCRIPT: Mutex<VecDeque<Vec<u8>>> = Mutex::new(VecDeque::new());
/// The client's clock, in seconds since the epoch; reset for every input.
static CLOCK: AtomicU64 = AtomicU64::new(0);

fuzz_target!(|data: &[u8]| {
    let (runtime, client) = world();
    {
        let mut script = SCRIPT.lock().unwrap_or_else(|e| e.into_inner());
        script.clear();
        script.extend(split(data).map(<[u8]>::to_vec));
    }
    CLOCK.store(oss_resume_fuzz::SIGNED_AT - 3600, Ordering::SeqCst);
    runtime.block_on(async {
        let run = exchange(client);
        // Every timeout is short and the server closes after each response: this is a
        // backstop, never expected to fire.
        let _ = tokio::time::timeout(Duration::from_secs(8), run).await;
    });
});

fn split(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = Some(data);
    std::iter::from_fn(move || {
        let text = rest?;
        match text.windows(SEPARATOR.len()).position(|w| w == SEPARATOR) {
            Some(at) => {
                rest = Some(&text[at + SEPARATOR.len()..]);
                Some(&text[..at])
            }
            None => {
                rest = None;
                Some(text)
            }
        }
    })
    .take(8)
}

async fn exchange(client: &Client) {
    let mut head = client.head_object("fuzz-bkt", "dir/key.bin", None).await;
    if let Err(Error::Service(service)) = &head
        && service.clock_corrected
    {
        head = client.head_object("fuzz-bkt", "dir/key.bin", None).await;
    }
    let meta = match head {
        Ok(meta) => meta,
        Err(e) => return no_secret(&e),
    };
    if meta.size == 0 {
        return;
    }
    let pin = meta.pin();
    let Ok(range) = ByteRange::inclusive(0, meta.size.min(4096) - 1) else {
        return;
    };
    let mut sink = Collect::default();
    let mut crc = Crc64::new();
    let get = GetRange::new("fuzz-bkt", "dir/key.bin", &pin, range);
    match client.get_range(&get, &mut sink, Some(&mut crc)).await {
        Ok(report) => {
            assert_eq!(
                report.delivered,
                range.len(),
                "a GET delivered another length"
            );
            assert_eq!(
                sink.data.len() as u64,
                range.len(),
                "the sink got another length"
            );
        }
        Err(e) => {
            no_secret(&e);
            assert_eq!(
                e.delivered(),
                sink.data.len() as u64,
                "delivered vs the sink: {e}"
            );
        }
    }
    assert_eq!(
        crc.value(),
        oss_crc::checksum(&sink.data),
        "the CRC-64 vs the bytes"
    );
}

/// No text along the error's chain contains the secret (the server never saw it, but a
/// signature detail or a message built from our own state could carry it).
fn no_secret(e: &Error) {
    let mut next: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = next {
        let text = format!("{err} {err:?}");
        assert!(!text.contains(SECRET), "the secret in an error: {text}");
        next = err.source();
    }
}

/// The runtime, and a client for the loopback server (no pooling: one connection per
/// request, as the server closes each).
fn world() -> &'static (tokio::runtime::Runtime, Client) {
    static WORLD: OnceLock<(tokio::runtime::Runtime, Client)> = OnceLock::new();
    WORLD.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let port = listener.local_addr().expect("its address").port();
        std::thread::spawn(move || serve(listener));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let credentials = Credentials::new("LTAIclientfuzz", SECRET)
            .and_then(|c| c.with_security_token("client-fuzz-token"))
            .expect("credentials");
        let client = Client::builder()
            .endpoint(format!("http://127.0.0.1:{port}"))
            .region("cn-hangzhou")
            .credentials(credentials)
            .connect_timeout(Duration::from_secs(2))
            .response_head_timeout(Duration::from_secs(2))
            .stall_timeout(Duration::from_secs(2))
            .pool_max_idle_per_host(0)
            .clock(|| {
                let secs = CLOCK.fetch_add(1, Ordering::SeqCst);
                SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
            })
            .build()
            .expect("a client");
        (runtime, client)
    })
}

/// Answers each connection with the next scripted response (nothing when the script is
/// done), after reading the request head, then closes it.
fn serve(listener: TcpListener) {
    for stream in listener.incoming().flatten() {
        let _ = answer(stream);
    }
}

fn answer(mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    }
    let response = SCRIPT
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .pop_front()
        .unwrap_or_default();
    stream.write_all(&response)?;
    stream.shutdown(std::net::Shutdown::Both)
}
