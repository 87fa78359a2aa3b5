//! Signature verification: recompute what the client should have signed (through
//! `oss-sign`'s public intermediate steps) and compare.
//!
//! On a mismatch OSS returns its string to sign so the client can compare; so do we.

use crate::auth::Claim;
use crate::oss_error::OssError;
use crate::request::RequestParts;

/// The parts of a request a signature covers.
pub(crate) struct SignedRequest<'a> {
    pub(crate) req: &'a RequestParts,
    pub(crate) query: &'a [(String, String)],
    pub(crate) bucket: &'a str,
    pub(crate) key: Option<&'a str>,
}

/// What the server computes for a request.
pub(crate) struct Expected {
    pub(crate) string_to_sign: String,
    pub(crate) canonical_request: Option<String>,
    pub(crate) signature: String,
}

/// `SignatureDoesNotMatch` with OSS's extra fields.
fn mismatch(claim: &Claim, provided: &str, expected: &Expected) -> OssError {
    let hex_bytes: Vec<String> = expected
        .string_to_sign
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect();
    let message = "The request signature we calculated does not match the signature you provided. Check your key and signing method.";
    match claim {
        Claim::V1Header { access_key_id, .. } | Claim::V1Presign { access_key_id, .. } => {
            OssError::new(403, "SignatureDoesNotMatch", message)
                .field("OSSAccessKeyId", access_key_id.clone())
                .field("SignatureProvided", provided)
                .field("StringToSign", expected.string_to_sign.clone())
                .field("StringToSignBytes", hex_bytes.join(" "))
                .ec("0002-00000040")
        }
        Claim::V4Header { access_key_id, .. } | Claim::V4Presign { access_key_id, .. } => {
            // Whether OSS also returns the canonical request is unknown (I); it helps.
            let mut e = OssError::new(403, "SignatureDoesNotMatch", message)
                .field("OSSAccessKeyId", access_key_id.clone())
                .field("SignatureProvided", provided)
                .field("StringToSign", expected.string_to_sign.clone())
                .field("StringToSignBytes", hex_bytes.join(" "));
            if let Some(c) = &expected.canonical_request {
                e = e.field("CanonicalRequest", c.clone());
            }
            e.ec("0002-00000201")
        }
    }
}

/// Checks the claimed signature.
pub(crate) fn verify(claim: &Claim, signed: &SignedRequest<'_>, secret: &str) -> Result<(), OssError> {
    let provided = match claim {
        Claim::V1Header { signature, .. }
        | Claim::V1Presign { signature, .. }
        | Claim::V4Header { signature, .. }
        | Claim::V4Presign { signature, .. } => signature.as_str(),
    };
    let Some(expected) = expected(claim, signed, secret) else {
        return Ok(());
    };
    if constant_time_eq(provided.as_bytes(), expected.signature.as_bytes()) {
        Ok(())
    } else {
        Err(mismatch(claim, provided, &expected))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Recomputes the expected signature. PENDING: wired to `oss-sign` once its verification
/// API is committed; until then no signature is checked (see the crate docs).
fn expected(_claim: &Claim, _signed: &SignedRequest<'_>, _secret: &str) -> Option<Expected> {
    None
}
