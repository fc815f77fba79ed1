//! The hot loop allocates nothing: allocations during a batch do not grow
//! with its number of cycles (docs/benchmarks.md#what-the-harness-adds).
//!
//! Its own test binary because it installs a counting global allocator,
//! which would count every other test running in parallel.
//!
//! It races in the build directory. On a Mac that filesystem may have the
//! defect: anomalies are then accepted (no examples are kept, so they
//! allocate nothing) and their classification is checked.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use unlink_race::harness::{BatchLimit, Harness, HarnessOptions, Tally};
use unlink_race::outcome::{Class, is_expected};
use unlink_race::scenario::{Delete, Pace, Recreate, Scenario};

/// Whether the host filesystem may have the defect (macOS, APFS).
const HOST_MAY_HAVE_THE_DEFECT: bool = cfg!(target_os = "macos");

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made while running one batch of `cycles` cycles.
fn allocations_in_batch(h: &mut Harness, cycles: u64) -> u64 {
    let before = ALLOCATIONS.load(Relaxed);
    let limit = BatchLimit {
        cycles: Some(cycles),
        ..BatchLimit::default()
    };
    let batch = h
        .run_batch(&limit, &mut |_| std::ops::ControlFlow::Continue(()))
        .unwrap();
    assert!(batch.cycles >= cycles);
    if !HOST_MAY_HAVE_THE_DEFECT {
        assert_eq!(batch.anomalies, 0, "no anomaly on this host's filesystem");
    }
    ALLOCATIONS.load(Relaxed) - before
}

/// The tally's anomalies are exactly its anomaly classes, and none kept an example.
fn assert_classified(t: &Tally, s: &Scenario) {
    let anomalies: u64 = Class::ALL
        .iter()
        .filter(|&&c| !is_expected(c, s))
        .map(|c| t.counts[c.index()])
        .sum();
    assert_eq!(t.anomalies, anomalies, "{}: {:?}", s.name(), t.counts);
    assert!(t.examples.is_empty(), "{}: examples were off", s.name());
}

#[test]
fn allocations_do_not_grow_with_cycles() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    for (recreate, delete, pace) in [
        (Recreate::Inplace, Delete::Unlink, Pace::Sleep),
        (Recreate::Atomic, Delete::Trash, Pace::Check),
        (Recreate::Inplace, Delete::Replace, Pace::Sleep),
        (Recreate::Inplace, Delete::Unlink, Pace::Spin),
        (Recreate::Inplace, Delete::Unlink, Pace::Yield),
        (Recreate::Inplace, Delete::Unlink, Pace::Aimed),
    ] {
        let s = Scenario {
            readers: 2,
            deleters: 2,
            recreate,
            delete,
            pace,
            file_size_bytes: 4096,
            ..Scenario::default()
        };
        // Examples are the rare path's only allocation: none are kept, so
        // anomalies, where the host has them, allocate nothing either.
        let options = HarnessOptions {
            examples_per_class: 0,
            ..HarnessOptions::default()
        };
        let mut h = Harness::start(&s, dir.path(), options).unwrap();
        allocations_in_batch(&mut h, 1_000); // warm up
        let small = allocations_in_batch(&mut h, 1_000);
        let large = allocations_in_batch(&mut h, 100_000);
        // The controller may allocate a little per batch; 99 000 more cycles add nothing.
        assert!(
            large <= small + 16,
            "{}: {small} allocations for 1 000 cycles, {large} for 100 000",
            s.name()
        );
        assert_classified(&h.finish(), &s);
    }
    // The create race's loop allocates nothing either: its round names are
    // spelled in place and its line is words of memory. (In this test, not
    // one of its own: tests run in parallel and the allocator counts all.)
    for flags in unlink_race::scenario::CreateFlags::ALL {
        let s = Scenario::create(3, *flags);
        let options = HarnessOptions {
            examples_per_class: 0,
            ..HarnessOptions::default()
        };
        let mut h = Harness::start(&s, dir.path(), options).unwrap();
        allocations_in_batch(&mut h, 300); // warm up
        let small = allocations_in_batch(&mut h, 300);
        let large = allocations_in_batch(&mut h, 30_000);
        assert!(
            large <= small + 16,
            "{}: {small} allocations for 300 create calls, {large} for 30 000",
            s.name()
        );
        assert_classified(&h.finish(), &s);
    }
}
