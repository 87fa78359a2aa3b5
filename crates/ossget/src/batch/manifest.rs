//! `--manifest FILE`: one object per line, read as the batch runs (a million-line manifest
//! is never in memory at once).
//!
//! A line is `oss://BUCKET/KEY` or a bare `KEY`, optionally followed by a tab and the path
//! to write it to under DEST (default: the key). Keys are taken literally (spaces
//! included); a trailing `\r` is dropped and blank lines are skipped. A line naming another
//! bucket, or that is not UTF-8, is reported and skipped (the run then exits 1).

use std::io::BufRead;
use std::sync::{Arc, Mutex, PoisonError};

use oss_resume::BatchItem;

/// At most this many bad lines are kept for the report (all are counted).
const KEPT: usize = 20;

/// Problems found while reading, shared with the run that reports them.
#[derive(Debug, Default)]
pub struct Problems {
    /// How many lines were skipped.
    pub count: u64,
    /// The first few, `line N: what`.
    pub first: Vec<String>,
}

/// The manifest as an iterator of items.
pub struct Manifest {
    lines: Box<dyn BufRead + Send>,
    bucket: String,
    number: u64,
    problems: Arc<Mutex<Problems>>,
    buf: Vec<u8>,
}

impl Manifest {
    /// Reads `reader`'s lines for `bucket`; problems go to the returned list.
    pub fn new(reader: Box<dyn BufRead + Send>, bucket: &str) -> (Self, Arc<Mutex<Problems>>) {
        let problems = Arc::new(Mutex::new(Problems::default()));
        let manifest = Self {
            lines: reader,
            bucket: bucket.to_owned(),
            number: 0,
            problems: Arc::clone(&problems),
            buf: Vec::new(),
        };
        (manifest, problems)
    }

    fn problem(&self, what: String) {
        let mut p = self.problems.lock().unwrap_or_else(PoisonError::into_inner);
        p.count += 1;
        if p.first.len() < KEPT {
            p.first.push(format!("line {}: {what}", self.number));
        }
    }
}

/// One line's item, or why it is refused (`None`: a blank line).
pub fn parse_line(line: &str, bucket: &str) -> Result<Option<BatchItem>, String> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    if line.trim().is_empty() {
        return Ok(None);
    }
    let (source, destination) = match line.split_once('\t') {
        Some((s, d)) => (s, Some(d)),
        None => (line, None),
    };
    let key = match source.get(..6) {
        Some(scheme) if scheme.eq_ignore_ascii_case("oss://") => {
            let rest = &source[6..];
            let (b, key) = rest.split_once('/').unwrap_or((rest, ""));
            if b != bucket {
                return Err(format!(
                    "oss://{b}/... is not in the bucket {bucket} this run downloads from"
                ));
            }
            key
        }
        _ => source,
    };
    if key.is_empty() {
        return Err("no key".to_owned());
    }
    Ok(Some(BatchItem {
        key: key.to_owned(),
        destination: destination.filter(|d| !d.is_empty()).map(str::to_owned),
    }))
}

impl Iterator for Manifest {
    type Item = BatchItem;

    fn next(&mut self) -> Option<BatchItem> {
        loop {
            self.buf.clear();
            match self.lines.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    self.problem(format!("cannot read the manifest: {e}"));
                    return None;
                }
            }
            self.number += 1;
            let raw = self.buf.strip_suffix(b"\n").unwrap_or(&self.buf);
            let Ok(line) = std::str::from_utf8(raw) else {
                self.problem("not UTF-8".to_owned());
                continue;
            };
            match parse_line(line, &self.bucket) {
                Ok(Some(item)) => return Some(item),
                Ok(None) => {}
                Err(what) => self.problem(what),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines() {
        let item = |k: &str, d: Option<&str>| {
            Ok(Some(BatchItem {
                key: k.into(),
                destination: d.map(Into::into),
            }))
        };
        assert_eq!(parse_line("a/b c.txt", "bkt"), item("a/b c.txt", None));
        assert_eq!(parse_line("oss://bkt/a/b\r", "bkt"), item("a/b", None));
        assert_eq!(
            parse_line("OSS://bkt/a\tout/x", "bkt"),
            item("a", Some("out/x"))
        );
        assert_eq!(parse_line("a\t", "bkt"), item("a", None));
        assert_eq!(parse_line("   ", "bkt"), Ok(None));
        assert!(
            parse_line("oss://other/a", "bkt")
                .unwrap_err()
                .contains("other")
        );
        assert!(parse_line("oss://bkt/", "bkt").is_err());
    }

    #[test]
    fn bad_lines_are_counted_and_skipped() {
        let text = b"a\n\nxx\xff\noss://other/k\nb\tdest/b\n".to_vec();
        let (m, problems) = Manifest::new(Box::new(std::io::Cursor::new(text)), "bkt");
        let keys: Vec<String> = m.map(|i| i.key).collect();
        assert_eq!(keys, ["a", "b"]);
        let p = problems.lock().unwrap();
        assert_eq!(p.count, 2);
        assert!(p.first[0].starts_with("line 3: not UTF-8"), "{:?}", p.first);
        assert!(p.first[1].starts_with("line 4:"), "{:?}", p.first);
    }
}
