//! One batch: the controller's loop while the workers race (progress, the
//! deadline, interruption, the stall watchdog, a filesystem that stopped
//! answering), what ends it, and what it measured.

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use crate::sys::{self, AsFd};

use super::slot::OPS;
use super::watchdog::{self, pause_threshold_ns, watchdog};
use super::worker::NONE;
use super::{Harness, HarnessError};

/// `environment_op` of the controller's own check of the scratch directory.
const CONTROLLER_CHECK: u8 = u8::MAX;

/// When a batch ends. Any limit that is met ends it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchLimit {
    /// Reader cycles, split evenly over the readers (rounded up); in a
    /// create race, create calls, split into rounds of one per creator.
    pub cycles: Option<u64>,
    pub duration: Option<Duration>,
    /// Anomalies seen in this batch.
    pub until_anomalies: Option<u64>,
}

/// What the controller tells the caller while a batch runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    pub elapsed: Duration,
    /// Cycles of this batch.
    pub cycles: u64,
    /// Anomalies of this batch.
    pub anomalies: u64,
}

/// Why a batch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchEnd {
    /// The cycle quota or the anomaly limit was reached.
    Completed,
    /// The duration ran out.
    Deadline,
    /// The caller asked to stop (Ctrl-C).
    Interrupted,
    /// A worker stayed stuck in a syscall and was left behind.
    Stalled,
}

/// How long a batch stopped by the caller waits for its workers before it
/// leaves those still stuck (on a filesystem that stopped answering, it
/// leaves them at once).
pub const STOP_GRACE: Duration = Duration::from_secs(2);
/// Every reader (or a creator, whom the others wait for) stuck past the
/// stall limit for this long (5 s) is a filesystem that stopped answering,
/// even where it still answers a look at the directory from its cache.
pub const FROZEN_AFTER: Duration = Duration::from_secs(5);
/// The least a look at the scratch directory must have waited, with every
/// reader stuck past the stall limit, for the filesystem to count as one
/// that stopped answering.
pub const FROZEN_PROBE_MIN: Duration = Duration::from_secs(3);
/// One batch's measurements.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Batch {
    pub cycles: u64,
    /// Cycles of this batch whose `open` raced an unlink.
    pub raced_opens: u64,
    /// Create calls of this batch that overlapped another's on the same name.
    pub racing_creates: u64,
    /// Raced opens of this batch whose `open` overlapped the removal that
    /// took the file (`None`: not counted, with worker processes).
    pub overlapped_opens: Option<u64>,
    /// Wall time from release (with threads: from the moment every worker was
    /// racing) to the last reader's finish.
    pub elapsed_ns: u64,
    pub anomalies: u64,
    /// Cycles of this batch when its first anomaly was seen, counted from
    /// the moment every worker was racing where the pool knows it (threads).
    pub first_anomaly_cycle: Option<u64>,
    /// Raced opens of this batch up to and including the one of its first
    /// anomaly, counted from the same moment.
    pub first_anomaly_raced_opens: Option<u64>,
    pub end: BatchEnd,
}

