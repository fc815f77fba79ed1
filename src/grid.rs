//! The scenario grid of `cargo bench` and its settings from the environment.
//!
//! Criterion owns the bench's command line, so the grid is set through
//! `UNLINK_RACE_*` variables ([`GridConfig::from_env`]). Every value is checked
//! before any benchmark runs; an error names the variable and the value.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::report::machine;
use crate::report::schema::Machine;
use crate::scenario::{self, CreateFlags, Delete, Pace, Race, Recreate, Scenario, Views, Workers};
use crate::sys::{self, AsFd, platform, platform::FsInfo};

/// Thread counts (readers × deleters) of the default grid.
pub const DEFAULT_THREADS: &[(u32, u32)] = &[(1, 1), (2, 2), (4, 4), (8, 8)];
/// File sizes of the default grid: the seed's 7 bytes, 4 KiB, 1 MiB.
pub const DEFAULT_SIZES: &[u64] = &[7, 4 << 10, 1 << 20];
/// Thread counts at which `trash` and `replace` are also measured by default.
pub const EXTRA_DELETE_THREADS: &[(u32, u32)] = &[(1, 1), (4, 4)];
/// Creator counts of the default grid's create family (the defect grows
/// with cores, so the counts go past this machine's).
pub const DEFAULT_CREATORS: &[u32] = &[2, 4, 8, 16];
/// Create flags of the default grid: the defect's, and the control.
pub const DEFAULT_CREATE_FLAGS: &[CreateFlags] = &[CreateFlags::Creat, CreateFlags::CreatExcl];
/// Creators at which the default grid also runs the create family as
/// processes (with the defect's flags).
pub const PROCESS_CREATORS: u32 = 4;

/// A setting of the bench: one `UNLINK_RACE_*` variable. [`Setting::ALL`] is
/// the one table of them: [`GridConfig::from_vars`] reads nothing else,
/// `unlink-race grid` prints it, and `tests/it/tidy.rs` checks the settings
/// table of docs/usage.md against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    Dir,
    Readers,
    Sizes,
    Recreate,
    Delete,
    Race,
    Creators,
    CreateFlags,
    CreateWorkers,
    Label,
    Quick,
    Overhead,
    Pressure,
    Pace,
    Reports,
    Zombiefs,
    Latency,
    OtherSide,
    DeletersRecreate,
}

impl Setting {
    /// Every setting, in the order of docs/usage.md's settings table.
    pub const ALL: &[Setting] = &[
        Setting::Dir,
        Setting::Readers,
        Setting::Sizes,
        Setting::Recreate,
        Setting::Delete,
        Setting::Race,
        Setting::Creators,
        Setting::CreateFlags,
        Setting::CreateWorkers,
        Setting::Label,
        Setting::Quick,
        Setting::Overhead,
        Setting::Pressure,
        Setting::Pace,
        Setting::Reports,
        Setting::Zombiefs,
        Setting::Latency,
        Setting::OtherSide,
        Setting::DeletersRecreate,
    ];

