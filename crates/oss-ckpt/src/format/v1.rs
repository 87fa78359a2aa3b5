//! Format version 1: the frozen postcard body.
//!
//! postcard is not self-describing: the field order and types of these structs *are* the
//! format. Never reorder, insert or retype a field, never use `skip_serializing_if`,
//! `flatten` or untagged enums; a change means a new `v2.rs` (and this file stays, so old
//! checkpoints still read). `fixtures/ckpt/v1-small.cp` pins the bytes.

use std::borrow::Cow;
use std::fmt;

use oss_parts::{ByteRange, DoneSet, PartSize, Plan};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

use crate::error::{CkptError, Corruption};
use crate::format::path_bytes;
use crate::model::{
    BootId, Checkpoint, CheckpointParts, FileIdentity, InFlight, LocalFiles, MAX_IN_FLIGHT,
    ObjectIdentity, Snapshot,
};

/// The longest string or path kept, in bytes: far above real names (OSS keys are at most
/// 1023 bytes, Linux paths 4096), small enough to bound a checkpoint.
pub(crate) const MAX_TEXT_LEN: usize = 64 * 1024;

#[derive(Serialize, Deserialize)]
pub(crate) struct BodyV1<'a> {
    #[serde(borrow)]
    object: ObjectV1<'a>,
    part_size: u64,
    part_count: u64,
    #[serde(borrow)]
    local: LocalV1<'a>,
    #[serde(borrow)]
    boot_id: Option<Bytes<'a>>,
    #[serde(borrow)]
    latest: ProgressV1<'a>,
    #[serde(borrow)]
    durable: DurableV1<'a>,
}

#[derive(Serialize, Deserialize)]
struct ObjectV1<'a> {
    endpoint_host: &'a str,
    bucket: &'a str,
    key: &'a str,
    version_id: Option<&'a str>,
    etag: &'a str,
    size: u64,
    last_modified: &'a str,
    crc64: Option<u64>,
}

#[derive(Serialize, Deserialize)]
struct LocalV1<'a> {
    #[serde(borrow)]
    destination: Bytes<'a>,
    #[serde(borrow)]
    temp_path: Bytes<'a>,
    temp_device: u64,
    temp_file_id: u64,
    temp_len: u64,
}

#[derive(Serialize, Deserialize)]
struct ProgressV1<'a> {
    /// oss-parts' frozen done-set encoding, as one byte string.
    #[serde(borrow)]
    done: Cow<'a, DoneSet>,
    in_flight: InFlightListV1,
    /// [`oss_crc::CrcFold::raw`]; its total is the object size.
    fold: u64,
}

/// The durable snapshot. Its done set is almost always a subset of the latest one, so it
/// is stored as the parts the latest snapshot adds: a few bytes instead of a second
/// bitmap when parts finish in a random order.
#[derive(Serialize, Deserialize)]
struct DurableV1<'a> {
    #[serde(borrow)]
    done: DurableDoneV1<'a>,
    in_flight: InFlightListV1,
    fold: u64,
}

#[derive(Serialize, Deserialize)]
enum DurableDoneV1<'a> {
    /// The durable done set itself.
    #[serde(borrow)]
    Full(Cow<'a, DoneSet>),
    /// The parts done in `latest` but not in `durable` (durable = latest minus these).
    #[serde(borrow)]
    LatestMinus(Cow<'a, DoneSet>),
}

#[derive(Serialize, Deserialize, Clone, Copy)]
struct InFlightV1 {
    index: u64,
    bytes_done: u64,
    crc: u64,
}

/// A list of in-flight parts whose decoder refuses more than [`MAX_IN_FLIGHT`] before
/// allocating for them.
struct InFlightListV1(Vec<InFlightV1>);

impl Serialize for InFlightListV1 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for part in &self.0 {
            seq.serialize_element(part)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for InFlightListV1 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor;
        impl<'de> Visitor<'de> for ListVisitor {
            type Value = InFlightListV1;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "at most {MAX_IN_FLIGHT} in-flight parts")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let hint = seq.size_hint().unwrap_or(0);
                if hint > MAX_IN_FLIGHT {
                    return Err(de::Error::invalid_length(hint, &self));
                }
                let mut parts = Vec::with_capacity(hint);
                while let Some(part) = seq.next_element()? {
                    if parts.len() == MAX_IN_FLIGHT {
                        return Err(de::Error::invalid_length(MAX_IN_FLIGHT + 1, &self));
                    }
                    parts.push(part);
                }
                Ok(InFlightListV1(parts))
            }
        }
        deserializer.deserialize_seq(ListVisitor)
    }
}

