//! Which stored object a read gets: the current version or the one `versionId` names
//! (delete markers answer as OSS does), and a symlink's target.

use std::sync::Arc;

use crate::model::Emulator;
use crate::object::{StoredObject, Version};
use crate::oss_error::{self as errs, OssError};

impl Emulator {
    /// The version id and object `key` reads as, for `versionId=version_id` when given.
    pub(super) fn lookup(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        versioned: bool,
    ) -> Result<(String, Arc<StoredObject>), OssError> {
        let st = self.state();
        let b = st.buckets.get(bucket);
        // A pattern key no write has touched reads as its one version, `null`.
        let pattern: Option<Vec<Version>> =
            b.and_then(|b| b.pattern_object(key, true)).map(|object| {
                vec![Version::Object {
                    version_id: "null".to_owned(),
                    object,
                }]
            });
        let versions = b.and_then(|b| b.keys.get(key)).or(pattern.as_ref());
        match version_id {
            None => match versions.and_then(|v| v.last()) {
                Some(Version::Object { version_id, object }) => {
                    Ok((version_id.clone(), Arc::clone(object)))
                }
                Some(Version::DeleteMarker {
                    version_id,
                    last_modified,
                }) => Err(errs::no_such_key(key)
                    .header("x-oss-delete-marker", "true")
                    .header("x-oss-version-id", version_id.clone())
                    .header("last-modified", httpdate::fmt_http_date(*last_modified))),
                None => Err(errs::no_such_key(key)),
            },
            Some("") => Err(
                OssError::new(400, "InvalidArgument", "Version id can not be empty")
                    .ec("0012-00000201"),
            ),
            // Status and code for a versionId on a never-versioned bucket are unknown (I).
            Some(v) if !versioned && v != "null" => {
                Err(
                    OssError::new(400, "InvalidArgument", "Invalid version id specified")
                        .ec("0012-00000301"),
                )
            }
            Some(v) => match versions.and_then(|vs| vs.iter().find(|x| x.version_id() == v)) {
                Some(Version::Object { version_id, object }) => {
                    Ok((version_id.clone(), Arc::clone(object)))
                }
                Some(Version::DeleteMarker { version_id, .. }) => Err(errs::method_not_allowed(
                    "The specified method is not allowed against this resource.",
                )
                .header("x-oss-delete-marker", "true")
                .header("x-oss-version-id", version_id.clone())),
                None => Err(errs::no_such_version(key, v)),
            },
        }
    }

    /// The object a symlink's `target` names (its current version): not itself a symlink.
    pub(super) fn symlink_target(
        &self,
        bucket: &str,
        target: &str,
    ) -> Result<Arc<StoredObject>, OssError> {
        let st = self.state();
        let b = st.buckets.get(bucket);
        let pattern = b
            .and_then(|b| b.pattern_object(target, true))
            .map(|object| Version::Object {
                version_id: "null".to_owned(),
                object,
            });
        match b
            .and_then(|b| b.keys.get(target))
            .and_then(|v| v.last())
            .or(pattern.as_ref())
        {
            Some(Version::Object { object, .. }) if object.symlink_target.is_some() => {
                Err(OssError::new(
                    400,
                    "InvalidTargetType",
                    "The symbolic's target file type is invalid",
                )
                .ec("0026-00000011"))
            }
            Some(Version::Object { object, .. }) => Ok(Arc::clone(object)),
            // The status for a missing target is not documented (I): 404.
            _ => Err(OssError::new(
                404,
                "SymlinkTargetNotExist",
                "The symlink target object does not exist",
            )
            .field("Key", target)
            .ec("0026-00000012")),
        }
    }
}