    /// The environment variable.
    pub fn var(self) -> &'static str {
        match self {
            Setting::Dir => "UNLINK_RACE_DIR",
            Setting::Readers => "UNLINK_RACE_READERS",
            Setting::Sizes => "UNLINK_RACE_SIZES",
            Setting::Recreate => "UNLINK_RACE_RECREATE",
            Setting::Delete => "UNLINK_RACE_DELETE",
            Setting::Race => "UNLINK_RACE_RACE",
            Setting::Creators => "UNLINK_RACE_CREATORS",
            Setting::CreateFlags => "UNLINK_RACE_CREATE_FLAGS",
            Setting::CreateWorkers => "UNLINK_RACE_CREATE_WORKERS",
            Setting::Label => "UNLINK_RACE_LABEL",
            Setting::Quick => "UNLINK_RACE_QUICK",
            Setting::Overhead => "UNLINK_RACE_OVERHEAD",
            Setting::Pressure => "UNLINK_RACE_PRESSURE",
            Setting::Pace => "UNLINK_RACE_PACE",
            Setting::Reports => "UNLINK_RACE_REPORTS",
            Setting::Zombiefs => "UNLINK_RACE_ZOMBIEFS",
            Setting::Latency => "UNLINK_RACE_LATENCY",
            Setting::OtherSide => "UNLINK_RACE_OTHER_SIDE",
            Setting::DeletersRecreate => "UNLINK_RACE_DELETERS_RECREATE",
        }
    }

    /// What it sets, as docs/usage.md's settings table says it.
    pub fn meaning(self) -> &'static str {
        match self {
            Setting::Dir => {
                "directories to race in, comma-separated: the grid runs on each, one report per directory (a private scratch dir is made inside)"
            }
            Setting::Readers => {
                "thread counts, comma-separated: `N` (N readers × N deleters) or `RxD`"
            }
            Setting::Sizes => "file sizes, comma-separated, `K`/`M` suffixes",
            Setting::Recreate => "`inplace`, `atomic`",
            Setting::Delete => {
                "`unlink`, `trash`, `replace`, and on Windows `posix` (each at every thread count)"
            }
            Setting::Race => {
                "races, comma-separated: `open-unlink` (readers × deleters) and `create` (the create family, run first: see [create-race.md](create-race.md))"
            }
            Setting::Creators => "the create family's creator counts, comma-separated",
            Setting::CreateFlags => {
                "the create family's flags, comma-separated: `creat`, `creat-trunc`, `creat-excl` (the control)"
            }
            Setting::CreateWorkers => {
                "the create family's workers, comma-separated: `threads`, `processes` (each at every creator count)"
            }
            Setting::Label => "report file name",
            Setting::Quick => {
                "`1`: smoke grid (create with 4 creators, `creat` and `creat-excl`, first; then 1×1 and 2×2, 7 B and 4 KiB, inplace and atomic, unlink), short timings"
            }
            Setting::Overhead => "`1`: run the overhead benchmarks",
            Setting::Pressure => {
                "`1`: run the pressure benchmarks (`cargo bench -- pressure` runs only them)"
            }
            Setting::Pace => {
                "deleter pacing of every scenario: `auto`, `spin`, `check`, `yield`, `sleep`, `aimed`"
            }
            Setting::Reports => "where reports are written",
            Setting::Zombiefs => {
                "`1`: run the grid on a zombiefs mount (needs `--features zombiefs` and root)"
            }
            Setting::Latency => {
                "`1`: the [latency benchmarks](#time-to-the-first-anomaly): time to the first \
                 anomaly on zombiefs, harness against a bare loop (needs `--features zombiefs` \
                 and root)"
            }
            Setting::OtherSide => {
                "[two views](two-views.md): for each directory of `UNLINK_RACE_DIR`, in order, \
                 another path to it, comma-separated; readers race through the first, deleters \
                 through the second, and the scenario names end in `-split`; the create \
                 family, which runs in one view, is left out"
            }
            Setting::DeletersRecreate => {
                "`1`: with two views, deleters also recreate the file through their side after \
                 each removal (names end in `-split-recreating`; `replace` scenarios are left out)"
            }
        }
    }

    /// Its default, as docs/usage.md's settings table says it.
    pub fn default_text(self) -> &'static str {
        match self {
            Setting::Dir => "system temp dir",
            Setting::Readers => "`1,2,4,8`",
            Setting::Sizes => "`7,4K,1M`",
            Setting::Recreate => "both",
            Setting::Delete => "see grid",
            Setting::Race => "both",
            Setting::Creators => "`2,4,8,16`, `4` with QUICK",
            Setting::CreateFlags => "`creat,creat-excl`",
            Setting::CreateWorkers => "threads; processes too at 4 creators",
            Setting::Label => "see above",
            Setting::Quick => "`0`",
            Setting::Overhead => "`1`, `0` with QUICK",
            Setting::Pressure => "`1`, `0` with QUICK",
            Setting::Pace => "`auto`",
            Setting::Reports => "`reports/`",
            Setting::Zombiefs => "`0`",
            Setting::Latency => "`1` with `--features zombiefs`, `0` without or with QUICK",
            Setting::OtherSide => "none (one view)",
            Setting::DeletersRecreate => "`0`",
        }
    }
}

/// A bad bench setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}={value}: {reason}", var = .setting.var())]
pub struct GridError {
    pub setting: Setting,
    pub value: String,
    pub reason: String,
}

/// How long Criterion measures each scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    pub warm_up: Duration,
    pub measurement: Duration,
    pub sample_size: usize,
}

/// The bench's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct GridConfig {
    /// Target directories: the grid runs on each, one report per directory.
    pub dirs: Vec<PathBuf>,
    /// With two views: the other path to each of `dirs`, in order (empty:
    /// one view).
    pub other_sides: Vec<PathBuf>,
    /// One view, or two (with `other_sides`).
    pub views: Views,
    pub threads: Vec<(u32, u32)>,
    pub sizes: Vec<u64>,
    pub recreate: Vec<Recreate>,
    /// `None`: the default (unlink everywhere, trash and replace at 1×1 and 4×4).
    pub delete: Option<Vec<Delete>>,
    /// The races the grid runs (the create family first).
    pub races: Vec<Race>,
    /// The create family's creator counts.
    pub creators: Vec<u32>,
    /// The create family's flags.
    pub create_flags: Vec<CreateFlags>,
    /// The create family's workers, each at every count; `None`: the
    /// default (threads, and processes at [`PROCESS_CREATORS`] with `creat`).
    pub create_workers: Option<Vec<Workers>>,
    pub label: Option<String>,
    pub quick: bool,
    pub reports_dir: Option<PathBuf>,
    pub zombiefs: bool,
    /// Run the overhead benchmarks (harness against a bare loop).
    pub overhead: bool,
    /// Run the pressure benchmarks (raced opens per second against bare loops).
    pub pressure: bool,
    /// Deleter pacing of every grid scenario.
    pub pace: Pace,
    /// Run the latency benchmarks (time to the first anomaly on zombiefs).
    pub latency: bool,
    pub timing: Timing,
}

