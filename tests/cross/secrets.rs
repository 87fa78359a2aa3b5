//! Promise 11 of docs/crash-safety.md ("Secrets stay secret"): keys, tokens, signatures and
//! SSE-C keys never reach logs, errors, `Debug`, the checkpoint or the CLI's output —
//! checked end to end through oss-resume, oss-http, oss-sign and oss-ckpt against the
//! emulator, for V1 and V4.
//!
//! The downloads succeed (through a retried 503), fail with `SignatureDoesNotMatch` on HEAD
//! (the error document base64 in `x-oss-err`) and on a part GET (in the body), fail with a
//! wrong STS token, and fail with other OSS errors, all carrying SSE-C headers. OSS's
//! `SignatureDoesNotMatch` echoes the string to sign, which holds the STS token and the
//! SSE-C key (in text and as hex bytes); a recording relay proves the emulator really sent
//! them back, and yields the signatures the client really sent, so the scan can look for
//! those too. Every output is then scanned: the error's `Display` (whole source chain) and
//! `Debug`, the report's `Debug`, the builder's, client's and download's `Debug`, every file
//! left beside the destination (checkpoint, temp, lock), and everything logged at TRACE.

use std::time::Duration;

use base64::Engine as _;
use http::Method;
use oss_emulator::{BucketSpec, Emulator, FaultAction, ObjectSpec, ServiceFault};
use oss_resume::{Client, Credentials, Error, RetryPolicy, SignatureVersion, ThrottlePolicy};

use crate::support::capture;
use crate::support::needles::{Needles, render_error};
use crate::support::recorder::Recorder;
use crate::support::scratch::{Scratch, ckpt_of};

pub const AK: &str = "STS.LeakTestKeyId";
pub const SECRET: &str = "LeakTest-Secret-7Qz9-kV3w";
pub const TOKEN: &str = "LeakTest-StsToken-CAIS-4f8e2b";
pub const WRONG_SECRET: &str = "LeakTest-WrongSecret-p2Xn";
pub const WRONG_TOKEN: &str = "LeakTest-WrongToken-h6Ty0";
/// 32 bytes, as an SSE-C AES-256 key is.
pub const SSEC_RAW: &str = "LeakTest-SSEC-raw-key-32-bytes!!";
pub const BUCKET: &str = "leak-bkt";
const SIZE: u64 = 700_000;

pub fn ssec_b64() -> String {
    base64::engine::general_purpose::STANDARD.encode(SSEC_RAW)
}

/// The secrets every test of this kind looks for (signatures are added once known).
pub fn needles() -> Needles {
    assert_eq!(SSEC_RAW.len(), 32);
    let mut n = Needles::default();
    n.add("access key secret", SECRET);
    n.add("STS token", TOKEN);
    n.add("wrong secret", WRONG_SECRET);
    n.add("wrong STS token", WRONG_TOKEN);
    n.add("SSE-C key (header value)", &ssec_b64());
    n.add("SSE-C key (raw)", SSEC_RAW);
    n
}

/// The SSE-C headers a download of an SSE-C object sends.
pub fn ssec_headers() -> [(&'static str, String); 2] {
    [
        (
            "x-oss-server-side-encryption-customer-algorithm",
            "AES256".to_owned(),
        ),
        ("x-oss-server-side-encryption-customer-key", ssec_b64()),
    ]
}

fn sts(secret: &str, token: &str) -> Credentials {
    Credentials::new(AK, secret)
        .unwrap()
        .with_security_token(token)
        .unwrap()
}

fn fast_retry(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts: attempts,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
    }
}

/// The same for 503 throttling codes, which have their own budget.
fn fast_throttle(attempts: u32) -> ThrottlePolicy {
    ThrottlePolicy {
        max_attempts: attempts,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
    }
}

/// Everything produced, to be scanned once the signatures are known.
#[derive(Default)]
pub struct Outputs(Vec<(String, Vec<u8>)>);

impl Outputs {
    pub fn text(&mut self, place: String, text: String) {
        self.0.push((place, text.into_bytes()));
    }

    /// Every file in `scratch`, each as `{place}: file {name}`.
    pub fn files(&mut self, place: &str, scratch: &Scratch) {
        for (name, bytes) in scratch.files() {
            self.0.push((format!("{place}: file {name}"), bytes));
        }
    }

    fn error(&mut self, place: String, e: &Error) {
        self.text(place, render_error(e));
    }

    /// Panics naming the first output that holds any of `needles`.
    pub fn assert_no_secret(&self, needles: &Needles) {
        for (place, bytes) in &self.0 {
            needles.assert_absent(place, bytes);
        }
    }
}

