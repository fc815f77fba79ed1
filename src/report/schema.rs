//! The on-disk report: one versioned JSON document per run.
//!
//! This module is the schema and nothing else: it is what `compare`, the HTML
//! renderer and `reports/index.html` load; presentation lives in the export
//! module.
//! Field names carry their units (`_ns`, `_bytes`, `_per_second`). Later versions
//! may add fields; they never rename or remove these without bumping
//! [`SCHEMA_VERSION`].
//!
//! docs/report-format.md documents every field once, by its path in the JSON
//! (`.scenarios[].classes.<class>.count`), with what older reports hold
//! instead; the doc comments here say what each field holds. `tests/it/tidy.rs`
//! checks that the two name the same fields.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::harness::{EventKind, WorkerId};
pub use crate::outcome::{Class, Op, Side};
pub use crate::scenario::{CreateFlags, Delete, Pace, Race, Recreate, Views, Workers};

/// The schema version written by this crate.
pub const SCHEMA_VERSION: u32 = 1;

/// The value of [`Report::tool`].
pub const TOOL_NAME: &str = "unlink-race";

/// One run over one or more scenarios.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    #[serde(deserialize_with = "crate::report::load::schema_version")]
    pub schema_version: u32,
    #[serde(deserialize_with = "crate::report::load::tool_name")]
    pub tool: String,
    pub label: String,
    pub created_unix_s: u64,
    pub interrupted: bool,
    /// Why the run stopped when its environment failed (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_error: Option<String>,
    pub source: Source,
    pub machine: Machine,
    pub scenarios: Vec<ScenarioReport>,
    /// Time to the first anomaly on zombiefs (bench reports with the
    /// `zombiefs` feature); empty, and not written, otherwise.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "crate::report::load::detail"
    )]
    pub latency: Vec<LatencyPoint>,
}

/// What made a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// `unlink-race run`.
    Run,
    /// `cargo bench`.
    Bench,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::Run => "run",
            Source::Bench => "bench",
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Where the run happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Machine {
    /// `"linux"`, `"macos"`, ... (Rust's `std::env::consts::OS`).
    pub os: String,
    /// Distribution version on Linux (`/etc/os-release` `VERSION_ID`), product
    /// version on macOS (`kern.osproductversion`, e.g. `10.15.7`).
    pub os_version: String,
    /// Human-readable OS name (`PRETTY_NAME` on Linux, `macOS 10.15.7`).
    pub os_name: String,
    /// Kernel release (`uname -r`).
    pub kernel: String,
    pub arch: String,
    pub cpu_model: String,
    pub cpus: u32,
    /// Filesystem type of the target directory (`ext4`, `tmpfs`, `apfs`, `fuse.zombiefs`, ...).
    pub fs_type: String,
    /// Mount point of the filesystem holding the target directory.
    pub mount_point: String,
    /// The target directory the scratch directory was created in.
    pub target_dir: String,
    pub hostname: String,
    pub crate_version: String,
    /// With two views (docs/two-views.md): the directory deleters worked
    /// through and its filesystem. Absent with one view, and in older reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other_side: Option<OtherSide>,
}

/// The other side of two views: the path deleters worked through.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OtherSide {
    /// Filesystem type of the other side's directory (`fuse.sshfs`, `ext4`, ...).
    pub fs_type: String,
    /// Mount point of that filesystem.
    pub mount_point: String,
    /// The other side's directory, where the scratch directory was found.
    pub target_dir: String,
}

/// The parameters of one scenario, as written in reports
/// (docs/report-format.md#scenariosconfig).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ScenarioConfig {
    /// `"create"` for a create race; absent (`open_unlink`) otherwise and
    /// in older reports.
    #[serde(default, skip_serializing_if = "Race::is_open_unlink")]
    pub race: Race,
    /// 0 in a create race.
    pub readers: u32,
    /// 0 in a create race.
    pub deleters: u32,
    /// A create race's creators (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creators: Option<u32>,
    /// A create race's flags: `"creat"`, `"creat_trunc"`, `"creat_excl"`
    /// (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_flags: Option<CreateFlags>,
    pub file_size_bytes: u64,
    /// `"inplace"` or `"atomic"`.
    pub recreate: Recreate,
    /// `"unlink"`, `"trash"`, `"replace"` or `"posix"` (Windows).
    pub delete: Delete,
    /// Windows: `false` when the opens left out `FILE_SHARE_DELETE`; absent
    /// when they shared it (always, elsewhere, and in older reports).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub share_delete: bool,
    /// `"threads"` or `"processes"`.
    pub workers: Workers,
    /// `"split"` or `"split_recreating"` with two views; absent (`"one"`)
    /// with one view, and in older reports.
    #[serde(default, skip_serializing_if = "Views::is_one")]
    pub views: Views,
}

