//! Sizes as people write and read them: `100KiB`, `8MiB`, `1.5GiB`, `10MB`, `4096` in,
//! `8 MiB`, `1.50 GiB` out. One parser for every command line in the workspace (ossget's
//! `--part-size` and `--limit-rate`, the emulator's object sizes and fault offsets).

use crate::error::PartsError;

/// Parses a size: a number (a fraction is allowed with a unit) and an optional unit.
///
/// Units are case-insensitive: none or `B` (bytes); `K`/`KiB`, `M`/`MiB`, `G`/`GiB`,
/// `T`/`TiB` (powers of 1024, as curl and aria2 read `K` and `M`); `KB`, `MB`, `GB`, `TB`
/// (powers of 1000). A space may separate number and unit; surrounding space is ignored.
/// Fractions are rounded down to a whole byte.
///
/// Errors: [`PartsError::NotASize`] for anything else (`8XB`, `-1`, `1e6`, `1.2.3MiB`),
/// [`PartsError::FractionOfAByte`] for a fraction without a unit (`1.5`), and
/// [`PartsError::SizeTooLarge`] past `u64::MAX` bytes.
///
/// ```
/// use oss_parts::parse_size;
///
/// assert_eq!(parse_size("100KiB")?, 102_400);
/// assert_eq!(parse_size("1.5GiB")?, 3 << 29);
/// assert_eq!(parse_size("10MB")?, 10_000_000);
/// assert_eq!(parse_size("8 m")?, 8 << 20);
/// assert_eq!(parse_size("4096")?, 4096);
/// assert_eq!(
///     parse_size("8XB").unwrap_err().to_string(),
///     "`8XB` is not a size; write a byte count or e.g. 100KiB, 8MiB, 1.5GiB"
/// );
/// # Ok::<(), oss_parts::PartsError>(())
/// ```
pub fn parse_size(text: &str) -> Result<u64, PartsError> {
    let trimmed = text.trim();
    let not_a_size = || PartsError::NotASize {
        text: trimmed.to_owned(),
    };
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let multiplier = unit_multiplier(unit.trim_start()).ok_or_else(not_a_size)?;
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() {
        return Err(not_a_size());
    }
    if !fraction.is_empty() && multiplier == 1 {
        return Err(PartsError::FractionOfAByte {
            text: trimmed.to_owned(),
        });
    }
    // Digits only (the split above let dots through: a second dot lands here). More than
    // 18 fraction digits would overflow the scale below and mean nothing at byte grain.
    if !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || fraction.len() > 18
    {
        return Err(not_a_size());
    }
    let too_large = || PartsError::SizeTooLarge {
        text: trimmed.to_owned(),
    };
    // A whole part over u64 is too large whatever the unit; within it, u128 arithmetic
    // cannot overflow (2^64 x 2^40, plus a fraction of one unit).
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| too_large())?
    };
    let mut bytes = u128::from(whole) * u128::from(multiplier);
    if !fraction.is_empty() {
        let digits: u128 = fraction.parse().map_err(|_| not_a_size())?;
        let scale = 10u128.pow(u32::try_from(fraction.len()).map_err(|_| not_a_size())?);
        bytes += digits * u128::from(multiplier) / scale;
    }
    u64::try_from(bytes).map_err(|_| too_large())
}

/// The bytes in one `unit` (case-insensitive), or `None` for an unknown unit.
fn unit_multiplier(unit: &str) -> Option<u64> {
    Some(match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "t" | "tib" => 1 << 40,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        _ => return None,
    })
}

