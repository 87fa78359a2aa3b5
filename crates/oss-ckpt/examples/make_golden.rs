//! Writes the golden checkpoint `fixtures/ckpt/v1-small.cp` — run once, when format
//! version 1 was frozen. Tests only read the file; never regenerate it for a released
//! version (a change in its bytes means the format changed: that needs a new version).
//!
//! ```text
//! cargo run -p oss-ckpt --example make_golden -- fixtures/ckpt/v1-small.cp
//! ```

#[path = "../tests/ckpt/golden.rs"]
mod golden;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(out) = std::env::args_os().nth(1) else {
        return Err("usage: make_golden OUTPUT".into());
    };
    let bytes = oss_ckpt::encode(&golden::golden_checkpoint())?;
    std::fs::write(&out, &bytes)?;
    println!("wrote {} bytes to {}", bytes.len(), out.to_string_lossy());
    Ok(())
}
