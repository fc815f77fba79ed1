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
//!
//! The batch loop is in `batch.rs`, the merge of what the workers saw in
//! `tally.rs`, and the errors and the checks of a target directory before
//! a run in `error.rs`.

mod batch;
mod board;
pub mod calibrate;
pub mod child_workers;
mod error;
mod overlap;
mod pool;
pub mod protocol;
pub mod records;
pub mod role;
mod scratch;
mod slot;
mod split;
mod tally;
mod threads;
mod watchdog;
mod worker;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use crate::scenario::{Pace, Race, Scenario, Workers};
#[cfg(windows)]
use crate::sys::Errno;
use crate::sys::{self, AsFd, platform};

pub use batch::{
    Batch, BatchEnd, BatchLimit, FROZEN_AFTER, FROZEN_PROBE_MIN, Progress, STOP_GRACE,
};
use error::errno_label;
pub use error::{HarnessError, directory_problem, directory_problem_within, environment_cause};
use pool::Pool;
pub use records::{
    AnomalyRecord, ErrnoCount, EventKind, Role, Stall, Timeline, TimelineEvent, WorkerId,
};
pub use scratch::{MARKER, StaleScratch, remove_stale};
use scratch::{Probe, REMOVAL_WAIT, Scratch, create_scratch};
pub use split::VIEW_WAIT;
pub use tally::Tally;
use worker::{Control, SideDirs};

/// Default watchdog limit for one step.
const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Default number of full examples kept per anomaly class.
const DEFAULT_EXAMPLES_PER_CLASS: u32 = 5;

/// How the harness runs, beyond the scenario.
#[derive(Debug, Clone)]
pub struct HarnessOptions {
    pub examples_per_class: u32,
    /// A step that takes longer is counted as `stall`.
    pub stall_timeout: Duration,
    /// How often the controller looks at progress.
    pub poll_interval: Duration,
    /// Set by Ctrl-C (or the like): pace `auto`'s calibration stops early.
    /// A batch's own stop is its monitor's.
    pub interrupt: Option<Arc<AtomicBool>>,
    /// Two views (docs/two-views.md): the other path to the target
    /// directory, which deleters work through. Needed by, and only by, a
    /// scenario whose `views` are split.
    pub other_side: Option<PathBuf>,
    /// Two views in two processes (`--role reader`): the deleters run in
    /// another process, which joins through the scratch directory
    /// ([`role`]); wait this long for it. The scenario's views are split,
    /// and there is no `other_side`.
    pub remote_deleters: Option<Duration>,
}

impl Default for HarnessOptions {
    fn default() -> Self {
        HarnessOptions {
            examples_per_class: DEFAULT_EXAMPLES_PER_CLASS,
            stall_timeout: DEFAULT_STALL_TIMEOUT,
            poll_interval: Duration::from_millis(20),
            interrupt: None,
            other_side: None,
            remote_deleters: None,
        }
    }
}
/// Windows: deletes a probe file with POSIX semantics, so that a
/// filesystem (or a Windows before 10 1607) that lacks them stops the run
/// with one line instead of failing every delete.
#[cfg(windows)]
fn posix_delete_works(
    scratch: &scratch::Scratch,
    canonical: &std::path::Path,
    fs_type: &str,
) -> Result<(), HarnessError> {
    use crate::sys::flags::{O_CREAT, O_EXCL, O_WRONLY};
    let probe = c"posix-delete-probe";
    let dir = scratch.dir.as_fd();
    let failed = |e: Errno| HarnessError::TargetDir {
        path: canonical.to_path_buf(),
        reason: format!(
            "delete posix: this {fs_type} volume does not delete with POSIX semantics ({})",
            errno_label(e)
        ),
    };
    let fd = sys::openat(dir, probe, O_WRONLY | O_CREAT | O_EXCL, 0o600).map_err(failed)?;
    drop(fd);
    sys::unlinkat_posix(dir, probe).map_err(|e| {
        let _ = sys::unlinkat(dir, probe);
        failed(e)
    })
}

