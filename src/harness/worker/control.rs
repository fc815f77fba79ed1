//! What every worker of a run shares with the controller: the stop flag, the
//! batch's quotas and first-anomaly marks, the worker slots and the board.

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU8, AtomicU32, AtomicU64, Ordering::Relaxed};

use crate::harness::overlap::RemovalMark;
use crate::harness::slot::WorkerSlot;
use crate::outcome::CLASS_COUNT;
use crate::sys;

use super::NONE;

/// A value on its own cache lines, so writes to it do not slow down reads of
/// its neighbours.
#[repr(align(128))]
#[derive(Default)]
pub struct Padded<T>(pub T);

/// State every worker of a run shares with the controller.
pub struct Control {
    /// Readers' announcements that they are about to `open` (pace `aimed`):
    /// each reader stores its cycle's start time; aimed deleters spin until
    /// the value changes.
    pub aim: Padded<AtomicU64>,
    /// Ends the current batch.
    pub stop: AtomicBool,
    /// Reader cycles each reader runs in the current batch ([`NONE`]: no cap).
    pub quota_per_reader: AtomicU64,
    /// Readers still inside the current batch; the last one out sets `stop`.
    pub readers_running: AtomicU32,
    /// Anomalies seen in the current batch.
    pub batch_anomalies: AtomicU64,
    /// The batch stops when `batch_anomalies` reaches this ([`NONE`]: never).
    pub until_anomalies: AtomicU64,
    /// Total cycles of the batch when its first anomaly was seen ([`NONE`]: none yet).
    pub batch_first_anomaly_cycle: AtomicU64,
    /// Total raced opens when the batch's first anomaly was seen ([`NONE`]: none yet).
    pub batch_first_anomaly_raced: AtomicU64,
    /// Total cycles and raced opens when every worker of the batch was in
    /// its loop ([`NONE`]: not yet, or not known: worker processes).
    pub batch_racing_cycles: AtomicU64,
    pub batch_racing_raced: AtomicU64,
    /// Time of the first anomaly of the whole run ([`NONE`]: none yet).
    pub first_anomaly_ns: AtomicU64,
    /// Examples kept so far per class.
    pub examples_kept: [AtomicU32; CLASS_COUNT],
    /// Examples to keep per class.
    pub examples_per_class: u32,
    /// Every worker slot, to sum cycles when the first anomaly is seen.
    pub slots: Vec<WorkerSlot>,
    /// One per deleter: its removals, for readers to tell overlapped opens
    /// (empty where readers cannot see the deleters' memory: processes).
    pub removal_marks: Vec<RemovalMark>,
    /// [`WorkerId::packed`] of the worker that saw the first anomaly.
    pub first_anomaly_worker: AtomicU32,
    /// An errno that means the environment failed (full disk, read-only
    /// filesystem, descriptor limit): the run stops; it is not an anomaly.
    pub environment_errno: AtomicI32,
    /// The op that got `environment_errno`.
    pub environment_op: AtomicU8,
    /// Class of the first anomaly.
    pub first_anomaly_class: AtomicU32,
    /// Monotonic time the run started, origin of example timestamps.
    pub t0_ns: u64,
    /// The board of a thread pool's workers (see `board.rs`; worker
    /// processes share a mapped one instead).
    pub board: Box<[AtomicU64]>,
}

impl Control {
    pub fn new(workers: usize, examples_per_class: u32) -> Control {
        Control {
            aim: Padded(AtomicU64::new(0)),
            stop: AtomicBool::new(false),
            quota_per_reader: AtomicU64::new(NONE),
            readers_running: AtomicU32::new(0),
            batch_anomalies: AtomicU64::new(0),
            until_anomalies: AtomicU64::new(NONE),
            batch_first_anomaly_cycle: AtomicU64::new(NONE),
            batch_first_anomaly_raced: AtomicU64::new(NONE),
            batch_racing_cycles: AtomicU64::new(NONE),
            batch_racing_raced: AtomicU64::new(NONE),
            first_anomaly_ns: AtomicU64::new(NONE),
            examples_kept: Default::default(),
            examples_per_class,
            slots: (0..workers).map(|_| WorkerSlot::default()).collect(),
            removal_marks: Vec::new(),
            first_anomaly_worker: AtomicU32::new(u32::MAX),
            first_anomaly_class: AtomicU32::new(u32::MAX),
            environment_errno: AtomicI32::new(0),
            environment_op: AtomicU8::new(0),
            t0_ns: sys::monotonic_ns(),
            board: crate::harness::board::heap_words(workers),
        }
    }

    /// With a removal mark for each of `deleters` deleters, so that readers
    /// count overlapped opens (workers that share this memory: threads).
    pub fn with_removal_marks(mut self, deleters: usize) -> Control {
        self.removal_marks = (0..deleters).map(|_| RemovalMark::default()).collect();
        self
    }

    /// Sum of anomalies over every slot (stalls are the controller's).
    pub fn total_anomalies(&self) -> u64 {
        self.slots.iter().map(|s| s.anomalies.load(Relaxed)).sum()
    }

    /// Sum of reader cycles over every slot.
    pub fn total_cycles(&self) -> u64 {
        self.slots.iter().map(|s| s.cycles.load(Relaxed)).sum()
    }

    /// Marks the moment every worker of the batch is in its loop.
    pub fn mark_racing(&self) {
        self.batch_racing_raced
            .store(self.total_raced_opens(), Relaxed);
        self.batch_racing_cycles.store(self.total_cycles(), Relaxed);
    }

    /// Marks the batch's first anomaly (the first caller wins).
    pub fn mark_first_anomaly(&self) {
        if self.batch_first_anomaly_cycle.load(Relaxed) == NONE
            && self
                .batch_first_anomaly_cycle
                .compare_exchange(NONE, self.total_cycles(), Relaxed, Relaxed)
                .is_ok()
        {
            self.batch_first_anomaly_raced
                .store(self.total_raced_opens(), Relaxed);
        }
    }

    /// Sum of raced opens over every slot.
    pub fn total_raced_opens(&self) -> u64 {
        self.slots.iter().map(|s| s.raced_opens.load(Relaxed)).sum()
    }

    /// Sum of racing creates over every slot.
    pub fn total_racing_creates(&self) -> u64 {
        self.slots
            .iter()
            .map(|s| s.racing_creates.load(Relaxed))
            .sum()
    }

    /// Sum of overlapped opens over every slot.
    pub fn total_overlapped_opens(&self) -> u64 {
        self.slots
            .iter()
            .map(|s| s.overlapped_opens.load(Relaxed))
            .sum()
    }
}
