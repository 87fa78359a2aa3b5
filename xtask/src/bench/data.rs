//! The bench objects: random files made once under `target/bench/data/`, their CRC-64
//! (cached beside them), and warming them into the page cache.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Instant, UNIX_EPOCH};

use crate::size::exact;

/// One bench object on disk.
#[derive(Debug, Clone)]
pub struct Object {
    /// The object key (its file name), e.g. `bench-1GiB.bin`.
    pub key: String,
    /// The file nginx serves.
    pub path: PathBuf,
    /// Size in bytes.
    pub size: u64,
    /// CRC-64/XZ of the whole file (OSS's `x-oss-hash-crc64ecma`).
    pub crc64: u64,
}

/// Makes (once) and describes the object of `size` bytes in `dir`.
pub fn ensure(dir: &Path, size: u64) -> Result<Object, String> {
    fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let key = format!("bench-{}.bin", exact(size));
    let path = dir.join(&key);
    let fits = fs::metadata(&path)
        .map(|m| m.len() == size)
        .unwrap_or(false);
    if !fits {
        make_random(&path, size)?;
    }
    let crc64 = cached_crc(&path, size)?;
    Ok(Object {
        key,
        path,
        size,
        crc64,
    })
}

/// Reads the whole file so it sits in the page cache for the runs.
pub fn warm(path: &Path) -> Result<(), String> {
    let mut file = File::open(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match file.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        }
    }
}

fn make_random(path: &Path, size: u64) -> Result<(), String> {
    eprintln!(
        "==> bench: making {} of random data at {}",
        exact(size),
        path.display()
    );
    let started = Instant::now();
    let tmp = path.with_extension("bin.tmp");
    let result = (|| -> io::Result<()> {
        let mut random = File::open("/dev/urandom")?;
        let mut out = File::create(&tmp)?;
        let mut buf = vec![0u8; 1 << 20];
        let mut left = size;
        while left > 0 {
            let n = usize::try_from(left.min(buf.len() as u64)).unwrap_or(buf.len());
            let chunk = buf.get_mut(..n).unwrap_or_default();
            random.read_exact(chunk)?;
            out.write_all(chunk)?;
            left -= n as u64;
        }
        out.sync_all()?;
        fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = fs::remove_file(&tmp);
        format!("cannot make {}: {e}", path.display())
    })?;
    eprintln!(
        "==> bench: made it in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The file's CRC-64, from `<file>.crc64` when that still describes the file (same length
/// and mtime), else computed and cached.
fn cached_crc(path: &Path, size: u64) -> Result<u64, String> {
    let meta = fs::metadata(path).map_err(|e| format!("cannot stat {}: {e}", path.display()))?;
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let stamp = format!("len={size} mtime_ns={mtime}");
    let cache = path.with_extension("bin.crc64");
    if let Ok(text) = fs::read_to_string(&cache)
        && let Some((cached_stamp, crc)) = text.trim().rsplit_once(" crc64=")
        && cached_stamp == stamp
        && let Ok(crc) = crc.parse::<u64>()
    {
        return Ok(crc);
    }
    let started = Instant::now();
    let (_, crc) = super::crc64::file_crc(path)?;
    eprintln!(
        "==> bench: CRC-64 of {} is {crc} ({:.1} s)",
        path.display(),
        started.elapsed().as_secs_f64()
    );
    fs::write(&cache, format!("{stamp} crc64={crc}\n"))
        .map_err(|e| format!("cannot write {}: {e}", cache.display()))?;
    Ok(crc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crc64::Crc64;

    #[test]
    fn makes_once_and_caches_the_crc() {
        let dir = std::env::temp_dir().join(format!("xtask-bench-data-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let a = ensure(&dir, 3 * 1024).unwrap();
        assert_eq!(fs::metadata(&a.path).unwrap().len(), 3 * 1024);
        let mut crc = Crc64::new();
        crc.update(&fs::read(&a.path).unwrap());
        assert_eq!(a.crc64, crc.finish());
        let b = ensure(&dir, 3 * 1024).unwrap();
        assert_eq!((a.key, a.crc64), (b.key, b.crc64), "made once, not remade");
        assert!(
            fs::read_to_string(a.path.with_extension("bin.crc64"))
                .unwrap()
                .contains("crc64=")
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
