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

/// `--max-request-size`: a positive size (a request always covers at least one part).
pub fn parse_max_request_size(text: &str) -> Result<u64, String> {
    match parse_size(text)? {
        0 => Err(format!(
            "a request of {} bytes would fetch nothing; give e.g. 16MiB, or leave the option out",
            text.trim()
        )),
        n => Ok(n),
    }
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

/// The default of `--min-rate`: a connection that averages under 1 KiB/s over a whole
/// minute of waiting for the network is given up (and retried on a new connection).
/// Why these numbers: the slowest links still in use (2G data, a congested satellite hop)
/// carry several KiB/s, so even shared by 4 connections each gets more than 1 KiB/s, and a
/// minute smooths out the bursts and pauses of long-RTT links; the idle timeout (30 s)
/// already catches a silent one. Time the download itself holds the stream back (a slow
/// disk, `--limit-rate`) is not counted. What it stops is a server that keeps a
/// connection alive with a trickle of bytes (1 byte/s never ended before).
pub const DEFAULT_MIN_RATE: &str = "1KiB/60s";

/// `--min-rate`: bytes per second and the window, or `None` when off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinRate(pub Option<(u64, std::time::Duration)>);

/// `--min-rate RATE/WINDOW` (`1KiB/60s`, `10KiB/30s`), or `0` / `off` for none.
pub fn parse_min_rate(text: &str) -> Result<MinRate, String> {
    parse_rate_window(text).map(MinRate)
}

fn parse_rate_window(text: &str) -> Result<Option<(u64, std::time::Duration)>, String> {
    let text = text.trim();
    if text == "0" || text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    let Some((rate, window)) = text.split_once('/') else {
        return Err(format!(
            "`{text}` is not RATE/WINDOW; write e.g. 1KiB/60s (or off)"
        ));
    };
    let bytes = parse_size(rate)?;
    if bytes == 0 {
        return Ok(None);
    }
    let window = parse_window(window).ok_or_else(|| {
        format!(
            "`{}` is not a window; write a duration such as 60s, 500ms or 2m",
            window.trim()
        )
    })?;
    Ok(Some((bytes, window)))
}

/// `500ms`, `60s`, `2m`, `1h`: a positive whole number with a unit.
fn parse_window(text: &str) -> Option<std::time::Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().ok().filter(|n| *n > 0)?;
    let secs = |k: u64| n.checked_mul(k).map(std::time::Duration::from_secs);
    match unit {
        "ms" => Some(std::time::Duration::from_millis(n)),
        "s" => secs(1),
        "m" => secs(60),
        "h" => secs(3600),
        _ => None,
    }
}

/// A duration on the command line or in the config file: seconds (`30`, `2.5`, as curl
/// takes them) or a number with a unit (`500ms`, `30s`, `2m`, `1h`). Zero and negative
/// durations are refused (`what` names the option in the message).
pub fn parse_duration_for(what: &str, text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let bad = || {
        format!(
            "{what} `{text}` is not a duration; write seconds (30, 2.5) or e.g. 500ms, 30s, 2m, 1h"
        )
    };
    let n: f64 = number.parse().map_err(|_| bad())?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(bad()),
    };
    if !secs.is_finite() || secs <= 0.0 || secs > 1e9 {
        return Err(format!(
            "{what} `{text}` must be above zero (and under 30 years)"
        ));
    }
    Ok(std::time::Duration::from_secs_f64(secs))
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
    fn min_rates() {
        use std::time::Duration;
        let ok = |t: &str| parse_min_rate(t).map(|r| r.0);
        assert_eq!(
            ok(DEFAULT_MIN_RATE),
            Ok(Some((1024, Duration::from_secs(60))))
        );
        assert_eq!(
            ok("10KiB/500ms"),
            Ok(Some((10240, Duration::from_millis(500))))
        );
        assert_eq!(ok("100/2m"), Ok(Some((100, Duration::from_secs(120)))));
        assert_eq!(ok("off"), Ok(None));
        assert_eq!(ok("0"), Ok(None));
        assert!(parse_min_rate("1KiB").unwrap_err().contains("RATE/WINDOW"));
        assert!(
            parse_min_rate("1KiB/0s")
                .unwrap_err()
                .contains("not a window")
        );
        assert!(
            parse_min_rate("1KiB/60")
                .unwrap_err()
                .contains("not a window")
        );
        assert!(parse_min_rate("x/60s").unwrap_err().contains("not a size"));
    }

    #[test]
    fn a_request_size_must_be_positive() {
        assert_eq!(parse_max_request_size("100KiB"), Ok(100 << 10));
        assert!(
            parse_max_request_size("0")
                .unwrap_err()
                .contains("would fetch nothing")
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
    fn durations() {
        use std::time::Duration;
        let d = |t: &str| parse_duration_for("--max-time", t);
        assert_eq!(d("30"), Ok(Duration::from_secs(30)));
        assert_eq!(d("2.5"), Ok(Duration::from_millis(2500)));
        assert_eq!(d("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(d("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(d("1h"), Ok(Duration::from_secs(3600)));
        assert!(d("0").unwrap_err().contains("above zero"));
        assert!(
            d("x")
                .unwrap_err()
                .starts_with("--max-time `x` is not a duration")
        );
        assert!(d("5d").is_err());
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
