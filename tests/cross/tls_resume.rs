//! A resumable download the way a user on a bad link runs it, every crate in the path:
//! HTTPS to a virtual-hosted bucket name (rcgen certificate made here, the client trusting
//! only it), V1 signing with STS credentials from a provider that rotates them between the
//! runs, the chaos proxy cutting every connection, a cancel part-way, and a second call
//! that resumes from the checkpoint to a byte-exact file.
//!
//! What only this scenario shows: the TLS front, the proxy's counters and the checkpoint
//! agree on how much was fetched — the resume asks for exactly the bytes the checkpoint
//! does not hold (no re-fetch of saved data, no gap), the cancel loses no more than the
//! bound oss-resume documents, and rotated STS credentials are picked up by a long-lived
//! client for every request (the old key is gone from the server before the resume).

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use oss_emulator::{BucketSpec, ChaosProxy, CutMode, Emulator, NetFault, ObjectSpec};
use oss_http::{ProvideCredentials, TlsTrust};
use oss_resume::{
    CancellationToken, CheckpointUse, Client, Credentials, Error, RetryPolicy, SignatureVersion,
    SnapshotKind,
};

use crate::support::scratch::{Scratch, assert_file, ckpt_of};
use crate::support::tls::{SelfSigned, TlsFront};

const DOMAIN: &str = "oss-cn-test.example.test";
const BUCKET: &str = "resume-bkt";
const KEY: &str = "datasets/part-0001.bin";
/// Not a multiple of the part size: the last part is short.
const SIZE: u64 = (3 << 20) + 12_345;
const PART: u64 = 256 << 10;
const THREADS: usize = 3;
const SEED: u64 = 42;
/// Body bytes each proxied connection carries before the proxy cuts it (FIN).
const CUT_EVERY: u64 = 200_000;
/// The proxy's rate during the first run, so the cancel lands part-way.
const RATE: u64 = 2 << 20;

const AK1: &str = "STS.RotatingKeyOne";
const SK1: &str = "RotatingSecretOne-5f1e9c";
const TOKEN1: &str = "CAIS-token-one-8d0c7a1b";
const AK2: &str = "STS.RotatingKeyTwo";
const SK2: &str = "RotatingSecretTwo-0b7d44";
const TOKEN2: &str = "CAIS-token-two-93e2f6c4";

/// STS credentials as a refreshing provider hands them out: the current set, and how many
/// times the client asked.
struct Sts {
    current: Mutex<Credentials>,
    asked: AtomicU64,
}

fn sts(ak: &str, sk: &str, token: &str) -> Credentials {
    Credentials::new(ak, sk)
        .unwrap()
        .with_security_token(token)
        .unwrap()
}

struct Provider(Arc<Sts>);

impl ProvideCredentials for Provider {
    fn provide_credentials(&self) -> Result<Credentials, oss_sign::SignError> {
        self.0.asked.fetch_add(1, Ordering::Relaxed);
        Ok(self.0.current.lock().unwrap().clone())
    }
}

