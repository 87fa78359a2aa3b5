//! Writes the golden checkpoint of the current format version — run once per version,
//! when it is frozen: `fixtures/ckpt/v1-small.cp` (2026-11-27, by version 1's encoder) and
//! `fixtures/ckpt/v2-small.cp` (2026-11-26, version 2), `fixtures/ckpt/v3-small.cp`
//! (2026-11-26, version 3: the same state as version 2), `fixtures/ckpt/v4-small.cp`
//! (2026-12-06, version 4: a byte window of that object). Tests only read the files; never
//! regenerate one for a released version (a change in its bytes means the format changed:
//! that needs a new version). This build writes only version [`oss_ckpt::FORMAT_VERSION`].
//!
//! ```text
//! cargo run -p oss-ckpt --example make_golden -- fixtures/ckpt/v4-small.cp
//! ```

#[path = "../tests/ckpt/golden.rs"]
mod golden;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(out) = std::env::args_os().nth(1) else {
        return Err("usage: make_golden OUTPUT".into());
    };
    let state = match oss_ckpt::FORMAT_VERSION {
        // Version 4 added the byte window: a state that has one.
        4 => golden::golden_checkpoint_v4(),
        other => return Err(format!("no golden state for format version {other}").into()),
    };
    let bytes = oss_ckpt::encode(&state)?;
    std::fs::write(&out, &bytes)?;
    println!(
        "wrote {} bytes (format version {}) to {}",
        bytes.len(),
        oss_ckpt::FORMAT_VERSION,
        out.to_string_lossy()
    );
    Ok(())
}
