//! `Client::stream`: in order and byte-exact through cuts, ranges with their CRC, the
//! reorder window's bound, a corrupt body, a writer that closes.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use oss_emulator::{CutMode, FaultAction, NetFault, ServiceFault};
use oss_resume::{Error, ObjectRange};
use tokio::io::AsyncWrite;

use crate::common::*;

const SIZE: u64 = 1_000_003;
const PART: u64 = 64 * 1024;

/// A writer whose bytes the test reads afterwards (a stream owns its writer).
#[derive(Clone, Default)]
struct Shared(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl Shared {
    fn bytes(&self) -> Vec<u8> {
        self.0.lock().unwrap().clone()
    }
}

impl AsyncWrite for Shared {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

fn assert_bytes(got: &[u8], want: &[u8]) {
    assert_eq!(got.len(), want.len(), "length");
    if let Some(at) = got.iter().zip(want).position(|(a, b)| a != b) {
        panic!("first difference at byte {at}");
    }
}

#[tokio::test]
async fn streams_in_order_byte_exact_through_cuts() {
    let env = Env::start().await;
    let want = env.put("obj", SIZE, 71);
    for (name, fault) in [
        (
            "random-cuts",
            NetFault::RandomCut {
                probability: 0.5,
                mode: CutMode::Rst,
            },
        ),
        (
            "cut-every-connection",
            NetFault::CutEveryConnectionAfter {
                bytes: 40_000,
                mode: CutMode::Fin,
            },
        ),
    ] {
        let proxy = env.proxy(vec![fault]).await;
        let client = client_for(&proxy.endpoint(), oss_resume::SignatureVersion::V4);
        let out = Shared::default();
        let report = client
            .stream(BUCKET, "obj", out.clone())
            .threads(4)
            .part_size(PART)
            .retry_policy(fast_retry())
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_bytes(&out.bytes(), &want);
        assert!(report.retries >= 1, "{name}: no cut happened");
        assert!(report.crc64_verified, "{name}");
        assert_eq!(report.crc64, oss_crc::checksum(&want), "{name}");
        assert_eq!(
            (report.bytes_written, report.range.clone()),
            (SIZE, 0..SIZE)
        );
    }
}

#[tokio::test]
async fn ranges_stream_their_bytes_and_their_crc() {
    let env = Env::start().await;
    let want = env.put("obj", SIZE, 72);
    let client = env.client();
    for (range, span) in [
        (
            ObjectRange::From {
                first: 1000,
                last: Some(200_000),
            },
            1000..200_001,
        ),
        (
            ObjectRange::From {
                first: 999_000,
                last: None,
            },
            999_000..SIZE,
        ),
        (ObjectRange::Last(77_777), SIZE - 77_777..SIZE),
        (
            ObjectRange::From {
                first: 0,
                last: Some(SIZE + 100),
            },
            0..SIZE,
        ),
    ] {
        let out = Shared::default();
        let report = client
            .stream(BUCKET, "obj", out.clone())
            .range(range)
            .threads(3)
            .part_size(PART)
            .await
            .unwrap();
        let slice = &want[span.start as usize..span.end as usize];
        assert_bytes(&out.bytes(), slice);
        assert_eq!(report.range, span);
        assert_eq!(report.crc64, oss_crc::checksum(slice), "{range}");
        // OSS has a CRC for the whole object only.
        assert_eq!(report.crc64_verified, span == (0..SIZE), "{range}");
    }
    // Past the end: named, after HEAD and before any GET.
    env.emu.reset_counters();
    let e = client
        .stream(BUCKET, "obj", Vec::new())
        .range(ObjectRange::From {
            first: SIZE,
            last: None,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::RangeNotSatisfiable { size: SIZE, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("give a start below 1000003"), "{e}");
    assert_eq!(env.emu.counters().requests_for("GET", BUCKET, "obj"), 0);
}

/// A writer that takes `accept` bytes, then either blocks forever or fails with
/// `BrokenPipe` (a pipe whose reader has gone).
struct Closing {
    accept: usize,
    taken: usize,
    block: bool,
}

impl AsyncWrite for Closing {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let room = self.accept - self.taken;
        if room == 0 {
            return if self.block {
                Poll::Pending
            } else {
                Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()))
            };
        }
        let n = room.min(buf.len());
        self.taken += n;
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[tokio::test]
async fn a_stuck_reader_holds_the_window_at_threads_parts() {
    let env = Env::start().await;
    env.put("obj", SIZE, 73);
    let token = oss_resume::CancellationToken::new();
    let stream = env
        .client()
        .stream(
            BUCKET,
            "obj",
            Closing {
                accept: 1000,
                taken: 0,
                block: true,
            },
        )
        .threads(3)
        .part_size(PART)
        .cancel_token(token.clone());
    let task = tokio::spawn(stream.into_future());
    // The writer is stuck inside part 0: parts 0, 1 and 2 may be fetched, never part 3,
    // however long it waits (16 parts in the plan).
    let gets = || env.emu.counters().requests_for("GET", BUCKET, "obj");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while gets() < 3 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(gets(), 3);
    token.cancel();
    let e = task.await.unwrap().unwrap_err();
    assert!(matches!(e, Error::Cancelled { .. }), "{e}");
}

#[tokio::test]
async fn a_closed_writer_and_a_corrupt_body_are_named() {
    let env = Env::start().await;
    env.put("obj", SIZE, 74);
    let e = env
        .client()
        .stream(
            BUCKET,
            "obj",
            Closing {
                accept: 100_000,
                taken: 0,
                block: false,
            },
        )
        .threads(2)
        .part_size(PART)
        .await
        .unwrap_err();
    assert_eq!(e.io_kind(), Some(io::ErrorKind::BrokenPipe), "{e}");
    assert!(
        matches!(
            e,
            Error::Output {
                bytes_written: 100_000,
                ..
            }
        ),
        "{e:?}"
    );
    // One corrupt byte: every byte went out, then the CRC says so.
    env.emu.add_fault(
        ServiceFault::new(FaultAction::CorruptByte(77))
            .ranged_only()
            .times(1),
    );
    let out = Shared::default();
    let e = env
        .client()
        .stream(BUCKET, "obj", out.clone())
        .threads(2)
        .part_size(PART)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::StreamCorrupt {
                bytes_written: SIZE,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("must be discarded"), "{e}");
    assert_eq!(out.bytes().len() as u64, SIZE);
}

#[tokio::test]
async fn an_object_replaced_mid_stream_stops_it_with_nothing_of_the_new_version() {
    let env = Env::start().await;
    let want = env.put("moving", 400_000, 75);
    env.emu.add_fault(
        ServiceFault::new(FaultAction::ReplaceObject(None))
            .method(http::Method::GET)
            .on_request(2),
    );
    let out = Shared::default();
    let e = env
        .client()
        .stream(BUCKET, "moving", out.clone())
        .part_size(100_000)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::ObjectChanged { .. }), "{e}");
    // Whatever went out is the old version's beginning.
    let got = out.bytes();
    assert!(got.len() < want.len());
    assert_bytes(&got, &want[..got.len()]);
}
