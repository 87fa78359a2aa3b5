//! Keep-alive: sequential requests share one connection, concurrent ones get one each
//! (HTTP/1.1), and the pool timer closes idle connections.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use oss_emulator::ObjectSpec;
use oss_http::{AddressingStyle, ByteRange, Collect, GetRange, SignatureVersion};

use crate::common::{BUCKET, Env, builder_for};

#[tokio::test]
async fn sequential_requests_reuse_one_connection() {
    let env = Env::start().await;
    env.emu
        .put_object(BUCKET, "k", ObjectSpec::bytes(vec![7u8; 300_000]))
        .unwrap();
    let client = env.client(AddressingStyle::VirtualHosted, SignatureVersion::V4);
    let pin = client.head_object(BUCKET, "k", None).await.unwrap().pin();
    for i in 0..20u64 {
        let range = ByteRange::new(i * 10_000, (i + 1) * 10_000).unwrap();
        client
            .get_range(
                &GetRange::new(BUCKET, "k", &pin, range),
                &mut Collect::default(),
                None,
            )
            .await
            .unwrap();
        client.head_object(BUCKET, "k", None).await.unwrap();
    }
    assert_eq!(env.connections(), 1);
}

#[tokio::test]
async fn concurrent_parts_use_separate_connections_then_reuse_them() {
    let env = Env::start().await;
    env.emu
        .put_object(BUCKET, "k", ObjectSpec::bytes(vec![7u8; 4_000_000]))
        .unwrap();
    let client = env.client(AddressingStyle::Path, SignatureVersion::V4);
    let pin = client.head_object(BUCKET, "k", None).await.unwrap().pin();
    for _round in 0..2 {
        let mut tasks = Vec::new();
        for i in 0..4u64 {
            let client = client.clone();
            let pin = pin.clone();
            tasks.push(tokio::spawn(async move {
                let range = ByteRange::new(i * 1_000_000, (i + 1) * 1_000_000).unwrap();
                client
                    .get_range(
                        &GetRange::new(BUCKET, "k", &pin, range),
                        &mut Collect::default(),
                        None,
                    )
                    .await
                    .unwrap();
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    }
    // One for HEAD (reused by a part), at most 4 in all: never more than the parallelism.
    let n = env.connections();
    assert!((2..=4).contains(&n), "{n} connections");
}

/// A keep-alive server for HEAD requests that reports, on `closed`, when the client hangs up
/// its (single) connection: what an idle pool does is visible only from the server side.
async fn watched_head_server() -> (u16, Arc<AtomicU64>, tokio::sync::oneshot::Receiver<Instant>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicU64::new(0));
    let counter = Arc::clone(&accepted);
    let (closed_tx, closed) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        counter.fetch_add(1, Ordering::SeqCst);
        let mut head = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
            while let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
                head.drain(..end + 4);
                let answer = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nETag: \"E\"\r\n\r\n";
                tcp.write_all(answer.as_bytes()).await.unwrap();
            }
        }
        let _ = closed_tx.send(Instant::now());
    });
    (port, accepted, closed)
}

#[tokio::test]
async fn idle_connections_are_closed_by_the_pool_timer() {
    let (port, accepted, closed) = watched_head_server().await;
    let client = builder_for(port, AddressingStyle::Path, SignatureVersion::V1)
        .pool_idle_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    client.head_object(BUCKET, "k", None).await.unwrap();
    client.head_object(BUCKET, "k", None).await.unwrap();
    let idle_since = Instant::now();
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "keep-alive");
    // No further request: only the pool's timer can close the connection.
    let closed_at = tokio::time::timeout(Duration::from_secs(5), closed)
        .await
        .expect("the idle connection was never closed")
        .unwrap();
    let idle = closed_at - idle_since;
    assert!(
        idle >= Duration::from_millis(150),
        "closed too early: {idle:?}"
    );
}

/// `Duration::MAX` means "never close": no overflow panic in the pool's timer task (it runs
/// on this test's thread), and the idle connection stays open and is reused.
#[tokio::test]
async fn an_endless_pool_idle_timeout_keeps_connections() {
    thread_local!(static PANICKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) });
    // Chained to the default hook, so other tests' output is unchanged.
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        PANICKED.with(|p| p.set(true));
        previous(info);
    }));
    let (port, accepted, mut closed) = watched_head_server().await;
    let client = builder_for(port, AddressingStyle::Path, SignatureVersion::V1)
        .pool_idle_timeout(Duration::MAX)
        .build()
        .unwrap();
    client.head_object(BUCKET, "k", None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(closed.try_recv().is_err(), "the idle connection was closed");
    client.head_object(BUCKET, "k", None).await.unwrap();
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
    assert!(!PANICKED.with(std::cell::Cell::get), "a task panicked");
}
