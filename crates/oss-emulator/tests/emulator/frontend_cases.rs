//! The library API around the front-ends: TLS through a caller's acceptor, any stream,
//! shutdown, and the standalone binary.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use oss_emulator::synthetic_bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::standard_model;

#[tokio::test]
async fn streaming_server_over_a_callers_tls_acceptor() {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert_der = cert.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let server_config = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert_der.clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_config));
    let emu = standard_model();
    let server = emu
        .start_server_with("127.0.0.1:0".parse().unwrap(), "https", move |tcp| {
            let acceptor = acceptor.clone();
            async move { acceptor.accept(tcp).await }
        })
        .await
        .unwrap();
    assert!(server.endpoint().starts_with("https://127.0.0.1:"));

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert_der).unwrap();
    let client_config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config));
    let tcp = TcpStream::connect(server.local_addr()).await.unwrap();
    let tls = connector
        .connect(
            rustls::pki_types::ServerName::try_from("localhost").unwrap(),
            tcp,
        )
        .await
        .unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
        .await
        .unwrap();
    tokio::spawn(conn);
    for range in ["bytes=0-99", "bytes=900-"] {
        let req = http::Request::get("/pub/obj")
            .header("host", "localhost")
            .header("range", range)
            .body(Empty::<Bytes>::new())
            .unwrap();
        let resp = sender.send_request(req).await.unwrap();
        assert_eq!(resp.status(), 206);
        let body = resp.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(body.len(), 100);
    }
    assert_eq!(emu.counters().body_bytes_sent, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn serve_any_stream_and_shut_down() {
    let emu = standard_model();
    let (client, server_side) = tokio::io::duplex(64 * 1024);
    let e = emu.clone();
    tokio::spawn(async move { e.serve_connection(server_side).await });
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(client))
        .await
        .unwrap();
    tokio::spawn(conn);
    let req = http::Request::get("/pub/obj")
        .header("host", "127.0.0.1")
        .body(Empty::<Bytes>::new())
        .unwrap();
    let resp = sender.send_request(req).await.unwrap();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body.as_ref(), synthetic_bytes(7, 0, 1000).as_slice());

    // Shutdown closes open keep-alive connections and the listener.
    let server = emu.start_server().await.unwrap();
    let addr = server.local_addr();
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"HEAD /pub/obj HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tcp.read(&mut buf).await.unwrap();
    assert!(buf[..n].starts_with(b"HTTP/1.1 200"));
    server.shutdown().await;
    let n = tokio::time::timeout(Duration::from_secs(2), tcp.read(&mut buf))
        .await
        .unwrap()
        .unwrap_or(0);
    assert_eq!(n, 0);
    assert!(TcpStream::connect(addr).await.is_err());
}

/// The standalone binary, killed on drop.
struct Bin {
    child: Child,
    endpoint: String,
}

impl Drop for Bin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_bin(args: &[&str]) -> Bin {
    let mut child = Command::new(env!("CARGO_BIN_EXE_oss-emulator"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let endpoint = line
        .trim_end()
        .strip_prefix("listening on ")
        .expect("the ready line")
        .to_owned();
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{line}");
    // Exactly one line: nothing else is ever printed on stdout.
    std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut out, &mut rest);
        assert!(rest.is_empty(), "extra stdout: {rest}");
    });
    Bin { child, endpoint }
}

async fn raw_get(endpoint: &str, path: &str, headers: &str) -> (u16, String, Vec<u8>) {
    let addr = endpoint.strip_prefix("http://").unwrap();
    // A refused connection (reset at accept) may fail the connect itself, when the reset
    // arrives before the connect completes, or the write.
    let Ok(mut tcp) = TcpStream::connect(addr).await else {
        return (0, String::new(), Vec::new());
    };
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{headers}\r\n");
    if tcp.write_all(req.as_bytes()).await.is_err() {
        return (0, String::new(), Vec::new());
    }
    let mut all = Vec::new();
    let _ = tcp.read_to_end(&mut all).await;
    let end = all
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4)
        .unwrap_or(all.len());
    let head = String::from_utf8_lossy(&all[..end]).into_owned();
    let status = head.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head, all[end..].to_vec())
}

async fn stats(endpoint: &str) -> serde_json::Value {
    let (_, _, body) = raw_get(endpoint, "/-/stats", "").await;
    serde_json::from_slice(&body).unwrap()
}

