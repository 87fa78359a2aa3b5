//! Error chains: each layer's message describes that layer only and its cause is reached
//! through `source()`, so a printer that walks the chain (as ossget does) shows every cause
//! exactly once.

use oss_resume::{CkptError, Error, LocalOp};

use crate::common::{BUCKET, Env, Scratch, chain, fast_retry};

/// Each error of `error`'s chain, and the chain rendered one cause per line.
fn layers(error: &dyn std::error::Error) -> Vec<String> {
    let mut out = vec![error.to_string()];
    let mut cause = error.source();
    while let Some(e) = cause {
        out.push(e.to_string());
        cause = e.source();
    }
    out
}

#[track_caller]
fn assert_each_cause_once(error: &Error) {
    let rendered = chain(error);
    let layers = layers(error);
    assert!(layers.len() >= 2, "not a chain: {rendered}");
    for layer in &layers {
        assert_eq!(
            rendered.matches(layer.as_str()).count(),
            1,
            "`{layer}` is not shown exactly once in:\n{rendered}"
        );
    }
}

#[tokio::test]
async fn a_rendered_chain_shows_every_cause_once() {
    let env = Env::start().await;
    env.put("theirs", 1 << 20, 81);
    env.put("mine", 1 << 20, 82);
    let dir = Scratch::new("chain");
    let dest = dir.path("obj.bin");
    let download = |key: &str| {
        env.client()
            .download(BUCKET, key, &dest)
            .checkpoint(true)
            .part_size(256 << 10)
            .retry_policy(fast_retry())
    };

    // The disk fills up mid-download: the write's error, then the operating system's.
    let full = download("theirs")
        .inject_enospc_after(300_000)
        .await
        .unwrap_err();
    assert!(
        matches!(
            full,
            Error::LocalIo {
                op: LocalOp::Write,
                ..
            }
        ),
        "{full}"
    );
    assert_each_cause_once(&full);
    assert!(chain(&full).contains(&std::io::Error::from_raw_os_error(28).to_string()));

    // Its checkpoint stays, and another object to the same destination is refused: the
    // download's error, then the checkpoint's (which names the field and both values).
    let foreign = download("mine").await.unwrap_err();
    assert!(
        matches!(
            foreign,
            Error::Checkpoint {
                source: CkptError::Mismatch { .. },
                ..
            }
        ),
        "{foreign}"
    );
    assert_each_cause_once(&foreign);
    assert!(chain(&foreign).contains("theirs"), "{}", chain(&foreign));
}

/// Through the transport: a refused connection under HEAD renders as the download's layer,
/// oss-http's, hyper's and the operating system's, each once.
#[tokio::test]
async fn a_chain_through_the_transport_shows_each_cause_once() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let dir = Scratch::new("chain-http");
    let client = crate::common::client_for(
        &format!("http://127.0.0.1:{port}"),
        oss_resume::SignatureVersion::V4,
    );
    let refused = client
        .download(BUCKET, "k", dir.path("k.bin"))
        .retry_policy(oss_resume::RetryPolicy {
            max_attempts: 1,
            ..fast_retry()
        })
        .await
        .unwrap_err();
    assert!(matches!(refused, Error::Head { .. }), "{refused:?}");
    let layers = layers(&refused);
    assert!(layers.len() >= 3, "{layers:?}");
    assert_each_cause_once(&refused);
    let rendered = chain(&refused);
    assert!(rendered.contains("could not connect"), "{rendered}");
    let os = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
    assert!(
        rendered.to_lowercase().contains("refused"),
        "the OS's words: {rendered} ({os})"
    );
}

/// A panic in code a download runs — a credentials provider on a worker's GET, the
/// caller's progress callback on the aggregator thread — is `Error::Internal`, never
/// blamed on the disk (it was `LocalIo` "writing the temp data file failed").
#[tokio::test]
async fn a_panic_in_a_task_is_internal_not_a_disk_error() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    let env = Env::start().await;
    env.put("p", 1 << 20, 83);
    let dir = Scratch::new("panic");

    // The provider answers HEAD's signing, then panics on the first part GET's.
    let calls = Arc::new(AtomicU64::new(0));
    let seen = Arc::clone(&calls);
    let provider = move || -> Result<oss_resume::Credentials, oss_resume::SignError> {
        if seen.fetch_add(1, Ordering::SeqCst) >= 1 {
            panic!("provider bug");
        }
        oss_resume::Credentials::new(crate::common::AK, crate::common::SK)
    };
    let client = oss_resume::Client::builder()
        .endpoint(env.server.endpoint())
        .region("cn-test")
        .credentials_provider(provider)
        .build()
        .unwrap();
    let dest = dir.path("worker.bin");
    let e = client
        .download(BUCKET, "p", &dest)
        .checkpoint(true)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Internal { .. }), "{e:?}");
    assert!(!e.is_local(), "{e}");
    assert!(chain(&e).contains("provider bug"), "{}", chain(&e));
    assert!(!chain(&e).contains("temp data file"), "{}", chain(&e));

    // The progress callback panics on the aggregator thread.
    let e = env
        .client()
        .download(BUCKET, "p", dir.path("callback.bin"))
        .on_progress(|_| panic!("callback bug"))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Internal { .. }), "{e:?}");
    assert!(!e.is_local(), "{e}");
    assert!(chain(&e).contains("callback bug"), "{}", chain(&e));
}

/// A HEAD that says 2^62 or 2^64-1 bytes: no part size can plan it. That is the server's
/// answer, not a bad argument (it used to be `InvalidArgument { argument: "part_size" }`, a
/// usage error in ossget, after a HEAD had been sent): `ObjectTooLarge`, naming the size.
#[tokio::test]
async fn an_object_too_large_to_plan_is_not_a_bad_argument() {
    let env = Env::start().await;
    let dir = Scratch::new("huge");
    for size in [1u64 << 62, u64::MAX] {
        env.emu
            .put_object(
                BUCKET,
                "huge",
                oss_emulator::ObjectSpec::synthetic(size, 84),
            )
            .unwrap();
        for part_size in [None, Some(5u64 << 30), Some(8 << 20)] {
            let mut download = env.client().download(BUCKET, "huge", dir.path("huge.bin"));
            if let Some(bytes) = part_size {
                download = download.part_size(bytes);
            }
            let e = download.await.unwrap_err();
            assert!(
                matches!(e, Error::ObjectTooLarge { size: s, .. } if s == size),
                "{size} {part_size:?}: {e:?}"
            );
            assert!(e.to_string().contains(&size.to_string()), "{e}");
            assert!(!e.is_retryable() && !e.is_local(), "{e}");
        }
    }
    assert_eq!(dir.names(), Vec::<String>::new());
}
