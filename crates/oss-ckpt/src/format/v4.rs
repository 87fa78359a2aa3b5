//! Format version 4: version 2's body, then the byte window of the object the download
//! covers, in version 3's slots.
//!
//! Why: a download of a byte range of an object (`ossget --range`) writes only that range
//! to its file, so its plan, its done parts and its temp file are the window's, not the
//! object's. Versions 1 to 3 can only describe a whole object: a range download recorded
//! in them would either not decode (the plan is checked against the object size) or, worse,
//! resume another range of the same object onto the file. Version 4 records the window, and
//! [`crate::Checkpoint::check`] refuses a checkpoint of another window
//! ([`crate::Field::Window`]), so a resume continues only the very bytes it started.
//!
//! Frozen like versions 1 and 2: the body is exactly a version 2 body followed by one
//! `Option<WindowV4>` (postcard: a `0` byte for the whole object, or `1` and two varints,
//! the window's first byte and one past its last). Everything else is encoded and checked
//! by version 1's and 2's code. `fixtures/ckpt/v4-small.cp` pins the bytes.

use oss_parts::ByteRange;
use serde::{Deserialize, Serialize};

use crate::error::{CkptError, Corruption};
use crate::format::v2::BodyV2;
use crate::model::Checkpoint;

#[derive(Serialize, Deserialize)]
pub(crate) struct BodyV4<'a> {
    #[serde(borrow)]
    v2: BodyV2<'a>,
    /// [`Checkpoint::window`]: `None` for the whole object.
    window: Option<WindowV4>,
}

/// The object's bytes `start..end` (end exclusive, `start < end <= object size`).
#[derive(Serialize, Deserialize, Clone, Copy)]
struct WindowV4 {
    start: u64,
    end: u64,
}

impl<'a> BodyV4<'a> {
    /// The body for `ckpt`, borrowing from it.
    pub(crate) fn from_checkpoint(ckpt: &'a Checkpoint) -> Result<Self, CkptError> {
        let window = match ckpt.window() {
            None => None,
            Some(w) => Some(WindowV4 {
                start: w.start(),
                end: w.end().ok_or_else(|| CkptError::Invalid {
                    reason: format!("the window {w} ends at the last possible byte"),
                })?,
            }),
        };
        Ok(Self {
            v2: BodyV2::from_checkpoint(ckpt)?,
            window,
        })
    }

