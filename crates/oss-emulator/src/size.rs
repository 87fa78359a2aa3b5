//! Human sizes for the command line: `100KiB`, `1GiB`, `10MB`, `4096`.

use crate::error::EmulatorError;

/// Parses a size: a number with an optional unit. `K`/`KiB`, `M`/`MiB`, `G`/`GiB`, `T`/`TiB`
/// are powers of 1024; `KB`, `MB`, `GB`, `TB` powers of 1000; `B` or nothing is bytes.
///
/// ```
/// assert_eq!(oss_emulator::parse_size("100KiB")?, 102_400);
/// assert_eq!(oss_emulator::parse_size("1GiB")?, 1 << 30);
/// assert_eq!(oss_emulator::parse_size("10MB")?, 10_000_000);
/// assert_eq!(oss_emulator::parse_size("4096")?, 4096);
/// # Ok::<(), oss_emulator::EmulatorError>(())
/// ```
pub fn parse_size(text: &str) -> Result<u64, EmulatorError> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let bad = || {
        EmulatorError::InvalidArgument(format!(
            "`{text}` is not a size; write a number with an optional unit, like 4096, 100KiB, 1GiB or 10MB"
        ))
    };
    let n: u64 = num.parse().map_err(|_| bad())?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "t" | "tib" => 1 << 40,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        _ => return Err(bad()),
    };
    n.checked_mul(mult).ok_or_else(bad)
}