/// How long the end of a run on a filesystem that stopped answering waits
/// for its scratch directory's removal.
const FROZEN_REMOVAL_WAIT: Duration = Duration::from_millis(250);
/// A look at the scratch directory still waiting after this long (1 s) is a
/// filesystem that does not answer, for the end of a run.
const PROBE_SLOW_NS: u64 = 1_000_000_000;

/// Filesystem facts about the target directory, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetInfo {
    pub target_dir: PathBuf,
    pub fs: platform::FsInfo,
    /// With two views: the other side's directory and its filesystem.
    pub other_side: Option<SideInfo>,
}

/// The other side of two views: the directory deleters work through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SideInfo {
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
    scratch: Option<Scratch>,
    /// The deleters, when another process runs them (`--role reader`).
    remote: Option<role::RemoteDeleters>,
    /// Watches the scratch directory for the controller.
    probe: Option<Probe>,
    stalls: Vec<(usize, u64, Stall)>,
    /// Times the whole process was paused (SIGSTOP, Ctrl-Z, a suspended
    /// machine): `(start, length)` in monotonic ns. Not stall time.
    pauses: Vec<(u64, u64)>,
    cycles_before_batch: u64,
    first_anomaly_cycle: Option<u64>,
    elapsed_ns: u64,
    broken: bool,
    /// The filesystem stopped answering: its scratch directory is not
    /// waited for at the end.
    frozen: bool,
}

