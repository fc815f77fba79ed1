//! What a scenario saw beyond its counts: examples of anomalies with the
//! `fstat` they saw, the trials and their survival curve, the timeline
//! around the first anomaly, the errno breakdown, dropped events and
//! stalls.

use serde::{Deserialize, Serialize};

use crate::harness::{EventKind, WorkerId};
use crate::outcome::{Class, Op, Side};

/// `empty_read` split by the link count `fstat` reported.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmptyReadNlink {
    /// `st_nlink == 0`: the file was unlinked after it was opened.
    pub zero: u64,
    /// `st_nlink >= 1`.
    pub nonzero: u64,
}

/// Every field `fstat` returned, as plain integers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatRecord {
    pub dev: u64,
    pub ino: u64,
    pub mode: u32,
    pub nlink: u64,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
    pub size: i64,
    pub blksize: i64,
    pub blocks: i64,
    pub atime_s: i64,
    pub atime_ns: i64,
    pub mtime_s: i64,
    pub mtime_ns: i64,
    pub ctime_s: i64,
    pub ctime_ns: i64,
}

impl From<crate::sys::Stat> for StatRecord {
    fn from(st: crate::sys::Stat) -> StatRecord {
        StatRecord {
            dev: st.dev,
            ino: st.ino,
            mode: st.mode,
            nlink: st.nlink,
            uid: st.uid,
            gid: st.gid,
            rdev: st.rdev,
            size: st.size,
            blksize: st.blksize,
            blocks: st.blocks,
            atime_s: st.atime_s,
            atime_ns: st.atime_ns,
            mtime_s: st.mtime_s,
            mtime_ns: st.mtime_ns,
            ctime_s: st.ctime_s,
            ctime_ns: st.ctime_ns,
        }
    }
}

/// One anomaly, recorded in full.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Example {
    /// Outcome class (`zombie_fd`, ...).
    pub class: Class,
    /// The operation that produced it (`open`, `fstat`, `read`, `create`, `write`, ...).
    pub op: Op,
    /// Raw errno, `0` when the operation succeeded.
    pub errno: i32,
    /// Symbolic errno name when known (`EINVAL`), else empty.
    pub errno_name: String,
    /// What `fstat` returned on the descriptor, when there was one.
    pub stat: Option<StatRecord>,
    pub bytes_read: u64,
    pub bytes_expected: u64,
    /// Whether the path existed right after the anomaly (`faccessat`).
    pub exists_after: bool,
    /// Monotonic clock, nanoseconds since the scenario started.
    pub t_ns: u64,
    /// `"reader 0"`, `"deleter 1"`, ...
    pub worker: WorkerId,
    /// The worker's own cycle index.
    pub cycle: u64,
    /// `stale_content` only: what made the content stale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale: Option<StaleRecord>,
}

/// What a `stale_content` example read, and what its reader had seen before.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaleRecord {
    /// The generation the content carried.
    pub generation_read: u64,
    /// The later generation of the same writer the reader had seen (read or
    /// written) before.
    pub generation_seen: u64,
    /// The writer of both (`"reader 1"`, `"deleter 0"`).
    pub writer: WorkerId,
}
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Trial {
    /// Cycles run in the trial until the first anomaly (or until the cap).
    pub cycles: u64,
    /// `true` when the cap was reached without an anomaly.
    pub censored: bool,
    pub elapsed_ns: u64,
}

/// One step of the Kaplan–Meier curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SurvivalPoint {
    pub cycles: u64,
    /// Estimated probability of no anomaly within `cycles` cycles.
    pub survival: f64,
    pub at_risk: u64,
}

/// What the trials say about the time to the first anomaly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Survival {
    pub trials: u64,
    pub events: u64,
    pub censored: u64,
    /// Kaplan–Meier estimate, one point per distinct event time.
    pub curve: Vec<SurvivalPoint>,
    /// Maximum-likelihood per-cycle probability of an anomaly (events / total cycles).
    pub mle_rate_per_cycle: f64,
    pub mle_ci_low: f64,
    pub mle_ci_high: f64,
    /// Median cycles to the first anomaly implied by the MLE (`null` when no event).
    pub median_cycles: Option<f64>,
    /// `median_cycles * ns_per_cycle`, in seconds.
    pub median_seconds: Option<f64>,
}

impl Survival {
    /// The 95% interval of [`Survival::median_cycles`], from the ends of the
    /// MLE rate's interval (the high rate gives the low median); `None`
    /// without an event.
    pub fn median_cycles_interval(&self) -> Option<(f64, f64)> {
        self.median_cycles?;
        Some((
            crate::stats::median_cycles_at(self.mle_ci_high),
            crate::stats::median_cycles_at(self.mle_ci_low),
        ))
    }
}

/// One event of a worker's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEvent {
    /// Nanoseconds relative to the first anomaly (negative: before it).
    pub t_ns: i64,
    pub worker: WorkerId,
    /// `open_begin`, `open_end`, `read_end`, `remove_begin`, `remove_end`, `recreate`, `anomaly`.
    pub kind: EventKind,
    /// Raw errno of the operation that ended, `0` on success.
    pub errno: i32,
    /// Its symbolic name on the machine that observed it (`EAGAIN`; errno
    /// numbers differ between operating systems), empty when unknown or
    /// `errno` is 0. Missing in reports written before it existed.
    #[serde(default)]
    pub errno_name: String,
}

/// Events of every worker around the first anomaly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    /// Class of the first anomaly.
    pub class: Class,
    /// Worker that saw it.
    pub worker: WorkerId,
    pub events: Vec<TimelineEvent>,
}

/// How often one errno was seen at one operation on one side, for the
/// classes an errno alone decides: `io_error`, `stale`, `unexpected_errno`
/// and `fd_enoent`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrnoBreakdown {
    pub class: Class,
    /// `reader` (its cycle or its recreate) or `deleter` (its removal).
    pub side: Side,
    /// The operation that failed (`fstat`, `read`, `create`, `unlink`, ...).
    pub op: Op,
    /// Raw errno.
    pub errno: i32,
    /// Symbolic name on the machine that observed it (`ENOENT`), else empty.
    pub errno_name: String,
    pub count: u64,
}

/// Entries left out of a scenario's lists because the report keeps a bounded
/// number of them (the counts and rates always cover everything).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dropped {
    pub examples: u64,
    pub timeline_events: u64,
    pub stalls: u64,
}

impl Dropped {
    pub fn is_nothing(&self) -> bool {
        *self == Dropped::default()
    }
}

/// A syscall that took longer than the watchdog limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StallRecord {
    pub worker: WorkerId,
    /// The step under way (`null` if unknown).
    pub op: Option<Op>,
    /// How long the step ran, to the controller's polling interval (20 ms);
    /// for an unfinished one, how long it had run when the batch ended.
    pub elapsed_ns: u64,
    /// `true` when the call had still not returned when the run ended.
    pub unfinished: bool,
}