fn yes() -> bool {
    true
}

fn is_true(b: &bool) -> bool {
    *b
}

impl From<&crate::scenario::Scenario> for ScenarioConfig {
    fn from(s: &crate::scenario::Scenario) -> ScenarioConfig {
        let create = s.race == Race::Create;
        ScenarioConfig {
            race: s.race,
            readers: s.readers,
            deleters: s.deleters,
            creators: create.then_some(s.creators),
            create_flags: create.then_some(s.create_flags),
            file_size_bytes: s.file_size_bytes,
            recreate: s.recreate,
            delete: s.delete,
            share_delete: s.share_delete,
            workers: s.workers,
            views: s.views,
        }
    }
}

impl From<&ScenarioConfig> for crate::scenario::Scenario {
    /// The config holds no pace (the report carries it beside the config, so
    /// runs with different pacings still compare): the scenario gets `sleep`.
    fn from(c: &ScenarioConfig) -> crate::scenario::Scenario {
        crate::scenario::Scenario {
            race: c.race,
            readers: c.readers,
            deleters: c.deleters,
            creators: c.creators.unwrap_or(0),
            create_flags: c.create_flags.unwrap_or_default(),
            file_size_bytes: c.file_size_bytes,
            recreate: c.recreate,
            delete: c.delete,
            share_delete: c.share_delete,
            workers: c.workers,
            pace: Pace::Sleep,
            views: c.views,
        }
    }
}

/// Count and rate of one outcome class in one scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassStats {
    pub count: u64,
    /// `true` when this class is not an anomaly under this scenario (an expected
    /// outcome or an expected race).
    pub expected: bool,
    /// `count / cycles`.
    pub rate: f64,
    /// Lower end of the 95% interval of `rate`.
    pub ci_low: f64,
    /// Upper end of the 95% interval of `rate`.
    pub ci_high: f64,
    /// `count / raced_opens` with its 95% interval (binomial or Poisson, as
    /// `ci_low`/`ci_high`), for anomaly classes. Absent for expected classes,
    /// in reports older than the raced-open count, and when a class that
    /// happens at most once per cycle was seen more often than opens raced
    /// (it is then not confined to raced opens: `write_einval` happens on
    /// creates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_raced_open: Option<Rate>,
    /// `count / racing_creates` with its 95% interval, for the anomaly
    /// classes of a create racing another create (`spurious_enoent_on_create`,
    /// `eexist_without_excl`, `excl_extra_winner`), which then have no rate
    /// per raced open. Absent in reports older than the count, and when the
    /// class was seen more often than creates raced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_racing_create: Option<Rate>,
    /// `count / overlapped_opens` with its 95% interval, for anomaly
    /// classes, under the same conditions as `per_raced_open` (absent too
    /// where overlapped opens are not counted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_overlapped_open: Option<Rate>,
}

/// A rate with its 95% interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    pub rate: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

/// How pace `auto` chose the deleters' pacing: each candidate's figures in
/// its short calibration run (not counted in the scenario's own figures).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// The pacing chosen: the most raced opens (or, when
    /// `chosen_by_anomalies`, anomalies) per second in the calibration.
    pub chosen: Pace,
    pub candidates: Vec<CalibrationCandidate>,
    /// `true` when anomalies per second decided: some candidate found
    /// dozens of anomalies in the calibration itself. Absent (`false`) when
    /// opens per second decided, and in older reports.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub chosen_by_anomalies: bool,
    /// The figure that decided. Absent in older reports: see [`Calibration::basis`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chosen_by: Option<CalibrationBasis>,
}

/// The figure a calibration chose the pacing by, per second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalibrationBasis {
    /// Raced opens (where overlapped opens are not counted: worker processes).
    RacedOpens,
    /// Overlapped opens: the opens that can show the defect.
    OverlappedOpens,
    /// Anomalies: some candidate found dozens.
    Anomalies,
}

impl CalibrationBasis {
    /// The figure with its unit, as pages name it.
    pub fn unit(self) -> &'static str {
        match self {
            CalibrationBasis::RacedOpens => "raced opens/s",
            CalibrationBasis::OverlappedOpens => "overlapped opens/s",
            CalibrationBasis::Anomalies => "anomalies/s",
        }
    }
}

impl Calibration {
    /// The figure that decided; older reports (no `chosen_by`) chose by
    /// raced opens unless `chosen_by_anomalies`.
    pub fn basis(&self) -> CalibrationBasis {
        self.chosen_by.unwrap_or(if self.chosen_by_anomalies {
            CalibrationBasis::Anomalies
        } else {
            CalibrationBasis::RacedOpens
        })
    }
}

