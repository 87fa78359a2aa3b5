//! Format version 2: version 1's body, then the temp data file's birth time.
//!
//! Frozen like version 1 (see `v1.rs`): the body is exactly a version 1 body followed by
//! one `Option<u64>` (postcard: a `0` byte for none, or `1` and a varint), so everything
//! version 1 records is encoded and checked by version 1's code, and this file only adds
//! the field. `fixtures/ckpt/v2-small.cp` pins the bytes.

use serde::{Deserialize, Serialize};

use crate::error::{CkptError, Corruption};
use crate::format::v1::BodyV1;
use crate::model::Checkpoint;

#[derive(Serialize, Deserialize)]
pub(crate) struct BodyV2<'a> {
    #[serde(borrow)]
    v1: BodyV1<'a>,
    /// [`crate::FileIdentity::created`] of the temp data file, nanoseconds since the epoch.
    temp_created: Option<u64>,
}

impl<'a> BodyV2<'a> {
    /// The body for `ckpt`, borrowing from it.
    pub(crate) fn from_checkpoint(ckpt: &'a Checkpoint) -> Result<Self, CkptError> {
        Ok(Self {
            v1: BodyV1::from_checkpoint(ckpt)?,
            temp_created: ckpt.local().temp_file.created,
        })
    }

    /// The checkpoint this body describes, checked as thoroughly as a version 1 body: a
    /// whole-object download, as every version 2 and 3 checkpoint is.
    pub(crate) fn into_checkpoint(self) -> Result<Checkpoint, Corruption> {
        self.into_checkpoint_over(None)
    }

    /// The checkpoint this body describes for the object's byte `window` (format version
    /// 4 records it after this body; see `BodyV1::into_checkpoint_over`).
    pub(crate) fn into_checkpoint_over(
        self,
        window: Option<oss_parts::ByteRange>,
    ) -> Result<Checkpoint, Corruption> {
        let mut ckpt = self.v1.into_checkpoint_over(window)?;
        let mut temp = ckpt.local().temp_file;
        temp.created = self.temp_created;
        ckpt.set_temp_file(temp);
        Ok(ckpt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::tests::random_checkpoint;
    use crate::format::{SLOT_HEADER_LEN, encode, frame};
    use crate::{CkptError, decode};

    /// A version 2 body is a version 1 body and the birth time after it.
    #[test]
    fn the_body_is_version_1s_then_the_birth_time() {
        let mut ckpt = random_checkpoint(21, 300, 40);
        for created in [
            None,
            Some(0),
            Some(1_764_120_000_123_456_789),
            Some(u64::MAX),
        ] {
            let mut temp = ckpt.local().temp_file;
            temp.created = created;
            ckpt.set_temp_file(temp);
            // Version 4's slots hold version 2's body, then the window (whole object: 0).
            let v3 = encode(&ckpt).unwrap();
            let body_len = u32::from_le_bytes(v3[12..16].try_into().unwrap()) as usize;
            let v2_body = &v3[SLOT_HEADER_LEN..SLOT_HEADER_LEN + body_len - 1];
            assert_eq!(v3[SLOT_HEADER_LEN + body_len - 1], 0);
            let v1_body = postcard::to_stdvec(&BodyV1::from_checkpoint(&ckpt).unwrap()).unwrap();
            let tail = postcard::to_stdvec(&created).unwrap();
            assert_eq!(v2_body, [v1_body.as_slice(), &tail].concat());
            assert_eq!(decode(&v3).unwrap(), ckpt);
            assert_eq!(decode(&frame(2, v2_body)).unwrap(), ckpt);

            // The version 1 body alone reads as version 1, without a birth time.
            let old = decode(&frame(1, &v1_body)).unwrap();
            assert_eq!(old.local().temp_file.created, None);
            assert_eq!(old.local().temp_file.file_id, temp.file_id);
            // And as version 2 it is cut short.
            assert!(matches!(
                decode(&frame(2, &v1_body)),
                Err(CkptError::Corrupt(Corruption::Undecodable { .. }))
            ));
        }
    }
}