/// A borrowed byte string (postcard: varint length, then the bytes).
struct Bytes<'a>(&'a [u8]);

impl Serialize for Bytes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Bytes<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BytesVisitor;
        impl<'de> Visitor<'de> for BytesVisitor {
            type Value = Bytes<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a byte string")
            }
            fn visit_borrowed_bytes<E: de::Error>(
                self,
                bytes: &'de [u8],
            ) -> Result<Self::Value, E> {
                Ok(Bytes(bytes))
            }
        }
        deserializer.deserialize_bytes(BytesVisitor)
    }
}

fn in_flight_list(parts: &[InFlight]) -> InFlightListV1 {
    InFlightListV1(
        parts
            .iter()
            .map(|p| InFlightV1 {
                index: p.index,
                bytes_done: p.bytes_done,
                crc: p.crc,
            })
            .collect(),
    )
}

fn invalid(reason: String) -> CkptError {
    CkptError::Invalid { reason }
}

fn text<'a>(what: &str, value: &'a str) -> Result<&'a str, CkptError> {
    if value.len() > MAX_TEXT_LEN {
        return Err(invalid(format!(
            "the {what} is {} bytes, over the {MAX_TEXT_LEN}-byte limit",
            value.len()
        )));
    }
    Ok(value)
}

fn path<'a>(what: &str, value: &'a std::path::Path) -> Result<Bytes<'a>, CkptError> {
    let bytes = path_bytes::to_bytes(value).ok_or_else(|| {
        invalid(format!(
            "the {what} {:?} is not valid Unicode, which this platform's checkpoint needs",
            value.display().to_string()
        ))
    })?;
    if bytes.len() > MAX_TEXT_LEN {
        return Err(invalid(format!(
            "the {what} is {} bytes, over the {MAX_TEXT_LEN}-byte limit",
            bytes.len()
        )));
    }
    Ok(Bytes(bytes))
}

impl<'a> BodyV1<'a> {
    /// The body for `ckpt`, borrowing from it (the durable delta is computed here).
    pub(crate) fn from_checkpoint(ckpt: &'a Checkpoint) -> Result<Self, CkptError> {
        let plan = ckpt.plan();
        for (name, progress) in [("latest", &ckpt.latest), ("durable", &ckpt.durable)] {
            if progress.plan() != plan {
                return Err(invalid(format!(
                    "the {name} progress is for another plan ({:?}, not {plan:?})",
                    progress.plan()
                )));
            }
        }
        let object = ckpt.object();
        let local = ckpt.local();
        let (latest, durable) = (&ckpt.latest, &ckpt.durable);
        let durable_done = if durable.done().is_subset(latest.done()) {
            DurableDoneV1::LatestMinus(Cow::Owned(latest.done().difference(durable.done())))
        } else {
            DurableDoneV1::Full(Cow::Borrowed(durable.done()))
        };
        Ok(Self {
            object: ObjectV1 {
                endpoint_host: text("endpoint host", &object.endpoint_host)?,
                bucket: text("bucket", &object.bucket)?,
                key: text("key", &object.key)?,
                version_id: object
                    .version_id
                    .as_deref()
                    .map(|v| text("version id", v))
                    .transpose()?,
                etag: text("ETag", &object.etag)?,
                size: object.size,
                last_modified: text("Last-Modified", &object.last_modified)?,
                crc64: object.crc64,
            },
            part_size: plan.part_size().get(),
            part_count: plan.len(),
            local: LocalV1 {
                destination: path("destination", &local.destination)?,
                temp_path: path("temp path", &local.temp_path)?,
                temp_device: local.temp_file.device,
                temp_file_id: local.temp_file.file_id,
                temp_len: local.temp_file.len,
            },
            boot_id: ckpt.boot_id.as_ref().map(|id| Bytes(id.as_bytes())),
            latest: ProgressV1 {
                done: Cow::Borrowed(latest.done()),
                in_flight: in_flight_list(latest.in_flight()),
                fold: latest.fold().raw(),
            },
            durable: DurableV1 {
                done: durable_done,
                in_flight: in_flight_list(durable.in_flight()),
                fold: durable.fold().raw(),
            },
        })
    }