/// Proves the secrets really travelled (each of `sent` is in the client's requests) and
/// OSS's answers really echoed the STS token and the SSE-C key back: without this, "nothing
/// leaked" could mean "nothing was there to leak". Returns [`needles`] plus every signature
/// the client sent, which must have been of both kinds (V4 hex and V1 base64).
pub fn needles_after_checking_the_traffic(relay: &Recorder, sent: &[&str]) -> Needles {
    let requests = relay.text(true);
    for secret in sent {
        assert!(requests.contains(secret), "the client never sent {secret}");
    }
    let answers = relay.error_documents();
    assert!(
        answers.contains("<StringToSign>"),
        "no SignatureDoesNotMatch document seen"
    );
    let echoed = needles().found_in(answers.as_bytes());
    assert!(
        echoed.iter().any(|w| w.starts_with("STS token"))
            && echoed.iter().any(|w| w.starts_with("SSE-C key")),
        "the emulator's error documents did not echo the token and SSE-C key: {echoed:?}"
    );
    let signatures = relay.signatures();
    assert!(
        signatures.iter().any(|s| s.len() == 64) && signatures.iter().any(|s| s.len() == 28),
        "expected V4 (hex) and V1 (base64) signatures, saw {signatures:?}"
    );
    let mut needles = needles();
    for (i, sig) in signatures.iter().enumerate() {
        needles.add(&format!("signature #{i}"), sig);
    }
    needles
}

fn builder(
    endpoint: &str,
    version: SignatureVersion,
    secret: &str,
    token: &str,
) -> oss_resume::ClientBuilder {
    let mut b = Client::builder()
        .endpoint(endpoint)
        .region("cn-test")
        .signature_version(version)
        .credentials(sts(secret, token))
        .http(|http| {
            http.connect_timeout(Duration::from_secs(2))
                .response_head_timeout(Duration::from_secs(3))
        });
    for (name, value) in ssec_headers() {
        b = b.header(name, &value);
    }
    b
}