fn list<T: PartialEq>(
    setting: Setting,
    value: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, GridError> {
    let err = |reason: String| GridError {
        setting,
        value: value.into(),
        reason,
    };
    let items: Vec<&str> = value.split(',').map(str::trim).collect();
    if items.iter().any(|s| s.is_empty()) {
        return Err(err("empty item in the list".into()));
    }
    let mut parsed: Vec<(&str, T)> = Vec::with_capacity(items.len());
    for item in items {
        let v = parse(item).map_err(&err)?;
        // Two items naming one scenario would give Criterion one benchmark twice.
        if let Some((first, _)) = parsed.iter().find(|(_, p)| *p == v) {
            return Err(err(if *first == item {
                format!("'{item}' is listed twice")
            } else {
                format!("'{first}' and '{item}' are the same")
            }));
        }
        parsed.push((item, v));
    }
    Ok(parsed.into_iter().map(|(_, v)| v).collect())
}

fn parse_threads(s: &str) -> Result<(u32, u32), String> {
    let number = |t: &str, what: &str| -> Result<u32, String> {
        t.trim()
            .parse()
            .map_err(|_| format!("'{t}' is not a number of {what}"))
    };
    let readers = |t| scenario::check_readers(number(t, "readers")?).map_err(|e| e.to_string());
    let deleters = |t| scenario::check_deleters(number(t, "deleters")?).map_err(|e| e.to_string());
    match s.split_once(['x', 'X']) {
        Some((r, d)) => Ok((readers(r)?, deleters(d)?)),
        None => {
            let n = readers(s)?;
            Ok((n, deleters(s)?))
        }
    }
}

fn parse_dir(s: &str) -> Result<PathBuf, String> {
    let p = PathBuf::from(s);
    match crate::harness::directory_problem(&p) {
        Ok(()) => Ok(p),
        Err(why) if why == "is not a directory" => Err(format!("{s} {why}")),
        Err(why) if why == "does not exist" => Err(format!("directory {s} {why}")),
        Err(why) => Err(format!("directory {s}: {why}")),
    }
}

/// The first directory listed twice (compared after resolving links and `..`).
pub fn first_duplicate(dirs: &[PathBuf]) -> Option<&PathBuf> {
    let canonical: Vec<PathBuf> = dirs
        .iter()
        .map(|d| d.canonicalize().unwrap_or_else(|_| d.clone()))
        .collect();
    (1..dirs.len())
        .find(|&i| canonical[..i].contains(&canonical[i]))
        .map(|i| &dirs[i])
}

fn flag(setting: Setting, value: &str) -> Result<bool, GridError> {
    match value.trim() {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" | "" => Ok(false),
        _ => Err(GridError {
            setting,
            value: value.into(),
            reason: "expected 1 or 0".into(),
        }),
    }
}

/// The line the bench and `unlink-race grid` both give when report files
/// cannot be written into `dir` (`UNLINK_RACE_REPORTS`), or `None` when they can.
pub fn reports_dir_problem(dir: &Path) -> Option<String> {
    crate::export::files::reports_dir_usable(dir)
        .err()
        .map(|e| format!("{}={}: {e}", Setting::Reports.var(), dir.display()))
}

impl GridConfig {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<GridConfig, GridError> {
        // A value that is not UTF-8 is an error, not an unset variable.
        for &setting in Setting::ALL {
            if let Some(value) = std::env::var_os(setting.var()) {
                if value.to_str().is_none() {
                    return Err(GridError {
                        setting,
                        value: value.to_string_lossy().into_owned(),
                        reason: "not valid UTF-8".into(),
                    });
                }
            }
        }
        GridConfig::from_vars(|k| std::env::var(k).ok())
    }

    /// Reads the settings through `get` (a test passes a map).
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<GridConfig, GridError> {
        let get = |setting: Setting| get(setting.var());
        let switch = |setting: Setting, default: bool| -> Result<bool, GridError> {
            get(setting)
                .map(|v| flag(setting, &v))
                .transpose()
                .map(|v| v.unwrap_or(default))
        };
        let quick = switch(Setting::Quick, false)?;
        let zombiefs = switch(Setting::Zombiefs, false)?;
        let overhead = switch(Setting::Overhead, !quick)?;
        let pressure = switch(Setting::Pressure, !quick)?;
        let pace = match get(Setting::Pace) {
            Some(v) => v.parse::<Pace>().map_err(|e| GridError {
                setting: Setting::Pace,
                value: v.clone(),
                reason: e.to_string(),
            })?,
            None => Pace::Auto,
        };
        let latency = switch(Setting::Latency, cfg!(feature = "zombiefs") && !quick)?;
        if latency && !cfg!(feature = "zombiefs") {
            return Err(GridError {
                setting: Setting::Latency,
                value: get(Setting::Latency).unwrap_or_default(),
                reason: "needs `cargo bench --features zombiefs`".into(),
            });
        }
        let dirs = match get(Setting::Dir) {
            Some(v) => list(Setting::Dir, &v, parse_dir)?,
            None => vec![scenario::default_target_dir()],
        };
        if let Some(dup) = first_duplicate(&dirs) {
            return Err(GridError {
                setting: Setting::Dir,
                value: get(Setting::Dir).unwrap_or_default(),
                reason: format!("{} is listed twice", dup.display()),
            });
        }
        let other_sides = match get(Setting::OtherSide) {
            Some(v) => {
                let sides = list(Setting::OtherSide, &v, parse_dir)?;
                if sides.len() != dirs.len() {
                    return Err(GridError {
                        setting: Setting::OtherSide,
                        value: v,
                        reason: format!(
                            "{} paths for {} directories of {}: one other side per directory",
                            sides.len(),
                            dirs.len(),
                            Setting::Dir.var()
                        ),
                    });
                }
                sides
            }
            None => Vec::new(),
        };
        if zombiefs && !other_sides.is_empty() {
            return Err(GridError {
                setting: Setting::OtherSide,
                value: get(Setting::OtherSide).unwrap_or_default(),
                reason: format!(
                    "{} races in a zombiefs mount of its own; for two views of zombiefs mount it \
                     yourself and give its backing directory here",
                    Setting::Zombiefs.var()
                ),
            });
        }
        let recreating = switch(Setting::DeletersRecreate, false)?;
        if recreating && other_sides.is_empty() {
            return Err(GridError {
                setting: Setting::DeletersRecreate,
                value: get(Setting::DeletersRecreate).unwrap_or_default(),
                reason: format!("needs two views ({})", Setting::OtherSide.var()),
            });
        }
        let views = match (other_sides.is_empty(), recreating) {
            (true, _) => Views::One,
            (false, false) => Views::Split,
            (false, true) => Views::SplitRecreating,
        };
        let (def_threads, def_sizes, def_recreate): (&[(u32, u32)], &[u64], &[Recreate]) = if quick
        {
            (
                &[(1, 1), (2, 2)],
                &[7, 4 << 10],
                &[Recreate::Inplace, Recreate::Atomic],
            )
        } else {
            (DEFAULT_THREADS, DEFAULT_SIZES, Recreate::ALL)
        };
        let threads = match get(Setting::Readers) {
            Some(v) => list(Setting::Readers, &v, parse_threads)?,
            None => def_threads.to_vec(),
        };
        let sizes = match get(Setting::Sizes) {
            Some(v) => list(Setting::Sizes, &v, scenario::parse_file_size)?,
            None => def_sizes.to_vec(),
        };
        let recreate = match get(Setting::Recreate) {
            Some(v) => list(Setting::Recreate, &v, |s| {
                s.parse::<Recreate>().map_err(|e| e.to_string())
            })?,
            None => def_recreate.to_vec(),
        };
        let delete = match get(Setting::Delete) {
            Some(v) => Some(list(Setting::Delete, &v, |s| {
                let d = s.parse::<Delete>().map_err(|e| e.to_string())?;
                if d.is_available() {
                    Ok(d)
                } else {
                    Err(format!("delete '{d}' is Windows' POSIX-semantics delete"))
                }
            })?),
            None => quick.then(|| vec![Delete::Unlink]),
        };
        if views.deleters_recreate()
            && delete
                .as_ref()
                .is_some_and(|d| d.contains(&Delete::Replace))
        {
            return Err(GridError {
                setting: Setting::Delete,
                value: get(Setting::Delete).unwrap_or_default(),
                reason: scenario::ScenarioError::RecreatingReplace.to_string(),
            });
        }
        let races = match get(Setting::Race) {
            Some(v) => list(Setting::Race, &v, |s| {
                s.parse::<Race>().map_err(|e| e.to_string())
            })?,
            // A create race runs in one view: two views race open and unlink.
            None if views.is_split() => vec![Race::OpenUnlink],
            None => Race::ALL.to_vec(),
        };
        if views.is_split() && races.contains(&Race::Create) {
            return Err(GridError {
                setting: Setting::Race,
                value: get(Setting::Race).unwrap_or_default(),
                reason: scenario::ScenarioError::CreateWithTwoViews.to_string(),
            });
        }
        let creators = match get(Setting::Creators) {
            Some(v) => list(Setting::Creators, &v, |s| {
                let n: u32 = s
                    .parse()
                    .map_err(|_| format!("'{s}' is not a number of creators"))?;
                scenario::check_creators(n).map_err(|e| e.to_string())
            })?,
            None if quick => vec![PROCESS_CREATORS],
            None => DEFAULT_CREATORS.to_vec(),
        };
        let create_flags = match get(Setting::CreateFlags) {
            Some(v) => list(Setting::CreateFlags, &v, |s| {
                s.parse::<CreateFlags>().map_err(|e| e.to_string())
            })?,
            None => DEFAULT_CREATE_FLAGS.to_vec(),
        };
        let create_workers = match get(Setting::CreateWorkers) {
            Some(v) => Some(list(Setting::CreateWorkers, &v, |s| {
                s.parse::<Workers>().map_err(|e| e.to_string())
            })?),
            None => None,
        };
        let label = match get(Setting::Label) {
            Some(l) => {
                Some(
                    crate::report::machine::check_label(&l).map_err(|reason| GridError {
                        setting: Setting::Label,
                        value: l,
                        reason,
                    })?,
                )
            }
            None => None,
        };
        let reports_dir = get(Setting::Reports).map(PathBuf::from);
        let timing = if quick {
            Timing {
                warm_up: Duration::from_millis(300),
                measurement: Duration::from_millis(1200),
                sample_size: 10,
            }
        } else {
            Timing {
                warm_up: Duration::from_secs(1),
                measurement: Duration::from_secs(4),
                sample_size: 20,
            }
        };
        Ok(GridConfig {
            dirs,
            other_sides,
            views,
            threads,
            sizes,
            recreate,
            delete,
            races,
            creators,
            create_flags,
            create_workers,
            label,
            quick,
            reports_dir,
            zombiefs,
            overhead,
            pressure,
            pace,
            latency,
            timing,
        })
    }

    /// Every scenario of the grid, in bench order: the create family first
    /// (the race reported on current macOS), at the first file size.
    pub fn scenarios(&self) -> Vec<Scenario> {
        let mut out = Vec::new();
        if self.races.contains(&Race::Create) {
            out.extend(self.create_family());
        }
        if !self.races.contains(&Race::OpenUnlink) {
            return out;
        }
        for &size in &self.sizes {
            for &recreate in &self.recreate {
                for delete in Delete::ALL.iter().filter(|d| d.is_available()) {
                    for &(readers, deleters) in &self.threads {
                        let wanted = match &self.delete {
                            Some(list) => list.contains(delete),
                            None => {
                                *delete == Delete::Unlink
                                    || EXTRA_DELETE_THREADS.contains(&(readers, deleters))
                            }
                        } && !(self.views.deleters_recreate()
                            && *delete == Delete::Replace);
                        if wanted {
                            out.push(Scenario {
                                readers,
                                deleters,
                                file_size_bytes: size,
                                recreate,
                                delete: *delete,
                                workers: Workers::Threads,
                                pace: self.pace,
                                views: self.views,
                                ..Scenario::default()
                            });
                        }
                    }
                }
            }
        }
        out
    }
}

impl GridConfig {
    /// The create family: every creator count and flag with threads (and,
    /// by default, processes at [`PROCESS_CREATORS`] with `creat`).
    fn create_family(&self) -> Vec<Scenario> {
        let size = self.sizes.first().copied().unwrap_or(7);
        let mut out = Vec::new();
        for &flags in &self.create_flags {
            for &creators in &self.creators {
                let workers: Vec<Workers> = match &self.create_workers {
                    Some(list) => list.clone(),
                    None if flags == CreateFlags::Creat
                        && creators == PROCESS_CREATORS
                        && !self.quick =>
                    {
                        vec![Workers::Threads, Workers::Processes]
                    }
                    None => vec![Workers::Threads],
                };
                for workers in workers {
                    out.push(Scenario {
                        file_size_bytes: size,
                        workers,
                        ..Scenario::create(creators, flags)
                    });
                }
            }
        }
        out
    }
}

/// Criterion group of a scenario: one per (filesystem, size, recreate,
/// delete), so the group page compares thread counts and Criterion's history
/// of a benchmark stays on one filesystem; for the create family one per
/// (filesystem, flags, size), comparing creator counts.
pub fn group_name(fs_type: &str, s: &Scenario) -> String {
    format!("{fs_type}-{}", group_suffix(s))
}

fn group_suffix(s: &Scenario) -> String {
    match s.race {
        Race::Create => format!(
            "create-{}-{}",
            s.create_flags.report_name(),
            scenario::format_size(s.file_size_bytes)
        ),
        Race::OpenUnlink => format!(
            "{}-{}-{}",
            scenario::format_size(s.file_size_bytes),
            s.recreate,
            s.delete
        ),
    }
}

/// Criterion benchmark id of a scenario within its group.
pub fn bench_id(s: &Scenario) -> String {
    match (s.race, s.workers) {
        (Race::Create, Workers::Threads) => format!("c{}", s.creators),
        (Race::Create, Workers::Processes) => format!("c{}-processes", s.creators),
        (Race::OpenUnlink, _) => format!("r{}-d{}", s.readers, s.deleters),
    }
}

/// One directory of a survey: its filesystem and the tag that names its
/// report and its Criterion groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SurveyTarget {
    pub dir: PathBuf,
    pub fs_type: String,
    pub mount_point: String,
    /// With two views: the other path to `dir`, and its filesystem type.
    pub other_side: Option<(PathBuf, String)>,
    /// The filesystem type (with two views `<type>-split-<other type>`),
    /// unique among the survey's directories ([`survey_tags`]).
    pub tag: String,
}

