//! The C SDK documentation's second resumable-download example, in Rust: 100 KiB parts,
//! 3 threads, checkpoint on (`{FILE}.cp`, deleted when the download completes; run it again
//! after an interruption and it resumes).
//!
//! ```sh
//! OSS_ACCESS_KEY_ID=... OSS_ACCESS_KEY_SECRET=... \
//! OSS_ENDPOINT=https://oss-cn-hangzhou.aliyuncs.com OSS_REGION=cn-hangzhou \
//!     cargo run -p oss-resume --example resumable_download_checkpoint -- [BUCKET KEY FILE]
//! ```
//!
//! Prints `download succeeded` or `download failed: <error>` and exits 0 or 1.

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let bucket = args.next().unwrap_or_else(|| "examplebucket".into());
    let key = args
        .next()
        .unwrap_or_else(|| "exampledir/exampleobject.txt".into());
    let file = args.next().unwrap_or_else(|| "yourLocalFilename".into());
    match download(&bucket, &key, &file) {
        Ok(()) => {
            println!("download succeeded");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("download failed: {e}");
            ExitCode::FAILURE
        }
    }
}

fn download(bucket: &str, key: &str, file: &str) -> Result<(), Box<dyn std::error::Error>> {
    let mut builder = oss_resume::Client::builder()
        .endpoint(std::env::var("OSS_ENDPOINT").map_err(|_| "OSS_ENDPOINT is not set")?)
        .credentials(oss_resume::Credentials::from_env()?);
    if let Ok(region) = std::env::var("OSS_REGION") {
        builder = builder.region(region);
    }
    let client = builder.build()?;
    client
        .download(bucket, key, file)
        .part_size(100 * 1024) // part_size
        .threads(3) // thread_num
        .checkpoint(true) // enable_checkpoint; checkpoint_path defaults to {file}.cp
        .blocking()?;
    Ok(())
}
