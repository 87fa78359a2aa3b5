//! Human sizes on the command line (`100KiB`, `8MiB`, `1.5GiB`, `1048576`) and in output
//! (`1.00 GiB`, `412 MiB/s`).

/// The smallest part size OSS ranges allow (one byte).
pub const MIN_PART_SIZE: u64 = 1;
/// The largest part size (5 GiB), as the C SDK and oss-resume accept.
pub const MAX_PART_SIZE: u64 = 5 << 30;

/// Parses a size: a number (a fraction is allowed with a unit) and an optional unit.
///
/// Units are case-insensitive: none or `B` (bytes); `K`/`KiB`, `M`/`MiB`, `G`/`GiB`,
/// `T`/`TiB` (powers of 1024, as curl and aria2 read `K` and `M`); `KB`, `MB`, `GB`, `TB`
/// (powers of 1000). A space may separate number and unit. Fractions are rounded down to a
/// whole byte.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let unit = unit.trim_start();
    let bad =
        || format!("`{trimmed}` is not a size; write a byte count or e.g. 100KiB, 8MiB, 1.5GiB");
    let multiplier: u64 = match unit.to_ascii_lowercase().as_str() {
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
    let (whole, fraction) = match number.split_once('.') {
        Some((w, f)) => (w, f),
        None => (number, ""),
    };
    if whole.is_empty() && fraction.is_empty() {
        return Err(bad());
    }
    if !fraction.is_empty() && multiplier == 1 {
        return Err(format!(
            "`{trimmed}` is a fraction of a byte; give whole bytes or a unit (e.g. 1.5MiB)"
        ));
    }
    // Digits only (the split above let through dots: a second dot lands here).
    if !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || fraction.len() > 18
    {
        return Err(bad());
    }
    let too_large = || format!("`{trimmed}` is too large");
    // A whole part over u64 is too large whatever the unit; within it, u128 arithmetic
    // cannot overflow (2^64 x 2^40, plus a fraction of one unit).
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| too_large())?
    };
    let mut bytes = u128::from(whole) * u128::from(multiplier);
    if !fraction.is_empty() {
        let digits: u128 = fraction.parse().map_err(|_| bad())?;
        let scale = 10u128.pow(u32::try_from(fraction.len()).map_err(|_| bad())?);
        bytes += digits * u128::from(multiplier) / scale;
    }
    u64::try_from(bytes).map_err(|_| too_large())
}

/// `--part-size`: a size within 1 B ..= 5 GiB; the error names the limit.
pub fn parse_part_size(text: &str) -> Result<u64, String> {
    let bytes = parse_size(text)?;
    let shown = text.trim();
    if bytes < MIN_PART_SIZE {
        return Err(format!(
            "part size {shown} is below the 1-byte minimum; use e.g. 8MiB"
        ));
    }
    if bytes > MAX_PART_SIZE {
        return Err(format!(
            "part size {shown} is above the 5GiB limit; use 5GiB or less"
        ));
    }
    Ok(bytes)
}

/// `--limit-rate`: a positive size per second.
pub fn parse_rate(text: &str) -> Result<u64, String> {
    match parse_size(text)? {
        0 => Err(format!(
            "a rate of {} would never finish; give a positive rate such as 50MiB, or leave the option out",
            text.trim()
        )),
        n => Ok(n),
    }
}

/// `bytes` for people: `512 B`, `8 MiB`, `1.50 GiB`, `412 MiB` (three significant digits,
/// exact multiples without decimals).
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

/// A rate for people: `412 MiB/s`.
pub fn format_rate(bytes_per_sec: f64) -> String {
    if !bytes_per_sec.is_finite() || bytes_per_sec <= 0.0 {
        return "0 B/s".to_owned();
    }
    format!("{}/s", format_size(bytes_per_sec as u64))
}

/// A duration for people: `850 ms`, `3.2 s`, `1m05s`, `2h03m`.
pub fn format_duration(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return "?".to_owned();
    }
    if secs < 1.0 {
        return format!("{:.0} ms", secs * 1000.0);
    }
    if secs < 60.0 {
        return format!("{secs:.1} s");
    }
    let whole = secs.round() as u64;
    if whole < 3600 {
        format!("{}m{:02}s", whole / 60, whole % 60)
    } else {
        format!("{}h{:02}m", whole / 3600, (whole % 3600) / 60)
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
        assert_eq!(parse_size("1TiB"), Ok(1 << 40));
        assert_eq!(parse_size("50MB"), Ok(50_000_000));
        assert_eq!(parse_size("1.5KB"), Ok(1500));
        assert_eq!(parse_size(".5KiB"), Ok(512));
        assert_eq!(parse_size("0.1KiB"), Ok(102)); // rounded down
    }

    #[test]
    fn rejects_what_is_not_a_size() {
        for bad in [
            "", "MiB", "abc", "8XB", "1.2.3MiB", "-1", "8 MiB/s", "1e6", ".",
        ] {
            let e = parse_size(bad).unwrap_err();
            assert!(e.contains("not a size"), "{bad}: {e}");
        }
        assert!(
            parse_size("1.5")
                .unwrap_err()
                .contains("fraction of a byte")
        );
        assert!(
            parse_size("99999999999999999999")
                .unwrap_err()
                .contains("too large")
        );
        assert!(
            parse_size("17179869184GiB")
                .unwrap_err()
                .contains("too large")
        );
        // A whole part just under u128::MAX / 1000 plus a fraction used to overflow the
        // sum (a panic in debug builds, a wrapped small size in release).
        assert!(
            parse_size("340282366920938463463374607431768211.999KB")
                .unwrap_err()
                .contains("too large")
        );
        assert!(
            parse_size("18446744073709551615.9KiB")
                .unwrap_err()
                .contains("too large")
        );
    }

    #[test]
    fn part_size_limits_are_named() {
        assert_eq!(parse_part_size("1"), Ok(1));
        assert_eq!(parse_part_size("5GiB"), Ok(5 << 30));
        assert_eq!(
            parse_part_size("0").unwrap_err(),
            "part size 0 is below the 1-byte minimum; use e.g. 8MiB"
        );
        assert_eq!(
            parse_part_size("6GiB").unwrap_err(),
            "part size 6GiB is above the 5GiB limit; use 5GiB or less"
        );
        assert!(
            parse_part_size("5368709121")
                .unwrap_err()
                .contains("5GiB limit")
        );
    }

    #[test]
    fn rate_must_be_positive() {
        assert_eq!(parse_rate("50MiB"), Ok(50 << 20));
        assert!(parse_rate("0").unwrap_err().contains("never finish"));
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
        assert_eq!(format_rate(1.5 * (1u64 << 20) as f64), "1.50 MiB/s");
        assert_eq!(format_rate(0.0), "0 B/s");
        assert_eq!(format_duration(0.25), "250 ms");
        assert_eq!(format_duration(3.21), "3.2 s");
        assert_eq!(format_duration(65.0), "1m05s");
        assert_eq!(format_duration(7380.0), "2h03m");
    }
}
