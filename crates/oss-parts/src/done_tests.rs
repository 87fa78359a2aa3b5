//! Tests of the done set and its encoding against a `BTreeSet` model.
#![allow(clippy::single_range_in_vec_init)] // expected lists of ranges that happen to have one

use std::collections::BTreeSet;
use std::ops::Range;

use proptest::prelude::*;

use crate::{DoneSet, MAX_PARTS, PartSize, PartsError, Plan};

fn set_of(len: u64) -> DoneSet {
    DoneSet::new(&Plan::new(len, PartSize::MIN).unwrap())
}

/// Maximal runs of `member` values over `0..len`, from the model.
fn model_runs(model: &BTreeSet<u64>, len: u64, member: bool) -> Vec<Range<u64>> {
    let mut runs: Vec<Range<u64>> = Vec::new();
    for i in 0..len {
        if model.contains(&i) == member {
            match runs.last_mut() {
                Some(run) if run.end == i => run.end = i + 1,
                _ => runs.push(i..i + 1),
            }
        }
    }
    runs
}

fn assert_matches_model(set: &DoneSet, model: &BTreeSet<u64>, len: u64) {
    assert_eq!(set.part_count(), len);
    assert_eq!(set.count(), model.len() as u64);
    assert_eq!(set.is_complete(), model.len() as u64 == len);
    let first_missing = (0..len).find(|i| !model.contains(i));
    assert_eq!(set.first_missing(), first_missing);
    for i in 0..len + 3 {
        assert_eq!(set.contains(i), model.contains(&i), "contains({i})");
    }
    assert_eq!(
        set.missing_ranges().collect::<Vec<_>>(),
        model_runs(model, len, false)
    );
    assert_eq!(
        set.done_ranges().collect::<Vec<_>>(),
        model_runs(model, len, true)
    );
    // Encoding round-trips, and canonical form makes equality set equality.
    let bytes = set.to_bytes();
    let back = DoneSet::from_bytes(&bytes).unwrap();
    assert_eq!(&back, set);
    assert_eq!(back.to_bytes(), bytes);
    let rebuilt = DoneSet::from_word_fn(len, 0..len.div_ceil(64), |w| set.word(w));
    assert_eq!(&rebuilt, set);
    // At most one bit per part, plus the three varints and the kind byte.
    assert!(bytes.len() as u64 <= len / 8 + 13, "{} bytes", bytes.len());
}

fn build(len: u64, indices: &[u64]) -> (DoneSet, BTreeSet<u64>) {
    let mut set = set_of(len);
    let mut model = BTreeSet::new();
    for &i in indices {
        let result = set.insert(i);
        if i < len {
            assert_eq!(result, Ok(model.insert(i)));
        } else {
            assert_eq!(result, Err(PartsError::IndexOutOfRange { index: i, len }));
        }
    }
    (set, model)
}

#[test]
fn empty_plan_is_complete_and_encodes() {
    let set = set_of(0);
    assert!(set.is_complete());
    assert_eq!(set.first_missing(), None);
    assert_eq!(set.missing_ranges().count(), 0);
    assert_eq!(
        set.insert_clone(0),
        Err(PartsError::IndexOutOfRange { index: 0, len: 0 })
    );
    assert_eq!(DoneSet::from_bytes(&set.to_bytes()).unwrap(), set);
}

impl DoneSet {
    fn insert_clone(&self, index: u64) -> Result<bool, PartsError> {
        self.clone().insert(index)
    }
}

#[test]
fn in_order_inserts_keep_the_window_tiny() {
    let len = 100_000;
    let mut set = set_of(len);
    for i in 0..len {
        set.insert(i).unwrap();
        assert!(set.window().len() <= 1);
    }
    assert!(set.is_complete());
    assert_eq!(set.to_bytes().len(), 3 + 3 + 1);
}

