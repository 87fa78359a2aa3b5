//! The chaos proxy: each network fault fires exactly where scheduled, and the counters
//! say so. A raw TCP client sees exactly what reaches the socket.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use oss_emulator::{
    ChaosProxy, CutMode, Emulator, NetFault, ObjectSpec, RunningServer, synthetic_bytes,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::{Kind, standard_model};

const SIZE: usize = 64 * 1024;

struct Rig {
    emu: Emulator,
    proxy: ChaosProxy,
    _server: Option<RunningServer>,
    _wiremock: Option<oss_emulator::WiremockEmulator>,
}

async fn rig(faults: Vec<NetFault>, seed: u64) -> Rig {
    rig_on(Kind::Streaming, faults, seed).await
}

async fn rig_on(kind: Kind, faults: Vec<NetFault>, seed: u64) -> Rig {
    let emu = standard_model();
    emu.put_object("pub", "big", ObjectSpec::synthetic(SIZE as u64, 9))
        .unwrap();
    let (upstream, server, wiremock) = match kind {
        Kind::Streaming => {
            let s = emu.start_server().await.unwrap();
            (s.local_addr(), Some(s), None)
        }
        Kind::Wiremock => {
            let w = oss_emulator::WiremockEmulator::start(emu.clone()).await;
            (w.local_addr(), None, Some(w))
        }
    };
    let proxy = ChaosProxy::start(upstream, faults, seed).await.unwrap();
    emu.add_stats_section("proxy", proxy.stats_hook());
    Rig {
        emu,
        proxy,
        _server: server,
        _wiremock: wiremock,
    }
}

/// How a raw response ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    Complete,
    Eof,
    Reset,
    Timeout,
}

#[derive(Debug)]
pub(crate) struct Raw {
    pub(crate) status: u16,
    pub(crate) head: String,
    pub(crate) body: Vec<u8>,
    pub(crate) ending: Ending,
}

/// A keep-alive client on one TCP connection that reads Content-Length bodies byte-exactly.
pub(crate) struct Client {
    tcp: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    pub(crate) async fn connect(addr: SocketAddr) -> Client {
        Client {
            tcp: TcpStream::connect(addr).await.unwrap(),
            buf: Vec::new(),
        }
    }

    async fn fill(&mut self, wait: Duration) -> Result<usize, Ending> {
        let mut chunk = vec![0u8; 16 * 1024];
        match tokio::time::timeout(wait, self.tcp.read(&mut chunk)).await {
            Err(_) => Err(Ending::Timeout),
            Ok(Ok(0)) => Err(Ending::Eof),
            Ok(Ok(n)) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(n)
            }
            Ok(Err(e)) if e.kind() == ErrorKind::ConnectionReset => Err(Ending::Reset),
            Ok(Err(e)) => panic!("read: {e}"),
        }
    }

    pub(crate) async fn get(&mut self, method: &str, path: &str, wait: Duration) -> Raw {
        let req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        if let Err(e) = self.tcp.write_all(req.as_bytes()).await {
            let ending = if e.kind() == ErrorKind::ConnectionReset {
                Ending::Reset
            } else {
                Ending::Eof
            };
            return Raw {
                status: 0,
                head: String::new(),
                body: Vec::new(),
                ending,
            };
        }
        // Head.
        let head_end = loop {
            if let Some(p) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            if let Err(ending) = self.fill(wait).await {
                return Raw {
                    status: 0,
                    head: String::from_utf8_lossy(&self.buf).into(),
                    body: Vec::new(),
                    ending,
                };
            }
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
        self.buf.drain(..head_end);
        let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
        let len: usize = head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().parse().unwrap())
            })
            .unwrap_or(0);
        let len = if method == "HEAD" { 0 } else { len };
        while self.buf.len() < len {
            if let Err(ending) = self.fill(wait).await {
                let body = std::mem::take(&mut self.buf);
                return Raw {
                    status,
                    head,
                    body,
                    ending,
                };
            }
        }
        let body: Vec<u8> = self.buf.drain(..len).collect();
        Raw {
            status,
            head,
            body,
            ending: Ending::Complete,
        }
    }
}

