//! The chaos proxy's link model end to end, on tokio's paused clock: the delays and rates a
//! client sees are the model's, measured in virtual time (no wall-clock assertion).

use std::time::Duration;

use oss_emulator::{ChaosProxy, LinkModel, ObjectSpec, RunningServer, Straggler, synthetic_bytes};
use tokio::time::Instant;

use crate::common::standard_model;
use crate::proxy_cases::{Client, Ending};

const MIB: u64 = 1 << 20;
/// Generous: on a paused clock a wait only ends early if the model never answers.
const WAIT: Duration = Duration::from_secs(600);

async fn rig(size: u64, link: LinkModel, seed: u64) -> (ChaosProxy, RunningServer) {
    let emu = standard_model();
    emu.put_object("pub", "big", ObjectSpec::synthetic(size, 9))
        .unwrap();
    let server = emu.start_server().await.unwrap();
    let proxy = ChaosProxy::start(server.local_addr(), Vec::new(), seed)
        .await
        .unwrap();
    proxy.set_link(Some(link));
    (proxy, server)
}

/// Within `tolerance` (a fraction) of `want`.
fn near(got: f64, want: f64, tolerance: f64) -> bool {
    (got / want - 1.0).abs() <= tolerance
}

#[tokio::test(start_paused = true)]
async fn first_byte_costs_two_round_trips_on_a_new_connection_and_one_after() {
    let link = LinkModel::new(Duration::from_millis(80), 100 * MIB);
    let (proxy, _server) = rig(1000, link, 1).await;
    let t0 = Instant::now();
    let mut c = Client::connect(proxy.local_addr()).await;
    let r = c.get("HEAD", "/pub/big", WAIT).await;
    assert_eq!((r.status, &r.ending), (200, &Ending::Complete));
    let first = t0.elapsed().as_secs_f64();
    assert!(near(first, 0.160, 0.05), "{first}");
    let t1 = Instant::now();
    let r = c.get("GET", "/pub/big", WAIT).await;
    assert_eq!(r.body, synthetic_bytes(9, 0, 1000));
    let second = t1.elapsed().as_secs_f64();
    assert!(near(second, 0.080, 0.05), "{second}");
}

#[tokio::test(start_paused = true)]
async fn one_connection_runs_at_its_cap_after_slow_start() {
    let size = 32 * MIB;
    let link = LinkModel::new(Duration::from_millis(10), 60 * MIB).with_total_rate(400 * MIB);
    let (proxy, _server) = rig(size, link, 1).await;
    let mut c = Client::connect(proxy.local_addr()).await;
    let t0 = Instant::now();
    let r = c.get("GET", "/pub/big", WAIT).await;
    assert_eq!((r.status, r.body.len() as u64), (200, size));
    let secs = t0.elapsed().as_secs_f64();
    // Transfer at the cap plus a round trip each for set-up and first byte and a few for
    // the window to reach 60 MiB/s x 10 ms = 0.6 MiB (about 6 doublings of 14 KiB).
    let ideal = size as f64 / (60 * MIB) as f64 + 0.020;
    assert!(secs > ideal && secs < ideal + 0.080, "{secs} vs {ideal}");
}

#[tokio::test(start_paused = true)]
async fn connections_share_the_aggregate_cap() {
    let size = 32 * MIB;
    let link = LinkModel::new(Duration::from_millis(1), 60 * MIB)
        .with_total_rate(100 * MIB)
        .with_windows(8 * MIB, 8 * MIB);
    let (proxy, _server) = rig(size, link, 1).await;
    let addr = proxy.local_addr();
    let t0 = Instant::now();
    let tasks: Vec<_> = (0..4u64)
        .map(|i| {
            tokio::spawn(async move {
                let mut c = Client::connect(addr).await;
                let path = format!("/pub/big?i={i}");
                c.get("GET", &path, WAIT).await
            })
        })
        .collect();
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!((r.status, r.body.len() as u64), (200, size));
    }
    // 4 x 32 MiB through a 100 MiB/s link: each connection alone could do 60.
    let secs = t0.elapsed().as_secs_f64();
    assert!(near(secs, 4.0 * 32.0 / 100.0, 0.05), "{secs}");
}

#[tokio::test(start_paused = true)]
async fn a_straggler_connection_crawls_and_is_recorded() {
    let size = 2 * MIB;
    let link = LinkModel::new(Duration::from_millis(1), 50 * MIB)
        .with_straggler(Straggler {
            one_in: 3,
            rate: MIB,
        })
        .with_windows(8 * MIB, 8 * MIB);
    let seed = 5;
    let slow = (1..=10).find(|c| link.is_straggler(seed, *c)).unwrap();
    let (proxy, _server) = rig(size, link.clone(), seed).await;
    for conn in 1..=slow {
        let mut c = Client::connect(proxy.local_addr()).await;
        let t0 = Instant::now();
        let r = c.get("GET", "/pub/big", WAIT).await;
        assert_eq!(r.body.len() as u64, size);
        let rate = size as f64 / t0.elapsed().as_secs_f64();
        let want = if link.is_straggler(seed, conn) {
            MIB
        } else {
            50 * MIB
        };
        // Below the cap by the round trip and head bytes only.
        assert!(
            rate <= want as f64 * 1.01 && rate > want as f64 * 0.85,
            "conn {conn}: {rate}"
        );
    }
    let stats = proxy.stats();
    let marked: Vec<u64> = stats
        .fired
        .iter()
        .filter(|f| f.kind == "straggler")
        .map(|f| f.connection)
        .collect();
    let want: Vec<u64> = (1..=slow).filter(|c| link.is_straggler(seed, *c)).collect();
    assert_eq!(marked, want);
}

#[tokio::test(start_paused = true)]
async fn above_k_in_flight_the_link_answers_503_with_an_oss_body() {
    let size = 4 * MIB;
    let link = LinkModel::new(Duration::from_millis(20), 10 * MIB).with_max_concurrent(2, 503);
    let (proxy, _server) = rig(size, link, 1).await;
    let addr = proxy.local_addr();
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            tokio::spawn(async move {
                let mut c = Client::connect(addr).await;
                let first = c.get("GET", "/pub/big", WAIT).await;
                // Once the others are done, the same connection is admitted.
                tokio::time::sleep(Duration::from_secs(2)).await;
                let again = c.get("GET", "/pub/big", WAIT).await;
                (first, again)
            })
        })
        .collect();
    let (mut refused_first, mut refused) = (0, 0);
    for t in tasks {
        let (first, again) = t.await.unwrap();
        for (round, r) in [first, again].into_iter().enumerate() {
            assert_eq!(r.ending, Ending::Complete);
            match r.status {
                200 => assert_eq!(r.body.len() as u64, size),
                503 => {
                    refused += 1;
                    refused_first += u64::from(round == 0);
                    let body = String::from_utf8_lossy(&r.body);
                    assert!(body.contains("<Code>ServiceUnavailable</Code>"), "{body}");
                    assert!(r.head.contains("x-oss-request-id"), "{}", r.head);
                }
                s => panic!("status {s}"),
            }
        }
    }
    // Three at once with room for two: exactly one refused, and each refusal recorded.
    assert_eq!(refused_first, 1);
    assert_eq!(proxy.stats().fired_count("link_throttle"), refused);
    // Alone, a request always goes through.
    let mut c = Client::connect(addr).await;
    let r = c.get("GET", "/pub/big", WAIT).await;
    assert_eq!((r.status, r.body.len() as u64), (200, size));
}
