//! The harness: runs a scenario's readers and deleters in a private scratch
//! directory, in batches, and merges what they saw.
//!
//! [`Harness::start`] creates the scratch directory (mode 0700, under the
//! target directory) and starts the workers, parked. [`Harness::run_batch`]
//! releases them together (with threads, no cycle runs until every worker is
//! awake: see `threads.rs`) until a [`BatchLimit`] is met and returns the
//! batch's wall time and counts; the bench calls it once per Criterion measurement, the CLI
//! once per run or trial. [`Harness::finish`] stops the workers, removes the
//! scratch directory and returns the merged [`Tally`].
//!
//! While a batch runs the controller thread wakes every few milliseconds to
//! report progress, enforce the deadline, honour interruption and run the stall
//! watchdog; the workers never wait for it.

pub mod calibrate;
mod pool;
pub mod process;
pub mod protocol;
pub mod records;
mod slot;
mod threads;
mod worker;

use std::ops::ControlFlow;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use crate::outcome::{CLASS_COUNT, Class};
use crate::scenario::{Pace, Scenario, ScenarioError, Workers};
use crate::sys::{self, Errno, platform};

use pool::Pool;
pub use records::{
    AnomalyRecord, ErrnoCount, EventKind, Role, Stall, Timeline, TimelineEvent, WorkerId,
};
use slot::{OPS, SlotSnapshot};
use worker::{Control, NONE, TRASH_DIR};

/// Default watchdog limit for one step.
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Default number of full examples kept per anomaly class.
pub const DEFAULT_EXAMPLES_PER_CLASS: u32 = 5;
/// Timeline events kept per worker before the first anomaly.
const TIMELINE_EVENTS_BEFORE: usize = 48;

/// How the harness runs, beyond the scenario.
#[derive(Debug, Clone)]
pub struct HarnessOptions {
    pub examples_per_class: u32,
    /// A step that takes longer is counted as `stall`.
    pub stall_timeout: Duration,
    /// How often the controller looks at progress.
    pub poll_interval: Duration,
}

impl Default for HarnessOptions {
    fn default() -> Self {
        HarnessOptions {
            examples_per_class: DEFAULT_EXAMPLES_PER_CLASS,
            stall_timeout: DEFAULT_STALL_TIMEOUT,
            poll_interval: Duration::from_millis(20),
        }
    }
}

/// Why the harness could not run.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error("target directory {path}: {reason}")]
    TargetDir { path: PathBuf, reason: String },
    #[error("cannot create the scratch directory in {path}: {source}")]
    Scratch {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot start workers: {0}")]
    Spawn(std::io::Error),
    #[error("worker process failed: {0}")]
    Worker(String),
    #[error(
        "{op} failed with {name} (errno {errno}): the environment, not the race (no space, read-only or out of descriptors); nothing was counted for it"
    )]
    Environment {
        op: &'static str,
        errno: Errno,
        name: &'static str,
    },
}

/// When a batch ends. Any limit that is met ends it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchLimit {
    /// Reader cycles, split evenly over the readers (rounded up).
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

/// One batch's measurements.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Batch {
    pub cycles: u64,
    /// Cycles of this batch whose `open` raced an unlink.
    pub raced_opens: u64,
    /// Wall time from release (with threads: from the moment every worker was
    /// racing) to the last reader's finish.
    pub elapsed_ns: u64,
    pub anomalies: u64,
    /// Cycles of this batch when its first anomaly was seen.
    pub first_anomaly_cycle: Option<u64>,
    pub end: BatchEnd,
}

/// Everything the workers did, merged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub counts: [u64; CLASS_COUNT],
    pub cycles: u64,
    /// Cycles whose `open` succeeded on a file already unlinked (`fstat`:
    /// `st_nlink == 0` or `st_ino == 0`).
    pub raced_opens: u64,
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
}

/// Filesystem facts about the target directory, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetInfo {
    pub target_dir: PathBuf,
    pub fs: platform::FsInfo,
}

/// A started scenario.
pub struct Harness {
    /// The scenario with its pace resolved (never `auto`).
    scenario: Scenario,
    /// How `auto` chose the pace, when it did.
    calibration: Option<calibrate::Calibration>,
    options: HarnessOptions,
    control: Arc<Control>,
    pool: Option<Box<dyn Pool>>,
    ids: Vec<WorkerId>,
    target: TargetInfo,
    /// Removed by `finish` (or on drop).
    scratch: Option<tempfile::TempDir>,
    stalls: Vec<(usize, u64, Stall)>,
    cycles_before_batch: u64,
    first_anomaly_cycle: Option<u64>,
    elapsed_ns: u64,
    broken: bool,
}