impl Harness {
    /// Runs one batch. `monitor` sees progress every poll interval and may
    /// return `Break` to stop the batch (the batch then ends `Interrupted`).
    pub fn run_batch(
        &mut self,
        limit: &BatchLimit,
        monitor: &mut dyn FnMut(&Progress) -> ControlFlow<()>,
    ) -> Result<Batch, HarnessError> {
        if self.broken {
            return Err(HarnessError::WorkerEnvironment(format!(
                "a worker is still stuck in a syscall from an earlier batch in {} (its filesystem stopped answering?)",
                self.scratch_path().unwrap_or(Path::new("?")).display()
            )));
        }
        let c = &self.control;
        let racers = self.scenario.racers();
        let quota = limit.cycles.map_or(NONE, |n| n.div_ceil(u64::from(racers)));
        let anomalies_before = c.total_anomalies();
        let stalls_before = self.stalls.len() as u64;
        let cycles_before = c.total_cycles();
        let raced_before = c.total_raced_opens();
        let racing_creates_before = c.total_racing_creates();
        let overlapped_before = c.total_overlapped_opens();
        self.cycles_before_batch = cycles_before;
        c.quota_per_reader.store(quota, Relaxed);
        c.until_anomalies
            .store(limit.until_anomalies.unwrap_or(NONE), Relaxed);
        c.batch_anomalies.store(0, Relaxed);
        c.batch_first_anomaly_cycle.store(NONE, Relaxed);
        c.batch_first_anomaly_raced.store(NONE, Relaxed);
        c.batch_racing_cycles.store(NONE, Relaxed);
        c.batch_racing_raced.store(NONE, Relaxed);
        c.readers_running.store(racers, Relaxed);
        c.stop.store(false, Relaxed);
        let pool = self.pool.as_mut().expect("pool lives until finish");

        if let Some(remote) = &mut self.remote {
            remote.start()?;
        }
        let started = Instant::now();
        let t_start = sys::monotonic_ns();
        pool.start_batch();
        let mut end = BatchEnd::Completed;
        let mut stop_requested: Option<Instant> = None;
        let mut frozen = false;
        let mut announced_first = c.first_anomaly_ns.load(Relaxed) != NONE;
        let poll_ns = self.options.poll_interval.as_nanos() as u64;
        let mut last_poll_ns = sys::monotonic_ns();
        let all_done = loop {
            if pool.wait(self.options.poll_interval) {
                break true;
            }
            // The controller wakes every poll interval. A much longer gap means
            // it was not running, nor (SIGSTOP, Ctrl-Z, suspend) were the
            // workers: that time is a pause of the whole process, not a stall.
            let polled_ns = sys::monotonic_ns();
            let gap = polled_ns.saturating_sub(last_poll_ns);
            if gap > pause_threshold_ns(poll_ns) {
                self.pauses.push((last_poll_ns + poll_ns, gap - poll_ns));
            }
            last_poll_ns = polled_ns;
            if let Some(failure) = pool.failure() {
                pool.stop();
                self.broken = true;
                return Err(HarnessError::Worker(failure));
            }
            // Deleters in another process that ended on their own.
            if let Some((errno, op)) = self.remote.as_mut().and_then(|r| r.poll_early_end()) {
                if c.environment_errno
                    .compare_exchange(0, errno, Relaxed, Relaxed)
                    .is_ok()
                {
                    c.environment_op.store(op, Relaxed);
                }
            }
            let probe = self.probe.as_ref().expect("probe lives until finish");
            if let Some(errno) = probe.failure() {
                if c.environment_errno
                    .compare_exchange(0, errno, Relaxed, Relaxed)
                    .is_ok()
                {
                    c.environment_op.store(CONTROLLER_CHECK, Relaxed);
                }
            }
            let now = Instant::now();
            let anomalies =
                c.total_anomalies() - anomalies_before + (self.stalls.len() as u64 - stalls_before);
            let progress = Progress {
                elapsed: now - started,
                cycles: c.total_cycles() - cycles_before,
                anomalies,
            };
            if !announced_first {
                let t = c.first_anomaly_ns.load(Relaxed);
                if t != NONE {
                    pool.announce_first_anomaly(t);
                    announced_first = true;
                }
            }
            let mut stop = false;
            if limit.duration.is_some_and(|d| now - started >= d) {
                end = BatchEnd::Deadline;
                stop = true;
            }
            if limit.until_anomalies.is_some_and(|k| anomalies >= k) {
                stop = true;
            }
            if monitor(&progress).is_break() {
                end = BatchEnd::Interrupted;
                stop = true;
            }
            if c.environment_errno.load(Relaxed) != 0 {
                stop = true;
            }
            let watch = watchdog(
                c,
                &self.ids,
                self.scenario.readers,
                &self.options,
                &self.pauses,
                &mut self.stalls,
            );
            // With a deadline the others race on until it; without one a worker
            // stuck for good would keep the batch from ever ending.
            if watch.stuck_long && limit.duration.is_none() {
                stop = true;
            }
            // Every reader (or a creator: the others wait for it at the
            // line) stuck past the limit, and either the filesystem
            // does not answer a look at the directory either, or they have
            // waited [`FROZEN_AFTER`]: nothing will move until it answers.
            // (Not once stopping for another reason: a stop the caller asked
            // for stays an interruption.)
            // A server that stalls a request for a while and then answers
            // (a slow disk, zombiefs's `--stall-ms`) is a stall, recorded as
            // such: the look at the directory must have waited at least
            // [`FROZEN_PROBE_MIN`] too.
            let limit_ns = self.options.stall_timeout.as_nanos() as u64;
            let probe_limit_ns = limit_ns.max(FROZEN_PROBE_MIN.as_nanos() as u64);
            let probe_stuck = probe.busy_since_ns().is_some_and(|t| {
                let now_ns = sys::monotonic_ns();
                now_ns
                    .saturating_sub(t)
                    .saturating_sub(watchdog::paused_within(&self.pauses, t, now_ns))
                    > probe_limit_ns
            });
            let stuck = watch.racing_stuck_ns;
            if stuck > limit_ns
                && (probe_stuck || stuck > FROZEN_AFTER.as_nanos() as u64)
                && !frozen
                && stop_requested.is_none()
            {
                frozen = true;
                stop = true;
            }
            if stop && stop_requested.is_none() {
                stop_requested = Some(now);
                pool.stop();
            }
            if let Some(at) = stop_requested {
                // Asked to stop, or nothing can move: the workers that are
                // stuck will not come back soon, so they are left sooner.
                let grace = if frozen {
                    Duration::ZERO
                } else if end == BatchEnd::Interrupted {
                    STOP_GRACE.min(self.options.stall_timeout)
                } else {
                    self.options.stall_timeout
                };
                if now - at > grace {
                    if end != BatchEnd::Interrupted {
                        end = BatchEnd::Stalled;
                    }
                    // Creators waiting for a stuck one leave the line.
                    pool.abandon();
                    break false;
                }
            }
        };
        // Readers' own finish times: the controller's wake-up latency is not measured.
        let last_reader = c.slots[..racers as usize]
            .iter()
            .map(|s| s.finished_ns.load(Relaxed))
            .max()
            .unwrap_or(0);
        // From the moment every worker was racing, where the pool knows it.
        let t_start = pool.racing_since_ns().unwrap_or(t_start);
        let elapsed_ns = if all_done && last_reader > t_start {
            last_reader - t_start
        } else {
            sys::monotonic_ns() - t_start
        };
        if !all_done {
            self.broken = true;
        }
        self.elapsed_ns += elapsed_ns;
        let cycles = c.total_cycles() - cycles_before;
        let anomalies =
            c.total_anomalies() - anomalies_before + (self.stalls.len() as u64 - stalls_before);
        let first = c.batch_first_anomaly_cycle.load(Relaxed);
        // Counted from the moment every worker raced, where the pool knows it
        // (an anomaly before that counts as the first cycle's).
        let since_racing = |at: u64, racing: u64, before: u64| {
            let base = if racing == NONE { before } else { racing };
            (at != NONE).then(|| at.saturating_sub(base))
        };
        // The anomaly's own cycle counts.
        let first_anomaly_cycle =
            since_racing(first, c.batch_racing_cycles.load(Relaxed), cycles_before)
                .map(|n| n.max(1));
        let first_anomaly_raced_opens = since_racing(
            c.batch_first_anomaly_raced.load(Relaxed),
            c.batch_racing_raced.load(Relaxed),
            raced_before,
        );
        if self.first_anomaly_cycle.is_none() {
            self.first_anomaly_cycle = (first != NONE).then_some(first);
        }
        if frozen {
            self.frozen = true;
            return Err(HarnessError::Frozen {
                scratch: self
                    .scratch_path()
                    .map(Path::to_path_buf)
                    .unwrap_or_default(),
                limit: self.options.stall_timeout,
            });
        }
        let errno = c.environment_errno.load(Relaxed);
        if errno != 0 {
            let op = OPS.get(c.environment_op.load(Relaxed) as usize);
            return Err(HarnessError::Environment {
                op: op.map(|op| op.name()),
                errno,
                scratch: self
                    .scratch
                    .as_ref()
                    .map(|s| match &s.other {
                        // The side that fails, when only the other one does.
                        Some(o)
                            if sys::dir_failure(s.dir.as_fd()).is_none()
                                && sys::dir_failure(o.dir.as_fd()).is_some() =>
                        {
                            o.path.clone()
                        }
                        _ => s.path.clone(),
                    })
                    .unwrap_or_default(),
            });
        }
        Ok(Batch {
            cycles,
            raced_opens: c.total_raced_opens() - raced_before,
            racing_creates: c.total_racing_creates() - racing_creates_before,
            overlapped_opens: self
                .counts_overlaps()
                .then(|| c.total_overlapped_opens() - overlapped_before),
            elapsed_ns,
            anomalies,
            first_anomaly_cycle,
            first_anomaly_raced_opens,
            end,
        })
    }
}