/// One candidate pacing's calibration run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationCandidate {
    pub pace: Pace,
    pub cycles: u64,
    pub raced_opens: u64,
    pub anomalies: u64,
    pub elapsed_ns: u64,
    pub raced_opens_per_second: f64,
    /// `null` where not counted (worker processes) and in older reports.
    #[serde(default)]
    pub overlapped_opens: Option<u64>,
    #[serde(default)]
    pub overlapped_opens_per_second: Option<f64>,
    /// Raced opens per second of each measured turn, in order. Empty in
    /// older reports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rounds_raced_opens_per_second: Vec<f64>,
    /// Overlapped opens per second of each measured turn, in order. Empty
    /// where not counted and in older reports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rounds_overlapped_opens_per_second: Vec<f64>,
    /// Anomalies per second of each measured turn, in order. Empty in older
    /// reports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rounds_anomalies_per_second: Vec<f64>,
}

impl CalibrationCandidate {
    /// The figure `auto` chose by ([`Calibration::basis`]), per second.
    pub fn deciding_rate(&self, basis: CalibrationBasis) -> f64 {
        match basis {
            CalibrationBasis::Anomalies => {
                self.anomalies as f64 * 1e9 / self.elapsed_ns.max(1) as f64
            }
            CalibrationBasis::OverlappedOpens => self.overlapped_opens_per_second.unwrap_or(0.0),
            CalibrationBasis::RacedOpens => self.raced_opens_per_second,
        }
    }
}

/// Reports written before pacing was a setting all ran `sleep`.
fn legacy_pace() -> Pace {
    Pace::Sleep
}

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

/// Everything measured for one scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioReport {
    /// Stable name built from the config, e.g. `r1-d1-7B-inplace-unlink-threads`.
    pub name: String,
    pub config: ScenarioConfig,
    pub cycles: u64,
    pub removals: u64,
    pub recreations: u64,
    pub elapsed_ns: u64,
    pub cycles_per_second: f64,
    pub ns_per_cycle: f64,
    /// Cycles whose `open` succeeded on a file whose last link was already
    /// removed (`fstat`: `st_nlink == 0`, or the zombie signature `st_ino ==
    /// 0`, or `ENOENT` where `fstat` looks the path up again, as on sshfs):
    /// the only cycles that can show the macOS defect. `null` in reports
    /// older than this count.
    #[serde(default)]
    pub raced_opens: Option<u64>,
    /// `raced_opens` per second of `elapsed_ns`: how hard the race was pressed.
    #[serde(default)]
    pub raced_opens_per_second: Option<f64>,
    /// Create calls whose `[begin, end]` on the monotonic clock overlapped
    /// another worker's create call on the same name: in a create race every
    /// creator's call of a round; in an open/unlink race the readers'
    /// inplace recreates of the target. The denominator of the create
    /// classes' second rate. Absent in reports older than the count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub racing_creates: Option<u64>,
    /// `racing_creates` per second of `elapsed_ns`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub racing_creates_per_second: Option<f64>,
    /// Raced opens whose `open` was still running when the removal that took
    /// the file returned: the opens that can show the defect (the removal
    /// landed inside them). `null` where not counted (worker processes) and
    /// in reports older than this count.
    #[serde(default)]
    pub overlapped_opens: Option<u64>,
    /// `overlapped_opens` per second of `elapsed_ns`.
    #[serde(default)]
    pub overlapped_opens_per_second: Option<f64>,
    /// The deleters' pacing, resolved (`auto` is never written: see
    /// `calibration`). Reports older than the setting read as `sleep`.
    #[serde(default = "legacy_pace")]
    pub pace: Pace,
    /// How `auto` chose `pace`; absent when the pace was given.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::report::load::detail"
    )]
    pub calibration: Option<Calibration>,
    pub anomalies: u64,
    /// Every class, in report order.
    #[serde(deserialize_with = "classes_by_name")]
    pub classes: BTreeMap<Class, ClassStats>,
    pub empty_read_nlink: EmptyReadNlink,
    #[serde(deserialize_with = "crate::report::load::detail")]
    pub examples: Vec<Example>,
    /// `io_error`, `stale`, `unexpected_errno` and `fd_enoent` by (side,
    /// operation, errno), by class, then by count, largest first; empty when
    /// none was seen (and in reports written before it existed).
    #[serde(default, deserialize_with = "crate::report::load::counted_detail")]
    pub errno_breakdown: Vec<ErrnoBreakdown>,
    pub first_anomaly_cycle: Option<u64>,
    #[serde(deserialize_with = "crate::report::load::counted_detail")]
    pub trials: Vec<Trial>,
    #[serde(default, deserialize_with = "crate::report::load::detail")]
    pub survival: Option<Survival>,
    #[serde(default, deserialize_with = "crate::report::load::detail")]
    pub timeline: Option<Timeline>,
    #[serde(deserialize_with = "crate::report::load::detail")]
    pub stalls: Vec<StallRecord>,
    /// What was left out of `examples`, `timeline` and `stalls` to bound the
    /// report's size (absent: nothing).
    #[serde(default, skip_serializing_if = "Dropped::is_nothing")]
    pub dropped: Dropped,
    /// Relative path of Criterion's page for this benchmark (bench reports only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criterion_page: Option<String>,
    pub command: String,
}