/// Descriptors a scenario needs beyond the process's own (a conservative
/// count: each thread worker holds at most two files at once; each process
/// worker costs the parent two pipes and the spawn a few more).
fn descriptors_needed(scenario: &Scenario) -> u64 {
    let workers = u64::from(scenario.workers_count());
    let per_worker = match scenario.workers {
        Workers::Threads => 2,
        Workers::Processes => 6,
    };
    32 + workers * per_worker
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
        let needed = descriptors_needed(scenario);
        if let Ok(limit) = sys::descriptor_limit() {
            if limit < needed {
                return Err(HarnessError::Descriptors { limit, needed });
            }
        }
        let mut calibration = None;
        let resolved;
        let scenario = if scenario.pace == Pace::Auto && scenario.race == Race::Create {
            // Creators have no pace: nothing to calibrate.
            resolved = Scenario {
                pace: Pace::Sleep,
                ..scenario.clone()
            };
            &resolved
        } else if scenario.pace == Pace::Auto {
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
        let remote = options.remote_deleters.is_some();
        match (
            scenario.views.is_split(),
            options.other_side.is_some(),
            remote,
        ) {
            (true, false, false) => {
                return Err(HarnessError::Views(
                    "two views need the other side's path, or deleters in another process",
                ));
            }
            (false, true, _) | (false, _, true) => {
                return Err(HarnessError::Views(
                    "the other side is for a scenario with two views",
                ));
            }
            (true, true, true) => {
                return Err(HarnessError::Views(
                    "deleters in another process work through their own path, not this one's",
                ));
            }
            _ => {}
        }
        if remote
            && (scenario.workers != Workers::Threads
                || matches!(scenario.pace, Pace::Aimed | Pace::Auto))
        {
            return Err(HarnessError::Views(
                "readers and deleters in two processes need worker threads and a pace other \
                 than aimed (its flag lives in one process's memory) or auto (its calibration \
                 races both sides in one process)",
            ));
        }
        let (mut scratch, canonical) = create_scratch(target_dir)?;
        let probe = Probe::start(Arc::clone(&scratch.dir), options.poll_interval)?;
        let fs = platform::fs_info(scratch.dir.as_fd(), &canonical);
        #[cfg(windows)]
        if scenario.delete == crate::scenario::Delete::Posix {
            posix_delete_works(&scratch, &canonical, &fs.fs_type)?;
        }
        if let Some(other) = &options.other_side {
            let view =
                split::open_other_side(target_dir, scratch.dir.as_fd(), &scratch.name, other)?;
            scratch.other = Some(view);
        }
        let remote = match options.remote_deleters {
            Some(wait) => Some(role::offer(
                &scratch.dir,
                &scratch.path,
                scenario,
                options.examples_per_class,
                wait,
                options.interrupt.as_deref(),
            )?),
            None => None,
        };
        let other_side = match &remote {
            Some(r) => Some(r.side.clone()),
            None => scratch.other.as_ref().map(|o| SideInfo {
                target_dir: o.target_dir.clone(),
                fs: o.fs.clone(),
            }),
        };
        let dirs = SideDirs {
            reader: Arc::clone(&scratch.dir),
            deleter: Arc::clone(scratch.other.as_ref().map_or(&scratch.dir, |o| &o.dir)),
        };
        let ids: Vec<WorkerId> = match scenario.race {
            Race::OpenUnlink => (0..scenario.readers)
                .map(WorkerId::reader)
                .chain((0..scenario.deleters).map(WorkerId::deleter))
                .collect(),
            Race::Create => (0..scenario.creators).map(WorkerId::creator).collect(),
        };
        let control = Control::new(ids.len(), options.examples_per_class);
        // Readers see the deleters' removal marks only in shared memory.
        let control = Arc::new(match scenario.workers {
            Workers::Threads => control.with_removal_marks(scenario.deleters as usize),
            Workers::Processes => control,
        });
        // With deleters in another process, this one runs the readers.
        let local: Vec<WorkerId> = ids
            .iter()
            .copied()
            .filter(|id| remote.is_none() || id.role == Role::Reader)
            .collect();
        let pool: Box<dyn Pool> = match scenario.workers {
            Workers::Threads => Box::new(threads::ThreadPool::start(
                scenario,
                &dirs,
                Arc::clone(&control),
                &local,
            )?),
            Workers::Processes => Box::new(child_workers::ProcessPool::start(
                scenario,
                &|role| scratch.path_for_children(role),
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
                other_side,
            },
            scratch: Some(scratch),
            remote,
            probe: Some(probe),
            stalls: Vec::new(),
            pauses: Vec::new(),
            cycles_before_batch: 0,
            first_anomaly_cycle: None,
            elapsed_ns: 0,
            broken: false,
            frozen: false,
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

    /// Whether overlapped opens are counted: readers see the deleters'
    /// removal marks (threads in one process, not worker processes nor
    /// deleters in another process).
    pub fn counts_overlaps(&self) -> bool {
        self.scenario.workers == Workers::Threads && self.remote.is_none()
    }

    /// The target directory and its filesystem.
    pub fn target(&self) -> &TargetInfo {
        &self.target
    }

    /// The private scratch directory (removed by [`Harness::finish`]).
    pub fn scratch_path(&self) -> Option<&Path> {
        self.scratch.as_ref().map(|s| s.path.as_path())
    }

    /// Stops the workers, removes the scratch directory and merges the counts.
    pub fn finish(mut self) -> Tally {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Tally {
        let Some(pool) = self.pool.take() else {
            return Tally::default();
        };
        // A look at the scratch directory that has waited for long says its
        // filesystem does not answer: its removal is then not waited for.
        let probe_waiting = self
            .probe
            .take()
            .and_then(|p| p.busy_since_ns())
            .is_some_and(|t| sys::monotonic_ns().saturating_sub(t) > PROBE_SLOW_NS);
        let mut snapshots = pool.finish(!self.broken);
        let mut remote_error = None;
        if let Some(remote) = self.remote.take() {
            let readers = self.scenario.readers as usize;
            match remote.finish(readers, self.scenario.deleters as usize) {
                Ok(theirs) => snapshots[readers..].clone_from_slice(&theirs[readers..]),
                Err(e) => remote_error = Some(e),
            }
        }
        let mut tally = self.merge(&snapshots);
        tally.remote_error = remote_error;
        tally.stuck_workers = if self.broken {
            self.control
                .slots
                .iter()
                .filter(|s| s.busy_since_ns.load(Relaxed) != 0)
                .count() as u32
        } else {
            0
        };
        if let Some(scratch) = self.scratch.take() {
            let wait = if self.frozen || probe_waiting {
                FROZEN_REMOVAL_WAIT
            } else {
                REMOVAL_WAIT
            };
            tally.scratch_left = scratch.remove_within(&self.ids, wait).err();
        }
        tally
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(left) = self.shutdown().scratch_left {
            eprintln!("warning: the scratch directory was left at {left}");
        }
    }
}
