//! What the model stores: object specs (what a test asks for) and stored versions.

use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use base64::Engine as _;
use bytes::Bytes;
use md5::{Digest as _, Md5};

use crate::content::Content;

/// `x-oss-object-type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectType {
    /// Made by PutObject: the ETag is the MD5 of the content.
    Normal,
    /// Made by multipart upload: the ETag is opaque, `"<hex>-<parts>"`.
    Multipart,
    /// Made by AppendObject: grows; every append changes size, ETag and Last-Modified.
    Appendable,
    /// A symbolic link to another key of the same bucket.
    Symlink,
}

impl ObjectType {
    /// The header value OSS sends.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectType::Normal => "Normal",
            ObjectType::Multipart => "Multipart",
            ObjectType::Appendable => "Appendable",
            ObjectType::Symlink => "Symlink",
        }
    }
}

/// `x-oss-storage-class`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StorageClass {
    /// Standard.
    Standard,
    /// Infrequent access.
    Ia,
    /// Archive: GET needs a restore first.
    Archive,
    /// Cold archive: GET needs a restore first.
    ColdArchive,
    /// Deep cold archive: GET needs a restore first.
    DeepColdArchive,
}

impl StorageClass {
    /// The header value OSS sends.
    pub fn as_str(self) -> &'static str {
        match self {
            StorageClass::Standard => "Standard",
            StorageClass::Ia => "IA",
            StorageClass::Archive => "Archive",
            StorageClass::ColdArchive => "ColdArchive",
            StorageClass::DeepColdArchive => "DeepColdArchive",
        }
    }

    /// True for the classes whose objects cannot be read before a restore.
    pub fn needs_restore(self) -> bool {
        matches!(
            self,
            StorageClass::Archive | StorageClass::ColdArchive | StorageClass::DeepColdArchive
        )
    }
}

/// Restore state of an archived object (`x-oss-restore`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Restore {
    /// Never restored (GET of an archive class gets `InvalidObjectState`).
    None,
    /// A restore is running (still not readable).
    Ongoing,
    /// Restored until the given time; readable until then.
    Until(SystemTime),
}

/// When the object's CRC-64 (`x-oss-hash-crc64ecma`) is computed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrcMode {
    /// Now for objects up to 64 MiB, never for bigger ones (the default).
    Auto,
    /// Now, on the caller's thread, whatever the size.
    Now,
    /// On a background thread; the header appears once it is ready
    /// (see [`crate::Emulator::wait_crc_ready`]). Meant for huge synthetic objects.
    Background,
    /// Never: the object behaves like one stored before OSS had CRC support.
    Off,
}

/// Objects up to this size get their CRC computed at once under [`CrcMode::Auto`].
pub const AUTO_CRC_LIMIT: u64 = 64 * 1024 * 1024;

/// What a test asks the model to store under a key.
#[derive(Clone, Debug)]
pub struct ObjectSpec {
    pub(crate) content: Content,
    pub(crate) object_type: Option<ObjectType>,
    pub(crate) storage_class: StorageClass,
    pub(crate) content_type: Option<String>,
    pub(crate) content_encoding: Option<String>,
    pub(crate) meta: Vec<(String, String)>,
    pub(crate) crc: CrcMode,
    pub(crate) etag: Option<String>,
    pub(crate) symlink_target: Option<String>,
    pub(crate) restore: Restore,
    pub(crate) last_modified: Option<SystemTime>,
}

impl ObjectSpec {
    fn with_content(content: Content) -> Self {
        Self {
            content,
            object_type: None,
            storage_class: StorageClass::Standard,
            content_type: None,
            content_encoding: None,
            meta: Vec::new(),
            crc: CrcMode::Auto,
            etag: None,
            symlink_target: None,
            restore: Restore::None,
            last_modified: None,
        }
    }

    /// An object holding exactly `data` (type `Normal`, ETag = MD5, `Content-MD5` sent).
    pub fn bytes(data: impl Into<Bytes>) -> Self {
        Self::with_content(Content::bytes(data))
    }

    /// A synthetic object of `size` bytes (see [`crate::synthetic_bytes`]); type `Multipart`
    /// with an opaque ETag unless [`ObjectSpec::object_type`] says otherwise.
    pub fn synthetic(size: u64, seed: u64) -> Self {
        Self::with_content(Content::synthetic(size, seed))
    }