/// The filesystem of `dir`, `unknown` when it cannot be opened.
fn fs_info_of(dir: &Path) -> FsInfo {
    let canonical = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    match sys::open_dir(&canonical) {
        Ok(fd) => platform::fs_info(fd.as_fd(), &canonical),
        Err(_) => FsInfo {
            fs_type: "unknown".into(),
            mount_point: "unknown".into(),
        },
    }
}

/// The filesystem of each directory, tagged so that no two share a name;
/// `other_sides` (empty, or one per directory) pairs each with its other view.
pub fn survey_targets(dirs: &[PathBuf], other_sides: &[PathBuf]) -> Vec<SurveyTarget> {
    let infos: Vec<FsInfo> = dirs.iter().map(|d| fs_info_of(d)).collect();
    let others: Vec<Option<(PathBuf, String)>> = (0..dirs.len())
        .map(|i| {
            other_sides
                .get(i)
                .map(|o| (o.clone(), fs_info_of(o).fs_type))
        })
        .collect();
    let kinds: Vec<String> = infos
        .iter()
        .zip(&others)
        .map(|(info, other)| match other {
            Some((_, other_fs)) => format!("{}-split-{other_fs}", info.fs_type),
            None => info.fs_type.clone(),
        })
        .collect();
    let tags = survey_tags(
        &kinds
            .iter()
            .zip(&infos)
            .zip(dirs)
            .map(|((k, i), d)| (k.as_str(), i.mount_point.as_str(), d.as_path()))
            .collect::<Vec<_>>(),
    );
    dirs.iter()
        .zip(infos)
        .zip(others)
        .zip(tags)
        .map(|(((dir, info), other_side), tag)| SurveyTarget {
            dir: dir.clone(),
            fs_type: info.fs_type,
            mount_point: info.mount_point,
            other_side,
            tag,
        })
        .collect()
}