/// Reads `classes` keyed by name, so that an error inside one names its key
/// (`classes.zombie_fd.count`) and an unknown class is named too.
fn classes_by_name<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<Class, ClassStats>, D::Error> {
    let by_name = BTreeMap::<String, ClassStats>::deserialize(d)?;
    by_name
        .into_iter()
        .map(|(name, stats)| {
            let class = Class::from_name(&name).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "unknown class `{name}` (a report from a newer unlink-race?)"
                ))
            })?;
            Ok((class, stats))
        })
        .collect()
}

/// What raced in a latency point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LatencyMethod {
    /// The tool's harness, as `unlink-race run` races.
    Harness,
    /// A bare loop of the same syscalls, without bookkeeping.
    Bare,
}

impl LatencyMethod {
    pub fn name(self) -> &'static str {
        match self {
            LatencyMethod::Harness => "harness",
            LatencyMethod::Bare => "bare",
        }
    }
}

impl std::fmt::Display for LatencyMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Time to the first anomaly at one point of the `latency` benchmarks: a
/// defect planted on zombiefs with a known probability per racing open, and
/// repeated trials that race until it shows (or a cap).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyPoint {
    /// zombiefs's `--open-probability`: the fraction of racing opens that
    /// get a dead descriptor; in a create race its
    /// `--create-race-probability`: the fraction of creates racing a create
    /// that get a spurious `ENOENT`.
    pub probability: f64,
    /// `"create"` for the create race's points (absent otherwise).
    #[serde(default, skip_serializing_if = "Race::is_open_unlink")]
    pub race: Race,
    /// 0 in a create race.
    pub readers: u32,
    /// 0 in a create race.
    pub deleters: u32,
    /// A create race's creators (with `O_CREAT`); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creators: Option<u32>,
    pub method: LatencyMethod,
    /// The deleters' pacing, resolved by a calibration (never `auto`).
    pub pace: Pace,
    /// How the pacing was chosen: each candidate's raced opens per second.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Calibration>,
    /// A trial still without an anomaly after this long is censored.
    pub cap_ns: u64,
    /// ... or after this many reader cycles.
    pub cap_cycles: u64,
    /// One per trial, in the order they ran.
    pub trials: Vec<Trial>,
    /// Kaplan–Meier median of the trials' cycles to the first anomaly.
    pub median_cycles: LatencyMedian,
    /// Kaplan–Meier median of the trials' seconds to the first anomaly.
    pub median_seconds: LatencyMedian,
    /// zombiefs's racing opens per second of this side, measured apart
    /// from the trials (absent in older reports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<LatencyRate>,
}

/// How fast one side of a latency point made the racing opens a defect
/// needs: zombiefs's own count while the side raced, in turns interleaved
/// with the other side's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyRate {
    /// zombiefs's racing opens during this side's turns.
    pub racing_opens: u64,
    /// Wall time of those turns.
    pub elapsed_ns: u64,
    pub turns: u32,
    /// `racing_opens` per second, with its 95% interval.
    pub racing_opens_per_second: Rate,
    /// `ln 2 / (probability × rate)`: the median time to the first anomaly
    /// that the rate implies, with the interval from the rate's.
    pub implied_median_seconds: LatencyMedian,
    /// Harness points: this rate over the bare side's, with its 95% interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio_to_bare: Option<Rate>,
    /// Bare points: every fixed pacing, each measured; the point's pace is
    /// the best of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paces: Vec<PaceRate>,
}

/// One bare pacing's racing opens in the turns of a latency point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaceRate {
    pub pace: Pace,
    pub racing_opens: u64,
    pub elapsed_ns: u64,
    pub racing_opens_per_second: Rate,
}

/// A Kaplan–Meier median with its 95% distribution-free interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LatencyMedian {
    /// `null` when over half the trials were censored (beyond the cap).
    pub median: Option<f64>,
    /// `null` (with `ci_high`) with fewer than 6 trials.
    pub ci_low: Option<f64>,
    /// `null` with fewer than 6 trials, or when the upper end lies beyond a
    /// censored trial (beyond the cap).
    pub ci_high: Option<f64>,
}
