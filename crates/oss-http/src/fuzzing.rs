//! Entry points for the fuzz targets in `fuzz/` (`cargo xtask fuzz`): the parsers of what a
//! server sends, which are otherwise internal.
//!
//! Not part of the API: hidden from the docs, no semver promise, and nothing here is meant
//! for a caller. Each function is a thin pass-through, so a fuzz target exercises exactly the
//! code a response goes through, and this module is compiled (and linted) with the crate on
//! stable, so it cannot drift from the code it exposes.

use http::{HeaderMap, StatusCode};
use oss_parts::ByteRange;

use crate::error::Error;
use crate::head::ObjectMeta;
pub use crate::xml::ErrorDocument;

/// What the parser keeps of one field at most, in bytes.
pub const MAX_FIELD: usize = crate::xml::MAX_FIELD;
/// How many detail fields the parser keeps at most.
pub const MAX_DETAILS: usize = crate::xml::MAX_DETAILS;
/// The value a secret-bearing field is replaced with.
pub const REDACTED: &str = crate::xml::REDACTED;

/// An OSS error body, as a failed response's body is read (`None`: not an error document).
pub fn parse_error_document(text: &str) -> Option<ErrorDocument> {
    crate::xml::parse_error_document(text)
}

/// HEAD's `x-oss-err` header value (base64 of an error document).
pub fn parse_x_oss_err(value: &[u8]) -> Option<ErrorDocument> {
    crate::xml::parse_x_oss_err(value)
}

/// Whether an error document's field of this name is redacted (it may echo a secret).
pub fn is_secret_field(name: &str) -> bool {
    crate::xml::is_secret_field(name)
}

/// A `Content-Range` value: the range and the total size, or `None` when it is refused.
pub fn parse_content_range(value: &str) -> Option<(ByteRange, u64)> {
    crate::range::parse_content_range(value).map(|c| (c.range, c.total))
}

/// The check a ranged GET's status and headers go through before any body byte is read.
pub fn check_partial_response(
    status: StatusCode,
    headers: &HeaderMap,
    asked: ByteRange,
    object_size: u64,
) -> Result<(), Error> {
    crate::range::check_partial_response(status, headers, asked, object_size, None)
}

/// A successful HEAD's headers, read into the object's metadata.
pub fn object_meta(headers: &HeaderMap) -> Result<ObjectMeta, Error> {
    ObjectMeta::from_headers(headers)
}
