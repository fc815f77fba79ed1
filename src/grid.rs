//! The scenario grid of `cargo bench` and its settings from the environment.
//!
//! Criterion owns the bench's command line, so the grid is set through
//! `UNLINK_RACE_*` variables ([`GridConfig::from_env`]). Every value is checked
//! before any benchmark runs; an error names the variable and the value.

use std::path::PathBuf;
use std::time::Duration;

use crate::scenario::{
    self, Delete, MAX_FILE_SIZE_BYTES, MAX_WORKERS, Recreate, Scenario, Workers,
};

/// Thread counts (readers × deleters) of the default grid.
pub const DEFAULT_THREADS: &[(u32, u32)] = &[(1, 1), (2, 2), (4, 4), (8, 8)];
/// File sizes of the default grid: the seed's 7 bytes, 4 KiB, 1 MiB.
pub const DEFAULT_SIZES: &[u64] = &[7, 4 << 10, 1 << 20];
/// Thread counts at which `trash` and `replace` are also measured by default.
pub const EXTRA_DELETE_THREADS: &[(u32, u32)] = &[(1, 1), (4, 4)];

/// Every variable the bench reads, with what it does (for errors and docs).
pub const VARIABLES: &[(&str, &str)] = &[
    (
        "UNLINK_RACE_DIR",
        "target directory (default: the system temp dir)",
    ),
    (
        "UNLINK_RACE_READERS",
        "thread counts, comma-separated: N (N readers x N deleters) or RxD",
    ),
    (
        "UNLINK_RACE_SIZES",
        "file sizes, comma-separated, with K/M suffixes",
    ),
    (
        "UNLINK_RACE_RECREATE",
        "recreate strategies: inplace,atomic",
    ),
    (
        "UNLINK_RACE_DELETE",
        "delete strategies: unlink,trash,replace",
    ),
    (
        "UNLINK_RACE_LABEL",
        "report label (default <os>-<os_version>-<fs_type>-<hostname>)",
    ),
    (
        "UNLINK_RACE_QUICK",
        "1: a smoke grid that finishes in under a minute",
    ),
    (
        "UNLINK_RACE_REPORTS",
        "where reports are written (default: reports/ in the crate)",
    ),
    (
        "UNLINK_RACE_ZOMBIEFS",
        "1: run the grid on a zombiefs mount (needs --features zombiefs)",
    ),
];

/// A bad bench setting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var}={value}: {reason}")]
pub struct GridError {
    pub var: &'static str,
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
    pub dir: PathBuf,
    pub threads: Vec<(u32, u32)>,
    pub sizes: Vec<u64>,
    pub recreate: Vec<Recreate>,
    /// `None`: the default (unlink everywhere, trash and replace at 1×1 and 4×4).
    pub delete: Option<Vec<Delete>>,
    pub label: Option<String>,
    pub quick: bool,
    pub reports_dir: Option<PathBuf>,
    pub zombiefs: bool,
    /// Run the overhead benchmarks (harness against a bare loop).
    pub overhead: bool,
    pub timing: Timing,
}