/// Checks the target directory and creates the private scratch directory in it.
fn create_scratch(target: &Path) -> Result<(tempfile::TempDir, OwnedFd, PathBuf), HarnessError> {
    let bad = |reason: &str| HarnessError::TargetDir {
        path: target.to_path_buf(),
        reason: reason.into(),
    };
    let meta = std::fs::metadata(target).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => bad("does not exist"),
        _ => bad(&e.to_string()),
    })?;
    if !meta.is_dir() {
        return Err(bad("is not a directory"));
    }
    let canonical = target.canonicalize().map_err(|e| bad(&e.to_string()))?;
    let scratch = tempfile::Builder::new()
        .prefix("unlink-race-")
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .tempdir_in(&canonical)
        .map_err(|source| HarnessError::Scratch {
            path: canonical.clone(),
            source,
        })?;
    let dir = sys::open_dir(scratch.path()).map_err(|source| HarnessError::Scratch {
        path: canonical.clone(),
        source,
    })?;
    sys::mkdirat(dir.as_fd(), TRASH_DIR, 0o700).map_err(|e| HarnessError::Scratch {
        path: canonical.clone(),
        source: std::io::Error::from_raw_os_error(e),
    })?;
    Ok((scratch, dir, canonical))
}

/// The filesystem type of `dir` (`ext4`, `tmpfs`, ...), `unknown` if it cannot be read.
pub fn fs_type_of(dir: &Path) -> String {
    let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    match sys::open_dir(&canonical) {
        Ok(fd) => platform::fs_info(fd.as_fd(), &canonical).fs_type,
        Err(_) => "unknown".into(),
    }
}

impl Harness {
    /// Creates the scratch directory under `target_dir` and starts the workers, parked.
    /// Pace `auto` is resolved first by [`calibrate::calibrate`].
    pub fn start(
        scenario: &Scenario,
        target_dir: &Path,
        options: HarnessOptions,
    ) -> Result<Harness, HarnessError> {
        scenario.validate()?;
        let mut calibration = None;
        let resolved;
        let scenario = if scenario.pace == Pace::Auto {
            let cal = calibrate::calibrate(scenario, target_dir, &options)?;
            resolved = Scenario {
                pace: cal.chosen,
                ..scenario.clone()
            };
            calibration = Some(cal);
            &resolved
        } else {
            scenario
        };
        let (scratch, dir, canonical) = create_scratch(target_dir)?;
        let fs = platform::fs_info(dir.as_fd(), &canonical);
        let dir = Arc::new(dir);
        let ids: Vec<WorkerId> = (0..scenario.readers)
            .map(WorkerId::reader)
            .chain((0..scenario.deleters).map(WorkerId::deleter))
            .collect();
        let control = Arc::new(Control::new(ids.len(), options.examples_per_class));
        let pool: Box<dyn Pool> = match scenario.workers {
            Workers::Threads => Box::new(
                threads::ThreadPool::start(scenario, Arc::clone(&dir), Arc::clone(&control), &ids)
                    .map_err(HarnessError::Spawn)?,
            ),
            Workers::Processes => Box::new(process::ProcessPool::start(
                scenario,
                scratch.path(),
                Arc::clone(&control),
                &ids,
                options.examples_per_class,
            )?),
        };
        Ok(Harness {
            scenario: scenario.clone(),
            calibration,
            options,
            control,
            pool: Some(pool),
            ids,
            target: TargetInfo {
                target_dir: canonical,
                fs,
            },
            scratch: Some(scratch),
            stalls: Vec::new(),
            cycles_before_batch: 0,
            first_anomaly_cycle: None,
            elapsed_ns: 0,
            broken: false,
        })
    }

    /// The scenario as it runs: its pace resolved, never `auto`.
    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    /// How pace `auto` was resolved (`None` when the pace was given).
    pub fn calibration(&self) -> Option<&calibrate::Calibration> {
        self.calibration.as_ref()
    }

    /// The target directory and its filesystem.
    pub fn target(&self) -> &TargetInfo {
        &self.target
    }

    /// The private scratch directory (removed by [`Harness::finish`]).
    pub fn scratch_path(&self) -> Option<&Path> {
        self.scratch.as_ref().map(|s| s.path())
    }

