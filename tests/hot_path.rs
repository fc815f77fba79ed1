//! The hot loop allocates nothing: allocations during a batch do not grow
//! with its number of cycles (DESIGN §10).
//!
//! Its own test binary because it installs a counting global allocator,
//! which would count every other test running in parallel.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use unlink_race::harness::{BatchLimit, Harness, HarnessOptions};
use unlink_race::scenario::{Delete, Pace, Recreate, Scenario};

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
    assert_eq!(
        batch.anomalies, 0,
        "anomalies allocate examples; this test needs none"
    );
    ALLOCATIONS.load(Relaxed) - before
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
        let mut h = Harness::start(&s, dir.path(), HarnessOptions::default()).unwrap();
        allocations_in_batch(&mut h, 1_000); // warm up
        let small = allocations_in_batch(&mut h, 1_000);
        let large = allocations_in_batch(&mut h, 100_000);
        // The controller may allocate a little per batch; 99 000 more cycles add nothing.
        assert!(
            large <= small + 16,
            "{}: {small} allocations for 1 000 cycles, {large} for 100 000",
            s.name()
        );
        drop(h);
    }
}
