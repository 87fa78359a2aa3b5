//! Keep-alive: sequential requests share one connection, concurrent ones get one each
//! (HTTP/1.1), and the pool timer closes idle connections.

use std::time::Duration;

use oss_emulator::ObjectSpec;
use oss_http::{AddressingStyle, ByteRange, Collect, Crc64, GetRange, SignatureVersion};

use crate::common::{BUCKET, Env};

#[tokio::test]
async fn sequential_requests_reuse_one_connection() {
    let env = Env::start().await;
    env.emu
        .put_object(BUCKET, "k", ObjectSpec::bytes(vec![7u8; 300_000]))
        .unwrap();
    let client = env.client(AddressingStyle::VirtualHosted, SignatureVersion::V4);
    let pin = client.head_object(BUCKET, "k", None).await.unwrap().pin();
    for i in 0..20u64 {
        let range = ByteRange::from_start_len(i * 10_000, 10_000).unwrap();
        client
            .get_range(
                &GetRange::new(BUCKET, "k", &pin, range),
                &mut Collect::default(),
                &mut Crc64::new(),
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
                let range = ByteRange::from_start_len(i * 1_000_000, 1_000_000).unwrap();
                client
                    .get_range(
                        &GetRange::new(BUCKET, "k", &pin, range),
                        &mut Collect::default(),
                        &mut Crc64::new(),
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

#[tokio::test]
async fn idle_connections_are_closed_by_the_pool_timer() {
    let env = Env::start().await;
    env.emu
        .put_object(BUCKET, "k", ObjectSpec::bytes(vec![7u8; 100]))
        .unwrap();
    let client = env
        .builder(AddressingStyle::Path, SignatureVersion::V1)
        .pool_idle_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    client.head_object(BUCKET, "k", None).await.unwrap();
    client.head_object(BUCKET, "k", None).await.unwrap();
    assert_eq!(env.connections(), 1);
    tokio::time::sleep(Duration::from_millis(700)).await;
    client.head_object(BUCKET, "k", None).await.unwrap();
    assert_eq!(env.connections(), 2);
}