/// The proxy's counters once the connections the cancel dropped have wound down (so no
/// write of run 1 lands in run 2's numbers).
async fn settled(proxy: &ChaosProxy) -> oss_emulator::ProxyStats {
    let mut last = proxy.stats();
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let now = proxy.stats();
        if now == last {
            return now;
        }
        last = now;
    }
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 6,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(50),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_v1_sts_resume_through_cuts_fetches_only_what_is_missing() {
    let started = Instant::now();
    let emu = Emulator::new();
    emu.add_credentials(oss_emulator::Credentials::sts(AK1, SK1, TOKEN1));
    emu.add_credentials(oss_emulator::Credentials::sts(AK2, SK2, TOKEN2));
    emu.add_bucket(BucketSpec::new(BUCKET)).unwrap();
    emu.put_object(BUCKET, KEY, ObjectSpec::synthetic(SIZE, SEED))
        .unwrap();
    let server = emu.start_server().await.unwrap();
    let proxy = ChaosProxy::start(
        server.local_addr(),
        vec![
            NetFault::CutEveryConnectionAfter {
                bytes: CUT_EVERY,
                mode: CutMode::Fin,
            },
            NetFault::Throttle {
                bytes_per_sec: RATE,
            },
        ],
        1,
    )
    .await
    .unwrap();
    let cert = SelfSigned::new(&[&format!("*.{DOMAIN}")]);
    let front = TlsFront::start(&cert, proxy.local_addr()).await;

    let state = Arc::new(Sts {
        current: Mutex::new(sts(AK1, SK1, TOKEN1)),
        asked: AtomicU64::new(0),
    });
    let client = Client::builder()
        .endpoint(format!("https://{DOMAIN}:{}", front.port()))
        .signature_version(SignatureVersion::V1)
        .credentials_provider(Provider(Arc::clone(&state)))
        .http(|http| {
            http.resolve(&format!("*.{DOMAIN}"), [IpAddr::V4(Ipv4Addr::LOCALHOST)])
                .tls_trust(TlsTrust::Only(vec![cert.cert.clone()]))
                .connect_timeout(Duration::from_secs(2))
                .response_head_timeout(Duration::from_secs(3))
                .stall_timeout(Duration::from_secs(2))
        })
        .build()
        .unwrap();
    let scratch = Scratch::new("tls-resume");
    let dest = scratch.path("part-0001.bin");
    let download = || {
        client
            .download(BUCKET, KEY, &dest)
            .part_size(PART)
            .threads(THREADS)
            .checkpoint(true)
            .retry_policy(fast_retry())
    };

    // Run 1: cancelled once 40% is on disk.
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    let last_seen = Arc::new(AtomicU64::new(0));
    let seen = Arc::clone(&last_seen);
    let err = download()
        .cancel_token(cancel)
        .progress_interval(Duration::from_millis(5))
        .on_progress(move |p| {
            seen.store(p.bytes_done, Ordering::Relaxed);
            if p.bytes_done >= SIZE * 2 / 5 {
                trigger.cancel();
            }
        })
        .await
        .expect_err("the first run is cancelled");
    assert!(
        matches!(
            err,
            Error::Cancelled {
                checkpoint_saved: true,
                ..
            }
        ),
        "{err:?}"
    );
    let run1 = settled(&proxy).await;
    assert!(
        run1.fired_count("cut") > 0,
        "the proxy cut no connection in run 1: {run1:?}"
    );
    // What the checkpoint holds, read with oss-ckpt itself rather than taken from the
    // library's report.
    let ckpt = oss_ckpt::decode(&std::fs::read(ckpt_of(&dest)).unwrap()).unwrap();
    let (latest, durable) = (ckpt.latest.bytes_done(), ckpt.durable.bytes_done());
    assert!(
        (SIZE * 2 / 5..SIZE).contains(&latest) && durable <= latest,
        "checkpoint after the cancel: latest {latest}, durable {durable} of {SIZE}"
    );
    // The checkpoint saved after the cancel holds at least what the last progress call
    // (made after the workers stopped) reported on disk.
    let reported = last_seen.load(Ordering::Relaxed);
    assert!(
        latest >= reported,
        "the checkpoint holds {latest} bytes but the last progress said {reported} were done"
    );
    // The cancel drains every accepted byte to disk and saves the checkpoint once more, so
    // only bytes in transit are lost: within oss-resume's re-fetch bound for a kill (crate
    // docs, "Re-fetch bound"; its crash tests check rate x 250 ms + threads x 256 KiB +
    // 512 KiB), held here with the time term at 150 ms, since a cancel saves last.
    // Everything the proxy wrote toward the client, response heads included: an upper bound
    // on the body bytes delivered. (Its body counter is not used here: it skips a piece that
    // a departing client cut short, which is exactly what a cancel does.)
    let relayed = run1.bytes_to_client;
    let lost = relayed.saturating_sub(latest);
    let bound = RATE * 150 / 1000 + THREADS as u64 * (256 << 10) + (512 << 10);
    assert!(
        lost <= bound,
        "the cancel lost {lost} bytes the proxy delivered (bound {bound}): relayed \
         {relayed}, checkpoint holds {latest}"
    );
    let asked_run1 = state.asked.load(Ordering::Relaxed);

    // Between the runs the STS credentials rotate and the old key stops working.
    *state.current.lock().unwrap() = sts(AK2, SK2, TOKEN2);
    emu.remove_credentials(AK1);
    proxy.clear_faults(); // the throttle goes, the cuts stay
    proxy.add_fault(NetFault::CutEveryConnectionAfter {
        bytes: CUT_EVERY,
        mode: CutMode::Fin,
    });

    // Run 2: resumes and completes.
    let report = download().await.expect("the second run completes");
    let run2_bytes = proxy.stats().body_bytes_to_client - run1.body_bytes_to_client;
    let resumed_from = match report.checkpoint {
        CheckpointUse::Resumed {
            snapshot: SnapshotKind::Latest,
            ..
        } => latest,
        CheckpointUse::Resumed {
            snapshot: SnapshotKind::Durable,
            ..
        } => durable,
        ref other => panic!("the second run did not resume: {other:?}"),
    };
    assert_eq!(
        report.bytes_resumed, resumed_from,
        "the report's resumed bytes differ from the checkpoint's snapshot"
    );
    // Exactly what was missing crossed the proxy: nothing saved was fetched again, and the
    // cuts in this run cost nothing either (parts resume at the byte they reached).
    assert_eq!(
        run2_bytes,
        SIZE - resumed_from,
        "run 2 fetched {run2_bytes} body bytes; the checkpoint was missing {}",
        SIZE - resumed_from
    );
    assert_eq!(report.bytes_transferred, run2_bytes);
    assert!(
        proxy.stats().fired_count("cut") > run1.fired_count("cut") && report.retries > 0,
        "run 2 saw no cut (retries {})",
        report.retries
    );
    assert!(
        report.crc64_verified,
        "the emulator sends the object's CRC-64"
    );
    assert_file(
        &dest,
        &oss_emulator::synthetic_bytes(SEED, 0, SIZE as usize),
    );
    let left: Vec<String> = scratch.files().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        left,
        ["part-0001.bin"],
        "checkpoint, temp or lock file left"
    );
    // The long-lived client asked the provider again in run 2 (the old key is gone, so
    // every request of run 2 was signed with the rotated credentials).
    assert!(state.asked.load(Ordering::Relaxed) > asked_run1);
    assert_eq!(emu.counters().errors("InvalidAccessKeyId"), 0);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    eprintln!(
        "tls resume: run 1 relayed {relayed} (progress {reported}, checkpoint {latest}, lost \
         {lost}, {} cuts), run 2 relayed {run2_bytes} ({} retries), {:?}",
        run1.fired_count("cut"),
        report.retries,
        started.elapsed()
    );
}