    /// The checkpoint this body describes, after checking every rule the in-memory types
    /// keep: a whole-object download, as every version 1 to 3 checkpoint is.
    pub(crate) fn into_checkpoint(self) -> Result<Checkpoint, Corruption> {
        self.into_checkpoint_over(None)
    }

    /// The checkpoint this body describes for the object's byte `window` (`None`: the
    /// whole object): the plan is over the window's length, and the window must end
    /// inside the object (format version 4 records it after this body).
    pub(crate) fn into_checkpoint_over(
        self,
        window: Option<ByteRange>,
    ) -> Result<Checkpoint, Corruption> {
        let bad = |detail: String| Corruption::Inconsistent { detail };
        let owned = |what: &str, value: &str| {
            if value.len() > MAX_TEXT_LEN {
                return Err(bad(format!("a {}-byte {what}", value.len())));
            }
            Ok(value.to_owned())
        };
        let o = &self.object;
        let object = ObjectIdentity {
            endpoint_host: owned("endpoint host", o.endpoint_host)?,
            bucket: owned("bucket", o.bucket)?,
            key: owned("key", o.key)?,
            version_id: o.version_id.map(|v| owned("version id", v)).transpose()?,
            etag: owned("ETag", o.etag)?,
            size: o.size,
            last_modified: owned("Last-Modified", o.last_modified)?,
            crc64: o.crc64,
        };
        let planned = match window {
            None => object.size,
            Some(w) if w.end().is_some_and(|end| end <= object.size) => w.len(),
            Some(w) => {
                return Err(bad(format!(
                    "the window {w} ends past the {}-byte object",
                    object.size
                )));
            }
        };
        let part_size = PartSize::new(self.part_size).map_err(|e| bad(e.to_string()))?;
        let plan = Plan::new(planned, part_size).map_err(|e| bad(e.to_string()))?;
        if plan.len() != self.part_count {
            return Err(bad(format!(
                "{} parts recorded for a plan of {}",
                self.part_count,
                plan.len()
            )));
        }
        let path = |what: &str, bytes: Bytes<'_>| {
            if bytes.0.len() > MAX_TEXT_LEN {
                return Err(bad(format!("a {}-byte {what}", bytes.0.len())));
            }
            path_bytes::from_bytes(bytes.0)
                .ok_or_else(|| bad(format!("the {what} is not a path on this platform")))
        };
        let local = LocalFiles {
            destination: path("destination", self.local.destination)?,
            temp_path: path("temp path", self.local.temp_path)?,
            temp_file: FileIdentity {
                device: self.local.temp_device,
                file_id: self.local.temp_file_id,
                len: self.local.temp_len,
                // Version 1 did not record it (version 2 adds it after this body).
                created: None,
            },
        };
        let boot_id = match self.boot_id {
            None => None,
            Some(bytes) => Some(
                BootId::new(bytes.0.to_vec())
                    .ok_or_else(|| bad(format!("a {}-byte boot id", bytes.0.len())))?,
            ),
        };
        let in_flight = |list: InFlightListV1| -> Vec<InFlight> {
            list.0
                .into_iter()
                .map(|p| InFlight {
                    index: p.index,
                    bytes_done: p.bytes_done,
                    crc: p.crc,
                })
                .collect()
        };
        let latest = Snapshot::from_parts(
            plan,
            self.latest.done.into_owned(),
            in_flight(self.latest.in_flight),
            self.latest.fold,
        )
        .map_err(|e| bad(format!("latest snapshot: {e}")))?;
        let durable_done = match self.durable.done {
            DurableDoneV1::Full(done) => done.into_owned(),
            DurableDoneV1::LatestMinus(added) => {
                if added.part_count() != plan.len() || !added.is_subset(latest.done()) {
                    return Err(bad(
                        "the durable snapshot removes parts the latest one lacks".into(),
                    ));
                }
                latest.done().difference(&added)
            }
        };
        let durable = Snapshot::from_parts(
            plan,
            durable_done,
            in_flight(self.durable.in_flight),
            self.durable.fold,
        )
        .map_err(|e| bad(format!("durable snapshot: {e}")))?;
        Ok(Checkpoint::from(CheckpointParts {
            object,
            window,
            plan,
            local,
            boot_id,
            latest,
            durable,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::frame;
    use crate::format::tests::random_checkpoint;
    use crate::{CkptError, decode};

    /// Encodes a body that `edit` changed, framed with a valid checksum, and returns the
    /// inconsistency `decode` reports.
    fn inconsistency(edit: impl FnOnce(&mut BodyV1<'_>)) -> String {
        let ckpt = random_checkpoint(11, 200, 50);
        let mut body = BodyV1::from_checkpoint(&ckpt).unwrap();
        edit(&mut body);
        let bytes = postcard::to_stdvec(&body).unwrap();
        match decode(&frame(1, &bytes)) {
            Err(CkptError::Corrupt(Corruption::Inconsistent { detail })) => detail,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn contradictions_inside_a_well_formed_body_are_named() {
        let detail = inconsistency(|b| b.part_count += 1);
        assert!(detail.contains("parts recorded"), "{detail}");

        let detail = inconsistency(|b| b.part_size = 0);
        assert!(detail.contains("part size"), "{detail}");

        let detail = inconsistency(|b| b.object.size += 3 * b.part_size);
        assert!(detail.contains("parts recorded"), "{detail}");

        let detail = inconsistency(|b| b.object.size = u64::MAX);
        assert!(detail.contains("more than the 16777216"), "{detail}");

        let detail = inconsistency(|b| {
            b.latest.in_flight.0 = vec![InFlightV1 {
                index: 1_000_000,
                bytes_done: 1,
                crc: 0,
            }];
        });
        assert!(detail.contains("outside the plan"), "{detail}");

        let detail = inconsistency(|b| {
            let done = b.latest.done.done_ranges().next().unwrap().start;
            b.latest.in_flight.0 = vec![InFlightV1 {
                index: done,
                bytes_done: 1,
                crc: 0,
            }];
        });
        assert!(detail.contains("both done and in flight"), "{detail}");

        let detail = inconsistency(|b| {
            let missing = b.latest.done.missing_ranges().next().unwrap().start;
            b.latest.in_flight.0 = vec![
                InFlightV1 {
                    index: missing,
                    bytes_done: 1,
                    crc: 0,
                },
                InFlightV1 {
                    index: missing,
                    bytes_done: 1,
                    crc: 0,
                },
            ];
        });
        assert!(detail.contains("out of order"), "{detail}");

        let detail = inconsistency(|b| {
            // Removing a part the latest snapshot does not have.
            let missing = b.latest.done.missing_ranges().next().unwrap().start;
            let mut removed = DoneSet::new(&Plan::new(b.part_count, PartSize::MIN).unwrap());
            removed.insert(missing).unwrap();
            b.durable.done = DurableDoneV1::LatestMinus(Cow::Owned(removed));
        });
        assert!(detail.contains("removes parts"), "{detail}");

        let detail = inconsistency(|b| b.boot_id = Some(Bytes(&[])));
        assert!(detail.contains("boot id"), "{detail}");
    }
}
