//! Client CPU seconds per GiB: one ranged GET of a whole synthetic object (1 GiB by default)
//! through one connection into a discarding sink, CRC-64 on, against the streaming emulator.
//!
//! The emulator runs in this process but on its own runtime threads; the client runs on a
//! current-thread runtime on the main thread (hyper's connection task included), so the main
//! thread's CPU time (`/proc/thread-self/stat`, the counters `getrusage(RUSAGE_THREAD)`
//! reads) is the client's alone. The process total (client + emulator) is printed too.
//!
//! ```text
//! cargo run --release -p oss-http --example cpu_per_gib            # 1 GiB
//! cargo run --release -p oss-http --example cpu_per_gib -- 256     # 256 MiB
//! ```

use std::error::Error;
use std::time::{Duration, Instant};

use bytes::Bytes;
use oss_emulator::{BucketSpec, CrcMode, Emulator, ObjectSpec};
use oss_http::{ByteRange, ByteSink, Client, Crc64, Credentials, GetRange};

const AK: &str = "LTAI5tCpuBenchKeyId";
const SK: &str = "CpuBenchSecret0123456789";

/// Drops the bytes; counts them and the chunks (to show the chunk sizes a sink sees).
#[derive(Default)]
struct CountingDiscard {
    bytes: u64,
    chunks: u64,
    largest: usize,
}

impl ByteSink for CountingDiscard {
    type Error = std::convert::Infallible;

    async fn write(&mut self, _offset: u64, chunk: Bytes) -> Result<(), Self::Error> {
        self.bytes += chunk.len() as u64;
        self.chunks += 1;
        self.largest = self.largest.max(chunk.len());
        Ok(())
    }
}

/// CPU time (user + system) from a `/proc/.../stat` file.
fn cpu_time(stat_path: &str) -> Result<Duration, Box<dyn Error>> {
    let text = std::fs::read_to_string(stat_path)?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = text
        .rsplit_once(')')
        .map(|(_, r)| r)
        .ok_or("malformed stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| -> Result<u64, Box<dyn Error>> {
        Ok(fields.get(i).ok_or("short stat")?.parse::<u64>()?)
    };
    // `rest` starts at field 3 (state), so field 14 is index 11.
    let total = ticks(11)? + ticks(12)?;
    Ok(Duration::from_secs_f64(
        total as f64 / clock_ticks_per_sec(),
    ))
}

fn clock_ticks_per_sec() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

fn main() -> Result<(), Box<dyn Error>> {
    let mib: u64 = match std::env::args().nth(1) {
        Some(text) => text.parse()?,
        None => 1024,
    };
    let size = mib << 20;

    // The emulator: its own runtime and threads.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let emu = Emulator::new();
    emu.add_credentials(oss_emulator::Credentials::new(AK, SK));
    emu.add_bucket(BucketSpec::new("bench"))?;
    let info = emu.put_object(
        "bench",
        "big.bin",
        ObjectSpec::synthetic(size, 7).crc64(CrcMode::Now),
    )?;
    let server = server_rt.block_on(emu.start_server())?;
    let endpoint = server.endpoint().to_owned();

    // The client: this thread only.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let client = Client::builder()
            .endpoint(endpoint)
            .region("cn-bench")
            .credentials(Credentials::new(AK, SK)?)
            .build()?;
        let meta = client.head_object("bench", "big.bin", None).await?;
        let pin = meta.pin();
        let range = ByteRange::new(0, size)?; // an empty object is an error
        let mut sink = CountingDiscard::default();
        let mut crc = Crc64::new();
        let thread_before = cpu_time("/proc/thread-self/stat")?;
        let process_before = cpu_time("/proc/self/stat")?;
        let started = Instant::now();
        client
            .get_range(
                &GetRange::new("bench", "big.bin", &pin, range),
                &mut sink,
                Some(&mut crc),
            )
            .await?;
        let wall = started.elapsed();
        let client_cpu = cpu_time("/proc/thread-self/stat")? - thread_before;
        let process_cpu = cpu_time("/proc/self/stat")? - process_before;
        if Some(crc.value()) != info.crc64 || sink.bytes != size {
            return Err("CRC-64 or length mismatch".into());
        }
        let gib = size as f64 / f64::from(1u32 << 30);
        println!(
            "{mib} MiB in {:.3} s ({:.0} MiB/s), one connection, CRC-64 checked",
            wall.as_secs_f64(),
            mib as f64 / wall.as_secs_f64()
        );
        println!(
            "{} chunks to the sink, {:.0} KiB on average, largest {} KiB",
            sink.chunks,
            sink.bytes as f64 / sink.chunks.max(1) as f64 / 1024.0,
            sink.largest / 1024
        );
        println!(
            "client CPU {:.3} s = {:.3} CPU-s/GiB (process incl. emulator: {:.3} s)",
            client_cpu.as_secs_f64(),
            client_cpu.as_secs_f64() / gib,
            process_cpu.as_secs_f64()
        );
        Ok::<(), Box<dyn Error>>(())
    })?;
    drop(server);
    Ok(())
}