const WAIT: Duration = Duration::from_secs(5);

#[tokio::test]
async fn cut_second_response_at_exact_offset_fin() {
    let r = rig(
        vec![NetFault::CutAt {
            connection: Some(1),
            response: 2,
            offset: 1000,
            mode: CutMode::Fin,
        }],
        1,
    )
    .await;
    let mut c = Client::connect(r.proxy.local_addr()).await;
    let first = c.get("GET", "/pub/big", WAIT).await;
    assert_eq!(
        (first.status, first.body.len(), &first.ending),
        (200, SIZE, &Ending::Complete)
    );
    let second = c.get("GET", "/pub/big", WAIT).await;
    assert_eq!(second.status, 200);
    assert_eq!(second.ending, Ending::Eof);
    assert_eq!(second.body, synthetic_bytes(9, 0, 1000));
    let s = r.proxy.stats();
    assert_eq!(s.fired_count("cut"), 1);
    assert_eq!(
        (
            s.fired[0].connection,
            s.fired[0].response,
            s.fired[0].body_offset
        ),
        (1, 2, 1000)
    );
    assert_eq!(s.body_bytes_to_client, SIZE as u64 + 1000);
    assert_eq!(s.responses, 2);
    assert_eq!(s.connections, 1);
    // A new connection is not cut (the rule names connection 1).
    let mut c2 = Client::connect(r.proxy.local_addr()).await;
    for _ in 0..2 {
        assert_eq!(
            c2.get("GET", "/pub/big", WAIT).await.ending,
            Ending::Complete
        );
    }
}

#[tokio::test]
async fn cut_with_rst_resets_after_exact_bytes() {
    let r = rig(
        vec![NetFault::CutAt {
            connection: None,
            response: 1,
            offset: 4321,
            mode: CutMode::Rst,
        }],
        1,
    )
    .await;
    let mut c = Client::connect(r.proxy.local_addr()).await;
    let resp = c.get("GET", "/pub/big", WAIT).await;
    assert_eq!(resp.ending, Ending::Reset);
    assert_eq!(resp.body, synthetic_bytes(9, 0, 4321));
    assert_eq!(r.proxy.stats().fired_count("cut"), 1);
}

#[tokio::test]
async fn cut_every_connection_after_n_body_bytes() {
    let n = 100_000u64;
    let r = rig(
        vec![NetFault::CutEveryConnectionAfter {
            bytes: n,
            mode: CutMode::Fin,
        }],
        1,
    )
    .await;
    for conn in 0..2 {
        let mut c = Client::connect(r.proxy.local_addr()).await;
        let a = c.get("GET", "/pub/big", WAIT).await;
        assert_eq!(a.ending, Ending::Complete, "conn {conn}");
        let b = c.get("GET", "/pub/big", WAIT).await;
        assert_eq!(b.ending, Ending::Eof);
        assert_eq!(b.body.len() as u64, n - SIZE as u64);
    }
    let s = r.proxy.stats();
    assert_eq!(s.fired_count("cut"), 2);
    assert_eq!(s.body_bytes_to_client, 2 * n);
    // The stats endpoint is never cut and not counted.
    let mut c = Client::connect(r.proxy.local_addr()).await;
    let stats = c.get("GET", "/-/stats", WAIT).await;
    assert_eq!(stats.ending, Ending::Complete);
    let v: serde_json::Value = serde_json::from_slice(&stats.body).unwrap();
    assert_eq!(v["proxy"]["body_bytes_to_client"], 2 * n);
    assert_eq!(v["proxy"]["faults_fired"]["cut"], 2);
    assert_eq!(v["model"]["requests"], 4);
    assert_eq!(r.emu.counters().requests_for("GET", "pub", "big"), 4);
}