#[tokio::test]
async fn binary_serves_objects_and_stats() {
    let bin = start_bin(&[
        "--listen",
        "127.0.0.1:0",
        "--access-key-id",
        "AKID",
        "--access-key-secret",
        "SECRET",
        "--object",
        "bkt/data.bin=100KiB,seed=5",
        "--object",
        "bkt/two=1000",
        "--public-read",
        "--crc64",
        "--region",
        "cn-hangzhou",
    ]);
    let (status, head, body) = raw_get(&bin.endpoint, "/bkt/data.bin", "").await;
    assert_eq!(status, 200);
    assert_eq!(body, synthetic_bytes(5, 0, 100 * 1024));
    let crc = oss_crc::checksum(&body).to_string();
    assert!(
        head.contains(&format!("x-oss-hash-crc64ecma: {crc}")),
        "{head}"
    );
    let (status, _, body) = raw_get(&bin.endpoint, "/bkt/data.bin", "Range: bytes=10-19\r\n").await;
    assert_eq!((status, body.len()), (206, 10));
    // Signed requests work too (AKID/SECRET), scoped to the --region.
    let signed_headers = |region: &str| {
        let mut headers = http::HeaderMap::new();
        let q = oss_sign::Query::new();
        let req = oss_sign::SignableRequest::new(
            &http::Method::GET,
            oss_sign::Resource::object("bkt", "two"),
            &q,
            &headers,
        );
        let creds = oss_sign::Credentials::new("AKID", "SECRET").unwrap();
        oss_sign::sign(
            &req,
            &oss_sign::SigningConfig::v4(region).unwrap(),
            &creds,
            oss_sign::SigningTime::now().unwrap(),
        )
        .unwrap()
        .apply_to(&mut headers);
        headers
            .iter()
            .map(|(k, v)| format!("{k}: {}\r\n", v.to_str().unwrap()))
            .collect::<String>()
    };
    let (status, _, body) =
        raw_get(&bin.endpoint, "/bkt/two", &signed_headers("cn-hangzhou")).await;
    assert_eq!((status, body.len()), (200, 1000));
    let s = stats(&bin.endpoint).await;
    assert_eq!(s["model"]["requests"], 3);
    assert_eq!(s["model"]["ranges_served"], 1);
    assert_eq!(s["proxy"]["body_bytes_to_client"], 100 * 1024 + 10 + 1000);
    // Another region's signature is refused as a real endpoint refuses it.
    let (status, head, _) =
        raw_get(&bin.endpoint, "/bkt/two", &signed_headers("cn-shanghai")).await;
    assert_eq!(status, 400, "{head}");
    assert!(head.contains("x-oss-ec: 0002-00000226"), "{head}");
}

#[tokio::test]
async fn binary_network_fault_options() {
    let bin = start_bin(&[
        "--object",
        "b1k/x=64KiB",
        "--public-read",
        "--cut-every-connection-after",
        "10000",
        "--cut-mode",
        "fin",
        "--refuse",
        "1",
    ]);
    // The first connection is refused.
    let (status, _, _) = raw_get(&bin.endpoint, "/b1k/x", "").await;
    assert_eq!(status, 0);
    // Every connection is cut after 10000 body bytes.
    for _ in 0..2 {
        let (status, _, body) = raw_get(&bin.endpoint, "/b1k/x", "").await;
        assert_eq!((status, body.len()), (200, 10000));
    }
    let s = stats(&bin.endpoint).await;
    assert_eq!(s["proxy"]["faults_fired"]["cut"], 2);
    assert_eq!(s["proxy"]["faults_fired"]["refuse"], 1);

    let bin = start_bin(&[
        "--object",
        "b1k/x=64KiB",
        "--public-read",
        "--cut-once-at",
        "70000",
        "--cut-mode",
        "fin",
    ]);
    let lens = [
        raw_get(&bin.endpoint, "/b1k/x", "").await.2.len(),
        raw_get(&bin.endpoint, "/b1k/x", "").await.2.len(),
        raw_get(&bin.endpoint, "/b1k/x", "").await.2.len(),
    ];
    assert_eq!(lens, [65536, 70000 - 65536, 65536]);
}

