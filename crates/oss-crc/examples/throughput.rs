//! Measures CRC-64/XZ throughput: `cargo run --release -p oss-crc --example throughput [MiB]`.
//!
//! Hashes a buffer (default 1024 MiB, in 256 KiB chunks like the downloader's writes) three
//! times and prints the best GiB/s, plus the cost of one `shift` (the fold's per-part work).

use std::time::Instant;

fn main() {
    let mib: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1024);
    let chunk = vec![0x5Au8; 256 * 1024];
    let chunks = mib * 4;
    let mut best = f64::INFINITY;
    let mut last = 0;
    for _ in 0..3 {
        let started = Instant::now();
        let mut digest = oss_crc::Crc64::new();
        for _ in 0..chunks {
            digest.update(&chunk);
        }
        last = digest.value();
        best = best.min(started.elapsed().as_secs_f64());
    }
    let gib = (chunks * chunk.len()) as f64 / (1u64 << 30) as f64;
    println!(
        "crc64 streaming: {gib:.2} GiB in {best:.3} s best of 3 = {:.2} GiB/s (crc {last:#x})",
        gib / best
    );

    let rounds = 100_000u64;
    let started = Instant::now();
    let mut acc = 0u64;
    for i in 0..rounds {
        acc ^= oss_crc::shift(acc ^ i, (i << 20) | 0xFFFF);
    }
    let per = started.elapsed().as_secs_f64() / rounds as f64;
    println!(
        "shift by ~2^40 bytes: {:.2} us each (acc {acc:#x})",
        per * 1e6
    );
}