/// A path as a label part: `/mnt/a` → `mnt_a`, `/` → `root`.
fn path_tag(path: &str) -> String {
    let t = path.trim_matches('/').replace('/', "_");
    if t.is_empty() { "root".into() } else { t }
}

/// Tags of `(fs_type, mount_point, dir)` triples: the filesystem type where it
/// is unique; else the type and the mount point (`ext4-mnt_a`); else the type
/// and the directory; else with the position appended. Never two equal.
pub fn survey_tags(fs: &[(&str, &str, &Path)]) -> Vec<String> {
    let mut tags: Vec<String> = fs.iter().map(|(t, _, _)| t.to_string()).collect();
    let refine: [&dyn Fn(usize) -> String; 3] = [
        &|i| format!("{}-{}", fs[i].0, path_tag(fs[i].1)),
        &|i| format!("{}-{}", fs[i].0, path_tag(&fs[i].2.display().to_string())),
        &|i| format!("{}-{}", fs[i].0, i + 1),
    ];
    for step in refine {
        let shared: Vec<bool> = (0..tags.len())
            .map(|i| tags.iter().filter(|t| **t == tags[i]).count() > 1)
            .collect();
        for (i, shared) in shared.into_iter().enumerate() {
            if shared {
                tags[i] = step(i);
            }
        }
    }
    tags.into_iter()
        .map(|t| machine::sanitize_label(&t))
        .collect()
}

