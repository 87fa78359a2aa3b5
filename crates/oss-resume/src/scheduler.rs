//! The shared scheduler: hands each idle worker the next missing part.
//!
//! Parts resumed from a checkpoint (in flight when it was saved) come first, then every
//! part not done, in order. Nothing is materialized per part: a cursor walks the plan and
//! skips the parts the starting snapshot had done, so memory is O(threads) whatever the
//! object size.

use oss_ckpt::InFlight;
use oss_parts::{DoneSet, Part, Plan};

/// A part to download, and where inside it to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Assignment {
    pub(crate) part: Part,
    /// Bytes of the part already on disk.
    pub(crate) done: u64,
    /// Their CRC-64.
    pub(crate) crc: u64,
}

#[derive(Debug)]
pub(crate) struct Scheduler {
    plan: Plan,
    done: DoneSet,
    /// In-flight parts to resume, by decreasing index (popped from the end).
    resume: Vec<InFlight>,
    /// Sorted indices of the resumed parts (skipped by the cursor).
    resumed: Vec<u64>,
    cursor: u64,
}

impl Scheduler {
    pub(crate) fn new(plan: Plan, done: DoneSet, in_flight: &[InFlight]) -> Self {
        let mut resume = in_flight.to_vec();
        resume.sort_by_key(|p| std::cmp::Reverse(p.index));
        let mut resumed: Vec<u64> = in_flight.iter().map(|p| p.index).collect();
        resumed.sort_unstable();
        Self {
            plan,
            done,
            resume,
            resumed,
            cursor: 0,
        }
    }

    /// The next part to fetch, or `None` when every part is handed out.
    pub(crate) fn next_part(&mut self) -> Option<Assignment> {
        while let Some(p) = self.resume.pop() {
            if let Some(part) = self.plan.part(p.index) {
                return Some(Assignment {
                    part,
                    done: p.bytes_done,
                    crc: p.crc,
                });
            }
        }
        while self.cursor < self.plan.len() {
            let index = self.cursor;
            self.cursor += 1;
            if self.done.contains(index) || self.resumed.binary_search(&index).is_ok() {
                continue;
            }
            let part = self.plan.part(index)?;
            return Some(Assignment {
                part,
                done: 0,
                crc: 0,
            });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oss_parts::PartSize;

    #[test]
    fn resumed_first_then_missing_in_order() {
        let plan = Plan::new(100, PartSize::new(10).unwrap()).unwrap();
        let mut done = DoneSet::new(&plan);
        done.insert(0).unwrap();
        done.insert(5).unwrap();
        let inflight = [
            InFlight {
                index: 7,
                bytes_done: 3,
                crc: 9,
            },
            InFlight {
                index: 2,
                bytes_done: 1,
                crc: 4,
            },
        ];
        let mut s = Scheduler::new(plan, done, &inflight);
        let got: Vec<(u64, u64)> = std::iter::from_fn(|| s.next_part())
            .map(|a| (a.part.index(), a.done))
            .collect();
        assert_eq!(
            got,
            [
                (2, 1),
                (7, 3),
                (1, 0),
                (3, 0),
                (4, 0),
                (6, 0),
                (8, 0),
                (9, 0)
            ]
        );
    }
}
