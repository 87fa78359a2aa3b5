//! The options people bring from curl, aria2c and ossutil: URLs and presigned URLs,
//! proxies, TLS options, the config file, completions and the man page, existing files
//! (`--no-clobber`, `--update`), mtime and metadata, `--max-time`, the hook, and the bad
//! input each must name.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, Method};
use oss_emulator::{ConnectPolicy, ConnectProxy, ObjectSpec};
use oss_sign::{
    AddressStyle, Query, Resource, SignableRequest, SigningConfig, SigningTime, Slash, presign,
};

use super::*;

/// A presigned GET URL of `key` on the fixture's server, signed at `at` for `valid`.
pub(super) fn presigned(fx: &Fixture, key: &str, at: SystemTime, valid: Duration) -> String {
    let headers = HeaderMap::new();
    let req = SignableRequest::new(
        &Method::GET,
        Resource::object(BUCKET, key),
        Query::empty(),
        &headers,
    );
    let creds = oss_sign::Credentials::new(ID, SECRET).unwrap();
    let at = SigningTime::from_system_time(at).unwrap();
    let host = fx.endpoint().trim_start_matches("http://").to_owned();
    presign(
        &req,
        &SigningConfig::v4("cn-hangzhou").unwrap(),
        &creds,
        at,
        valid,
    )
    .unwrap()
    .url("http", &host, AddressStyle::Path, Slash::Keep)
}