#[test]
fn word_boundaries() {
    for len in [63, 64, 65, 127, 128, 129, 200] {
        for (a, b) in [(0, 63), (62, 63), (63, 64), (64, 65), (127, 128), (1, 129)] {
            let indices: Vec<u64> = (0..len).filter(|&i| i != a && i != b).collect();
            let (set, model) = build(len, &indices);
            assert_matches_model(&set, &model, len);
            let (set, model) = build(len, &[a, b, len.saturating_sub(1)]);
            assert_matches_model(&set, &model, len);
        }
    }
}

#[test]
fn both_encodings_decode_to_the_same_set() {
    // Parts 0..3 done, then 5..7 and 9: prefix 3; bits from part 4.
    let (set, _) = build(12, &[0, 1, 2, 5, 6, 9]);
    // kind 2: runs (gap, len-1) from cursor 4: (1, 1) -> 5..7, cursor 8; (1, 0) -> 9..10.
    let runs = [12, 3, 2, 1, 1, 1, 0];
    // kind 1: bit j = part 4 + j: parts 5, 6, 9 -> bits 1, 2, 5.
    let bitmap = [12, 3, 1, 0b0010_0110];
    assert_eq!(DoneSet::from_bytes(&runs).unwrap(), set);
    assert_eq!(DoneSet::from_bytes(&bitmap).unwrap(), set);
    // The encoder picks the shorter: the bitmap here.
    assert_eq!(set.to_bytes(), bitmap);
}

#[test]
fn corrupt_encodings_are_refused_by_name() {
    let cases: &[(&[u8], &str)] = &[
        (&[], "ends inside a number"),
        (&[0x81, 0x80, 0x80, 0x08], "over the limit"), // 2^24 + 1 parts
        (&[5, 6, 0], "longer than the plan"),
        (&[5, 5], "before the kind byte"),
        (&[5, 5, 0, 0], "follow an empty remainder"),
        (&[5, 1, 3, 1], "unknown kind"),
        (&[5, 1, 1], "empty bitmap"),
        (&[5, 1, 1, 1, 0], "zero byte"),
        (&[5, 1, 1, 0b1000], "past the end"), // part 1 + 1 + 3 = 5
        (&[5, 1, 2], "no runs"),
        (&[5, 1, 2, 0, 3], "past the end"), // parts 2..6
        (&[5, 1, 2, 0], "ends inside a number"),
        (&[5, 1, 2, 0, 0, 0], "ends inside a number"),
        (&[5, 1, 2, 0x80, 0x00, 0], "not minimally encoded"),
        (&[5, 5, 2, 0, 0], "past the end"),
        (&[5, 5, 1, 1], "past the end"),
    ];
    for &(bytes, reason) in cases {
        match DoneSet::from_bytes(bytes) {
            Err(PartsError::CorruptDoneSet { reason: got }) => {
                assert!(
                    got.contains(reason),
                    "{bytes:?}: {got:?}, wanted {reason:?}"
                );
            }
            other => panic!("{bytes:?}: {other:?}"),
        }
    }
    // One bit short of the corrupt case above: part 1 + 1 + 2 = 4 is inside the plan.
    let set = DoneSet::from_bytes(&[5, 1, 1, 0b100]).unwrap();
    assert_eq!(set.done_ranges().collect::<Vec<_>>(), [0..1, 4..5]);
}

#[test]
fn difference_and_subset_against_the_model() {
    let len = 300;
    let (a, ma) = build(len, &[0, 1, 2, 3, 64, 65, 100, 250, 299]);
    let (b, mb) = build(len, &[0, 1, 2, 64, 200, 299]);
    let diff = a.difference(&b);
    let mdiff: BTreeSet<u64> = ma.difference(&mb).copied().collect();
    assert_matches_model(&diff, &mdiff, len);
    assert!(diff.is_subset(&a));
    assert!(!a.is_subset(&b));
    assert_eq!(a.difference(&diff), {
        let (s, _) = build(len, &ma.intersection(&mb).copied().collect::<Vec<_>>());
        s
    });
}

