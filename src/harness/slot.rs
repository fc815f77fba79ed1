//! What one worker publishes: counters, progress, the watchdog's view and the
//! ring buffer of recent events.
//!
//! A [`WorkerSlot`] is written by its own worker only, with relaxed stores (a
//! plain `mov` on x86 and arm64: no lock, no read-modify-write), and read by the
//! controller for progress, the watchdog and the final tally. Everything the
//! worker produces lives here, so a worker stuck in a syscall still reports what
//! it did. Memory is fixed when the slot is made and never grows with cycles.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering::Relaxed};

use serde::{Deserialize, Serialize};

use super::records::{AnomalyRecord, ErrnoCount, EventKind, add_errno_count};
use crate::outcome::{CLASS_COUNT, Op};

/// Events kept in a worker's timeline ring.
const RING_EVENTS: usize = 512;

/// Ops as stored in [`WorkerSlot::busy_op`].
pub(crate) const OPS: [Op; 9] = [
    Op::Open,
    Op::Fstat,
    Op::Read,
    Op::Close,
    Op::Create,
    Op::Write,
    Op::Rename,
    Op::Unlink,
    Op::Access,
];

/// The index of `op` in [`OPS`].
#[inline]
pub(crate) fn op_code(op: Op) -> u8 {
    match op {
        Op::Open => 0,
        Op::Fstat => 1,
        Op::Read => 2,
        Op::Close => 3,
        Op::Create => 4,
        Op::Write => 5,
        Op::Rename => 6,
        Op::Unlink => 7,
        Op::Access => 8,
    }
}

/// One timeline event as plain data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawEvent {
    /// `CLOCK_MONOTONIC` nanoseconds.
    pub t_ns: u64,
    pub kind: u8,
    pub errno: i32,
}

impl RawEvent {
    pub fn kind(&self) -> Option<EventKind> {
        EventKind::from_u8(self.kind)
    }
}

/// Per-worker counters and state, padded to its own cache lines.
#[repr(align(128))]
pub struct WorkerSlot {
    pub counts: [AtomicU64; CLASS_COUNT],
    /// Reader cycles (open attempts).
    pub cycles: AtomicU64,
    /// Cycles whose `open` succeeded on a file already unlinked: `fstat` gave
    /// `st_nlink == 0` or the zombie signature (`st_ino == 0`), or failed
    /// with `ENOENT` (a filesystem that looks the path up again, sshfs).
    pub raced_opens: AtomicU64,
    /// Create calls (a creator's, or a reader's recreate of the target) that
    /// overlapped another worker's create call on the same name.
    pub racing_creates: AtomicU64,
    /// Raced opens whose `open` overlapped the removal that took the file
    /// (see `overlap.rs`).
    pub overlapped_opens: AtomicU64,
    pub removals: AtomicU64,
    pub recreations: AtomicU64,
    /// Anomalies (classes that are anomalies under the scenario).
    pub anomalies: AtomicU64,
    /// `empty_read` with `st_nlink == 0`.
    pub empty_nlink_zero: AtomicU64,
    /// `empty_read` with `st_nlink >= 1`.
    pub empty_nlink_nonzero: AtomicU64,
    /// When the current step started (`0`: idle), for the stall watchdog.
    pub busy_since_ns: AtomicU64,
    /// The syscall under way (an index into the op table `OPS`).
    pub busy_op: AtomicU8,
    /// When the worker finished its last batch.
    pub finished_ns: AtomicU64,
    /// Ring of `(t_ns, kind << 32 | errno)` pairs; `ring_next` counts writes.
    ring: Box<[AtomicU64]>,
    ring_next: AtomicU64,
    /// Full records of anomalies (rare path, hence a mutex).
    pub examples: Mutex<Vec<AnomalyRecord>>,
    /// The errno breakdown of `io_error`, `stale`, `unexpected_errno` and
    /// `fd_enoent` (rare path, hence a mutex; a handful of distinct entries).
    pub errno_counts: Mutex<Vec<ErrnoCount>>,
}