/// The label of one directory's report. With one directory: `base`, else the
/// default `<os>-<os_version>-<fs_type>-<hostname>`. With several, each label
/// carries the directory's tag, so their reports never overwrite each other:
/// `<base>-<tag>`, else the default label with the tag for the filesystem type.
pub fn survey_label(base: Option<&str>, m: &Machine, tag: &str, several: bool) -> String {
    match (base, several) {
        (Some(b), false) => machine::sanitize_label(b),
        (None, false) => machine::default_label(m),
        (Some(b), true) => machine::sanitize_label(&format!("{b}-{tag}")),
        // The tag already says which views.
        (None, true) => machine::default_label(&Machine {
            fs_type: tag.into(),
            other_side: None,
            ..m.clone()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(vars: &[(&str, &str)]) -> Result<GridConfig, GridError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        GridConfig::from_vars(|k| map.get(k).cloned())
    }

    #[test]
    fn default_grid() {
        let s = cfg(&[]).unwrap().scenarios();
        // The create family first: 4 creator counts x 2 flags with threads,
        // and processes at 4 creators with `creat`.
        let create = 4 * 2 + 1;
        assert!(s[..create].iter().all(|s| s.race == Race::Create));
        assert_eq!(s[0].name(), "create-c2-creat-7B-threads");
        assert!(s.iter().any(|s| s.name() == "create-c4-creat-7B-processes"));
        assert!(
            s.iter()
                .any(|s| s.name() == "create-c16-creat_excl-7B-threads")
        );
        // Then 4 thread counts x 3 sizes x 2 recreate with unlink, plus trash
        // and replace (and on Windows posix) at 2 thread counts x 3 sizes x
        // 2 recreate.
        let extra_deletes = if cfg!(windows) { 3 } else { 2 };
        assert_eq!(s.len(), create + 4 * 3 * 2 + extra_deletes * 2 * 3 * 2);
        assert_eq!(
            s.iter().any(|s| s.delete == Delete::Posix),
            cfg!(windows),
            "posix is Windows's"
        );
        assert!(s.iter().all(|s| s.validate().is_ok()));
        let unique: std::collections::HashSet<_> = s.iter().map(|s| s.name()).collect();
        assert_eq!(unique.len(), s.len());
        // Criterion ids are unique too.
        let ids: std::collections::HashSet<_> = s
            .iter()
            .map(|s| (group_name("fs", s), bench_id(s)))
            .collect();
        assert_eq!(ids.len(), s.len());
    }

    #[test]
    fn quick_grid_runs_a_create_race_first() {
        let s = cfg(&[("UNLINK_RACE_QUICK", "1")]).unwrap().scenarios();
        assert_eq!(s[0].name(), "create-c4-creat-7B-threads");
        assert_eq!(s[1].name(), "create-c4-creat_excl-7B-threads");
        assert!(s[2..].iter().all(|s| s.race == Race::OpenUnlink));
        assert_eq!(s.len(), 2 + 8);
    }

    #[test]
    fn create_settings() {
        let c = cfg(&[
            ("UNLINK_RACE_RACE", "create"),
            ("UNLINK_RACE_CREATORS", "2,8"),
            ("UNLINK_RACE_CREATE_FLAGS", "creat-trunc,creat_excl"),
            ("UNLINK_RACE_CREATE_WORKERS", "processes"),
        ])
        .unwrap();
        let names: Vec<String> = c.scenarios().iter().map(|s| s.name()).collect();
        assert_eq!(
            names,
            [
                "create-c2-creat_trunc-7B-processes",
                "create-c8-creat_trunc-7B-processes",
                "create-c2-creat_excl-7B-processes",
                "create-c8-creat_excl-7B-processes",
            ]
        );
        let only_open_unlink = cfg(&[("UNLINK_RACE_RACE", "open-unlink")]).unwrap();
        assert!(
            only_open_unlink
                .scenarios()
                .iter()
                .all(|s| s.race == Race::OpenUnlink)
        );
    }

    #[test]
    fn overrides() {
        let c = cfg(&[
            ("UNLINK_RACE_RACE", "open-unlink"),
            ("UNLINK_RACE_READERS", "2,4x1"),
            ("UNLINK_RACE_SIZES", "7,1K"),
            ("UNLINK_RACE_DELETE", "replace"),
        ])
        .unwrap();
        assert_eq!(c.threads, vec![(2, 2), (4, 1)]);
        assert_eq!(c.sizes, vec![7, 1024]);
        let s = c.scenarios();
        assert_eq!(s.len(), 2 * 2 * 2);
        assert!(s.iter().all(|s| s.delete == Delete::Replace));
    }

    #[test]
    fn several_directories() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let list = format!("{},{}", a.path().display(), b.path().display());
        let c = cfg(&[("UNLINK_RACE_DIR", &list)]).unwrap();
        assert_eq!(c.dirs, vec![a.path().to_path_buf(), b.path().to_path_buf()]);
        let twice = format!("{},{}/.", a.path().display(), a.path().display());
        let e = cfg(&[("UNLINK_RACE_DIR", &twice)]).unwrap_err();
        assert!(e.to_string().contains("are the same"), "{e}");
        let one_missing = format!("{},/definitely/not/here", a.path().display());
        let e = cfg(&[("UNLINK_RACE_DIR", &one_missing)]).unwrap_err();
        assert!(e.reason.contains("/definitely/not/here"), "{e}");
    }

    #[test]
    fn two_views_pair_each_directory_with_its_other_side() {
        let (a, b, c) = (
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        );
        let (a, b, c) = (
            a.path().display().to_string(),
            b.path().display().to_string(),
            c.path().display().to_string(),
        );
        let split = cfg(&[("UNLINK_RACE_DIR", &a), ("UNLINK_RACE_OTHER_SIDE", &b)]).unwrap();
        assert_eq!(split.views, Views::Split);
        assert_eq!(split.other_sides, vec![PathBuf::from(&b)]);
        let names: Vec<String> = split.scenarios().iter().map(Scenario::name).collect();
        assert!(names.iter().all(|n| n.ends_with("-split")), "{names:?}");
        // The create race runs in one view: left out by default, refused when asked.
        assert_eq!(split.races, vec![Race::OpenUnlink]);
        let e = cfg(&[
            ("UNLINK_RACE_DIR", &a),
            ("UNLINK_RACE_OTHER_SIDE", &b),
            ("UNLINK_RACE_RACE", "create"),
        ])
        .unwrap_err();
        assert_eq!(e.setting, Setting::Race);
        assert!(e.reason.contains("one view"), "{e}");
        // One other side per directory.
        let e = cfg(&[
            ("UNLINK_RACE_DIR", &format!("{a},{c}")),
            ("UNLINK_RACE_OTHER_SIDE", &b),
        ])
        .unwrap_err();
        assert_eq!(e.setting, Setting::OtherSide);
        assert!(e.reason.contains("1 paths for 2 directories"), "{e}");
        // Recreating deleters leave out `replace`, and refuse it when asked.
        let recreating = cfg(&[
            ("UNLINK_RACE_DIR", &a),
            ("UNLINK_RACE_OTHER_SIDE", &b),
            ("UNLINK_RACE_DELETERS_RECREATE", "1"),
        ])
        .unwrap();
        let s = recreating.scenarios();
        assert!(!s.is_empty() && s.iter().all(|s| s.delete != Delete::Replace));
        assert!(s.iter().all(|s| s.name().ends_with("-split-recreating")));
        let e = cfg(&[
            ("UNLINK_RACE_DIR", &a),
            ("UNLINK_RACE_OTHER_SIDE", &b),
            ("UNLINK_RACE_DELETERS_RECREATE", "1"),
            ("UNLINK_RACE_DELETE", "replace"),
        ])
        .unwrap_err();
        assert_eq!(e.setting, Setting::Delete);
        let e = cfg(&[
            ("UNLINK_RACE_ZOMBIEFS", "1"),
            ("UNLINK_RACE_OTHER_SIDE", &b),
        ])
        .unwrap_err();
        assert_eq!(e.setting, Setting::OtherSide);
        // Tags and labels say which views, so that no report replaces another.
        let t = survey_targets(&[PathBuf::from(&a)], &[PathBuf::from(&b)]);
        assert_eq!(t[0].tag, format!("{0}-split-{0}", t[0].fs_type));
    }

    #[test]
    fn survey_tags_are_unique() {
        let p = Path::new;
        assert_eq!(
            survey_tags(&[
                ("xfs", "/mnt/x", p("/mnt/x")),
                ("btrfs", "/mnt/b", p("/mnt/b"))
            ]),
            vec!["xfs", "btrfs"]
        );
        assert_eq!(
            survey_tags(&[
                ("ext4", "/", p("/tmp")),
                ("ext4", "/mnt/a", p("/mnt/a")),
                ("tmpfs", "/run", p("/run")),
            ]),
            vec!["ext4-root", "ext4-mnt_a", "tmpfs"]
        );
        assert_eq!(
            survey_tags(&[("ext4", "/", p("/tmp/a")), ("ext4", "/", p("/tmp/b"))]),
            vec!["ext4-tmp_a", "ext4-tmp_b"]
        );
        assert_eq!(
            survey_tags(&[("fuse", "/m", p("/m/a_b")), ("fuse", "/m", p("/m/a/b"))]),
            vec!["fuse-1", "fuse-2"]
        );
    }

    #[test]
    fn survey_labels_carry_the_tag() {
        let m = Machine {
            os: "linux".into(),
            os_version: "12".into(),
            fs_type: "fuse.sshfs".into(),
            os_name: "Debian GNU/Linux 12".into(),
            kernel: "6.1".into(),
            arch: "x86_64".into(),
            cpu_model: "cpu".into(),
            cpus: 2,
            mount_point: "/mnt".into(),
            target_dir: "/mnt".into(),
            hostname: "vm".into(),
            crate_version: "0.1.0".into(),
            other_side: None,
        };
        assert_eq!(
            survey_label(None, &m, "fuse.sshfs", false),
            "linux-12-fuse.sshfs-vm"
        );
        assert_eq!(survey_label(Some("a b"), &m, "x", false), "a_b");
        assert_eq!(
            survey_label(Some("mac"), &m, "apfs-root", true),
            "mac-apfs-root"
        );
        assert_eq!(
            survey_label(None, &m, "ext4-mnt_a", true),
            "linux-12-ext4-mnt_a-vm"
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (k, v) in [
            ("UNLINK_RACE_READERS", "0"),
            ("UNLINK_RACE_READERS", "two"),
            ("UNLINK_RACE_READERS", "1,,2"),
            ("UNLINK_RACE_SIZES", "0"),
            ("UNLINK_RACE_SIZES", "100M"),
            ("UNLINK_RACE_RECREATE", "copy"),
            ("UNLINK_RACE_DELETE", "shred"),
            ("UNLINK_RACE_QUICK", "maybe"),
            ("UNLINK_RACE_OVERHEAD", "2"),
            ("UNLINK_RACE_PRESSURE", "on"),
            ("UNLINK_RACE_PACE", "fast"),
            ("UNLINK_RACE_LATENCY", "sometimes"),
            ("UNLINK_RACE_RACE", "rename"),
            ("UNLINK_RACE_RACE", "create,create"),
            ("UNLINK_RACE_CREATORS", "1"),
            ("UNLINK_RACE_CREATORS", "many"),
            ("UNLINK_RACE_CREATE_FLAGS", "excl"),
            ("UNLINK_RACE_CREATE_WORKERS", "fibers"),
            ("UNLINK_RACE_DIR", "/definitely/not/here"),
            ("UNLINK_RACE_LABEL", " "),
            ("UNLINK_RACE_DELETERS_RECREATE", "1"),
            ("UNLINK_RACE_OTHER_SIDE", "/definitely/not/here"),
        ] {
            let e = cfg(&[(k, v)]).unwrap_err();
            assert_eq!(e.setting.var(), k);
            assert!(e.to_string().starts_with(&format!("{k}={v}")), "{e}");
        }
    }
}
