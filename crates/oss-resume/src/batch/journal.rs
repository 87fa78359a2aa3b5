//! The batch journal: one line per finished object (key, size, ETag, CRC-64), appended and
//! fsynced in groups by one writer thread, so a rerun skips exactly the objects that were
//! finished, verified by that identity.
//!
//! The format (text, one record per line, UTF-8):
//!
//! ```text
//! oss-resume batch journal v1 BUCKET
//! CHECK SIZE CRC64 ETAG KEY
//! ```
//!
//! `BUCKET`, `ETAG` and `KEY` are percent-encoded (every byte outside printable ASCII, plus
//! space and `%`), `SIZE` is decimal, `CRC64` decimal or `-` when OSS sent none, and `CHECK`
//! is the CRC-64 (16 hex digits) of the rest of the line after its first space. A line that
//! fails its check, or a last line without its newline (a torn append: the process died in
//! the middle of writing it), is ignored — that object is simply downloaded again — and a
//! torn tail is cut off before the next append. A later line for a key replaces earlier
//! ones.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;

use crate::error::{Error, LocalOp};

/// The first line's fixed part.
const MAGIC: &str = "oss-resume batch journal v1 ";

/// The default journal's file name, inside the destination directory.
pub const JOURNAL_NAME: &str = ".oss-batch-journal";

/// A finished object as the journal recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// Size in bytes.
    pub size: u64,
    /// The ETag, as OSS sent it.
    pub etag: String,
    /// `x-oss-hash-crc64ecma`, when OSS sent it.
    pub crc64: Option<u64>,
}

/// One record.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub(crate) key: String,
    pub(crate) finished: Finished,
}

