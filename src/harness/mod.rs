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

mod board;
pub mod calibrate;
mod overlap;
mod pool;
pub mod process;
pub mod protocol;
pub mod records;
pub mod role;
mod scratch;
mod slot;
mod split;
mod threads;
mod watchdog;
mod worker;

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};

use crate::outcome::{CLASS_COUNT, Class};
use crate::scenario::{Pace, Race, Scenario, ScenarioError, Workers};
use crate::sys::{self, AsFd, Errno, platform};

use pool::Pool;
pub use records::{
    AnomalyRecord, ErrnoCount, EventKind, Role, Stall, Timeline, TimelineEvent, WorkerId,
};
pub use scratch::{MARKER, StaleScratch, remove_stale};
use scratch::{Probe, REMOVAL_WAIT, Scratch, create_scratch};
use slot::{OPS, SlotSnapshot};
pub use split::VIEW_WAIT;
use watchdog::{pause_threshold_ns, watchdog};
use worker::{Control, NONE, SideDirs};

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
    /// A process, thread or descriptor limit stopped the harness from
    /// starting what it needs (docs/usage.md#environment-errors: the
    /// environment, not the race).
    #[error(
        "environment error: cannot start {what}: {source} (a limit on processes, threads or memory? see ulimit -u and ulimit -v)"
    )]
    Resource {
        what: String,
        source: std::io::Error,
    },
    /// A worker process could not run for a reason of the environment.
    #[error("environment error: {0}")]
    WorkerEnvironment(String),
    /// A buffer the run needs could not be allocated.
    #[error(
        "environment error: out of memory: cannot allocate {bytes} bytes for {what} (a memory limit? see ulimit -v)"
    )]
    Memory { what: String, bytes: u64 },
    /// The scratch directory or its filesystem failed
    /// (docs/usage.md#environment-errors): not the race.
    #[error(
        "environment error: the scratch directory {} {} ({} got {}); not the race, and not counted",
        scratch.display(), environment_cause(*errno), op.unwrap_or("the scratch directory check"), errno_label(*errno)
    )]
    Environment {
        /// The operation that failed; `None` for the controller's own check.
        op: Option<&'static str>,
        errno: Errno,
        scratch: PathBuf,
    },
    #[error(
        "environment error: out of file descriptors: the limit is {limit} and this scenario needs about {needed} (raise it with ulimit -n)"
    )]
    Descriptors { limit: u64, needed: u64 },
    /// Two views that do not reach one directory (docs/two-views.md).
    #[error("{} and {} are not two views of one directory: {reason}", dir.display(), other.display())]
    NotOneDirectory {
        dir: PathBuf,
        other: PathBuf,
        reason: String,
    },
    /// A split scenario without the other side's path, or the other way round.
    #[error("{0}")]
    Views(&'static str),
    /// The two processes of two views did not meet, or lost each other.
    #[error("{0}")]
    Role(String),
    /// Every reader waited on the filesystem longer than the stall limit,
    /// with a look at the scratch directory waiting too or for 5 s: it
    /// stopped answering.
    #[error(
        "environment error: the scratch directory {} is on a filesystem that stopped answering: every reader has waited in a syscall for over {} s (a stopped or hung FUSE server?)",
        scratch.display(), limit.as_secs_f64()
    )]
    Frozen { scratch: PathBuf, limit: Duration },
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

impl HarnessError {
    /// Whether this is an environment error (docs/usage.md#environment-errors),
    /// as opposed to bad input.
    pub fn is_environment(&self) -> bool {
        matches!(
            self,
            HarnessError::Environment { .. }
                | HarnessError::Descriptors { .. }
                | HarnessError::Resource { .. }
                | HarnessError::WorkerEnvironment(_)
                | HarnessError::Memory { .. }
                | HarnessError::Frozen { .. }
        )
    }

    /// Starting `what` failed with `source`: a resource error (a limit on
    /// processes, threads, memory or descriptors) when its errno says so.
    pub fn spawn(what: impl Into<String>, source: std::io::Error) -> HarnessError {
        if source
            .raw_os_error()
            .is_some_and(|e| matches!(e, sys::EAGAIN | sys::ENOMEM | sys::EMFILE | sys::ENFILE))
        {
            HarnessError::Resource {
                what: what.into(),
                source,
            }
        } else {
            HarnessError::Spawn(source)
        }
    }
}

fn errno_label(errno: Errno) -> String {
    match sys::errno_name(errno) {
        "" => format!("errno {errno}"),
        name => name.to_string(),
    }
}