#[test]
fn ten_million_parts_random_half_is_a_bitmap_of_one_bit_per_part() {
    let len = 10 << 20;
    let mut set = set_of(len);
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    for i in 0..len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if x & 1 == 1 {
            set.insert(i).unwrap();
        }
    }
    let bytes = set.to_bytes();
    assert!(bytes.len() as u64 <= len / 8 + 13);
    assert!(bytes.len() as u64 > len / 8 - 64);
    assert_eq!(DoneSet::from_bytes(&bytes).unwrap(), set);
}

#[test]
fn prefix_plus_scattered_is_a_few_bytes() {
    let len = 10 << 20;
    let mut set = set_of(len);
    for i in 0..len / 2 {
        set.insert(i).unwrap();
    }
    // Sixteen parts finished out of order, far apart.
    for k in 0..16 {
        set.insert(len / 2 + 1 + k * 300_000).unwrap();
    }
    let bytes = set.to_bytes();
    assert!(bytes.len() < 100, "{}", bytes.len());
    assert_eq!(DoneSet::from_bytes(&bytes).unwrap(), set);
}

#[test]
fn the_largest_plan_encodes_within_the_bound() {
    let (set, _) = build(MAX_PARTS, &[MAX_PARTS - 1, 1]);
    let back = DoneSet::from_bytes(&set.to_bytes()).unwrap();
    assert_eq!(back, set);
    assert!(back.contains(MAX_PARTS - 1) && back.contains(1) && !back.contains(0));
}

/// Insert patterns: random, descending, and in order with a few holes.
fn ops(len: u64) -> impl Strategy<Value = Vec<u64>> {
    prop_oneof![
        proptest::collection::vec(0..len + 2, 0..400),
        Just((0..len).rev().step_by(3).collect()),
        (0..len.max(1)).prop_map(move |hole| (0..len).filter(|i| i % (hole + 2) != 1).collect()),
    ]
}

fn len_and_ops() -> impl Strategy<Value = (u64, Vec<u64>)> {
    prop_oneof![0u64..200, 200u64..3000].prop_flat_map(|len| (Just(len), ops(len)))
}

proptest! {
    #[test]
    fn agrees_with_a_btreeset_model((len, indices) in len_and_ops()) {
        let mut set = set_of(len);
        let mut model = BTreeSet::new();
        for (step, &i) in indices.iter().enumerate() {
            let result = set.insert(i);
            if i < len {
                prop_assert_eq!(result, Ok(model.insert(i)));
            } else {
                prop_assert!(result.is_err());
            }
            // Full checks are O(len): do them now and then, and at the end.
            if step % 50 == 0 {
                assert_matches_model(&set, &model, len);
            }
        }
        assert_matches_model(&set, &model, len);
    }

    #[test]
    fn insertion_order_does_not_matter((len, indices) in len_and_ops()) {
        let (forward, _) = build(len, &indices);
        let reversed: Vec<u64> = indices.iter().rev().copied().collect();
        let (backward, _) = build(len, &reversed);
        prop_assert_eq!(&forward, &backward);
        prop_assert_eq!(forward.to_bytes(), backward.to_bytes());
    }

    #[test]
    fn difference_agrees_with_the_model(
        (len, a) in len_and_ops(),
        b_seed in proptest::collection::vec(any::<u64>(), 0..400),
    ) {
        let b: Vec<u64> = b_seed.iter().map(|x| x % (len + 1)).collect();
        let (sa, ma) = build(len, &a);
        let (sb, mb) = build(len, &b);
        let mdiff: BTreeSet<u64> = ma.difference(&mb).copied().collect();
        assert_matches_model(&sa.difference(&sb), &mdiff, len);
        prop_assert_eq!(sa.is_subset(&sb), ma.is_subset(&mb));
    }

    #[test]
    fn decoding_any_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(set) = DoneSet::from_bytes(&bytes) {
            // Whatever is accepted is a valid set that re-encodes to itself.
            let again = DoneSet::from_bytes(&set.to_bytes()).unwrap();
            prop_assert_eq!(&again, &set);
            prop_assert!(set.count() <= set.part_count());
        }
    }

    #[test]
    fn decoding_mutated_encodings_never_panics(
        (len, indices) in len_and_ops(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let (set, _) = build(len, &indices);
        let mut bytes = set.to_bytes();
        for (at, xor) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= xor;
        }
        if let Ok(decoded) = DoneSet::from_bytes(&bytes) {
            prop_assert_eq!(&DoneSet::from_bytes(&decoded.to_bytes()).unwrap(), &decoded);
            // A flipped part count can reach millions: model-check only small sets.
            prop_assume!(decoded.part_count() <= 5000);
            let model: BTreeSet<u64> = decoded
                .done_ranges()
                .flatten()
                .collect();
            assert_matches_model(&decoded, &model, decoded.part_count());
        }
    }
}

