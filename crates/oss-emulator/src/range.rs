//! OSS's Range rules (docs/oss-behaviour.md#ranges): the legacy rules by default, RFC-like rules
//! with `x-oss-range-behavior: standard`.

/// What to send for a request's `Range` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RangeOutcome {
    /// `200` with the whole object and no `Content-Range`.
    Whole,
    /// `206` with bytes `start ..= end`.
    Partial { start: u64, end: u64 },
    /// `416 InvalidRange`.
    Unsatisfiable,
}

/// One parsed byte-range spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Spec {
    /// `a-b`
    Closed(u64, u64),
    /// `a-`
    From(u64),
    /// `-n`
    Suffix(u64),
}

/// Parses the first range of `bytes=...`; `None` when the header is malformed.
/// Multi-range requests serve only the first range, as the older OSS docs say.
fn parse_first(value: &str) -> Option<Spec> {
    let rest = value.trim().strip_prefix("bytes=")?;
    let first = rest.split(',').next()?.trim();
    let (a, b) = first.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let num = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
            None
        } else {
            s.parse().ok()
        }
    };
    match (a.is_empty(), b.is_empty()) {
        (true, true) => None,
        (true, false) => Some(Spec::Suffix(num(b)?)),
        (false, true) => Some(Spec::From(num(a)?)),
        (false, false) => Some(Spec::Closed(num(a)?, num(b)?)),
    }
}

/// Decides what to serve for `range` (the header value) on an object of `size` bytes.
pub(crate) fn evaluate(range: Option<&str>, size: u64, standard: bool) -> RangeOutcome {
    let Some(value) = range else {
        return RangeOutcome::Whole;
    };
    let Some(spec) = parse_first(value) else {
        // Malformed (e.g. `byte=0-1`, `bytes=--1`): ignored in both modes (RFC 7233 says
        // a syntactically invalid Range is ignored).
        return RangeOutcome::Whole;
    };
    // `bytes=-0` is 416 even under the legacy rules (Java GetObjectTest).
    if spec == Spec::Suffix(0) {
        return RangeOutcome::Unsatisfiable;
    }
    if standard {
        standard_rules(spec, size)
    } else {
        legacy_rules(spec, size)
    }
}

/// Legacy: anything not fully inside the object gives the whole object with `200`.
fn legacy_rules(spec: Spec, size: u64) -> RangeOutcome {
    match spec {
        Spec::Closed(a, b) if a <= b && b < size => RangeOutcome::Partial { start: a, end: b },
        Spec::From(a) if a < size => RangeOutcome::Partial {
            start: a,
            end: size - 1,
        },
        Spec::Suffix(n) if n <= size && n > 0 => RangeOutcome::Partial {
            start: size - n,
            end: size - 1,
        },
        _ => RangeOutcome::Whole,
    }
}

/// `x-oss-range-behavior: standard`: an end past the object is clamped; a start past it is
/// 416. A suffix longer than the object is undocumented: we follow RFC 7233 (the whole
/// object as a 206). `a > b` is syntactically invalid in RFC 7233 and therefore ignored.
fn standard_rules(spec: Spec, size: u64) -> RangeOutcome {
    match spec {
        Spec::Closed(a, b) if a > b => RangeOutcome::Whole,
        Spec::Closed(a, _) | Spec::From(a) if a >= size => RangeOutcome::Unsatisfiable,
        Spec::Closed(a, b) => RangeOutcome::Partial {
            start: a,
            end: b.min(size - 1),
        },
        Spec::From(a) => RangeOutcome::Partial {
            start: a,
            end: size - 1,
        },
        Spec::Suffix(_) if size == 0 => RangeOutcome::Unsatisfiable,
        Spec::Suffix(n) => RangeOutcome::Partial {
            start: size - n.min(size),
            end: size - 1,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::RangeOutcome::*;
    use super::*;

    #[test]
    fn legacy_rules_match_the_docs() {
        let e = |r: &str| evaluate(Some(r), 1000, false);
        assert_eq!(e("bytes=0-499"), Partial { start: 0, end: 499 });
        assert_eq!(
            e("bytes=500-"),
            Partial {
                start: 500,
                end: 999
            }
        );
        assert_eq!(
            e("bytes=-100"),
            Partial {
                start: 900,
                end: 999
            }
        );
        assert_eq!(e("byte=0-499"), Whole);
        assert_eq!(e("bytes=0-1000"), Whole);
        assert_eq!(e("bytes=1000-2000"), Whole);
        assert_eq!(e("bytes=1000-"), Whole);
        assert_eq!(e("bytes=-2000"), Whole);
        assert_eq!(e("bytes=600-500"), Whole);
        assert_eq!(e("bytes=--1"), Whole);
        assert_eq!(e("bytes=-0"), Unsatisfiable);
        assert_eq!(e("bytes=0-499,500-999"), Partial { start: 0, end: 499 });
        assert_eq!(evaluate(None, 1000, false), Whole);
        assert_eq!(evaluate(Some("bytes=0-0"), 0, false), Whole);
    }

    #[test]
    fn standard_rules_clamp_and_refuse() {
        let e = |r: &str| evaluate(Some(r), 1000, true);
        assert_eq!(
            e("bytes=500-2000"),
            Partial {
                start: 500,
                end: 999
            }
        );
        assert_eq!(e("bytes=0-2000"), Partial { start: 0, end: 999 });
        assert_eq!(e("bytes=1000-2000"), Unsatisfiable);
        assert_eq!(e("bytes=1000-"), Unsatisfiable);
        assert_eq!(e("bytes=-2000"), Partial { start: 0, end: 999 });
        assert_eq!(e("bytes=-0"), Unsatisfiable);
        assert_eq!(e("bytes=10-20"), Partial { start: 10, end: 20 });
        assert_eq!(evaluate(Some("bytes=0-1"), 0, true), Unsatisfiable);
    }
}