impl Default for WorkerSlot {
    fn default() -> Self {
        WorkerSlot {
            counts: Default::default(),
            cycles: AtomicU64::new(0),
            raced_opens: AtomicU64::new(0),
            racing_creates: AtomicU64::new(0),
            overlapped_opens: AtomicU64::new(0),
            removals: AtomicU64::new(0),
            recreations: AtomicU64::new(0),
            anomalies: AtomicU64::new(0),
            empty_nlink_zero: AtomicU64::new(0),
            empty_nlink_nonzero: AtomicU64::new(0),
            busy_since_ns: AtomicU64::new(0),
            busy_op: AtomicU8::new(0),
            finished_ns: AtomicU64::new(0),
            ring: (0..RING_EVENTS * 2).map(|_| AtomicU64::new(0)).collect(),
            ring_next: AtomicU64::new(0),
            examples: Mutex::new(Vec::new()),
            errno_counts: Mutex::new(Vec::new()),
        }
    }
}

/// Adds one to a counter only its owner writes: load + store, no atomic RMW.
#[inline]
pub fn bump(counter: &AtomicU64) {
    counter.store(counter.load(Relaxed) + 1, Relaxed);
}

impl WorkerSlot {
    /// Appends an event to the ring (owner only).
    #[inline]
    pub fn push_event(&self, t_ns: u64, kind: EventKind, errno: i32) {
        let n = self.ring_next.load(Relaxed);
        let i = (n as usize % RING_EVENTS) * 2;
        self.ring[i].store(t_ns, Relaxed);
        self.ring[i + 1].store(((kind as u64) << 32) | errno as u32 as u64, Relaxed);
        self.ring_next.store(n + 1, Relaxed);
    }

    /// The events in the ring, oldest first.
    pub fn events(&self) -> Vec<RawEvent> {
        let n = self.ring_next.load(Relaxed);
        let start = n.saturating_sub(RING_EVENTS as u64);
        (start..n)
            .map(|k| {
                let i = (k as usize % RING_EVENTS) * 2;
                let packed = self.ring[i + 1].load(Relaxed);
                RawEvent {
                    t_ns: self.ring[i].load(Relaxed),
                    kind: (packed >> 32) as u8,
                    errno: packed as u32 as i32,
                }
            })
            .collect()
    }

    /// Counts one observation of an errno class (rare path only).
    #[cold]
    pub fn count_errno(&self, key: (crate::outcome::Class, crate::outcome::Side, Op, i32)) {
        if let Ok(mut counts) = self.errno_counts.lock() {
            add_errno_count(&mut counts, key, 1);
        }
    }

    /// Everything the slot holds, as plain data.
    pub fn snapshot(&self) -> SlotSnapshot {
        SlotSnapshot {
            counts: self.counts.each_ref().map(|c| c.load(Relaxed)),
            cycles: self.cycles.load(Relaxed),
            raced_opens: self.raced_opens.load(Relaxed),
            racing_creates: self.racing_creates.load(Relaxed),
            overlapped_opens: self.overlapped_opens.load(Relaxed),
            removals: self.removals.load(Relaxed),
            recreations: self.recreations.load(Relaxed),
            anomalies: self.anomalies.load(Relaxed),
            empty_nlink_zero: self.empty_nlink_zero.load(Relaxed),
            empty_nlink_nonzero: self.empty_nlink_nonzero.load(Relaxed),
            examples: self.examples.lock().map(|e| e.clone()).unwrap_or_default(),
            errno_counts: self
                .errno_counts
                .lock()
                .map(|c| c.clone())
                .unwrap_or_default(),
            events: self.events(),
        }
    }
}

/// A worker's results as plain data: what a child process sends its parent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SlotSnapshot {
    pub counts: [u64; CLASS_COUNT],
    pub cycles: u64,
    #[serde(default)]
    pub raced_opens: u64,
    pub racing_creates: u64,
    #[serde(default)]
    pub overlapped_opens: u64,
    pub removals: u64,
    pub recreations: u64,
    pub anomalies: u64,
    pub empty_nlink_zero: u64,
    pub empty_nlink_nonzero: u64,
    pub examples: Vec<AnomalyRecord>,
    #[serde(default)]
    pub errno_counts: Vec<ErrnoCount>,
    pub events: Vec<RawEvent>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_keeps_the_last_events_in_order() {
        let slot = WorkerSlot::default();
        for t in 0..(RING_EVENTS as u64 + 10) {
            slot.push_event(t, EventKind::OpenEnd, -(t as i32));
        }
        let ev = slot.events();
        assert_eq!(ev.len(), RING_EVENTS);
        assert_eq!(ev[0].t_ns, 10);
        assert_eq!(ev.last().unwrap().t_ns, RING_EVENTS as u64 + 9);
        assert_eq!(ev[0].kind(), Some(EventKind::OpenEnd));
        assert_eq!(ev[0].errno, -10);
    }
}
