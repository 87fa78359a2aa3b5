//! Human sizes on the command line (`100KiB`, `8MiB`, `1.5GiB`, `1048576`) and in output
//! (`1.00 GiB`, `412 MiB/s`).

/// The smallest part size OSS ranges allow (one byte).
pub const MIN_PART_SIZE: u64 = oss_parts::PartSize::MIN.get();
/// The largest part size (5 GiB), as the C SDK and oss-resume accept.
pub const MAX_PART_SIZE: u64 = oss_parts::PartSize::MAX.get();

/// Parses a size (`100KiB`, `8MiB`, `1.5GiB`, `1048576`): [`oss_parts::parse_size`], the
/// one parser the workspace's command lines share, with its message as the CLI's error.
pub fn parse_size(text: &str) -> Result<u64, String> {
    oss_parts::parse_size(text).map_err(|e| e.to_string())
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

/// `bytes` for people (`512 B`, `8 MiB`, `1.50 GiB`): [`oss_parts::format_size`].
pub use oss_parts::format_size;

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

    // The parsing rules are oss_parts::parse_size's and tested there; what ossget adds is
    // that its error text reaches the command line unchanged.
    #[test]
    fn reads_the_forms_help_shows_and_words_errors_for_the_cli() {
        assert_eq!(parse_size("100KiB"), Ok(100 * 1024));
        assert_eq!(parse_size("8MiB"), Ok(8 << 20));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(
            parse_size(" 8XB ").unwrap_err(),
            "`8XB` is not a size; write a byte count or e.g. 100KiB, 8MiB, 1.5GiB"
        );
        assert_eq!(
            parse_size("1.5").unwrap_err(),
            "`1.5` is a fraction of a byte; give whole bytes or a unit (e.g. 1.5MiB)"
        );
        assert_eq!(
            parse_size("17179869184GiB").unwrap_err(),
            "`17179869184GiB` is too large"
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
        assert_eq!(format_size(3 << 29), "1.50 GiB");
        assert_eq!(format_rate(1.5 * (1u64 << 20) as f64), "1.50 MiB/s");
        assert_eq!(format_rate(0.0), "0 B/s");
        assert_eq!(format_duration(0.25), "250 ms");
        assert_eq!(format_duration(3.21), "3.2 s");
        assert_eq!(format_duration(65.0), "1m05s");
        assert_eq!(format_duration(7380.0), "2h03m");
    }
}
