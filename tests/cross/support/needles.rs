//! Looking for secrets in outputs, in every encoding the system could print them in: as
//! is, percent-encoded (query strings), and as hex bytes — contiguous, or space-separated as
//! OSS's `StringToSignBytes` prints a string to sign that contains the token and SSE-C key.

use std::collections::{BTreeSet, HashMap};

/// Named secret strings to look for.
#[derive(Default, Clone)]
pub struct Needles {
    items: Vec<(String, String)>,
}

fn hex(bytes: &[u8], sep: &str) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(sep)
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Needles {
    pub fn add(&mut self, what: &str, secret: &str) {
        assert!(
            secret.len() >= 12,
            "{what}: a secret this short could match by chance"
        );
        self.items.push((what.to_owned(), secret.to_owned()));
    }

    /// Each secret's forms: `(description, bytes)`.
    fn forms(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        for (what, s) in &self.items {
            out.push((what.clone(), s.as_bytes().to_vec()));
            let pct = percent_encode(s);
            if pct != *s {
                out.push((format!("{what} (percent-encoded)"), pct.into_bytes()));
            }
            out.push((format!("{what} (hex)"), hex(s.as_bytes(), "").into_bytes()));
            out.push((
                format!("{what} (spaced hex)"),
                hex(s.as_bytes(), " ").into_bytes(),
            ));
        }
        out
    }

    /// The secrets found in `haystack` (case-insensitively for the hex forms).
    ///
    /// One pass per case over the haystack, looking each position's first 8 bytes up among
    /// the needles' (megabytes of files times a hundred needles would take seconds in a
    /// debug build with a naive search per needle).
    pub fn found_in(&self, haystack: &[u8]) -> Vec<String> {
        const PREFIX: usize = 8;
        let key = |b: &[u8]| {
            let mut k = [0u8; PREFIX];
            k.copy_from_slice(&b[..PREFIX]);
            u64::from_le_bytes(k)
        };
        let forms = self.forms();
        let lower = haystack.to_ascii_lowercase();
        let mut found = BTreeSet::new();
        for (hex_pass, hay) in [(false, haystack), (true, lower.as_slice())] {
            let mut by_prefix: HashMap<u64, Vec<usize>> = HashMap::new();
            // The needles' first two bytes: most positions are rejected by one lookup here.
            let mut pairs = vec![false; 1 << 16];
            for (i, (what, needle)) in forms.iter().enumerate() {
                if what.contains("hex") == hex_pass {
                    by_prefix.entry(key(needle)).or_default().push(i);
                    pairs[usize::from(needle[0]) << 8 | usize::from(needle[1])] = true;
                }
            }
            for start in 0..(hay.len() + 1).saturating_sub(PREFIX) {
                if !pairs[usize::from(hay[start]) << 8 | usize::from(hay[start + 1])] {
                    continue;
                }
                if let Some(ids) = by_prefix.get(&key(&hay[start..])) {
                    for &i in ids {
                        if hay[start..].starts_with(&forms[i].1) {
                            found.insert(forms[i].0.clone());
                        }
                    }
                }
            }
        }
        found.into_iter().collect()
    }

    /// Panics naming every secret found in `haystack`, and where.
    pub fn assert_absent(&self, place: &str, haystack: &[u8]) {
        let found = self.found_in(haystack);
        assert!(
            found.is_empty(),
            "{place} leaks {found:?}:\n{}",
            String::from_utf8_lossy(&haystack[..haystack.len().min(8000)])
        );
    }
}

/// An error's `Display`, its whole `source()` chain, and its `Debug`.
pub fn render_error(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = format!("Display: {e}\n");
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(&format!("caused by: {s}\n"));
        source = s.source();
    }
    text.push_str(&format!("Debug: {e:?}\nAlternate: {e:#?}\n"));
    text
}

/// The scan itself: every form is found anywhere in a large haystack, including at its
/// very end, and nothing is found where nothing is.
#[test]
fn needles_find_every_form_and_nothing_else() {
    let mut n = Needles::default();
    n.add("token", "Tok/en+With=Odd-Chars");
    let filler = vec![b'x'; 300_000];
    for planted in [
        "Tok/en+With=Odd-Chars".to_owned(),
        "Tok%2Fen%2BWith%3DOdd-Chars".to_owned(),
        hex(b"Tok/en+With=Odd-Chars", "").to_ascii_uppercase(),
        hex(b"Tok/en+With=Odd-Chars", " "),
    ] {
        let mut hay = filler.clone();
        hay.extend_from_slice(planted.as_bytes());
        assert_eq!(n.found_in(&hay).len(), 1, "{planted} not found");
    }
    assert!(n.found_in(&filler).is_empty());
    assert!(n.found_in(b"Tok/en+With=Odd-Char").is_empty());
}
