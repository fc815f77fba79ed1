//! The scenario grid of `cargo bench` and its settings from the environment.
//!
//! Criterion owns the bench's command line, so the grid is set through
//! `UNLINK_RACE_*` variables ([`GridConfig::from_env`]). Every value is checked
//! before any benchmark runs; an error names the variable and the value.
//!
//! The settings and their parsing are in `settings.rs`, the survey's
//! directories and their tags in `survey.rs`; here is the grid they choose.

mod settings;
mod survey;
#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::time::Duration;

use crate::scenario::{self, CreateFlags, Delete, Pace, Race, Recreate, Scenario, Views, Workers};

pub use settings::{GridError, Setting, first_duplicate, reports_dir_problem};
pub use survey::{SurveyTarget, survey_label, survey_tags, survey_targets};

/// Thread counts (readers × deleters) of the default grid.
pub const DEFAULT_THREADS: &[(u32, u32)] = &[(1, 1), (2, 2), (4, 4), (8, 8)];
/// File sizes of the default grid: the seed's 7 bytes, 4 KiB, 1 MiB.
pub const DEFAULT_SIZES: &[u64] = &[7, 4 << 10, 1 << 20];
/// Thread counts at which `trash` and `replace` are also measured by default.
const EXTRA_DELETE_THREADS: &[(u32, u32)] = &[(1, 1), (4, 4)];
/// Creator counts of the default grid's create family (the defect grows
/// with cores, so the counts go past this machine's).
pub const DEFAULT_CREATORS: &[u32] = &[2, 4, 8, 16];
/// Create flags of the default grid: the defect's, and the control.
pub const DEFAULT_CREATE_FLAGS: &[CreateFlags] = &[CreateFlags::Creat, CreateFlags::CreatExcl];
/// Creators at which the default grid also runs the create family as
/// processes (with the defect's flags).
pub const PROCESS_CREATORS: u32 = 4;

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

impl GridConfig {
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