#[tokio::test]
async fn cut_once_at_the_nth_byte_served_in_total() {
    let n = 100_000u64;
    let r = rig(
        vec![NetFault::CutOnceAtTotal {
            byte: n,
            mode: CutMode::Fin,
        }],
        1,
    )
    .await;
    let mut c1 = Client::connect(r.proxy.local_addr()).await;
    assert_eq!(
        c1.get("GET", "/pub/big", WAIT).await.ending,
        Ending::Complete
    );
    let mut c2 = Client::connect(r.proxy.local_addr()).await;
    let cut = c2.get("GET", "/pub/big", WAIT).await;
    assert_eq!(cut.ending, Ending::Eof);
    assert_eq!(cut.body.len() as u64, n - SIZE as u64);
    // The first connection and every later one are not cut.
    assert_eq!(
        c1.get("GET", "/pub/big", WAIT).await.ending,
        Ending::Complete
    );
    let mut c3 = Client::connect(r.proxy.local_addr()).await;
    assert_eq!(
        c3.get("GET", "/pub/big", WAIT).await.ending,
        Ending::Complete
    );
    let s = r.proxy.stats();
    assert_eq!(s.fired_count("cut"), 1);
    assert_eq!(s.fired[0].connection, 2);
}

#[tokio::test]
async fn stall_for_a_while_then_continue() {
    let r = rig(
        vec![NetFault::StallAfter {
            connection: None,
            bytes: 1000,
            duration: Some(Duration::from_millis(300)),
        }],
        1,
    )
    .await;
    let mut c = Client::connect(r.proxy.local_addr()).await;
    let t = Instant::now();
    let a = c.get("GET", "/pub/big", WAIT).await;
    assert!(t.elapsed() >= Duration::from_millis(300));
    assert_eq!(a.body, synthetic_bytes(9, 0, SIZE));
    // Once per connection.
    let t = Instant::now();
    assert_eq!(
        c.get("GET", "/pub/big", WAIT).await.ending,
        Ending::Complete
    );
    assert!(t.elapsed() < Duration::from_millis(300));
    assert_eq!(r.proxy.stats().fired_count("stall"), 1);
    assert_eq!(r.proxy.stats().fired[0].body_offset, 1000);
}

#[tokio::test]
async fn stall_forever_mid_body() {
    let r = rig(
        vec![NetFault::StallAfter {
            connection: Some(1),
            bytes: 777,
            duration: None,
        }],
        1,
    )
    .await;
    let mut c = Client::connect(r.proxy.local_addr()).await;
    let a = c.get("GET", "/pub/big", Duration::from_millis(300)).await;
    assert_eq!(a.ending, Ending::Timeout);
    assert_eq!(a.body.len(), 777);
    drop(c);
    // Another connection is served.
    let mut c2 = Client::connect(r.proxy.local_addr()).await;
    assert_eq!(
        c2.get("GET", "/pub/big", WAIT).await.ending,
        Ending::Complete
    );
}

