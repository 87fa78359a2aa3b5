//! Measures the checkpoint of a 10 TiB object in 1 MiB parts (10M parts) with 16 parts in
//! flight: bytes on disk, encode and decode time, and cheap and durable save times in DIR
//! (default: `target/ckpt-scale`, on the same disk as the checkout).
//!
//! ```text
//! cargo run --release -p oss-ckpt --example ckpt_scale -- [DIR]
//! ```
//!
//! Two patterns of "half done": a contiguous prefix (the usual in-order download) and a
//! random half (the worst case). In both, the durable snapshot lags the latest one by
//! 1024 parts, as it would between two data fsyncs.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use oss_ckpt::fs::{CheckpointFile, SaveKind};
use oss_ckpt::{Checkpoint, FileIdentity, LocalFiles, ObjectIdentity};
use oss_parts::{PartSize, Plan};

const PARTS: u64 = 10 << 20;
const IN_FLIGHT: u64 = 16;
const DURABLE_LAG: u64 = 1024;

fn object() -> ObjectIdentity {
    ObjectIdentity {
        endpoint_host: "oss-cn-hangzhou.aliyuncs.com".into(),
        bucket: "examplebucket".into(),
        key: "datasets/ten-tebibytes.tar".into(),
        version_id: Some("CAEQNhiBgMDJgZCA0BYiIDc4MGZjZGI2OTBjOTRmNTE5NmU5NmFhZjhjYmY0".into()),
        etag: "\"5B3C1A2E053D763E1B002CC607C5A0FE-10240\"".into(),
        size: 10 << 40,
        last_modified: "Fri, 24 Feb 2012 06:07:48 GMT".into(),
        crc64: Some(0x995D_C9BB_DF19_39FA),
    }
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// The done parts: the first half, or a random half (same seed every run).
fn done_parts(random: bool) -> Vec<u64> {
    if !random {
        return (0..PARTS / 2).collect();
    }
    let mut seed = 0x2545_F491_4F6C_DD1D;
    let mut picked = vec![false; PARTS as usize];
    let mut order = Vec::with_capacity((PARTS / 2) as usize);
    while (order.len() as u64) < PARTS / 2 {
        let index = xorshift(&mut seed) % PARTS;
        if let Some(slot) = picked.get_mut(index as usize)
            && !*slot
        {
            *slot = true;
            order.push(index);
        }
    }
    order
}

fn build(random: bool, destination: PathBuf) -> Result<Checkpoint, Box<dyn std::error::Error>> {
    let plan = Plan::new(10 << 40, PartSize::new(1 << 20)?)?;
    let local = LocalFiles {
        temp_path: destination.with_extension("tmp-abcdefghijkl"),
        destination,
        temp_file: FileIdentity {
            device: 2049,
            file_id: 1_234_567,
            len: 10 << 40,
            created: None,
        },
    };
    let mut ckpt = Checkpoint::new(object(), plan, local, oss_ckpt::fs::boot_id())?;
    let done = done_parts(random);
    let (older, newer) = done.split_at(done.len() - DURABLE_LAG as usize);
    for &index in older {
        ckpt.durable.complete(index, index)?;
    }
    ckpt.latest = ckpt.durable.clone();
    for &index in newer {
        ckpt.latest.complete(index, index)?;
    }
    // 16 parts in flight in each snapshot, somewhere in the missing parts.
    for progress in [&mut ckpt.latest, &mut ckpt.durable] {
        let missing: Vec<u64> = progress
            .done()
            .missing_ranges()
            .flatten()
            .step_by(1000)
            .take(IN_FLIGHT as usize)
            .collect();
        for index in missing {
            progress.record(index, 123_456, index ^ 0xABCD)?;
        }
    }
    Ok(ckpt)
}

/// Minimum, median and maximum of `runs` timings of `f` (the machine is shared: the
/// minimum is the cost, the median what to expect, the maximum the noise).
fn time<E>(runs: usize, mut f: impl FnMut() -> Result<(), E>) -> Result<[Duration; 3], E> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let started = Instant::now();
        f()?;
        times.push(started.elapsed());
    }
    times.sort();
    Ok([times[0], times[runs / 2], times[runs - 1]])
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/ckpt-scale"));
    std::fs::create_dir_all(&dir)?;
    println!(
        "10 TiB in 1 MiB parts = {PARTS} parts, {IN_FLIGHT} in flight, durable lags by {DURABLE_LAG} parts; saving in {}",
        dir.display()
    );
    println!("times in ms as min / median / max");
    for random in [false, true] {
        let name = if random { "random" } else { "prefix" };
        let built = Instant::now();
        let ckpt = build(random, dir.join(format!("{name}.bin")))?;
        let build_time = built.elapsed();

        let mut buffer = Vec::new();
        let encode = time(101, || oss_ckpt::encode_into(&ckpt, &mut buffer))?;
        let bytes = buffer.len();
        let decode = time(21, || oss_ckpt::decode(&buffer).map(|_| ()))?;
        assert_eq!(oss_ckpt::decode(&buffer)?, ckpt);

        let mut file = CheckpointFile::new(dir.join(format!("{name}.bin.cp")));
        file.save(&ckpt, SaveKind::Cheap)?; // warm up: the file exists from now on
        let cheap = time(201, || file.save(&ckpt, SaveKind::Cheap))?;
        let durable = time(31, || file.save(&ckpt, SaveKind::Durable))?;
        let on_disk = std::fs::metadata(file.path())?.len();
        assert_eq!(on_disk as usize, bytes);
        file.remove()?;

        let ms = |[min, med, max]: [Duration; 3]| {
            format!(
                "{:.3} / {:.3} / {:.3}",
                min.as_secs_f64() * 1e3,
                med.as_secs_f64() * 1e3,
                max.as_secs_f64() * 1e3
            )
        };
        println!(
            "{name} half: {bytes} bytes on disk (state built in {:.1} s)",
            build_time.as_secs_f64()
        );
        println!("  encode        {}", ms(encode));
        println!("  decode        {}", ms(decode));
        println!("  cheap save    {}", ms(cheap));
        println!("  durable save  {}", ms(durable));
    }
    Ok(())
}