/// `bytes` for people: `512 B`, `8 MiB`, `1.50 GiB`, `412 MiB` — binary units, three
/// significant digits, exact multiples without decimals. Display only: the text is
/// rounded, so it is not meant to be parsed back exactly.
///
/// ```
/// use oss_parts::format_size;
///
/// assert_eq!(format_size(512), "512 B");
/// assert_eq!(format_size(8 << 20), "8 MiB");
/// assert_eq!(format_size(3 << 29), "1.50 GiB");
/// ```
pub fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut unit = 0;
    let mut scale: u64 = 1024;
    while unit + 1 < UNITS.len() && bytes / scale >= 1024 {
        scale <<= 10;
        unit += 1;
    }
    let name = UNITS.get(unit).copied().unwrap_or("EiB");
    if bytes.is_multiple_of(scale) {
        return format!("{} {name}", bytes / scale);
    }
    let value = bytes as f64 / scale as f64;
    if value < 10.0 {
        format!("{value:.2} {name}")
    } else if value < 100.0 {
        format!("{value:.1} {name}")
    } else {
        format!("{value:.0} {name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        assert_eq!(parse_size("100KiB"), Ok(100 * 1024));
        assert_eq!(parse_size("8MiB"), Ok(8 << 20));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("8M"), Ok(8 << 20));
        assert_eq!(parse_size("8 mib"), Ok(8 << 20));
        assert_eq!(parse_size(" 2k "), Ok(2048));
        assert_eq!(parse_size("512B"), Ok(512));
        assert_eq!(parse_size("4096 B"), Ok(4096));
        assert_eq!(parse_size("1TiB"), Ok(1 << 40));
        assert_eq!(parse_size("10MB"), Ok(10_000_000));
        assert_eq!(parse_size("1GB"), Ok(1_000_000_000));
        assert_eq!(parse_size("2TB"), Ok(2_000_000_000_000));
        assert_eq!(parse_size("1.5KB"), Ok(1500));
        assert_eq!(parse_size(".5KiB"), Ok(512));
        assert_eq!(parse_size("0.1KiB"), Ok(102)); // rounded down
        assert_eq!(parse_size("16tib"), Ok(16 << 40));
    }

    #[test]
    fn rejects_what_is_not_a_size() {
        for bad in [
            "", "MiB", "abc", "8XB", "1.2.3MiB", "-1", "+1", "8 MiB/s", "1e6", ".", "0x10",
        ] {
            let e = parse_size(bad).unwrap_err();
            assert_eq!(
                e,
                PartsError::NotASize {
                    text: bad.trim().to_owned()
                },
                "{bad}"
            );
            assert!(e.to_string().contains("not a size"), "{bad}: {e}");
        }
        assert_eq!(
            parse_size(" 1.5 "),
            Err(PartsError::FractionOfAByte { text: "1.5".into() })
        );
        for huge in [
            "99999999999999999999",
            "17179869184GiB",
            "18446744073709551615.9KiB",
            // A whole part just under u128::MAX / 1000 plus a fraction used to overflow
            // the sum (a panic in debug builds, a wrapped small size in release).
            "340282366920938463463374607431768211.999KB",
        ] {
            assert_eq!(
                parse_size(huge),
                Err(PartsError::SizeTooLarge {
                    text: huge.to_owned()
                })
            );
        }
        assert_eq!(parse_size("18446744073709551615"), Ok(u64::MAX));
    }

    #[test]
    fn errors_name_the_text_and_the_fix() {
        let msg = |t: &str| parse_size(t).unwrap_err().to_string();
        assert_eq!(
            msg("8XB"),
            "`8XB` is not a size; write a byte count or e.g. 100KiB, 8MiB, 1.5GiB"
        );
        assert_eq!(
            msg("1.5"),
            "`1.5` is a fraction of a byte; give whole bytes or a unit (e.g. 1.5MiB)"
        );
        assert_eq!(msg("17179869184GiB"), "`17179869184GiB` is too large");
        assert!(parse_size("x").unwrap_err().is_invalid_argument());
    }

    #[test]
    fn formats_for_people() {
        assert_eq!(format_size(0), "0 B");
        assert_eq!(format_size(1023), "1023 B");
        assert_eq!(format_size(1024), "1 KiB");
        assert_eq!(format_size(8 << 20), "8 MiB");
        assert_eq!(format_size(3 << 29), "1.50 GiB");
        assert_eq!(format_size(412 * (1 << 20) + 3), "412 MiB");
        assert_eq!(format_size(40 * (1 << 20) + (1 << 19)), "40.5 MiB");
        assert_eq!(format_size(u64::MAX), "16.0 EiB");
    }

    #[test]
    fn exact_multiples_read_back() {
        for bytes in [1u64, 1023, 1024, 8 << 20, 5 << 30, 3 << 40] {
            let text = format_size(bytes).replace(' ', "");
            assert_eq!(parse_size(&text), Ok(bytes), "{text}");
        }
    }
}