    /// A symlink to `target` (a key in the same bucket).
    pub fn symlink(target: impl Into<String>) -> Self {
        let mut spec = Self::with_content(Content::default());
        spec.symlink_target = Some(target.into());
        spec.object_type = Some(ObjectType::Symlink);
        spec
    }

    /// Overrides the object type (e.g. `Appendable` to allow appends).
    pub fn object_type(mut self, object_type: ObjectType) -> Self {
        self.object_type = Some(object_type);
        self
    }

    /// Shorthand for `object_type(ObjectType::Appendable)`.
    pub fn appendable(self) -> Self {
        self.object_type(ObjectType::Appendable)
    }

    /// Sets the storage class.
    pub fn storage_class(mut self, class: StorageClass) -> Self {
        self.storage_class = class;
        self
    }

    /// Sets the restore state (archive classes).
    pub fn restore(mut self, restore: Restore) -> Self {
        self.restore = restore;
        self
    }

    /// Sets the stored Content-Type (default `application/octet-stream`).
    pub fn content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// Sets a stored Content-Encoding (such objects are never gzipped on the fly).
    pub fn content_encoding(mut self, encoding: impl Into<String>) -> Self {
        self.content_encoding = Some(encoding.into());
        self
    }

    /// Adds user metadata, sent as `x-oss-meta-<name>`.
    pub fn meta(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.meta
            .push((name.into().to_ascii_lowercase(), value.into()));
        self
    }

    /// Chooses when the CRC-64 is computed.
    pub fn crc64(mut self, mode: CrcMode) -> Self {
        self.crc = mode;
        self
    }

    /// Forces an ETag (given with or without quotes; stored quoted).
    pub fn etag(mut self, etag: impl Into<String>) -> Self {
        let e = etag.into();
        self.etag = Some(format!("\"{}\"", e.trim_matches('"')));
        self
    }

    /// Forces Last-Modified (rounded down to the second, as OSS reports it).
    pub fn last_modified(mut self, time: SystemTime) -> Self {
        self.last_modified = Some(time);
        self
    }
}

/// The CRC-64 of a stored object: absent, pending on a background thread, or ready.
#[derive(Debug, Default)]
pub(crate) struct CrcCell {
    pub(crate) enabled: bool,
    pub(crate) value: OnceLock<u64>,
}

/// One stored object version (immutable; a change makes a new one).
#[derive(Debug)]
pub(crate) struct StoredObject {
    pub(crate) content: Content,
    pub(crate) etag: String,
    pub(crate) content_md5: Option<String>,
    pub(crate) object_type: ObjectType,
    pub(crate) storage_class: StorageClass,
    pub(crate) content_type: String,
    pub(crate) content_encoding: Option<String>,
    pub(crate) meta: Vec<(String, String)>,
    pub(crate) last_modified: SystemTime,
    pub(crate) crc: Arc<CrcCell>,
    pub(crate) symlink_target: Option<String>,
    pub(crate) restore: Restore,
}

/// Rounds a time down to whole seconds (OSS's Last-Modified resolution).
pub(crate) fn whole_seconds(t: SystemTime) -> SystemTime {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(d.as_secs()),
        Err(_) => SystemTime::UNIX_EPOCH,
    }
}

/// Quoted uppercase hex of an MD5 digest.
fn md5_etag(digest: &[u8]) -> String {
    let mut s = String::with_capacity(34);
    s.push('"');
    for b in digest {
        s.push_str(&format!("{b:02X}"));
    }
    s.push('"');
    s
}

/// An opaque, deterministic ETag for content we do not hash (synthetic, appendable):
/// 32 uppercase hex digits from a mix of the inputs, plus `-N` when `parts` is given.
pub(crate) fn opaque_etag(inputs: &[u64], parts: Option<u64>) -> String {
    let mut a = 0x0123_4567_89AB_CDEFu64;
    let mut b = 0xFEDC_BA98_7654_3210u64;
    for (i, v) in inputs.iter().enumerate() {
        a = crate::content::synthetic_word(a ^ v, i as u64);
        b = crate::content::synthetic_word(b.wrapping_add(*v), a);
    }
    match parts {
        Some(n) => format!("\"{a:016X}{b:016X}-{n}\""),
        None => format!("\"{a:016X}{b:016X}\""),
    }
}

