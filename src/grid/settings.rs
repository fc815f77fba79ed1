//! The bench's settings: the table of `UNLINK_RACE_*` variables
//! ([`Setting::ALL`]), what each means and defaults to, and
//! [`GridConfig::from_vars`], which checks every value and names the
//! variable of a bad one.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::scenario::{self, CreateFlags, Delete, Pace, Race, Recreate, Views, Workers};

use super::{
    DEFAULT_CREATE_FLAGS, DEFAULT_CREATORS, DEFAULT_SIZES, DEFAULT_THREADS, GridConfig,
    PROCESS_CREATORS, Timing,
};

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
}