/// Builds a client, keeping the builder's and the client's `Debug`.
fn client(out: &mut Outputs, b: oss_resume::ClientBuilder, label: &str) -> Client {
    out.text(format!("{label}: builder Debug"), format!("{b:?} {b:#?}"));
    let client = b.build().unwrap();
    out.text(
        format!("{label}: client Debug"),
        format!("{client:?} {client:#?}"),
    );
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_errors_reports_debug_checkpoints_or_logs() {
    capture::install();
    let emu = Emulator::new();
    emu.add_credentials(oss_emulator::Credentials::sts(AK, SECRET, TOKEN));
    emu.add_bucket(BucketSpec::new(BUCKET)).unwrap();
    for key in ["ok.bin", "bad-sig.bin", "denied.bin", "busy.bin"] {
        emu.put_object(BUCKET, key, ObjectSpec::synthetic(SIZE, 5))
            .unwrap();
    }
    let server = emu.start_server().await.unwrap();
    let relay = Recorder::start(server.local_addr()).await;
    let endpoint = relay.endpoint();
    let mut out = Outputs::default();

    for version in [SignatureVersion::V1, SignatureVersion::V4] {
        let v = format!("{version:?}");
        let good = client(&mut out, builder(&endpoint, version, SECRET, TOKEN), &v);

        // 1. Success, through one retried 503 on a part GET (a retry is logged).
        let busy = emu.add_fault(
            ServiceFault::new(FaultAction::service_unavailable())
                .key(BUCKET, "ok.bin")
                .method(Method::GET)
                .on_request(2),
        );
        let scratch = Scratch::new("leak-ok");
        let download = good
            .download(BUCKET, "ok.bin", scratch.path("ok.bin"))
            .part_size(128 << 10)
            .max_request_size(128 << 10) // a GET per part: the faults here count GETs
            .threads(2)
            .checkpoint(true)
            .retry_policy(fast_retry(4))
            .throttle_policy(fast_throttle(4));
        out.text(format!("{v}: download Debug"), format!("{download:?}"));
        let report = download.await.unwrap();
        assert!(report.retries >= 1, "the 503 was not retried: {report:?}");
        assert_eq!(emu.fault_fired(busy), 1);
        emu.remove_fault(busy);
        out.text(
            format!("{v}: report Debug"),
            format!("{report:?} {report:#?}"),
        );
        out.files(&format!("{v}: success"), &scratch);

        // 2. SignatureDoesNotMatch on a part GET, after some parts are saved: the provider
        //    hands out a wrong secret from its 4th answer on (HEAD, two GETs, then wrong).
        let asked = std::sync::atomic::AtomicU64::new(0);
        let rotating = move || {
            let n = asked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok::<_, oss_sign::SignError>(if n < 3 {
                sts(SECRET, TOKEN)
            } else {
                sts(WRONG_SECRET, TOKEN)
            })
        };
        let b = builder(&endpoint, version, SECRET, TOKEN).credentials_provider(rotating);
        let mid = client(&mut out, b, &format!("{v} provider"));
        let scratch = Scratch::new("leak-badsig");
        let dest = scratch.path("bad-sig.bin");
        let e = mid
            .download(BUCKET, "bad-sig.bin", &dest)
            .part_size(128 << 10)
            .max_request_size(128 << 10) // a GET per part: the faults here count GETs
            .checkpoint(true)
            .retry_policy(fast_retry(2))
            .await
            .unwrap_err();
        assert_eq!(e.oss_code(), Some("SignatureDoesNotMatch"), "{e:?}");
        assert!(matches!(e, Error::Part { .. }), "{e:?}");
        let ckpt = oss_ckpt::decode(&std::fs::read(ckpt_of(&dest)).unwrap()).unwrap();
        assert!(
            ckpt.latest.bytes_done() > 0,
            "the checkpoint kept after the failure records progress"
        );
        out.error(format!("{v}: GET SignatureDoesNotMatch"), &e);
        out.files(&format!("{v}: GET SignatureDoesNotMatch"), &scratch);

        // 3. SignatureDoesNotMatch on HEAD (the error document comes base64 in `x-oss-err`).
        let wrong = client(
            &mut out,
            builder(&endpoint, version, WRONG_SECRET, TOKEN),
            &format!("{v} wrong secret"),
        );
        let scratch = Scratch::new("leak-head");
        let e = wrong
            .download(BUCKET, "ok.bin", scratch.path("ok.bin"))
            .checkpoint(true)
            .await
            .unwrap_err();
        assert_eq!(e.oss_code(), Some("SignatureDoesNotMatch"), "{e:?}");
        out.error(format!("{v}: HEAD SignatureDoesNotMatch"), &e);
        out.files(&format!("{v}: HEAD SignatureDoesNotMatch"), &scratch);

        // 4. A wrong STS token.
        let bad_token = client(
            &mut out,
            builder(&endpoint, version, SECRET, WRONG_TOKEN),
            &format!("{v} wrong token"),
        );
        let e = bad_token
            .download(BUCKET, "ok.bin", scratch.path("ok.bin"))
            .await
            .unwrap_err();
        assert_eq!(e.oss_code(), Some("InvalidSecurityToken"), "{e:?}");
        out.error(format!("{v}: InvalidSecurityToken"), &e);

        // 5. Other OSS errors: NoSuchKey on HEAD; AccessDenied on a part GET after some
        //    parts (checkpoint kept); 503 on every GET until the retry budget runs out.
        let e = good
            .download(BUCKET, "missing.bin", scratch.path("missing.bin"))
            .await
            .unwrap_err();
        assert_eq!(e.oss_code(), Some("NoSuchKey"), "{e:?}");
        out.error(format!("{v}: NoSuchKey"), &e);

        let denied = emu.add_fault(
            ServiceFault::new(FaultAction::error(
                403,
                "AccessDenied",
                "You have no right to access this object.",
            ))
            .key(BUCKET, "denied.bin")
            .method(Method::GET)
            .after(2),
        );
        let scratch = Scratch::new("leak-denied");
        let e = good
            .download(BUCKET, "denied.bin", scratch.path("denied.bin"))
            .part_size(128 << 10)
            .max_request_size(128 << 10) // a GET per part: the faults here count GETs
            .checkpoint(true)
            .await
            .unwrap_err();
        emu.remove_fault(denied);
        assert_eq!(e.oss_code(), Some("AccessDenied"), "{e:?}");
        out.error(format!("{v}: AccessDenied"), &e);
        out.files(&format!("{v}: AccessDenied"), &scratch);

        let unavailable = emu.add_fault(
            ServiceFault::new(FaultAction::service_unavailable())
                .key(BUCKET, "busy.bin")
                .method(Method::GET),
        );
        let e = good
            .download(BUCKET, "busy.bin", scratch.path("busy.bin"))
            .checkpoint(true)
            .retry_policy(fast_retry(2))
            .throttle_policy(fast_throttle(2))
            .await
            .unwrap_err();
        emu.remove_fault(unavailable);
        assert!(matches!(e, Error::Part { .. }) && e.is_retryable(), "{e:?}");
        out.error(format!("{v}: 503 budget exhausted"), &e);
        out.files(&format!("{v}: 503 budget exhausted"), &scratch);
    }

    let needles = needles_after_checking_the_traffic(&relay, &[TOKEN, WRONG_TOKEN, &ssec_b64()]);
    out.assert_no_secret(&needles);
    let log = capture::captured();
    assert!(
        log.contains("retrying"),
        "no oss-resume event was captured, so the log scan would prove nothing:\n{log}"
    );
    needles.assert_absent("the TRACE log", log.as_bytes());
}
