//! Serves synthetic objects through the wiremock front-end, for comparing its throughput
//! with the streaming server's (`oss-emulator` binary).
//!
//! ```text
//! cargo run -p oss-emulator --release --example wiremock_serve -- bkt/big.bin=1GiB
//! ```
//! Prints `listening on http://127.0.0.1:PORT` and serves (public-read, path style) until
//! killed. wiremock buffers and copies whole bodies, so expect memory of a few times the
//! largest response.

use oss_emulator::{BucketSpec, CrcMode, Emulator, ObjectSpec, WiremockEmulator};
use oss_parts::parse_size;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let emu = Emulator::new();
    for (i, arg) in std::env::args().skip(1).enumerate() {
        let (path, size) = arg.split_once('=').ok_or("write BUCKET/KEY=SIZE")?;
        let (bucket, key) = path.split_once('/').ok_or("write BUCKET/KEY=SIZE")?;
        emu.add_bucket(BucketSpec::new(bucket).public_read())?;
        emu.put_object(
            bucket,
            key,
            ObjectSpec::synthetic(parse_size(size)?, i as u64 + 1).crc64(CrcMode::Off),
        )?;
    }
    let server = WiremockEmulator::start(emu).await;
    println!("listening on {}", server.endpoint());
    tokio::signal::ctrl_c().await?;
    Ok(())
}
