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
//!
//! Here: the report, its machine, each scenario's configuration, counts and
//! rates; `calibration.rs` how pace `auto` chose, `evidence.rs` what a
//! scenario saw beyond its counts (examples, trials, the timeline, errnos,
//! stalls), `latency_points.rs` the `latency` benchmarks' points.

mod calibration;
mod evidence;
mod latency_points;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use crate::harness::{EventKind, WorkerId};
pub use crate::outcome::{Class, Op, Side};
pub use crate::scenario::{CreateFlags, Delete, Pace, Race, Recreate, Views, Workers};

pub use calibration::{Calibration, CalibrationBasis, CalibrationCandidate};
pub use evidence::{
    Dropped, EmptyReadNlink, ErrnoBreakdown, Example, StaleRecord, StallRecord, StatRecord,
    Survival, SurvivalPoint, Timeline, TimelineEvent, Trial,
};
pub use latency_points::{LatencyMedian, LatencyMethod, LatencyPoint, LatencyRate, PaceRate};

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

/// Reports written before pacing was a setting all ran `sleep`.
fn legacy_pace() -> Pace {
    Pace::Sleep
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
