//! Who may read: the bucket must exist (OSS says `NoSuchBucket` before it checks a
//! signature), the signature must verify, and the bucket's ACL and requester-pays setting
//! must allow the request.

use std::time::SystemTime;

use http::Method;

use crate::auth::{AuthContext, Principal, authenticate};
use crate::model::{Acl, BucketSpec, Emulator};
use crate::oss_error::{self as errs, OssError};
use crate::request::RequestParts;

impl Emulator {
    /// The bucket's settings and who signed the request, or the OSS error that refuses it.
    pub(super) fn authorize(
        &self,
        req: &RequestParts,
        bucket: &str,
        key: Option<&str>,
        now: SystemTime,
    ) -> Result<(BucketSpec, Principal), OssError> {
        let (spec, accounts) = {
            let st = self.state();
            let Some(b) = st.buckets.get(bucket) else {
                return Err(errs::no_such_bucket(bucket));
            };
            (b.spec.clone(), st.accounts.clone())
        };
        let options = self.options();
        let principal = authenticate(
            req,
            &AuthContext {
                accounts: &accounts,
                now,
                max_skew: options.max_skew,
                region: options.region.as_deref(),
                bucket,
                key,
            },
        )?;
        let is_read = req.method == Method::GET || req.method == Method::HEAD;
        if principal == Principal::Anonymous && !(spec.acl == Acl::PublicRead && is_read) {
            return Err(errs::access_denied(
                "You have no right to access this object because of bucket acl.",
                "0003-00000001",
            ));
        }
        let payer_named = req
            .header("x-oss-request-payer")
            .is_some_and(|v| v.eq_ignore_ascii_case("requester"));
        if spec.requester_pays && !payer_named {
            return Err(errs::access_denied(
                "Access denied for requester pay bucket",
                "0003-00000703",
            ));
        }
        Ok((spec, principal))
    }
}