    /// The checkpoint this body describes, checked as thoroughly as a version 2 body, its
    /// plan over the window (which must be non-empty and end inside the object).
    pub(crate) fn into_checkpoint(self) -> Result<Checkpoint, Corruption> {
        let window = match self.window {
            None => None,
            Some(WindowV4 { start, end }) => {
                Some(
                    ByteRange::new(start, end).map_err(|e| Corruption::Inconsistent {
                        detail: format!("the recorded window: {e}"),
                    })?,
                )
            }
        };
        self.v2.into_checkpoint_over(window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::SLOT_HEADER_LEN;
    use crate::format::slots::slot_file;
    use crate::format::tests::random_checkpoint;
    use crate::{CkptError, decode, encode};
    use oss_parts::{PartSize, Plan};

    fn slot0_body(file: &[u8]) -> &[u8] {
        let len = u32::from_le_bytes(file[12..16].try_into().unwrap()) as usize;
        &file[SLOT_HEADER_LEN..SLOT_HEADER_LEN + len]
    }

    /// A checkpoint of `ckpt`'s object, for the window `start..end` of it.
    fn windowed(ckpt: &Checkpoint, start: u64, end: u64) -> Checkpoint {
        let window = ByteRange::new(start, end).unwrap();
        let plan = Plan::new(window.len(), ckpt.plan().part_size()).unwrap();
        let mut out = Checkpoint::for_window(
            ckpt.object().clone(),
            window,
            plan,
            ckpt.local().clone(),
            ckpt.boot_id.clone(),
        )
        .unwrap();
        out.latest.complete(0, 7).unwrap();
        out
    }

    /// A version 4 body is a version 2 body and the window after it.
    #[test]
    fn the_body_is_version_2s_then_the_window() {
        let whole = random_checkpoint(31, 300, 40);
        let size = whole.object().size;
        let v2 = postcard::to_stdvec(&BodyV2::from_checkpoint(&whole).unwrap()).unwrap();
        let file = encode(&whole).unwrap();
        assert_eq!(u16::from_le_bytes([file[8], file[9]]), 4);
        assert_eq!(slot0_body(&file), [v2.as_slice(), &[0]].concat());
        assert_eq!(decode(&file).unwrap(), whole);

        for (start, end) in [(0, 1), (1, size), (size / 3, size / 2), (0, size)] {
            let ckpt = windowed(&whole, start, end);
            let file = encode(&ckpt).unwrap();
            let v2 = postcard::to_stdvec(&BodyV2::from_checkpoint(&ckpt).unwrap()).unwrap();
            let tail = postcard::to_stdvec(&Some((start, end))).unwrap();
            assert_eq!(slot0_body(&file), [v2.as_slice(), &tail].concat());
            let back = decode(&file).unwrap();
            assert_eq!(back, ckpt);
            assert_eq!(back.window(), Some(ByteRange::new(start, end).unwrap()));
            assert_ne!(back, whole);
        }
    }

    /// A version 3 slot holding a version 2 body still reads, as a whole-object download;
    /// a version 2 body claimed as version 4 is cut short.
    #[test]
    fn version_3_slots_read_as_whole_object_downloads() {
        let whole = random_checkpoint(32, 100, 10);
        let v2 = postcard::to_stdvec(&BodyV2::from_checkpoint(&whole).unwrap()).unwrap();
        let v3 = slot_file(4096, &[(0, 3, 1, &v2)]);
        let back = decode(&v3).unwrap();
        assert_eq!(back, whole);
        assert_eq!(back.window(), None);
        assert!(matches!(
            decode(&slot_file(4096, &[(0, 4, 1, &v2)])),
            Err(CkptError::Corrupt(Corruption::Undecodable { .. }))
        ));
    }

    /// A window that is empty, reversed, past the object or of another length than the
    /// plan is corruption, named.
    #[test]
    fn an_impossible_window_is_inconsistent() {
        let whole = random_checkpoint(33, 200, 0);
        let size = whole.object().size;
        let part = whole.plan().part_size().get();
        let v2 = postcard::to_stdvec(&BodyV2::from_checkpoint(&whole).unwrap()).unwrap();
        for (start, end, says) in [
            (5, 5, "recorded window"),
            (9, 3, "recorded window"),
            (1, size + 1, "past the"),
            // The plan recorded is the whole object's: a shorter window has fewer parts.
            (0, size - part - 1, "parts recorded"),
        ] {
            let tail = postcard::to_stdvec(&Some((start, end))).unwrap();
            let body = [v2.as_slice(), &tail].concat();
            match decode(&slot_file(4096 * 4, &[(0, 4, 1, &body)])) {
                Err(CkptError::Corrupt(Corruption::Inconsistent { detail })) => {
                    assert!(detail.contains(says), "{start}..{end}: {detail}");
                }
                other => panic!("{start}..{end}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_window_past_the_object_or_of_another_length_is_refused_when_built() {
        let whole = random_checkpoint(34, 50, 0);
        let size = whole.object().size;
        let local = whole.local().clone();
        let object = whole.object().clone();
        let part = PartSize::new(7).unwrap();
        let past = ByteRange::new(size - 1, size + 1).unwrap();
        let plan = Plan::new(2, part).unwrap();
        assert!(Checkpoint::for_window(object.clone(), past, plan, local.clone(), None).is_err());
        let inside = ByteRange::new(0, 3).unwrap();
        assert!(Checkpoint::for_window(object, inside, plan, local, None).is_err());
    }
}