impl StoredObject {
    /// Builds a stored version from a spec; `now` is the model clock.
    pub(crate) fn from_spec(spec: ObjectSpec, now: SystemTime, salt: u64) -> Self {
        let literal = spec.content.as_single_bytes();
        let object_type = spec.object_type.unwrap_or(if literal.is_some() {
            ObjectType::Normal
        } else {
            ObjectType::Multipart
        });
        let mut content_md5 = None;
        let etag = match (&spec.etag, object_type, &literal) {
            (Some(e), _, _) => e.clone(),
            (None, ObjectType::Normal, Some(bytes)) => {
                let digest = Md5::digest(bytes);
                content_md5 = Some(base64::engine::general_purpose::STANDARD.encode(digest));
                md5_etag(&digest)
            }
            (None, ObjectType::Normal, None) => {
                // A Normal object whose content is synthetic: hash it (only sensible for
                // small objects; the test asked for it).
                let mut h = Md5::new();
                spec.content.for_each_chunk(1 << 20, |c| h.update(c));
                let digest = h.finalize();
                content_md5 = Some(base64::engine::general_purpose::STANDARD.encode(digest));
                md5_etag(&digest)
            }
            (None, ObjectType::Multipart, _) => {
                let parts = spec.content.len().div_ceil(8 * 1024 * 1024).max(1);
                opaque_etag(
                    &[spec.content.len(), salt, content_fingerprint(&spec.content)],
                    Some(parts),
                )
            }
            (None, ObjectType::Appendable | ObjectType::Symlink, _) => opaque_etag(
                &[spec.content.len(), salt, content_fingerprint(&spec.content)],
                None,
            ),
        };
        let crc_enabled = match spec.crc {
            CrcMode::Off => false,
            CrcMode::Auto => spec.content.len() <= AUTO_CRC_LIMIT,
            CrcMode::Now | CrcMode::Background => true,
        };
        let crc = Arc::new(CrcCell {
            enabled: crc_enabled && object_type != ObjectType::Symlink,
            value: OnceLock::new(),
        });
        if crc.enabled {
            if spec.crc == CrcMode::Background {
                let cell = Arc::clone(&crc);
                let content = spec.content.clone();
                std::thread::spawn(move || {
                    let _ = cell.value.set(content_crc(&content));
                });
            } else {
                let _ = crc.value.set(content_crc(&spec.content));
            }
        }
        StoredObject {
            content: spec.content,
            etag,
            content_md5,
            object_type,
            storage_class: spec.storage_class,
            content_type: spec
                .content_type
                .unwrap_or_else(|| "application/octet-stream".to_owned()),
            content_encoding: spec.content_encoding,
            meta: spec.meta,
            last_modified: whole_seconds(spec.last_modified.unwrap_or(now)),
            crc,
            symlink_target: spec.symlink_target,
            restore: spec.restore,
        }
    }

    /// The CRC-64 if enabled and ready.
    pub(crate) fn crc64(&self) -> Option<u64> {
        if self.crc.enabled {
            self.crc.value.get().copied()
        } else {
            None
        }
    }
}

/// CRC-64/XZ of a whole content, streamed in 1 MiB chunks.
pub(crate) fn content_crc(content: &Content) -> u64 {
    let mut digest = oss_crc::Crc64::new();
    content.for_each_chunk(1 << 20, |c| digest.update(c));
    digest.value()
}

/// A cheap fingerprint of content for opaque ETags: its size and up to 64 bytes from each
/// end (so different seeds or appended bytes give different ETags without hashing it all).
fn content_fingerprint(content: &Content) -> u64 {
    let n = content.len();
    let take = n.min(64) as usize;
    let mut head = vec![0u8; take];
    content.read_at(0, &mut head);
    let mut tail = vec![0u8; take];
    content.read_at(n - take as u64, &mut tail);
    let mut acc = n;
    for (i, chunk) in head.chunks(8).chain(tail.chunks(8)).enumerate() {
        let mut w = [0u8; 8];
        if let Some(dst) = w.get_mut(..chunk.len()) {
            dst.copy_from_slice(chunk);
        }
        acc = crate::content::synthetic_word(acc ^ u64::from_le_bytes(w), i as u64);
    }
    acc
}

/// One entry in a key's version list.
#[derive(Clone, Debug)]
pub(crate) enum Version {
    /// A readable object version.
    Object {
        version_id: String,
        object: Arc<StoredObject>,
    },
    /// A delete marker.
    DeleteMarker {
        version_id: String,
        last_modified: SystemTime,
    },
}

impl Version {
    pub(crate) fn version_id(&self) -> &str {
        match self {
            Version::Object { version_id, .. } | Version::DeleteMarker { version_id, .. } => {
                version_id
            }
        }
    }
}