#[tokio::test]
async fn stall_mid_head() {
    let r = rig(
        vec![NetFault::StallInHead {
            connection: Some(1),
            response: 1,
            head_bytes: 10,
            duration: Some(Duration::from_millis(250)),
        }],
        1,
    )
    .await;
    let mut c = Client::connect(r.proxy.local_addr()).await;
    c.tcp
        .write_all(b"GET /pub/big HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let t = Instant::now();
    c.fill(WAIT).await.unwrap();
    assert_eq!(c.buf.len(), 10);
    assert!(
        c.fill(Duration::from_millis(150)).await.is_err(),
        "nothing during the stall"
    );
    c.fill(WAIT).await.unwrap();
    assert!(t.elapsed() >= Duration::from_millis(250));
    assert_eq!(r.proxy.stats().fired_count("head_stall"), 1);
}

#[tokio::test]
async fn throttle_limits_the_rate() {
    let r = rig(
        vec![NetFault::Throttle {
            bytes_per_sec: 256 * 1024,
        }],
        1,
    )
    .await;
    let mut c = Client::connect(r.proxy.local_addr()).await;
    let t = Instant::now();
    let a = c.get("GET", "/pub/big", WAIT).await;
    let took = t.elapsed();
    assert_eq!(a.ending, Ending::Complete);
    // 64 KiB at 256 KiB/s: about 0.25 s.
    assert!(took >= Duration::from_millis(200), "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    r.proxy.clear_faults();
    let t = Instant::now();
    c.get("GET", "/pub/big", WAIT).await;
    assert!(t.elapsed() < Duration::from_millis(200));
}

#[tokio::test]
async fn refuse_and_accept_then_close() {
    let r = rig(
        vec![
            NetFault::Refuse { count: 2 },
            NetFault::AcceptThenClose { count: 1 },
        ],
        1,
    )
    .await;
    for _ in 0..2 {
        let mut c = Client::connect(r.proxy.local_addr()).await;
        let a = c.get("GET", "/pub/big", WAIT).await;
        assert!(
            matches!(a.ending, Ending::Reset | Ending::Eof),
            "{:?}",
            a.ending
        );
        assert_eq!(a.status, 0);
    }
    let mut c = Client::connect(r.proxy.local_addr()).await;
    let a = c.get("GET", "/pub/big", WAIT).await;
    assert!(matches!(a.ending, Ending::Eof | Ending::Reset));
    let mut c = Client::connect(r.proxy.local_addr()).await;
    assert_eq!(
        c.get("GET", "/pub/big", WAIT).await.ending,
        Ending::Complete
    );
    let s = r.proxy.stats();
    assert_eq!(
        (
            s.connections,
            s.fired_count("refuse"),
            s.fired_count("accept_close")
        ),
        (4, 2, 1)
    );
    assert_eq!(r.emu.counters().requests, 1);
}

#[tokio::test]
async fn lying_content_length() {
    let r = rig(
        vec![
            NetFault::LieContentLength {
                connection: Some(1),
                response: 1,
                delta: 100,
            },
            NetFault::LieContentLength {
                connection: Some(2),
                response: 1,
                delta: -10,
            },
        ],
        1,
    )
    .await;
    // Larger: the client waits for 100 more bytes and gets EOF (a truncated body).
    let mut c = Client::connect(r.proxy.local_addr()).await;
    let a = c.get("GET", "/pub/big", WAIT).await;
    assert!(
        a.head
            .to_ascii_lowercase()
            .contains(&format!("content-length: {}", SIZE + 100))
    );
    assert_eq!((a.body.len(), a.ending), (SIZE, Ending::Eof));
    // Smaller: the client reads 10 bytes too few; they spill into the next response.
    let mut c = Client::connect(r.proxy.local_addr()).await;
    let a = c.get("GET", "/pub/big", WAIT).await;
    assert_eq!((a.body.len(), a.ending), (SIZE - 10, Ending::Complete));
    let b = c.get("GET", "/pub/big", WAIT).await;
    assert!(!b.head.starts_with("HTTP/1.1"), "{}", &b.head[..20]);
    assert_eq!(r.proxy.stats().fired_count("lie"), 2);
}

#[tokio::test]
async fn head_responses_and_keep_alive_order() {
    // The framing knows HEAD responses have no body: the cut lands in the GET after it.
    let r = rig(
        vec![NetFault::CutAt {
            connection: None,
            response: 2,
            offset: 10,
            mode: CutMode::Fin,
        }],
        1,
    )
    .await;
    let mut c = Client::connect(r.proxy.local_addr()).await;
    let h = c.get("HEAD", "/pub/big", WAIT).await;
    assert_eq!((h.status, h.ending), (200, Ending::Complete));
    let g = c.get("GET", "/pub/big", WAIT).await;
    assert_eq!((g.body.len(), g.ending), (10, Ending::Eof));
}

#[tokio::test]
async fn chunked_bodies_are_cut_at_payload_offsets() {
    let r = rig(
        vec![NetFault::CutAt {
            connection: None,
            response: 1,
            offset: 100,
            mode: CutMode::Fin,
        }],
        1,
    )
    .await;
    r.emu.set_gzip_quirk(true);
    r.emu
        .put_object(
            "pub",
            "t.txt",
            ObjectSpec::bytes("lorem ipsum ".repeat(20_000)).content_type("text/plain"),
        )
        .unwrap();
    let mut tcp = TcpStream::connect(r.proxy.local_addr()).await.unwrap();
    tcp.write_all(b"GET /pub/t.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: gzip\r\n\r\n")
        .await
        .unwrap();
    let mut all = Vec::new();
    tcp.read_to_end(&mut all).await.unwrap();
    let head_end = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert!(String::from_utf8_lossy(&all[..head_end]).contains("transfer-encoding: chunked"));
    // Decode the chunked framing: exactly 100 payload bytes arrived.
    let mut rest = &all[head_end..];
    let mut payload = 0;
    while let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(std::str::from_utf8(&rest[..eol]).unwrap(), 16).unwrap();
        let data = &rest[eol + 2..];
        payload += size.min(data.len());
        if data.len() <= size + 2 {
            break;
        }
        rest = &data[size + 2..];
    }
    assert_eq!(payload, 100);
}

/// Runs 16 requests on fresh connections and records how many body bytes each got.
async fn random_schedule(seed: u64) -> (Vec<(usize, bool)>, Vec<oss_emulator::FiredFault>) {
    let r = rig(
        vec![NetFault::RandomCut {
            probability: 0.5,
            mode: CutMode::Fin,
        }],
        seed,
    )
    .await;
    let mut out = Vec::new();
    for _ in 0..16 {
        let mut c = Client::connect(r.proxy.local_addr()).await;
        let a = c.get("GET", "/pub/big", WAIT).await;
        out.push((a.body.len(), a.ending == Ending::Complete));
    }
    (out, r.proxy.stats().fired)
}

#[tokio::test]
async fn seeded_random_cuts_replay_identically() {
    let (a, fa) = random_schedule(42).await;
    let (b, fb) = random_schedule(42).await;
    let (c, _) = random_schedule(43).await;
    assert_eq!(a, b);
    assert_eq!(fa, fb);
    assert_ne!(a, c);
    let cuts = a.iter().filter(|(_, done)| !done).count();
    assert!((2..=14).contains(&cuts), "{a:?}");
    assert_eq!(cuts, fa.len());
}

#[tokio::test]
async fn proxy_in_front_of_wiremock() {
    let r = rig_on(
        Kind::Wiremock,
        vec![NetFault::CutAt {
            connection: None,
            response: 1,
            offset: 5000,
            mode: CutMode::Fin,
        }],
        1,
    )
    .await;
    let mut c = Client::connect(r.proxy.local_addr()).await;
    let a = c.get("GET", "/pub/big", WAIT).await;
    assert_eq!((a.body.len(), a.ending), (5000, Ending::Eof));
    assert_eq!(a.body, synthetic_bytes(9, 0, 5000));
}

#[tokio::test]
async fn streaming_server_counts_only_bytes_written() {
    // The client reads 1000 bytes of a 32 MiB body and hangs up: the server is charged
    // for what its socket accepted (kernel buffers), not for the whole object.
    let emu = standard_model();
    emu.put_object("pub", "huge", ObjectSpec::synthetic(32 << 20, 1))
        .unwrap();
    let server = emu.start_server().await.unwrap();
    let mut tcp = TcpStream::connect(server.local_addr()).await.unwrap();
    tcp.write_all(b"GET /pub/huge HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 1000];
    tcp.read_exact(&mut buf).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(tcp);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let sent = emu.counters().body_bytes_sent;
    assert!((700..16 << 20).contains(&sent), "{sent}");
}
