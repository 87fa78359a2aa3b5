//! Sizes on xtask's command lines (`--size 256MiB`, `--part-size 8MiB`) and in its output,
//! in binary units only. (xtask depends on no workspace crate, so it does not share
//! `oss_parts::parse_size`; it reads every unit it accepts the same way.)

/// One KiB.
pub const KIB: u64 = 1 << 10;
/// One MiB.
pub const MIB: u64 = 1 << 20;
/// One GiB.
pub const GIB: u64 = 1 << 30;

/// Parses `4096`, `64KiB`, `8MiB`, `8M`, `1GiB`, `1G`, `1TiB`: a whole number and a binary
/// unit (case-insensitive; a space may come before it; none or `B` is bytes).
///
/// `KB`, `MB`, `GB` and `TB` are refused with the fix rather than guessed: ossget and the
/// emulator read them as powers of 1000, and the bench used to read them as powers of 1024.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let unit = unit.trim_start();
    let not_a_size =
        || format!("`{t}` is not a size; write a byte count or e.g. 64KiB, 8MiB, 1GiB");
    let scale = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => KIB,
        "m" | "mib" => MIB,
        "g" | "gib" => GIB,
        "t" | "tib" => 1 << 40,
        "kb" | "mb" | "gb" | "tb" => {
            let binary = format!("{}i{}", &unit[..1], &unit[1..]);
            return Err(format!(
                "`{t}`: write {digits}{binary} (powers of 1024) or a byte count; \
                 `{unit}` means powers of 1000 to ossget and is not guessed here"
            ));
        }
        _ => return Err(not_a_size()),
    };
    let number: u64 = match digits {
        "" => return Err(not_a_size()),
        d => d.parse().map_err(|_| format!("`{t}` is too large"))?,
    };
    number
        .checked_mul(scale)
        .ok_or_else(|| format!("`{t}` is too large"))
}

/// `8MiB`, `1GiB`, `64KiB` or plain bytes: the shortest exact spelling, which
/// [`parse_size`] reads back (for file names, tags and flags).
pub fn exact(bytes: u64) -> String {
    if bytes >= GIB && bytes.is_multiple_of(GIB) {
        format!("{}GiB", bytes / GIB)
    } else if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{}MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{}KiB", bytes / KIB)
    } else {
        format!("{bytes}")
    }
}

/// `1GiB`, `1.5GiB`, `412.3MiB`, `12B`: short and rounded, for reading (two decimals for
/// GiB, one below; trailing zeros dropped).
pub fn human(bytes: u64) -> String {
    let b = bytes as f64;
    if bytes >= GIB {
        trim_zeros(format!("{:.2}", b / GIB as f64)) + "GiB"
    } else if bytes >= MIB {
        trim_zeros(format!("{:.1}", b / MIB as f64)) + "MiB"
    } else if bytes >= KIB {
        trim_zeros(format!("{:.1}", b / KIB as f64)) + "KiB"
    } else {
        format!("{bytes}B")
    }
}

fn trim_zeros(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_binary_units() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("0"), Ok(0));
        assert_eq!(parse_size("512B"), Ok(512));
        assert_eq!(parse_size("64KiB"), Ok(64 * KIB));
        assert_eq!(parse_size("8MiB"), Ok(8 * MIB));
        assert_eq!(parse_size("8M"), Ok(8 * MIB));
        assert_eq!(parse_size("256mib"), Ok(256 * MIB));
        assert_eq!(parse_size(" 1 GiB "), Ok(GIB));
        assert_eq!(parse_size("1G"), Ok(GIB));
        assert_eq!(parse_size("2TiB"), Ok(2 << 40));
    }

    #[test]
    fn refuses_with_the_fix() {
        for bad in ["", "GiB", "12XB", "1.5GiB", "-1", "8 MiB/s"] {
            let e = parse_size(bad).unwrap_err();
            assert!(e.contains("is not a size"), "{bad}: {e}");
        }
        let e = parse_size("8MB").unwrap_err();
        assert!(e.contains("write 8MiB"), "{e}");
        assert!(parse_size("64kb").unwrap_err().contains("write 64kib"));
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
    }

    #[test]
    fn exact_round_trips() {
        for n in [1, 4096, 1536, 64 * KIB, 8 * MIB, 96 * MIB, GIB, 5 * GIB] {
            assert_eq!(parse_size(&exact(n)), Ok(n), "{}", exact(n));
        }
        assert_eq!(exact(8 * MIB), "8MiB");
        assert_eq!(exact(1536), "1536");
    }

    #[test]
    fn human_is_short() {
        assert_eq!(human(GIB), "1GiB");
        assert_eq!(human(1_610_612_736), "1.5GiB");
        assert_eq!(human(96 * MIB), "96MiB");
        assert_eq!(human((412 << 20) + (300 << 10)), "412.3MiB");
        assert_eq!(human(1536), "1.5KiB");
        assert_eq!(human(12), "12B");
    }
}
