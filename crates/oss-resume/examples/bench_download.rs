//! Measures one download: wall time, throughput, this process's CPU seconds per GiB and peak
//! RSS (Linux `/proc`), as one line of JSON. The server is another process (for example the
//! `oss-emulator` binary), so the CPU and memory are the client's alone.
//!
//! ```sh
//! cargo build --release -p oss-emulator -p oss-resume --examples --bins
//! target/release/oss-emulator --listen 127.0.0.1:0 --access-key-id ID \
//!     --access-key-secret SECRET --object bkt/big.bin=1GiB,seed=1 --crc64 &
//! BENCH_ENDPOINT=http://127.0.0.1:PORT OSS_ACCESS_KEY_ID=ID OSS_ACCESS_KEY_SECRET=SECRET \
//!     target/release/examples/bench_download bkt big.bin /path/out.bin \
//!     [THREADS (4)] [PART_BYTES (8388608)] [off|off-fast|durable|fast (off)]
//! ```
//!
//! The part size is a plain byte count. `off` and `durable` fdatasync before the rename (the
//! default); `off-fast` and `fast` never fsync. `durable` also syncs every second with its
//! checkpoint.

use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [bucket, key, dest, rest @ ..] = args.as_slice() else {
        return Err("usage: bench_download BUCKET KEY DEST [threads] [part] [checkpoint]".into());
    };
    let threads: usize = rest.first().map_or(Ok(4), |t| t.parse())?;
    let part: u64 = rest.get(1).map_or(Ok(8 << 20), |p| p.parse())?;
    let mode = rest.get(2).map_or("off", String::as_str);
    let client = oss_resume::Client::builder()
        .endpoint(std::env::var("BENCH_ENDPOINT")?)
        .signature_version(oss_resume::SignatureVersion::V1)
        .credentials(oss_resume::Credentials::from_env()?)
        .build()?;
    let mut download = client
        .download(bucket, key, dest)
        .threads(threads)
        .part_size(part);
    download = match mode {
        "off" => download,
        "off-fast" => download.durability(oss_resume::Durability::Fast),
        "durable" => download
            .checkpoint(true)
            .durability(oss_resume::Durability::Durable),
        "fast" => download
            .checkpoint(true)
            .durability(oss_resume::Durability::Fast),
        other => {
            return Err(
                format!("checkpoint mode `{other}`: off, off-fast, durable or fast").into(),
            );
        }
    };
    let cpu_before = cpu_seconds()?;
    let started = Instant::now();
    let report = download.blocking()?;
    let secs = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds()? - cpu_before;
    let gib = report.bytes_total as f64 / f64::from(1u32 << 30);
    println!(
        "{{\"threads\":{threads},\"part\":{part},\"checkpoint\":\"{mode}\",\"bytes\":{},\"seconds\":{secs:.3},\"mib_per_s\":{:.1},\"cpu_s_per_gib\":{:.3},\"peak_rss_mib\":{:.1},\"resumed\":{},\"transferred\":{},\"retries\":{}}}",
        report.bytes_total,
        report.bytes_total as f64 / secs / f64::from(1u32 << 20),
        cpu / gib.max(f64::MIN_POSITIVE),
        peak_rss_kib()? as f64 / 1024.0,
        report.bytes_resumed,
        report.bytes_transferred,
        report.retries,
    );
    Ok(())
}

/// User + system CPU seconds of this process (`/proc/self/stat`, 100 ticks per second).
fn cpu_seconds() -> Result<f64, Box<dyn std::error::Error>> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    let after_name = stat.rsplit_once(')').ok_or("bad /proc/self/stat")?.1;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of the whole line are the 12th and 13th after the name.
    let utime: f64 = fields.get(11).ok_or("utime")?.parse()?;
    let stime: f64 = fields.get(12).ok_or("stime")?.parse()?;
    Ok((utime + stime) / 100.0)
}

/// Peak resident set size (`VmHWM`), KiB.
fn peak_rss_kib() -> Result<u64, Box<dyn std::error::Error>> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .ok_or("no VmHWM")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .ok_or("VmHWM value")?
        .parse()?)
}
