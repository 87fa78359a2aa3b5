//! Wrong answers to a range are refused before any byte is written; chunks are bounded; the
//! gzip quirk cannot reach us; a channel sink feeds a writer thread.

use std::time::Duration;

use bytes::Bytes;
use oss_emulator::{BucketSpec, FaultAction, ObjectSpec, ServiceFault};
use oss_http::{
    AddressingStyle, ByteRange, ByteSink, Collect, Crc64, Error, GetRange, ObjectPin,
    SignatureVersion,
};

use crate::channel_sink::ChannelSink;
use crate::common::{BUCKET, Env};

const V4: SignatureVersion = SignatureVersion::V4;

/// A sink that fails the test if it is ever written to.
struct MustNotWrite;

#[derive(Debug, thiserror::Error)]
#[error("unreachable")]
struct Never;

impl ByteSink for MustNotWrite {
    type Error = Never;
    async fn write(&mut self, offset: u64, chunk: Bytes) -> Result<(), Never> {
        panic!("{} bytes at {offset} reached the sink", chunk.len());
    }
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

#[tokio::test]
async fn wrong_ranges_are_refused_before_writing() {
    let env = Env::start().await;
    let info = env
        .emu
        .put_object(BUCKET, "k", ObjectSpec::bytes(data(10_000)))
        .unwrap();
    let client = env.client(AddressingStyle::VirtualHosted, V4);
    let pin = client.head_object(BUCKET, "k", None).await.unwrap().pin();
    let range = ByteRange::inclusive(1000, 1999).unwrap();
    let get = GetRange::new(BUCKET, "k", &pin, range);

    // 200 with the whole object.
    env.emu
        .add_fault(ServiceFault::new(FaultAction::WholeBodyForRange).times(1));
    let mut crc = Crc64::new();
    let e = client
        .get_range(&get, &mut MustNotWrite, Some(&mut crc))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::RangeIgnored { .. }), "{e:?}");
    assert!(!e.is_retryable());
    assert_eq!((e.delivered(), crc.len()), (0, 0));
    assert!(e.request_id().is_some());

    // A shifted range with a truthful Content-Range.
    env.emu
        .add_fault(ServiceFault::new(FaultAction::ShiftRange(10)).times(1));
    let e = client
        .get_range(&get, &mut MustNotWrite, Some(&mut crc))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::RangeMismatch { .. }), "{e:?}");
    assert!(e.to_string().contains("bytes 1010-2009/10000"), "{e}");

    // A clamped range: we believe the object is bigger than it is, OSS clamps the end.
    let bigger = ObjectPin {
        size: 20_000,
        ..pin.clone()
    };
    let over = GetRange::new(
        BUCKET,
        "k",
        &bigger,
        ByteRange::inclusive(9000, 10_999).unwrap(),
    );
    let e = client
        .get_range(&over, &mut MustNotWrite, Some(&mut crc))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::RangeMismatch { .. }), "{e:?}");
    assert!(e.to_string().contains("bytes 9000-9999/10000"), "{e}");
    assert_eq!(crc.len(), 0);

    // The object changes between HEAD and GET: If-Match fails.
    env.emu.replace_object(BUCKET, "k").unwrap();
    let e = client
        .get_range(&get, &mut MustNotWrite, Some(&mut crc))
        .await
        .unwrap_err();
    assert!(e.is_object_changed(), "{e:?}");
    assert_ne!(env.emu.object_info(BUCKET, "k").unwrap().etag, info.etag);

    // And the good case still works after all that, on the new version.
    let pin = client.head_object(BUCKET, "k", None).await.unwrap().pin();
    let mut sink = Collect::default();
    client
        .get_range(
            &GetRange::new(BUCKET, "k", &pin, range),
            &mut sink,
            Some(&mut crc),
        )
        .await
        .unwrap();
    assert_eq!(sink.data.len(), 1000);
}

#[tokio::test]
async fn a_corrupted_byte_shows_in_the_part_crc() {
    let env = Env::start().await;
    let bytes = data(5000);
    env.emu
        .put_object(BUCKET, "k", ObjectSpec::bytes(bytes.clone()))
        .unwrap();
    let client = env.client(AddressingStyle::Path, V4);
    let pin = client.head_object(BUCKET, "k", None).await.unwrap().pin();
    env.emu
        .add_fault(ServiceFault::new(FaultAction::CorruptByte(123)).times(1));
    let mut crc = Crc64::new();
    let mut sink = Collect::default();
    client
        .get_range(
            &GetRange::new(BUCKET, "k", &pin, ByteRange::inclusive(0, 4999).unwrap()),
            &mut sink,
            Some(&mut crc),
        )
        .await
        .unwrap();
    // Transport-level checks cannot see it; the CRC computed on the way does.
    assert_ne!(sink.data, bytes);
    assert_eq!(crc.value(), oss_crc::checksum(&sink.data));
    assert_ne!(crc.value(), oss_crc::checksum(&bytes));
}

