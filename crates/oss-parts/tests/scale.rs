//! Scale: a 10 TiB object in 1 MiB parts (10M parts) plans without allocating, and its
//! done set stays within one bit per part. Measured with a counting global allocator.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::fmt::Write as _;

use oss_parts::{DoneSet, PartSize, Plan};

/// Counts this thread's allocations and live heap bytes (tests run on several threads, so
/// a global count would pick up the others').
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    static LIVE_BYTES: Cell<i64> = const { Cell::new(0) };
}

fn note(allocations: u64, bytes: i64) {
    // `try_with`: a thread being torn down has no counters, and that is fine.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + allocations));
    let _ = LIVE_BYTES.try_with(|c| c.set(c.get() + bytes));
}

// The workspace denies unsafe code; a global allocator cannot be written without it.
// SAFETY (for the four methods): each forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees are ours; the bookkeeping touches only const-
// initialized thread-locals without destructors, which never allocate.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(1, layout.size() as i64);
        // SAFETY: see above.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(1, layout.size() as i64);
        // SAFETY: see above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(0, -(layout.size() as i64));
        // SAFETY: see above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(1, new_size as i64 - layout.size() as i64);
        // SAFETY: see above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

fn live_bytes() -> i64 {
    LIVE_BYTES.with(Cell::get)
}

const TEN_TIB: u64 = 10 << 40;
const ONE_MIB: u64 = 1 << 20;

/// Formats into a stack buffer, so header text can be checked without allocating.
struct StackText {
    buf: [u8; 64],
    len: usize,
}

impl std::fmt::Write for StackText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        self.buf
            .get_mut(self.len..end)
            .ok_or(std::fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[test]
fn planning_ten_tib_in_one_mib_parts_allocates_nothing() {
    let before = allocations();

    let plan = Plan::new(TEN_TIB, PartSize::new(ONE_MIB).unwrap()).unwrap();
    assert_eq!(plan.len(), 10 * ONE_MIB);
    let mut covered = 0;
    let mut last_end = 0;
    for part in plan.parts() {
        assert_eq!(part.start(), last_end);
        covered += part.len();
        last_end = part.end();
    }
    assert_eq!(covered, TEN_TIB);
    let last = plan.part(plan.len() - 1).unwrap();
    assert_eq!(plan.part_at(TEN_TIB - 1), Some(last));
    let mut text = StackText {
        buf: [0; 64],
        len: 0,
    };
    write!(text, "{}", last.byte_range()).unwrap();
    let text = std::str::from_utf8(&text.buf[..text.len]).unwrap();
    assert_eq!(text, "bytes=10995115229184-10995116277759");
    assert_eq!(
        text.parse::<oss_parts::ByteRange>().unwrap(),
        last.byte_range()
    );

    assert_eq!(allocations() - before, 0, "planning allocated");
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn done_set_for_ten_million_parts_fits_in_one_bit_per_part() {
    let plan = Plan::new(TEN_TIB, PartSize::new(ONE_MIB).unwrap()).unwrap();
    let before = live_bytes();

    // Worst case: half the parts done in a random pattern, the highest one done first.
    let mut done = DoneSet::new(&plan);
    done.insert(plan.len() - 1).unwrap();
    let mut rng = 0x9E37_79B9_7F4A_7C15;
    while done.count() < plan.len() / 2 {
        done.insert(xorshift(&mut rng) % plan.len()).unwrap();
    }
    let held = live_bytes() - before;
    assert!(held <= 1_400_000, "random half holds {held} bytes");
    assert!(held >= (plan.len() / 8) as i64 - 1024, "{held}");
    drop(done);

    // The common case: a done prefix and 16 parts finished beyond it.
    let before = live_bytes();
    let mut done = DoneSet::new(&plan);
    for index in 0..plan.len() / 2 {
        done.insert(index).unwrap();
    }
    for k in 1..=16 {
        done.insert(plan.len() / 2 + 2 * k).unwrap();
    }
    let held = live_bytes() - before;
    assert!(held <= 64, "prefix case holds {held} bytes");
    assert!(done.to_bytes().len() < 64);
}
