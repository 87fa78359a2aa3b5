//! Scripted service faults ([`crate::ServiceFault`]) meeting one request: each counts it,
//! those that fire change the model (replace, append) or this response (error, delay, a
//! wrong range, a corrupt byte).

use std::time::Duration;

use http::Method;

use crate::faults::FaultAction;
use crate::model::Emulator;
use crate::oss_error::OssError;
use crate::range::RangeOutcome;

/// Faults that fired for this request and act while it is answered.
#[derive(Default)]
pub(super) struct FiredFaults {
    /// Wait this long before the response head.
    pub(super) delay: Option<Duration>,
    /// Answer a ranged GET with the whole object (200).
    whole_for_range: bool,
    /// Move a ranged GET's bytes by this many (same length, clamped to the object).
    shift: Option<i64>,
    /// Flip the body byte at this offset (of the body sent).
    pub(super) corrupt: Option<u64>,
}

impl FiredFaults {
    /// The range actually served: `outcome` bent by the range faults that fired.
    pub(super) fn bend(&self, outcome: RangeOutcome, size: u64) -> RangeOutcome {
        let RangeOutcome::Partial { start, end } = outcome else {
            return outcome;
        };
        if self.whole_for_range {
            return RangeOutcome::Whole;
        }
        let Some(d) = self.shift else {
            return outcome;
        };
        let len = end - start;
        let max_start = size.saturating_sub(len + 1);
        let s = (start as i128 + d as i128).clamp(0, max_start as i128) as u64;
        RangeOutcome::Partial {
            start: s,
            end: s + len,
        }
    }
}

impl Emulator {
    /// Counts this request against every fault, applies the model changes of those that
    /// fire, and returns what the rest do to this response (an error returns at once).
    /// `key` is `None` for a listing request.
    pub(super) fn fire_faults(
        &self,
        method: &Method,
        bucket: &str,
        key: Option<&str>,
        ranged: bool,
    ) -> Result<FiredFaults, OssError> {
        let actions: Vec<FaultAction> = {
            let mut faults = self.faults_lock();
            faults
                .iter_mut()
                .filter_map(|f| {
                    f.check(method, bucket, key, ranged)
                        .then(|| f.fault.action.clone())
                })
                .collect()
        };
        let mut fired = FiredFaults::default();
        let mut error = None;
        for action in actions {
            if self.apply(&action, bucket, key, ranged, &mut fired, &mut error) {
                self.counters_ref().count_fault(&action.name());
            }
        }
        match error {
            Some(e) => Err(e),
            None => Ok(fired),
        }
    }

    /// Applies one fired action; whether it took effect (and so counts as fired). The first
    /// error action wins.
    fn apply(
        &self,
        action: &FaultAction,
        bucket: &str,
        key: Option<&str>,
        ranged: bool,
        fired: &mut FiredFaults,
        error: &mut Option<OssError>,
    ) -> bool {
        match (action, key) {
            (FaultAction::ReplaceObject(spec), Some(key)) => match spec {
                Some(s) => self.put_object(bucket, key, (**s).clone()).is_ok(),
                None => self.replace_object(bucket, key).is_ok(),
            },
            (FaultAction::Append(n), Some(key)) => {
                let seed = crate::content::synthetic_word(0xA99E, self.next_request_seq());
                self.append_synthetic(bucket, key, *n, seed).is_ok()
            }
            (FaultAction::DeleteObject, Some(key)) => self.delete_object(bucket, key).is_ok(),
            // Changing an object means nothing to a listing request.
            (
                FaultAction::ReplaceObject(_) | FaultAction::Append(_) | FaultAction::DeleteObject,
                None,
            ) => false,
            (
                FaultAction::Error {
                    status,
                    code,
                    message,
                },
                _,
            ) => {
                if error.is_none() {
                    *error = Some(OssError::new(*status, code, message));
                }
                true
            }
            (FaultAction::FirstByteDelay(d), _) => {
                fired.delay = Some(fired.delay.unwrap_or_default() + *d);
                true
            }
            (FaultAction::WholeBodyForRange, _) => {
                fired.whole_for_range = ranged;
                ranged
            }
            (FaultAction::ShiftRange(d), _) => {
                fired.shift = Some(*d);
                ranged
            }
            (FaultAction::CorruptByte(at), _) => {
                fired.corrupt = Some(*at);
                true
            }
        }
    }
}