/// What an errno from the scratch directory says about the environment.
pub fn environment_cause(errno: Errno) -> &'static str {
    match errno {
        sys::ENOENT | sys::ENOTDIR => "was removed",
        sys::EACCES | sys::EPERM => "is no longer accessible (no permission)",
        sys::EIO => "is on a filesystem that fails with I/O errors (shut down?)",
        // A FUSE connection whose server died answers ECONNABORTED, then ENOTCONN.
        sys::ENOTCONN | sys::ECONNABORTED => {
            "is on a disconnected filesystem (its FUSE server is gone?)"
        }
        sys::ESTALE => "is stale (removed on the server?)",
        sys::EROFS => "is on a read-only filesystem",
        sys::ENOSPC => "is on a full filesystem",
        sys::EDQUOT => "is over its disk quota",
        sys::EMFILE | sys::ENFILE => "cannot be used: out of file descriptors",
        sys::ENOMEM => "cannot be used: out of memory",
        _ => "failed",
    }
}

/// Why `dir` cannot be raced in, checked before anything starts: it does
/// not exist, is not a directory, or its filesystem fails (a FUSE mount
/// whose server is gone answers "Transport endpoint is not connected").
pub fn directory_problem(dir: &Path) -> Result<(), String> {
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err("is not a directory".into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err("does not exist".into()),
        Err(e) => Err(match e.raw_os_error() {
            Some(errno) if environment_cause(errno) != "failed" => {
                format!("{e}; it {}", environment_cause(errno))
            }
            _ => e.to_string(),
        }),
    }
}

/// [`directory_problem`], plus a lookup of a name that is not there (which
/// no cache answers), in a thread of its own waited for `wait` at most, or
/// until `stop` is set: a filesystem that stopped answering (a FUSE server
/// stopped before the run) is said so instead of hanging the run before it
/// starts.
pub fn directory_problem_within(
    dir: &Path,
    wait: Duration,
    stop: Option<&AtomicBool>,
) -> Result<(), String> {
    let owned = dir.to_path_buf();
    let check = move || {
        directory_problem(&owned)?;
        let fd = sys::open_dir(&owned).map_err(|e| e.to_string())?;
        let name = std::ffi::CString::new(format!(
            ".unlink-race-lookup-{}-{}",
            sys::getpid(),
            sys::monotonic_ns()
        ))
        .expect("no NUL in the name");
        match sys::fstatat(fd.as_fd(), &name) {
            Ok(_) | Err(sys::ENOENT) => Ok(()),
            Err(e) => Err(match environment_cause(e) {
                "failed" => errno_label(e),
                cause => format!("{}; it {cause}", errno_label(e)),
            }),
        }
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("directory check".into())
        .stack_size(threads::WORKER_STACK)
        .spawn(move || {
            let _ = tx.send(check());
        });
    match spawned {
        Ok(_) => {
            let deadline = Instant::now() + wait;
            while Instant::now() < deadline && !stop.is_some_and(|s| s.load(Relaxed)) {
                let step = deadline
                    .saturating_duration_since(Instant::now())
                    .min(Duration::from_millis(50));
                if let Ok(answer) = rx.recv_timeout(step) {
                    return answer;
                }
            }
            Err(format!(
                "its filesystem does not answer: a lookup in it has waited {:.1} s (a stopped or hung FUSE server?)",
                wait.min(Instant::now() - (deadline - wait)).as_secs_f64()
            ))
        }
        // No thread to spare: the check runs here (a limit is the likelier fault).
        Err(_) => directory_problem(dir),
    }
}

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
/// How long the end of a run on a filesystem that stopped answering waits
/// for its scratch directory's removal.
const FROZEN_REMOVAL_WAIT: Duration = Duration::from_millis(250);
/// A look at the scratch directory still waiting after this long (1 s) is a
/// filesystem that does not answer, for the end of a run.
const PROBE_SLOW_NS: u64 = 1_000_000_000;

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
            Workers::Processes => Box::new(process::ProcessPool::start(
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

    fn merge(&self, snapshots: &[SlotSnapshot]) -> Tally {
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

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(left) = self.shutdown().scratch_left {
            eprintln!("warning: the scratch directory was left at {left}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_errors_name_their_cause() {
        for (errno, cause) in [
            (sys::ENOENT, "was removed"),
            (sys::EACCES, "no permission"),
            (sys::EIO, "I/O errors"),
            (sys::ENOTCONN, "disconnected"),
            (sys::EROFS, "read-only"),
            (sys::ENOSPC, "full"),
            (sys::EMFILE, "descriptors"),
        ] {
            let e = HarnessError::Environment {
                op: Some("open"),
                errno,
                scratch: "/s".into(),
            };
            let line = e.to_string();
            assert!(line.contains(cause), "{line}");
            assert!(line.contains("/s") && !line.contains('\n'), "{line}");
            assert!(e.is_environment());
        }
    }
}
