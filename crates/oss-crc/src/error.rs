//! The crate's one error type.

/// What can go wrong when folding part CRCs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CrcError {
    /// A part reaches past the end of the object it is folded into: the caller's plan and
    /// the fold disagree about the object's size. Nothing was folded.
    #[error(
        "part at offset {offset} with length {len} ends past the object's {total} bytes; \
         fold only parts of the plan the fold was created for"
    )]
    PartOutOfRange {
        /// The part's first byte.
        offset: u64,
        /// The part's length in bytes.
        len: u64,
        /// The object size the fold was created with.
        total: u64,
    },
}
