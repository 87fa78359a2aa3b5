//! Looking for secrets in outputs, in every encoding the system could print them in: as
//! is, percent-encoded (query strings), and as hex bytes — contiguous, or space-separated as
//! OSS's `StringToSignBytes` prints a string to sign that contains the token and SSE-C key.

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
    pub fn found_in(&self, haystack: &[u8]) -> Vec<String> {
        let lower: Vec<u8> = haystack.to_ascii_lowercase();
        self.forms()
            .into_iter()
            .filter(|(what, needle)| {
                let hay = if what.contains("hex") {
                    &lower
                } else {
                    haystack
                };
                hay.windows(needle.len()).any(|w| w == needle.as_slice())
            })
            .map(|(what, _)| what)
            .collect()
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