#[tokio::test]
async fn binary_service_fault_options() {
    let bin = start_bin(&[
        "--object",
        "bkt/x=1000",
        "--public-read",
        "--fail-every",
        "3",
        "--fail-status",
        "503",
        "--fail-code",
        "ServiceUnavailable",
        "--replace-after",
        "2",
    ]);
    let mut statuses = Vec::new();
    let mut etags = Vec::new();
    for _ in 0..4 {
        let (status, head, _) = raw_get(&bin.endpoint, "/bkt/x", "").await;
        statuses.push(status);
        etags.push(
            head.lines()
                .find(|l| l.starts_with("etag:"))
                .map(str::to_owned),
        );
    }
    assert_eq!(statuses, [200, 200, 503, 200]);
    // Replaced after 2 requests: the 3rd (503 here) and later see the new version.
    assert!(etags[0].is_some() && etags[0] == etags[1]);
    assert!(etags[3].is_some() && etags[3] != etags[0]);
    let s = stats(&bin.endpoint).await;
    assert_eq!(s["model"]["faults_fired"]["error:ServiceUnavailable"], 1);
    assert_eq!(s["model"]["faults_fired"]["replace_object"], 1);
}

#[test]
fn binary_rejects_bad_arguments() {
    let out = Command::new(env!("CARGO_BIN_EXE_oss-emulator"))
        .args(["--object", "nokey=5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("BUCKET/KEY=SIZE"));
    assert!(out.stdout.is_empty());
    let help = Command::new(env!("CARGO_BIN_EXE_oss-emulator"))
        .arg("--help")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    for opt in [
        "--cut-every-connection-after",
        "--cut-once-at",
        "--stall-after",
        "--throttle",
        "--refuse",
        "--fail-every",
        "--replace-after",
        "--seed",
    ] {
        assert!(text.contains(opt), "{opt} missing from --help");
    }
}

#[tokio::test]
async fn binary_random_cuts_replay_with_the_same_seed() {
    let run = |seed: &'static str| async move {
        let bin = start_bin(&[
            "--object",
            "bkt/x=32KiB",
            "--public-read",
            "--random-cut",
            "0.5",
            "--cut-mode",
            "fin",
            "--seed",
            seed,
        ]);
        let mut lens = Vec::new();
        for _ in 0..10 {
            lens.push(raw_get(&bin.endpoint, "/bkt/x", "").await.2.len());
        }
        let log = stats(&bin.endpoint).await["proxy"]["fault_log"].clone();
        (lens, log)
    };
    let (a, la) = run("7").await;
    let (b, lb) = run("7").await;
    assert_eq!(a, b);
    assert_eq!(la, lb);
    assert!(
        a.iter().any(|l| *l < 32 * 1024) && a.contains(&(32 * 1024)),
        "{a:?}"
    );
}

#[tokio::test]
async fn wiremock_mocks_override_the_model_and_record_requests() {
    use wiremock::matchers::{header, method, path};
    let w = oss_emulator::WiremockEmulator::start(standard_model()).await;
    wiremock::Mock::given(method("GET"))
        .and(path("/pub/obj"))
        .and(header("range", "bytes=0-9"))
        .respond_with(wiremock::ResponseTemplate::new(500))
        .expect(1)
        .mount(w.server())
        .await;
    let endpoint = w.endpoint();
    let (status, _, _) = raw_get(&endpoint, "/pub/obj", "Range: bytes=0-9\r\n").await;
    assert_eq!(status, 500);
    let (status, _, body) = raw_get(&endpoint, "/pub/obj", "Range: bytes=10-19\r\n").await;
    assert_eq!((status, body.len()), (206, 10));
    let recorded = w.server().received_requests().await.unwrap();
    assert_eq!(recorded.len(), 2);
    assert_eq!(recorded[1].headers["range"], "bytes=10-19");
    w.server().verify().await;
}

#[tokio::test]
async fn traffic_limit_paces_the_streaming_server() {
    let emu = standard_model();
    emu.put_object(
        "pub",
        "t",
        oss_emulator::ObjectSpec::synthetic(40 * 1024, 2),
    )
    .unwrap();
    let server = emu.start_server().await.unwrap();
    let endpoint = server.endpoint().to_owned();
    // 819200 bit/s = 100 KiB/s: 40 KiB take about 0.4 s.
    let t = std::time::Instant::now();
    let (status, _, body) = raw_get(&endpoint, "/pub/t", "x-oss-traffic-limit: 819200\r\n").await;
    let took = t.elapsed();
    assert_eq!((status, body.len()), (200, 40 * 1024));
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(3),
        "{took:?}"
    );
    let t = std::time::Instant::now();
    raw_get(&endpoint, "/pub/t", "").await;
    assert!(t.elapsed() < Duration::from_millis(300));
}
