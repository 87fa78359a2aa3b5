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
