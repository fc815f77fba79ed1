//! What the workers did, merged at the end of a run into one [`Tally`]:
//! their counts, the stalls, and the timeline around the first anomaly.

use std::sync::atomic::Ordering::Relaxed;

use crate::outcome::{CLASS_COUNT, Class};

use super::records::{self, AnomalyRecord, ErrnoCount, Stall, Timeline, TimelineEvent, WorkerId};
use super::slot::SlotSnapshot;
use super::worker::NONE;
use super::{Harness, calibrate};

/// Timeline events kept per worker before the first anomaly.
const TIMELINE_EVENTS_BEFORE: usize = 48;

/// Everything the workers did, merged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub counts: [u64; CLASS_COUNT],
    pub cycles: u64,
    /// Cycles whose `open` succeeded on a file already unlinked (`fstat`:
    /// `st_nlink == 0` or `st_ino == 0`, or `ENOENT`).
    pub raced_opens: u64,
    /// Create calls that overlapped another worker's create call on the same
    /// name: a creator's, or a reader's inplace recreate of the target.
    pub racing_creates: u64,
    /// Raced opens whose `open` overlapped the removal that took the file
    /// (`None`: not counted, with worker processes).
    pub overlapped_opens: Option<u64>,
    /// How pace `auto` was resolved (`None` when the pace was given).
    pub calibration: Option<calibrate::Calibration>,
    pub removals: u64,
    pub recreations: u64,
    /// Anomalies (classes that are anomalies under the scenario, stalls included).
    pub anomalies: u64,
    pub empty_nlink_zero: u64,
    pub empty_nlink_nonzero: u64,
    pub examples: Vec<AnomalyRecord>,
    /// Counts of `io_error`, `stale`, `unexpected_errno` and `fd_enoent` by
    /// (side, operation, errno), ordered by class, then by count, largest first.
    pub errno_counts: Vec<ErrnoCount>,
    pub timeline: Option<Timeline>,
    pub stalls: Vec<Stall>,
    /// Total cycles (over all batches) when the first anomaly was seen.
    pub first_anomaly_cycle: Option<u64>,
    /// Wall time of all batches.
    pub elapsed_ns: u64,
    /// Where the scratch directory was left, and why, when it could not be
    /// removed (`None`: removed).
    pub scratch_left: Option<String>,
    /// Deleters in another process (`--role reader`): why their counts are
    /// missing, when they are (`None`: merged).
    pub remote_error: Option<String>,
    /// Workers left behind still inside a syscall that never returned.
    pub stuck_workers: u32,
}

impl Harness {
    pub(super) fn merge(&self, snapshots: &[SlotSnapshot]) -> Tally {
        let mut t = Tally::default();
        let mut overlapped = 0;
        for s in snapshots {
            for (total, n) in t.counts.iter_mut().zip(s.counts) {
                *total += n;
            }
            t.cycles += s.cycles;
            t.raced_opens += s.raced_opens;
            t.racing_creates += s.racing_creates;
            overlapped += s.overlapped_opens;
            t.removals += s.removals;
            t.recreations += s.recreations;
            t.anomalies += s.anomalies;
            t.empty_nlink_zero += s.empty_nlink_zero;
            t.empty_nlink_nonzero += s.empty_nlink_nonzero;
            t.examples.extend(s.examples.iter().cloned());
            for c in &s.errno_counts {
                records::add_errno_count(
                    &mut t.errno_counts,
                    (c.class, c.side, c.op, c.errno),
                    c.count,
                );
            }
        }
        t.errno_counts
            .sort_by_key(|c| (c.class, std::cmp::Reverse(c.count), c.op.name(), c.errno));
        t.counts[Class::Stall.index()] += self.stalls.len() as u64;
        t.anomalies += self.stalls.len() as u64;
        t.examples.sort_by_key(|e| e.t_ns);
        t.stalls = self
            .stalls
            .iter()
            .map(|(slot, busy, rec)| Stall {
                unfinished: self.control.slots[*slot].busy_since_ns.load(Relaxed) == *busy,
                ..rec.clone()
            })
            .collect();
        t.timeline = self.timeline(snapshots);
        t.overlapped_opens = self.counts_overlaps().then_some(overlapped);
        t.first_anomaly_cycle = self.first_anomaly_cycle;
        t.elapsed_ns = self.elapsed_ns;
        t.calibration = self.calibration.clone();
        t
    }

    /// Events of every worker around the first anomaly.
    fn timeline(&self, snapshots: &[SlotSnapshot]) -> Option<Timeline> {
        let c = &self.control;
        let t_first = c.first_anomaly_ns.load(Relaxed);
        if t_first == NONE {
            return None;
        }
        let mut events = Vec::new();
        for (id, snap) in self.ids.iter().zip(snapshots) {
            let before = snap.events.iter().filter(|e| e.t_ns < t_first).count();
            let skip = before.saturating_sub(TIMELINE_EVENTS_BEFORE);
            events.extend(snap.events.iter().skip(skip).filter_map(|e| {
                Some(TimelineEvent {
                    t_ns: e.t_ns as i64 - t_first as i64,
                    worker: *id,
                    kind: e.kind()?,
                    errno: e.errno,
                })
            }));
        }
        events.sort_by_key(|e| e.t_ns);
        Some(Timeline {
            class: Class::ALL
                .get(c.first_anomaly_class.load(Relaxed) as usize)
                .copied(),
            worker: WorkerId::unpack(c.first_anomaly_worker.load(Relaxed)),
            events,
        })
    }
}