fn list<T>(
    var: &'static str,
    value: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, GridError> {
    let err = |reason: String| GridError {
        var,
        value: value.into(),
        reason,
    };
    let items: Vec<&str> = value.split(',').map(str::trim).collect();
    if items.iter().any(|s| s.is_empty()) {
        return Err(err("empty item in the list".into()));
    }
    items.into_iter().map(|s| parse(s).map_err(&err)).collect()
}

fn parse_threads(s: &str) -> Result<(u32, u32), String> {
    let count = |t: &str, what: &str, min: u32| -> Result<u32, String> {
        let n: u32 = t
            .trim()
            .parse()
            .map_err(|_| format!("'{t}' is not a number of {what}"))?;
        if n < min || n > MAX_WORKERS {
            return Err(format!(
                "{what} must be between {min} and {MAX_WORKERS}, got {n}"
            ));
        }
        Ok(n)
    };
    match s.split_once(['x', 'X']) {
        Some((r, d)) => Ok((count(r, "readers", 1)?, count(d, "deleters", 0)?)),
        None => {
            let n = count(s, "readers", 1)?;
            Ok((n, n))
        }
    }
}

fn parse_size(s: &str) -> Result<u64, String> {
    let n = scenario::parse_size(s).map_err(|e| e.to_string())?;
    if n == 0 || n > MAX_FILE_SIZE_BYTES {
        return Err(format!("size {s} is out of range (1 byte .. 64M)"));
    }
    Ok(n)
}

fn flag(var: &'static str, value: &str) -> Result<bool, GridError> {
    match value.trim() {
        "1" | "true" | "yes" => Ok(true),
        "0" | "false" | "no" | "" => Ok(false),
        _ => Err(GridError {
            var,
            value: value.into(),
            reason: "expected 1 or 0".into(),
        }),
    }
}

impl GridConfig {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<GridConfig, GridError> {
        GridConfig::from_vars(|k| std::env::var(k).ok())
    }

    /// Reads the settings through `get` (a test passes a map).
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<GridConfig, GridError> {
        let quick = get("UNLINK_RACE_QUICK")
            .map(|v| flag("UNLINK_RACE_QUICK", &v))
            .transpose()?
            .unwrap_or(false);
        let zombiefs = get("UNLINK_RACE_ZOMBIEFS")
            .map(|v| flag("UNLINK_RACE_ZOMBIEFS", &v))
            .transpose()?
            .unwrap_or(false);
        let overhead = get("UNLINK_RACE_OVERHEAD")
            .map(|v| flag("UNLINK_RACE_OVERHEAD", &v))
            .transpose()?
            .unwrap_or(!quick);
        let dir = match get("UNLINK_RACE_DIR") {
            Some(d) => {
                let p = PathBuf::from(&d);
                if !p.is_dir() {
                    let reason = if p.exists() {
                        "not a directory"
                    } else {
                        "directory does not exist"
                    };
                    return Err(GridError {
                        var: "UNLINK_RACE_DIR",
                        value: d,
                        reason: reason.into(),
                    });
                }
                p
            }
            None => scenario::default_target_dir(),
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
        let threads = match get("UNLINK_RACE_READERS") {
            Some(v) => list("UNLINK_RACE_READERS", &v, parse_threads)?,
            None => def_threads.to_vec(),
        };
        let sizes = match get("UNLINK_RACE_SIZES") {
            Some(v) => list("UNLINK_RACE_SIZES", &v, parse_size)?,
            None => def_sizes.to_vec(),
        };
        let recreate = match get("UNLINK_RACE_RECREATE") {
            Some(v) => list("UNLINK_RACE_RECREATE", &v, |s| {
                s.parse::<Recreate>().map_err(|e| e.to_string())
            })?,
            None => def_recreate.to_vec(),
        };
        let delete = match get("UNLINK_RACE_DELETE") {
            Some(v) => Some(list("UNLINK_RACE_DELETE", &v, |s| {
                s.parse::<Delete>().map_err(|e| e.to_string())
            })?),
            None => quick.then(|| vec![Delete::Unlink]),
        };
        let label = match get("UNLINK_RACE_LABEL") {
            Some(l) if l.trim().is_empty() => {
                return Err(GridError {
                    var: "UNLINK_RACE_LABEL",
                    value: l,
                    reason: "empty label".into(),
                });
            }
            other => other,
        };
        let reports_dir = get("UNLINK_RACE_REPORTS").map(PathBuf::from);
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
            dir,
            threads,
            sizes,
            recreate,
            delete,
            label,
            quick,
            reports_dir,
            zombiefs,
            overhead,
            timing,
        })
    }

    /// Every scenario of the grid, in bench order.
    pub fn scenarios(&self) -> Vec<Scenario> {
        let mut out = Vec::new();
        for &size in &self.sizes {
            for &recreate in &self.recreate {
                for delete in Delete::ALL {
                    for &(readers, deleters) in &self.threads {
                        let wanted = match &self.delete {
                            Some(list) => list.contains(delete),
                            None => {
                                *delete == Delete::Unlink
                                    || EXTRA_DELETE_THREADS.contains(&(readers, deleters))
                            }
                        };
                        if wanted {
                            out.push(Scenario {
                                readers,
                                deleters,
                                file_size_bytes: size,
                                recreate,
                                delete: *delete,
                                workers: Workers::Threads,
                            });
                        }
                    }
                }
            }
        }
        out
    }
}

/// Criterion group of a scenario: one per (filesystem, size, recreate,
/// delete), so the group page compares thread counts and Criterion's history
/// of a benchmark stays on one filesystem.
pub fn group_name(fs_type: &str, s: &Scenario) -> String {
    format!("{fs_type}-{}", group_suffix(s))
}

fn group_suffix(s: &Scenario) -> String {
    format!(
        "{}-{}-{}",
        scenario::format_size(s.file_size_bytes),
        s.recreate,
        s.delete
    )
}

/// Criterion benchmark id of a scenario within its group.
pub fn bench_id(s: &Scenario) -> String {
    format!("r{}-d{}", s.readers, s.deleters)
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
        // 4 thread counts x 3 sizes x 2 recreate with unlink, plus trash and
        // replace at 2 thread counts x 3 sizes x 2 recreate.
        assert_eq!(s.len(), 4 * 3 * 2 + 2 * 2 * 3 * 2);
        assert!(s.iter().all(|s| s.validate().is_ok()));
        let unique: std::collections::HashSet<_> = s.iter().map(|s| s.name()).collect();
        assert_eq!(unique.len(), s.len());
    }

    #[test]
    fn overrides() {
        let c = cfg(&[
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
            ("UNLINK_RACE_DIR", "/definitely/not/here"),
            ("UNLINK_RACE_LABEL", " "),
        ] {
            let e = cfg(&[(k, v)]).unwrap_err();
            assert_eq!(e.var, k);
            assert!(e.to_string().starts_with(&format!("{k}={v}")), "{e}");
        }
    }
}