#[tokio::test]
async fn gzip_quirk_on_and_our_responses_are_still_identity() {
    let env = Env::start().await;
    env.emu
        .add_bucket(BucketSpec::new("public").public_read())
        .unwrap();
    let text: Vec<u8> = b"hello, plain text that gzip would love to squeeze. "
        .iter()
        .copied()
        .cycle()
        .take(8192)
        .collect();
    let spec = || ObjectSpec::bytes(text.clone()).content_type("text/plain");
    env.emu.put_object(BUCKET, "t.txt", spec()).unwrap();
    env.emu.put_object("public", "t.txt", spec()).unwrap();
    env.emu.set_gzip_quirk(true);

    // The switch works: a client asking for gzip gets gzip.
    let raw = raw_get(env.port(), "/public/t.txt", "gzip").await;
    assert!(
        raw.to_ascii_lowercase().contains("content-encoding: gzip"),
        "{raw}"
    );

    let client = env.client(AddressingStyle::Path, V4);
    let meta = client.head_object(BUCKET, "t.txt", None).await.unwrap();
    assert_eq!(meta.size, 8192);
    assert!(meta.other_headers.get("content-encoding").is_none());
    let pin = meta.pin();
    let mut sink = Collect::default();
    let mut crc = Crc64::new();
    client
        .get_range(
            &GetRange::new(
                BUCKET,
                "t.txt",
                &pin,
                ByteRange::inclusive(100, 8191).unwrap(),
            ),
            &mut sink,
            Some(&mut crc),
        )
        .await
        .unwrap();
    assert_eq!(sink.data, text[100..]);
}

/// One HTTP/1.1 GET on a fresh connection; returns the response head and what body came.
async fn raw_get(port: u16, path: &str, accept_encoding: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept-Encoding: {accept_encoding}\r\nConnection: close\r\n\r\n"
    );
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    let head_end = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(out.len());
    String::from_utf8_lossy(&out[..head_end]).into_owned()
}

#[tokio::test]
async fn chunks_are_bounded_and_offsets_exact() {
    let env = Env::start().await;
    let bytes = data(3 * 1024 * 1024 + 17);
    env.emu
        .put_object(BUCKET, "big", ObjectSpec::bytes(bytes.clone()))
        .unwrap();
    let client = env.client(AddressingStyle::Path, V4);
    let pin = client.head_object(BUCKET, "big", None).await.unwrap().pin();
    let range = ByteRange::inclusive(5, bytes.len() as u64 - 1).unwrap();
    let mut sink = Collect::default();
    client
        .get_range(
            &GetRange::new(BUCKET, "big", &pin, range).max_chunk(16 * 1024),
            &mut sink,
            None,
        )
        .await
        .unwrap();
    assert_eq!(sink.data, bytes[5..]);
    assert!(
        sink.chunk_sizes.iter().all(|&n| n > 0 && n <= 16 * 1024),
        "{:?}",
        sink.chunk_sizes.iter().max()
    );
}

#[tokio::test]
async fn channel_sink_feeds_a_writer_thread_with_back_pressure() {
    let env = Env::start().await;
    let bytes = data(2 * 1024 * 1024);
    env.emu
        .put_object(BUCKET, "f", ObjectSpec::bytes(bytes.clone()))
        .unwrap();
    let client = env.client(AddressingStyle::Path, V4);
    let pin = client.head_object(BUCKET, "f", None).await.unwrap().pin();

    // A writer thread doing positional writes into a buffer; 2 chunks in flight at most.
    let (mut sink, mut rx) = ChannelSink::channel(2);
    let size = bytes.len();
    let writer = std::thread::spawn(move || {
        let mut file = vec![0u8; size];
        let mut writes = 0;
        while let Some(chunk) = rx.blocking_recv() {
            let at = chunk.offset as usize;
            file[at..at + chunk.bytes.len()].copy_from_slice(&chunk.bytes);
            writes += 1;
            // A slow disk: the network task must wait, not buffer.
            std::thread::sleep(Duration::from_micros(200));
        }
        (file, writes)
    });
    let half = bytes.len() as u64 / 2;
    let mut crc = Crc64::new();
    for range in [
        ByteRange::inclusive(half, bytes.len() as u64 - 1).unwrap(),
        ByteRange::inclusive(0, half - 1).unwrap(),
    ] {
        client
            .get_range(
                &GetRange::new(BUCKET, "f", &pin, range).max_chunk(64 * 1024),
                &mut sink,
                None,
            )
            .await
            .unwrap();
    }
    drop(sink);
    let (file, writes) = writer.join().unwrap();
    assert_eq!(file, bytes);
    assert!(writes >= 32, "{writes}");
    crc.update(&file);
    assert_eq!(
        Some(crc.value()),
        client.head_object(BUCKET, "f", None).await.unwrap().crc64
    );
}