/// `ossget ARGS` with no credentials at all in the environment.
async fn run_keyless(fx: &Fixture, args: &[&str]) -> Run {
    let mut cmd = fx.command(fx.endpoint(), args);
    cmd.env_remove("OSS_ACCESS_KEY_ID")
        .env_remove("OSS_ACCESS_KEY_SECRET");
    Run::from(cmd.output().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_urls_download_without_credentials_and_expiry_is_named() {
    let fx = Fixture::new("presigned").await;
    fx.object("dir/p.bin", 300_000);
    let url = presigned(
        &fx,
        "dir/p.bin",
        SystemTime::now(),
        Duration::from_secs(600),
    );
    let signature = url.rsplit_once("x-oss-signature=").unwrap().1.to_owned();
    let r = run_keyless(
        &fx,
        &[
            &url,
            "-o",
            "p.bin",
            "--json",
            "-j",
            "3",
            "--part-size",
            "64KiB",
        ],
    )
    .await;
    r.expect(0, &["done: p.bin"]);
    assert_file(&fx.path("p.bin"), 300_000);
    let all = format!("{}{}", r.stdout, r.stderr);
    assert!(
        !all.contains(&signature),
        "the signature was printed:\n{all}"
    );
    assert!(
        r.json()["source"]
            .as_str()
            .unwrap()
            .ends_with("/bkt/dir/p.bin?<presigned>")
    );
    // HEAD is not what a presigned GET allows: the object came from a first-byte GET.
    assert_eq!(
        fx.emu.counters().requests_for("HEAD", BUCKET, "dir/p.bin"),
        0
    );

    // Expired an hour ago: a clear message with the time, and how to go on.
    let old = SystemTime::now() - Duration::from_secs(3600);
    let url = presigned(&fx, "dir/p.bin", old, Duration::from_secs(60));
    let r = run_keyless(&fx, &[&url, "-o", "q.bin"]).await;
    r.expect(
        1,
        &["the presigned URL expired at ", "get a new presigned URL"],
    );
    // An x-oss-* header would break the signature: refused before any request.
    let url = presigned(
        &fx,
        "dir/p.bin",
        SystemTime::now(),
        Duration::from_secs(600),
    );
    let r = run_keyless(&fx, &[&url, "-o", "q.bin", "--payer", "requester"]).await;
    r.expect(2, &["x-oss-request-payer", "a URL signed with them"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_url_names_bucket_key_and_endpoint() {
    let fx = Fixture::new("url").await;
    fx.object("a b/c.bin", 100_000);
    let url = format!("{}/bkt/a%20b/c.bin", fx.endpoint());
    // --endpoint (appended by the fixture, a wrong one here) is the URL's own.
    let mut cmd = fx.command("http://127.0.0.1:9", &[&url]);
    let r = Run::from(cmd.output().await.unwrap());
    r.expect(0, &["done: c.bin"]);
    assert_file(&fx.path("c.bin"), 100_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_a_proxy_from_the_flag_or_the_environment() {
    let fx = Fixture::new("proxy").await;
    fx.object("k.bin", 200_000);
    let proxy = ConnectProxy::start(ConnectPolicy::Basic {
        user: "alice".into(),
        password: "Pr0xy-Pa55w0rd".into(),
    })
    .await
    .unwrap();
    let with_creds = proxy.url_with_credentials("alice", "Pr0xy-Pa55w0rd");
    let r = fx
        .run(&["oss://bkt/k.bin", "a.bin", "--proxy", &with_creds, "-v"])
        .await;
    r.expect(0, &["done: a.bin"]);
    assert!(!r.stderr.contains("Pr0xy-Pa55w0rd"), "{}", r.stderr);
    assert_file(&fx.path("a.bin"), 200_000);
    let tunnels = proxy.connects().len();
    assert!(tunnels >= 1);
    // HTTP_PROXY (the endpoint is http://), and --noproxy bypassing it.
    let mut cmd = fx.command(fx.endpoint(), &["oss://bkt/k.bin", "b.bin"]);
    cmd.env("http_proxy", &with_creds);
    Run::from(cmd.output().await.unwrap()).expect(0, &["done: b.bin"]);
    assert!(proxy.connects().len() > tunnels);
    let before = proxy.connects().len();
    let mut cmd = fx.command(
        fx.endpoint(),
        &["oss://bkt/k.bin", "c.bin", "--noproxy", "127.0.0.1"],
    );
    cmd.env("HTTP_PROXY", &with_creds);
    Run::from(cmd.output().await.unwrap()).expect(0, &["done: c.bin"]);
    assert_eq!(proxy.connects().len(), before);
    // Wrong credentials: the proxy's 407, named, with the fix; the password never shown.
    let wrong = proxy.url_with_credentials("alice", "Wr0ng-Pa55w0rd");
    let r = fx
        .run(&["oss://bkt/k.bin", "d.bin", "--proxy", &wrong, "--json"])
        .await;
    r.expect(1, &["refused CONNECT", "407", "user:password@host:port"]);
    assert!(!format!("{}{}", r.stdout, r.stderr).contains("Wr0ng-Pa55w0rd"));
    // A refusing proxy (403 to a port other than 443).
    let refuse = ConnectProxy::start(ConnectPolicy::Refuse(403))
        .await
        .unwrap();
    let r = fx
        .run(&["oss://bkt/k.bin", "e.bin", "--proxy", &refuse.url()])
        .await;
    r.expect(1, &["403 Forbidden", "port 443"]);
    // Unusable proxy URLs: usage errors naming the variable or the flag.
    fx.run(&["oss://bkt/k.bin", "--proxy", "socks5://h:1"])
        .await
        .expect(2, &["socks5 proxies are not supported"]);
    let mut cmd = fx.command(fx.endpoint(), &["oss://bkt/k.bin"]);
    cmd.env("HTTPS_PROXY", "ftp://h");
    Run::from(cmd.output().await.unwrap()).expect(2, &["HTTPS_PROXY `ftp://h`"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_options_and_the_insecure_warning() {
    let fx = Fixture::new("tls").await;
    fx.object("k.bin", 1000);
    fx.run(&["oss://bkt/k.bin", "--cacert", "missing.pem"])
        .await
        .expect(2, &["--cacert", "missing.pem", "cannot read"]);
    std::fs::write(fx.path("empty.pem"), "nothing\n").unwrap();
    fx.run(&["oss://bkt/k.bin", "--cacert", "empty.pem"])
        .await
        .expect(2, &["empty.pem", "BEGIN CERTIFICATE"]);
    let r = fx.run(&["oss://bkt/k.bin", "-k", "-q", "--json"]).await;
    r.expect(0, &["WARNING: --insecure"]);
    let warnings = r.json()["warnings"].to_string();
    assert!(warnings.contains("--insecure"), "{warnings}");
}

/// The fixture's emulator served over TLS with a fresh self-signed certificate for
/// 127.0.0.1; returns the server and the certificate as PEM.
async fn tls_server(fx: &Fixture) -> (oss_emulator::RunningServer, String) {
    use std::sync::Arc;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let server = fx
        .emu
        .start_server_with("127.0.0.1:0".parse().unwrap(), "https", move |tcp| {
            let acceptor = acceptor.clone();
            async move { acceptor.accept(tcp).await }
        })
        .await
        .unwrap();
    assert!(server.endpoint().starts_with("https://127.0.0.1:"));
    (server, cert.cert.pem())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cacert_and_ca_native_trust_a_private_certificate_and_nothing_else_does() {
    let fx = Fixture::new("tls-ok").await;
    let size = 300_000;
    fx.object("k.bin", size);
    let (server, pem) = tls_server(&fx).await;
    let endpoint = server.endpoint().to_owned();
    std::fs::write(fx.path("ca.pem"), &pem).unwrap();
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = fx.command(&endpoint, args);
        cmd.env_remove("SSL_CERT_FILE").env_remove("SSL_CERT_DIR");
        for (name, value) in env {
            cmd.env(name, value);
        }
        async move { Run::from(cmd.output().await.unwrap()) }
    };

    // --cacert FILE: the download works over TLS, byte-exact.
    let args = [
        "oss://bkt/k.bin",
        "a.bin",
        "--cacert",
        "ca.pem",
        "--part-size",
        "64KiB",
    ];
    run(&args, &[])
        .await
        .expect(0, &["done: a.bin", "CRC-64 verified"]);
    assert_file(&fx.path("a.bin"), size);

    // Without it, the built-in roots do not know the certificate: the problem and the fix
    // are named, and nothing is written.
    let r = run(&["oss://bkt/k.bin", "b.bin"], &[]).await;
    r.expect(
        1,
        &[
            "TLS with `127.0.0.1:",
            "invalid peer certificate: UnknownIssuer",
            "hint: the server's certificate was refused",
            "pass --cacert FILE",
        ],
    );
    assert!(!fx.path("b.bin").exists());

    // --ca-native: the operating system's store, which rustls-native-certs reads from
    // SSL_CERT_FILE when it is set (as OpenSSL does): there, the test's certificate.
    let ca = fx.path("ca.pem");
    let ca = ca.to_str().unwrap();
    run(
        &["oss://bkt/k.bin", "c.bin", "--ca-native"],
        &[("SSL_CERT_FILE", ca)],
    )
    .await
    .expect(0, &["done: c.bin", "CRC-64 verified"]);
    assert_file(&fx.path("c.bin"), size);
    // And with a store that lacks it (another self-signed certificate, of the same subject
    // name: rustls then reports the signature), --ca-native refuses the server too.
    std::fs::write(
        fx.path("other.pem"),
        rcgen::generate_simple_self_signed(vec!["x".to_owned()])
            .unwrap()
            .cert
            .pem(),
    )
    .unwrap();
    let other = fx.path("other.pem");
    run(
        &["oss://bkt/k.bin", "d.bin", "--ca-native"],
        &[("SSL_CERT_FILE", other.to_str().unwrap())],
    )
    .await
    .expect(1, &["TLS with `127.0.0.1:", "invalid peer certificate"]);
    assert!(!fx.path("d.bin").exists());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_file_precedence_and_mistakes() {
    let fx = Fixture::new("config").await;
    fx.object("k.bin", 300_000);
    let dir = fx.path(".config/ossget");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.toml"),
        "threads = 3\npart-size = \"64KiB\"\n",
    )
    .unwrap();
    let r = fx.run(&["oss://bkt/k.bin", "a.bin", "--json"]).await;
    r.expect(0, &[]);
    let j = r.json();
    assert_eq!(
        (j["threads"].as_u64(), j["part_size"].as_u64()),
        (Some(3), Some(65536))
    );
    // A flag beats the file.
    let j = fx
        .run(&["oss://bkt/k.bin", "b.bin", "--json", "-j", "2"])
        .await
        .json();
    assert_eq!(
        (j["threads"].as_u64(), j["part_size"].as_u64()),
        (Some(2), Some(65536))
    );
    // --config FILE, and its mistakes: exit 2 naming the file, the key and the fix.
    std::fs::write(fx.path("bad.toml"), "threads = \"four\"\n").unwrap();
    fx.run(&["oss://bkt/k.bin", "--config", "bad.toml"])
        .await
        .expect(
            2,
            &[
                "bad.toml",
                "key `threads` (line 1)",
                "expected a whole number",
                "threads = 8",
            ],
        );
    std::fs::write(fx.path("bad.toml"), "part_sise = \"8MiB\"\n").unwrap();
    fx.run(&["oss://bkt/k.bin", "--config", "bad.toml"])
        .await
        .expect(2, &["unknown key", "part-size"]);
    std::fs::write(
        fx.path("bad.toml"),
        format!("access_key_secret = \"{SECRET}\"\n"),
    )
    .unwrap();
    fx.run(&["oss://bkt/k.bin", "--config", "bad.toml"])
        .await
        .expect(2, &["do not belong", "--profile"]);
    fx.run(&["oss://bkt/k.bin", "--config", "nope.toml"])
        .await
        .expect(2, &["--config names `nope.toml`"]);
}

#[test]
fn the_man_page_and_completions_are_current() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ossget"))
        .arg("man")
        .output()
        .unwrap();
    assert!(out.status.success());
    let checked_in = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/doc/ossget.1")).unwrap();
    assert!(
        out.stdout == checked_in,
        "crates/ossget/doc/ossget.1 is out of date; regenerate it with: cargo run -p ossget -- man > crates/ossget/doc/ossget.1"
    );
    let man = String::from_utf8_lossy(&out.stdout);
    assert!(
        man.contains("\\-\\-proxy") && man.contains("\\-\\-max\\-time"),
        "{man}"
    );
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ossget"))
            .args(["completions", shell])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && text.contains("checkpoint-dir"),
            "{shell}:\n{text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existing_files_mtime_metadata_and_the_hook() {
    let fx = Fixture::new("existing").await;
    let modified = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let spec = || {
        ObjectSpec::synthetic(50_000, SEED)
            .content_type("application/x-tar")
            .meta("owner", "ops\u{202e}x")
            .last_modified(modified)
    };
    fx.emu.put_object(BUCKET, "k.bin", spec()).unwrap();
    let hook = "sh -c 'echo \"$1\" > hook.txt' sh";
    let r = fx
        .run(&["oss://bkt/k.bin", "--json", "--on-complete", hook])
        .await;
    r.expect(0, &[]);
    let j = r.json();
    assert_eq!(j["content_type"], "application/x-tar");
    assert_eq!(j["metadata"]["owner"], "ops\u{202e}x");
    assert!(r.stdout.contains("\\u202e"), "{}", r.stdout);
    assert_eq!(j["last_modified"], "2023-11-14T22:13:20Z");
    let path = fx.path("k.bin");
    assert_eq!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        modified
    );
    assert_eq!(
        std::fs::read_to_string(fx.path("hook.txt")).unwrap().trim(),
        "k.bin"
    );
    // --no-clobber: no request at all.
    fx.emu.reset_counters();
    let r = fx.run(&["oss://bkt/k.bin", "-n", "--json"]).await;
    r.expect(0, &["skipped:", "--no-clobber"]);
    assert_eq!(r.json()["skipped"], "exists");
    assert_eq!(fx.emu.counters().requests, 0);
    // --update: current (the recorded CRC-64 matches), then changed.
    let r = fx.run(&["oss://bkt/k.bin", "-u", "--json"]).await;
    r.expect(0, &["already holds this object"]);
    assert_eq!(r.json()["skipped"], "unchanged");
    fx.emu
        .put_object(BUCKET, "k.bin", ObjectSpec::synthetic(50_000, SEED + 1))
        .unwrap();
    fx.run(&["oss://bkt/k.bin", "-u", "--no-preserve-mtime"])
        .await
        .expect(0, &["done: k.bin"]);
    assert_ne!(
        std::fs::metadata(&path).unwrap().modified().unwrap(),
        modified
    );
    fx.run(&["oss://bkt/k.bin", "-n", "-u"])
        .await
        .expect(2, &["cannot be used with"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_time_stops_with_124_and_keeps_the_progress() {
    let fx = Fixture::new("maxtime").await;
    fx.object("k.bin", 1 << 20);
    let r = fx
        .run(&[
            "oss://bkt/k.bin",
            "--limit-rate",
            "200KiB",
            "-m",
            "1",
            "--json",
        ])
        .await;
    r.expect(
        124,
        &["stopped by --max-time 1.0 s", "progress is saved in"],
    );
    let j = r.json();
    assert_eq!(j["status"], "timed-out");
    assert!(j["bytes_done"].as_u64().unwrap() > 0);
    let r = fx.run(&["oss://bkt/k.bin", "--json"]).await;
    r.expect(0, &[]);
    assert!(r.json()["bytes_resumed"].as_u64().unwrap() > 0);
    assert_file(&fx.path("k.bin"), 1 << 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_options_are_checked_before_any_request() {
    let fx = Fixture::new("badnew").await;
    for (args, needles) in [
        (
            &["-x", "http://proxy:3128"][..],
            &["for a proxy (curl's -x), use --proxy"][..],
        ),
        (&["--traffic-limit", "1KiB"], &["245760-838860800 bit/s"]),
        (&["--range", "9-3"], &["ends before it starts"]),
        (&["--retries", "x"], &["whole number from 0 to 100"]),
        (&["--max-time", "0"], &["above zero"]),
        (&["--connect-timeout", "soon"], &["not a duration"]),
        (&["out", "-o", "other"], &["cannot be used with"]),
        (&["--on-complete", "sh -c 'x"], &["unclosed '"]),
        (&["--payer", "owner"], &["requester"]),
        (
            &["--addressing-style", "diagonal"],
            &["virtual, path, cname"],
        ),
    ] {
        let mut all = vec!["oss://bkt/k.bin"];
        all.extend_from_slice(args);
        fx.run(&all).await.expect(2, needles);
    }
    assert_eq!(fx.emu.counters().requests, 0);
    // -c is accepted (resume is automatic); --checkpoint-dir puts the checkpoint there.
    fx.object("k.bin", 100_000);
    fx.run(&[
        "oss://bkt/k.bin",
        "-c",
        "--checkpoint-dir",
        "cps",
        "--max-time",
        "10",
    ])
    .await
    .expect(0, &["done: k.bin"]);
    assert!(fx.path("cps").is_dir());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn familiar_spellings_reach_the_requests() {
    let fx = Fixture::new("spellings").await;
    fx.emu
        .add_bucket(BucketSpec::new("payer").requester_pays(true))
        .unwrap();
    fx.emu
        .put_object("payer", "k.bin", ObjectSpec::synthetic(200_000, SEED))
        .unwrap();
    // Without the header the bucket refuses; --payer and curl's -H each send it; -x is the
    // connection count (aria2c's), --bandwidth-limit and --sign-version ossutil's names.
    fx.run(&["oss://payer/k.bin", "a.bin"])
        .await
        .expect(1, &["AccessDenied"]);
    let r = fx
        .run(&[
            "oss://payer/k.bin",
            "-o",
            "b.bin",
            "--payer",
            "requester",
            "-x",
            "3",
            "--bandwidth-limit",
            "50MiB",
            "--sign-version",
            "1",
            "--json",
        ])
        .await;
    r.expect(0, &["done: b.bin"]);
    assert_eq!(r.json()["threads"], 3);
    assert_file(&fx.path("b.bin"), 200_000);
    fx.run(&[
        "oss://payer/k.bin",
        "c.bin",
        "-H",
        "x-oss-request-payer: requester",
    ])
    .await
    .expect(0, &["done: c.bin"]);
    assert_file(&fx.path("c.bin"), 200_000);

    // --retries: 0 gives up at the first 500 of a part; 2 rides over one.
    fx.object("r.bin", 100_000);
    let fault = || {
        ServiceFault::new(FaultAction::internal_error())
            .ranged_only()
            .times(1)
    };
    fx.emu.add_fault(fault());
    fx.run(&["oss://bkt/r.bin", "--retries", "0", "--no-checkpoint"])
        .await
        .expect(1, &["InternalError"]);
    fx.emu.clear_faults();
    fx.emu.add_fault(fault());
    fx.run(&["oss://bkt/r.bin", "--retries", "2", "--no-checkpoint"])
        .await
        .expect(0, &["done: r.bin", "1 retry"]);
}