#[test]
fn set_operations_on_large_mostly_prefix_sets() {
    let len = 10 << 20;
    let (half, lag) = (len / 2, 1024);
    let mut newer = set_of(len);
    let mut older = set_of(len);
    for i in 0..half {
        newer.insert(i).unwrap();
        if i < half - lag {
            older.insert(i).unwrap();
        }
    }
    newer.insert(6_000_000).unwrap();
    older.insert(7_000_000).unwrap();
    let added = newer.difference(&older);
    assert_eq!(
        added.done_ranges().collect::<Vec<_>>(),
        [half - lag..half, 6_000_000..6_000_001]
    );
    assert!(!older.is_subset(&newer));
    assert_eq!(
        older.difference(&newer).done_ranges().collect::<Vec<_>>(),
        [7_000_000..7_000_001]
    );
    older.insert(6_000_000).unwrap();
    newer.insert(7_000_000).unwrap();
    assert!(older.is_subset(&newer));
    // And back: the older set is the newer one minus what it added.
    let added = newer.difference(&older);
    assert_eq!(newer.difference(&added), older);
}

#[test]
fn a_cluster_far_from_the_watermark_keeps_the_window_small() {
    let len = 10 << 20;
    let mut set = set_of(len);
    for i in (9_000_000..9_000_100).rev() {
        set.insert(i).unwrap();
    }
    assert!(set.window().len() <= 3, "{}", set.window().len());
    assert_eq!(
        set.done_ranges().collect::<Vec<_>>(),
        [9_000_000..9_000_100]
    );
    // One window spans from the lowest to the highest part done above the watermark:
    // a part near the watermark stretches it over the gap (still one bit per part).
    set.insert(3).unwrap();
    assert_eq!(set.count(), 101);
    assert!(set.window().len() as u64 <= 9_000_100 / 64 + 1);
    assert_eq!(
        set.done_ranges().collect::<Vec<_>>(),
        [3..4, 9_000_000..9_000_100]
    );
    // Filling the gap from below walks the watermark up to the cluster and past it.
    for i in 0..9_000_000 {
        set.insert(i).unwrap();
    }
    assert_eq!(set.first_missing(), Some(9_000_100));
    assert!(set.window().is_empty());
}

#[test]
fn in_order_inserts_with_parts_slightly_ahead_and_a_far_cluster_stay_linear() {
    // Sixteen workers finish parts a little out of order near the watermark while a
    // cluster far away is done (say, from a resumed checkpoint). Each insert must cost
    // O(1) amortized: a quadratic window rebuild here would take minutes, not ~1 s.
    let len = 10 << 20;
    let mut set = set_of(len);
    let mut model_count = 0;
    for i in 9_000_000..9_000_050 {
        set.insert(i).unwrap();
        model_count += 1;
    }
    let started = std::time::Instant::now();
    for block in 0..20_000u64 {
        let base = block * 16;
        // Finish the block's parts in a scrambled order.
        for k in [3, 0, 7, 1, 15, 2, 4, 9, 5, 6, 8, 11, 10, 12, 14, 13] {
            set.insert(base + k).unwrap();
            model_count += 1;
        }
        assert_eq!(set.first_missing(), Some(base + 16));
    }
    assert_eq!(set.count(), model_count);
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert_eq!(
        set.done_ranges().collect::<Vec<_>>(),
        [0..320_000, 9_000_000..9_000_050]
    );
}
