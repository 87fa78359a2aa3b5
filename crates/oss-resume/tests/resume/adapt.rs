//! The adaptive connection count (`Download::threads_auto`) against the chaos proxy's link
//! model: the file is byte-exact whatever the count does, and throttling answers are
//! backed off from rather than failing the download. (The controller's own decisions are
//! tested as a state machine in `src/adapt.rs`.)

use std::time::Duration;

use oss_emulator::LinkModel;
use oss_resume::{ConnectionChangeReason, SignatureVersion};

use crate::common::{BUCKET, Env, Scratch, assert_file, builder_for, fast_retry, fast_throttle};

const MIB: u64 = 1 << 20;
const SIZE: u64 = 8 * MIB;

/// Downloads SIZE bytes through `link` with an adaptive count of at most 32.
async fn through_link(name: &str, link: LinkModel) -> oss_resume::Report {
    let env = Env::start().await;
    let want = env.put("obj", SIZE, 41);
    let proxy = env.proxy(Vec::new()).await;
    proxy.set_link(Some(link));
    let dir = Scratch::new(name);
    let dest = dir.path("obj.bin");
    let client = builder_for(&proxy.endpoint(), SignatureVersion::V4)
        .build()
        .unwrap();
    let report = client
        .download(BUCKET, "obj", &dest)
        .part_size(256 * 1024)
        .max_request_size(512 * 1024)
        .threads_auto(32)
        .retry_policy(fast_retry())
        .throttle_policy(fast_throttle())
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_file(&dest, &want);
    assert_eq!(dir.names(), ["obj.bin"], "{name}");
    report
}

#[tokio::test]
async fn auto_connections_double_until_the_link_is_full() {
    // 256 KiB/s per connection, 4 MiB/s in all: the starting 8 fill half the link, 16 fill
    // it, 32 add nothing and are undone. About 2.5 s, several 0.5 s windows.
    let link = LinkModel::new(Duration::from_millis(10), 256 * 1024).with_total_rate(4 * MIB);
    let report = through_link("adapt-capped", link).await;
    assert_eq!(report.bytes_transferred, SIZE);
    let auto = report.adaptive.expect("threads_auto reports what it did");
    assert_eq!(auto.started, 8);
    assert_eq!(
        auto.history.first().map(|h| (h.to, h.reason)),
        Some((16, ConnectionChangeReason::RateRose)),
        "{auto:?}"
    );
    assert!(auto.peak >= 16, "{auto:?}");
}

#[tokio::test]
async fn auto_connections_back_off_from_throttling() {
    // Two requests in flight at most, 1 MiB/s each: the starting 8 are answered 503 but two
    // (retries), the count halves down to what the link allows, and the download still
    // ends byte-exact.
    let link = LinkModel::new(Duration::from_millis(5), MIB).with_max_concurrent(2, 503);
    let report = through_link("adapt-throttled", link).await;
    assert_eq!(report.bytes_transferred, SIZE);
    assert!(report.retries >= 1, "nothing was throttled: {report:?}");
    let auto = report.adaptive.expect("threads_auto reports what it did");
    assert!(
        auto.history
            .iter()
            .any(|h| h.reason == ConnectionChangeReason::Throttled),
        "{auto:?}"
    );
    assert!(auto.ended <= 3, "{auto:?}");
}