fn encode(text: &str, out: &mut String) {
    for &b in text.as_bytes() {
        if b.is_ascii_graphic() && b != b'%' {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

fn decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// One record's line, newline included.
pub(crate) fn format_record(record: &Record) -> String {
    let f = &record.finished;
    let mut rest = format!(
        "{} {} ",
        f.size,
        f.crc64.map_or_else(|| "-".to_owned(), |c| c.to_string())
    );
    encode(&f.etag, &mut rest);
    rest.push(' ');
    encode(&record.key, &mut rest);
    format!("{:016x} {rest}\n", oss_crc::checksum(rest.as_bytes()))
}

/// Parses one line (without its newline); `None` when it is damaged.
pub(crate) fn parse_record(line: &str) -> Option<Record> {
    let (check, rest) = line.split_once(' ')?;
    if u64::from_str_radix(check, 16).ok()? != oss_crc::checksum(rest.as_bytes()) {
        return None;
    }
    let mut fields = rest.split(' ');
    let size = fields.next()?.parse().ok()?;
    let crc64 = match fields.next()? {
        "-" => None,
        c => Some(c.parse().ok()?),
    };
    let etag = decode(fields.next()?)?;
    let key = decode(fields.next()?)?;
    if fields.next().is_some() {
        return None;
    }
    Some(Record {
        key,
        finished: Finished { size, etag, crc64 },
    })
}

fn header(bucket: &str) -> String {
    let mut h = MAGIC.to_owned();
    encode(bucket, &mut h);
    h.push('\n');
    h
}

/// What an existing journal holds.
pub(crate) struct Loaded {
    pub(crate) finished: HashMap<String, Finished>,
    /// Records that failed their check (ignored).
    pub(crate) damaged: u64,
}

/// Parses a journal's text: what it holds, and how many bytes of it are whole lines.
fn parse(path: &Path, text: &str, bucket: &str) -> Result<(Loaded, usize), Error> {
    let head = header(bucket);
    let mut loaded = Loaded {
        finished: HashMap::new(),
        damaged: 0,
    };
    if text.is_empty() {
        return Ok((loaded, 0));
    }
    let Some(first) = text
        .split_inclusive('\n')
        .next()
        .filter(|l| l.ends_with('\n'))
    else {
        return Err(foreign(path, "its first line is incomplete"));
    };
    if first != head {
        let what = if first.starts_with(MAGIC) {
            "it is the journal of a batch from another bucket"
        } else {
            "it is not a batch journal"
        };
        return Err(foreign(path, what));
    }
    // Everything up to the last newline; the rest is a torn append.
    let complete = text.rfind('\n').map_or(0, |i| i + 1);
    for line in text[first.len()..complete].lines() {
        match parse_record(line) {
            Some(r) => {
                loaded.finished.insert(r.key, r.finished);
            }
            None => loaded.damaged += 1,
        }
    }
    Ok((loaded, complete))
}

/// Opens (or creates) the journal at `path` for `bucket`, returning what it holds and the
/// writer that appends to it. `restart` empties it first. A journal of another bucket, or a
/// file that is not a journal, is refused (`InvalidArgument` naming the file).
pub(crate) fn open(
    path: &Path,
    bucket: &str,
    restart: bool,
    durable: bool,
) -> Result<(Loaded, Writer), Error> {
    let io = |source| Error::local(LocalOp::Journal, path, source);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(io)?;
    let mut raw = Vec::new();
    file.read_to_end(&mut raw).map_err(io)?;
    let text = String::from_utf8_lossy(&raw);
    let (mut loaded, parsed) = parse(path, &text, bucket)?;
    // In bytes of the file (lossy decoding may have changed the length of damaged text).
    let mut keep = if parsed == 0 {
        0
    } else {
        raw.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)
    };
    if restart {
        loaded.finished.clear();
        loaded.damaged = 0;
        keep = 0;
    }
    let head = header(bucket);
    // Cut a torn tail (or everything, on restart) so appends start on a line of their own.
    file.set_len(keep as u64).map_err(io)?;
    file.seek(SeekFrom::End(0)).map_err(io)?;
    if keep == 0 {
        file.write_all(head.as_bytes()).map_err(io)?;
    }
    if durable {
        file.sync_data().map_err(io)?;
    }
    Ok((loaded, Writer::start(file, path.to_owned(), durable)))
}

/// Reads the journal at `path` without changing it (dry runs): empty when there is none.
pub(crate) fn read_only(path: &Path, bucket: &str) -> Result<Loaded, Error> {
    let raw = match std::fs::read(path) {
        Ok(raw) => raw,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(Error::local(LocalOp::Journal, path, e)),
    };
    parse(path, &String::from_utf8_lossy(&raw), bucket).map(|(loaded, _)| loaded)
}

fn foreign(path: &Path, what: &str) -> Error {
    Error::invalid(
        "journal",
        format!(
            "{} cannot be used as this batch's journal: {what}; choose another destination, or remove the file",
            path.display()
        ),
    )
}

/// Appends records on a thread of its own: it writes every record that arrived while the
/// previous group was being synced, then fsyncs once (group commit), so thousands of small
/// objects a second cost a few fsyncs a second.
pub(crate) struct Writer {
    tx: Option<mpsc::Sender<Record>>,
    thread: Option<JoinHandle<Result<(), Error>>>,
    broken: Arc<AtomicBool>,
}

impl Writer {
    fn start(file: File, path: PathBuf, durable: bool) -> Self {
        let (tx, rx) = mpsc::channel::<Record>();
        let broken = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&broken);
        let thread = std::thread::Builder::new()
            .name("oss-batch-journal".into())
            .spawn(move || {
                let result = append_loop(file, &rx, durable)
                    .map_err(|source| Error::local(LocalOp::Journal, &path, source));
                if result.is_err() {
                    flag.store(true, Ordering::Release);
                }
                result
            });
        match thread {
            Ok(thread) => Self {
                tx: Some(tx),
                thread: Some(thread),
                broken,
            },
            Err(_) => {
                broken.store(true, Ordering::Release);
                Self {
                    tx: None,
                    thread: None,
                    broken,
                }
            }
        }
    }

    /// Queues a record (never blocks).
    pub(crate) fn record(&self, record: Record) {
        if let Some(tx) = &self.tx
            && tx.send(record).is_err()
        {
            self.broken.store(true, Ordering::Release);
        }
    }

    /// Whether appending failed (the batch should stop: finished objects would not be
    /// remembered).
    pub(crate) fn is_broken(&self) -> bool {
        self.broken.load(Ordering::Acquire)
    }

    /// Writes and syncs everything queued, and stops the thread.
    pub(crate) fn finish(mut self) -> Result<(), Error> {
        self.tx = None;
        match self.thread.take() {
            Some(thread) => thread.join().unwrap_or_else(|_| {
                Err(Error::Internal {
                    detail: "the batch journal's writer thread panicked".into(),
                })
            }),
            None => Err(Error::Internal {
                detail: "the batch journal's writer thread could not be started".into(),
            }),
        }
    }
}

fn append_loop(mut file: File, rx: &mpsc::Receiver<Record>, durable: bool) -> io::Result<()> {
    let mut buf = String::new();
    while let Ok(first) = rx.recv() {
        buf.clear();
        buf.push_str(&format_record(&first));
        while let Ok(more) = rx.try_recv() {
            buf.push_str(&format_record(&more));
        }
        file.write_all(buf.as_bytes())?;
        if durable {
            file.sync_data()?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(key: &str, size: u64) -> Record {
        Record {
            key: key.into(),
            finished: Finished {
                size,
                etag: "\"ABC\"".into(),
                crc64: Some(size * 7),
            },
        }
    }

    #[test]
    fn records_round_trip_every_odd_key() {
        for key in [
            "a",
            "a b%20c",
            "文件/😀",
            "tab\there",
            "new\nline",
            "%",
            "x y z",
        ] {
            let line = format_record(&rec(key, 5));
            assert!(
                line.ends_with('\n') && line.matches('\n').count() == 1,
                "{line:?}"
            );
            let back = parse_record(line.trim_end_matches('\n')).unwrap();
            assert_eq!(back.key, key);
            assert_eq!(back.finished, rec(key, 5).finished);
        }
    }

    #[test]
    fn a_damaged_line_is_refused() {
        let line = format_record(&rec("k", 5));
        let bad = line.replacen(" 5 ", " 6 ", 1);
        assert!(parse_record(bad.trim_end()).is_none());
        assert!(parse_record(&line[..line.len() / 2]).is_none());
    }

    #[test]
    fn torn_tails_are_tolerated_and_cut() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        let (loaded, w) = open(&path, "bkt", false, true).unwrap();
        assert!(loaded.finished.is_empty());
        w.record(rec("one", 1));
        w.record(rec("two", 2));
        w.finish().unwrap();
        // A torn append: half a record, no newline.
        let half = format_record(&rec("three", 3));
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&half.as_bytes()[..10]).unwrap();
        drop(f);
        let (loaded, w) = open(&path, "bkt", false, true).unwrap();
        assert_eq!(loaded.finished.len(), 2);
        assert_eq!(loaded.damaged, 0);
        w.record(rec("four", 4));
        w.finish().unwrap();
        let (loaded, w) = open(&path, "bkt", false, false).unwrap();
        w.finish().unwrap();
        let mut keys: Vec<_> = loaded.finished.keys().cloned().collect();
        keys.sort();
        assert_eq!(keys, ["four", "one", "two"]);
        // Restart empties it.
        let (loaded, w) = open(&path, "bkt", true, false).unwrap();
        w.finish().unwrap();
        assert!(loaded.finished.is_empty());
        let (loaded, w) = open(&path, "bkt", false, false).unwrap();
        w.finish().unwrap();
        assert!(loaded.finished.is_empty());
    }

    #[test]
    fn another_buckets_journal_or_a_foreign_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j");
        open(&path, "bkt", false, false)
            .unwrap()
            .1
            .finish()
            .unwrap();
        let e = open(&path, "other", false, false).err().unwrap();
        assert!(e.to_string().contains("another bucket"), "{e}");
        std::fs::write(&path, "hello\n").unwrap();
        let e = open(&path, "bkt", false, false).err().unwrap();
        assert!(e.to_string().contains("not a batch journal"), "{e}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "hello\n");
    }
}
