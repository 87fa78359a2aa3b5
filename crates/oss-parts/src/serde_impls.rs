//! `serde` support (feature `serde`): a [`DoneSet`] as its frozen byte encoding and a
//! [`PartSize`] as a number, both validated when read back.

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use crate::done_set::DoneSet;
use crate::part_size::PartSize;

impl Serialize for DoneSet {
    /// As bytes ([`DoneSet::to_bytes`]): one length-prefixed byte string in binary formats
    /// such as postcard, never a sequence of words.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(&self.to_bytes())
    }
}

impl<'de> Deserialize<'de> for DoneSet {
    /// Through [`DoneSet::from_bytes`]; corrupt bytes are a deserialization error.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_bytes(DoneSetVisitor)
    }
}

struct DoneSetVisitor;

impl<'de> Visitor<'de> for DoneSetVisitor {
    type Value = DoneSet;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the byte encoding of a set of done parts")
    }

    fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<DoneSet, E> {
        DoneSet::from_bytes(bytes).map_err(E::custom)
    }

    /// Formats without a byte type (JSON, for one) write bytes as a sequence of numbers.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<DoneSet, A::Error> {
        let mut bytes = Vec::new();
        while let Some(byte) = seq.next_element::<u8>()? {
            if bytes.len() >= DoneSet::MAX_ENCODED_LEN {
                return Err(de::Error::invalid_length(bytes.len() + 1, &self));
            }
            bytes.push(byte);
        }
        self.visit_bytes(&bytes)
    }
}

impl Serialize for PartSize {
    /// As the number of bytes.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(self.get())
    }
}

impl<'de> Deserialize<'de> for PartSize {
    /// A number of bytes, refused outside 1 B ..= 5 GiB.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let bytes = u64::deserialize(deserializer)?;
        PartSize::new(bytes).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use crate::{DoneSet, PartSize, Plan};

    #[test]
    fn a_done_set_is_one_byte_string_in_postcard() {
        let plan = Plan::new(1000, PartSize::new(1).unwrap()).unwrap();
        let mut done = DoneSet::new(&plan);
        for index in (0..500).chain([700, 702]) {
            done.insert(index).unwrap();
        }
        let bytes = postcard::to_stdvec(&done).unwrap();
        // A varint length, then exactly `to_bytes`.
        let inner = done.to_bytes();
        assert_eq!(bytes[0] as usize, inner.len());
        assert_eq!(&bytes[1..], &inner[..]);
        assert_eq!(postcard::from_bytes::<DoneSet>(&bytes).unwrap(), done);
        // Corrupt contents are a deserialization error, not a panic.
        assert!(postcard::from_bytes::<DoneSet>(&[2, 0xFF, 0xFF]).is_err());
    }

    #[test]
    fn a_part_size_is_a_checked_number() {
        let bytes = postcard::to_stdvec(&PartSize::DEFAULT).unwrap();
        assert_eq!(
            postcard::from_bytes::<PartSize>(&bytes).unwrap(),
            PartSize::DEFAULT
        );
        let zero = postcard::to_stdvec(&0u64).unwrap();
        assert!(postcard::from_bytes::<PartSize>(&zero).is_err());
    }
}