    /// Runs one batch. `monitor` sees progress every poll interval and may
    /// return `Break` to stop the batch (the batch then ends `Interrupted`).
    pub fn run_batch(
        &mut self,
        limit: &BatchLimit,
        monitor: &mut dyn FnMut(&Progress) -> ControlFlow<()>,
    ) -> Result<Batch, HarnessError> {
        if self.broken {
            return Err(HarnessError::Worker(
                "a worker is stuck from an earlier batch".into(),
            ));
        }
        let c = &self.control;
        let readers = u64::from(self.scenario.readers);
        let quota = limit.cycles.map_or(NONE, |n| n.div_ceil(readers));
        let anomalies_before = c.total_anomalies();
        let stalls_before = self.stalls.len() as u64;
        let cycles_before = c.total_cycles();
        let raced_before = c.total_raced_opens();
        self.cycles_before_batch = cycles_before;
        c.quota_per_reader.store(quota, Relaxed);
        c.until_anomalies
            .store(limit.until_anomalies.unwrap_or(NONE), Relaxed);
        c.batch_anomalies.store(0, Relaxed);
        c.batch_first_anomaly_cycle.store(NONE, Relaxed);
        c.readers_running.store(self.scenario.readers, Relaxed);
        c.stop.store(false, Relaxed);
        let pool = self.pool.as_mut().expect("pool lives until finish");

        let started = Instant::now();
        let t_start = sys::monotonic_ns();
        pool.start_batch();
        let mut end = BatchEnd::Completed;
        let mut stop_requested: Option<Instant> = None;
        let mut announced_first = c.first_anomaly_ns.load(Relaxed) != NONE;
        let all_done = loop {
            if pool.wait(self.options.poll_interval) {
                break true;
            }
            if let Some(failure) = pool.failure() {
                pool.stop();
                self.broken = true;
                return Err(HarnessError::Worker(failure));
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
            let stuck_long = watchdog(
                c,
                &self.ids,
                self.scenario.readers,
                &self.options,
                &mut self.stalls,
            );
            // With a deadline the others race on until it; without one a worker
            // stuck for good would keep the batch from ever ending.
            if stuck_long && limit.duration.is_none() {
                stop = true;
            }
            if stop && stop_requested.is_none() {
                stop_requested = Some(now);
                pool.stop();
            }
            if let Some(at) = stop_requested {
                if now - at > self.options.stall_timeout {
                    end = BatchEnd::Stalled;
                    break false;
                }
            }
        };
        // Readers' own finish times: the controller's wake-up latency is not measured.
        let last_reader = c.slots[..self.scenario.readers as usize]
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
        let first_anomaly_cycle = (first != NONE).then(|| first - cycles_before);
        if self.first_anomaly_cycle.is_none() {
            self.first_anomaly_cycle = first_anomaly_cycle.map(|f| f + cycles_before);
        }
        let errno = c.environment_errno.load(Relaxed);
        if errno != 0 {
            let op = OPS[c.environment_op.load(Relaxed) as usize];
            return Err(HarnessError::Environment {
                op: op.name(),
                errno,
                name: sys::errno_name(errno),
            });
        }
        Ok(Batch {
            cycles,
            raced_opens: c.total_raced_opens() - raced_before,
            elapsed_ns,
            anomalies,
            first_anomaly_cycle,
            end,
        })
    }

    /// Stops the workers, removes the scratch directory and merges the counts.
    pub fn finish(mut self) -> Tally {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Tally {
        let Some(pool) = self.pool.take() else {
            return Tally::default();
        };
        let snapshots = pool.finish(!self.broken);
        let tally = self.merge(&snapshots);
        if let Some(scratch) = self.scratch.take() {
            // Ours, private, and holding only names we made: removed whole.
            let _ = scratch.close();
        }
        tally
    }

    fn merge(&self, snapshots: &[SlotSnapshot]) -> Tally {
        let mut t = Tally::default();
        for s in snapshots {
            for (total, n) in t.counts.iter_mut().zip(s.counts) {
                *total += n;
            }
            t.cycles += s.cycles;
            t.raced_opens += s.raced_opens;
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

impl Drop for Harness {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Looks for steps running longer than the limit; records each once and
/// updates its duration on every look (so it is exact to the poll interval,
/// or runs to the end of the batch when the step never returned). Returns
/// `true` when a worker has been stuck for twice the limit.
fn watchdog(
    c: &Control,
    ids: &[WorkerId],
    readers: u32,
    options: &HarnessOptions,
    stalls: &mut Vec<(usize, u64, Stall)>,
) -> bool {
    let now = sys::monotonic_ns();
    let limit = options.stall_timeout.as_nanos() as u64;
    let mut stuck_long = false;
    for id in ids {
        let slot_index = id.slot_index(readers);
        let slot = &c.slots[slot_index];
        let busy = slot.busy_since_ns.load(Relaxed);
        if busy == 0 || now.saturating_sub(busy) <= limit {
            continue;
        }
        stuck_long |= now - busy > 2 * limit;
        // Already recorded: keep its duration up to date while it lasts.
        if let Some((_, _, rec)) = stalls
            .iter_mut()
            .find(|(s, b, _)| *s == slot_index && *b == busy)
        {
            rec.elapsed_ns = now - busy;
            continue;
        }
        let op = OPS.get(slot.busy_op.load(Relaxed) as usize).copied();
        stalls.push((
            slot_index,
            busy,
            Stall {
                worker: *id,
                op,
                elapsed_ns: now - busy,
                unfinished: true,
            },
        ));
    }
    stuck_long
}
