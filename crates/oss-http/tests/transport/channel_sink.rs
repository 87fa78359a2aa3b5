//! A caller-implemented sink: chunks go through a bounded tokio channel to a writer on
//! another thread, and a full channel is back-pressure. (This shape once shipped in oss-http
//! as `ChannelSink`; no caller used it, so it lives here, where `ranges.rs` feeds a writer
//! thread through it.)

use bytes::Bytes;
use oss_http::ByteSink;
use tokio::sync::mpsc;

/// A chunk of a ranged GET's body, as sent through a [`ChannelSink`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Offset of the first byte in the object.
    pub offset: u64,
    /// The bytes.
    pub bytes: Bytes,
}

/// A sink that forwards chunks into a bounded channel.
#[derive(Debug, Clone)]
pub struct ChannelSink {
    tx: mpsc::Sender<Chunk>,
}

impl ChannelSink {
    /// A sink and its receiver, with room for `capacity` chunks in flight (at least 1).
    pub fn channel(capacity: usize) -> (Self, mpsc::Receiver<Chunk>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (Self { tx }, rx)
    }
}

/// The receiving end of a [`ChannelSink`] was dropped (the writer stopped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the sink's receiver is gone (the writer stopped)")]
pub struct ReceiverGone;

impl ByteSink for ChannelSink {
    type Error = ReceiverGone;

    async fn write(&mut self, offset: u64, bytes: Bytes) -> Result<(), ReceiverGone> {
        self.tx
            .send(Chunk { offset, bytes })
            .await
            .map_err(|_| ReceiverGone)
    }
}

#[tokio::test]
async fn channel_sink_applies_back_pressure_and_reports_a_gone_receiver() {
    let (mut sink, mut rx) = ChannelSink::channel(1);
    sink.write(0, Bytes::from_static(b"ab")).await.unwrap();
    // The channel is full: the second write waits until the receiver takes one.
    let pending = tokio::time::timeout(
        std::time::Duration::from_millis(20),
        sink.write(2, Bytes::from_static(b"cd")),
    )
    .await;
    assert!(pending.is_err(), "a full channel must hold the writer");
    assert_eq!(
        rx.recv().await,
        Some(Chunk {
            offset: 0,
            bytes: Bytes::from_static(b"ab")
        })
    );
    drop(rx);
    assert_eq!(
        sink.write(4, Bytes::from_static(b"ef")).await,
        Err(ReceiverGone)
    );
}
