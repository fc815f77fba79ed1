//! What the harness costs: the harness against a bare loop of the same
//! syscalls with no bookkeeping, in the same process and run, at 1×1 and 4×4,
//! on a tmpfs (when root can mount one) and on the target filesystem; and
//! `processes` against `threads`. Prints the throughput ratios at the end.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput};
use unlink_race::grid::GridConfig;
use unlink_race::harness::Harness;
use unlink_race::scenario::{Pace, Scenario, Workers};
use unlink_race::sys::{self, AsFd, BorrowedFd};

use super::bare::{self, Stop};

/// `readers` × `deleters` bare threads (the harness's default pace, `sleep`),
/// `cycles` reader cycles in total; the time from the start barrier to the
/// last reader's end. Adds the run's cycles and recreations to `mix`.
fn bare_run(dir: BorrowedFd<'_>, s: &Scenario, cycles: u64, mix: &Cell<Mix>) -> Duration {
    let until = Stop::Cycles(cycles);
    let cpu = sys::process_cpu_ns();
    let run = bare::run(
        dir,
        s.readers,
        s.deleters,
        s.file_size_bytes,
        Pace::Sleep,
        until,
    );
    let cpu = sys::process_cpu_ns() - cpu;
    mix.set(mix.get().add(run.cycles, run.recreations, cpu));
    run.elapsed
}

/// Cycles, how many of them were `ENOENT` cycles that recreated the file
/// (an open, a create, a write: dearer than a cycle that reads), and the
/// process's CPU time over the measured batches. Time per cycle depends on
/// the mix, and CPU time per cycle tells a dearer cycle from more waiting,
/// so the ratio is printed with both.
#[derive(Debug, Clone, Copy, Default)]
pub struct Mix {
    /// Over the batches Criterion timed (warm-up included), as is all else.
    pub cycles: u64,
    pub recreations: u64,
    pub cpu_ns: u64,
    /// The workers were child processes, whose CPU time this process's
    /// clock does not see.
    pub cpu_elsewhere: bool,
}

impl Mix {
    fn add(self, cycles: u64, recreations: u64, cpu_ns: u64) -> Mix {
        Mix {
            cycles: self.cycles + cycles,
            recreations: self.recreations + recreations,
            cpu_ns: self.cpu_ns + cpu_ns,
            cpu_elsewhere: self.cpu_elsewhere,
        }
    }

    /// `9.19 µs`: CPU time of the whole process per cycle, or `n/a` when the
    /// workers were processes of their own.
    pub fn cpu_per_cycle(&self) -> String {
        if self.cpu_elsewhere {
            return "n/a (child processes)".into();
        }
        let ns = self.cpu_ns as f64 / self.cycles.max(1) as f64;
        format!("{:.2} µs", ns / 1e3)
    }

    /// Percent of cycles that recreated the file.
    pub fn recreated_percent(&self) -> f64 {
        100.0 * self.recreations as f64 / self.cycles.max(1) as f64
    }
}

/// A tmpfs on a temp dir, unmounted on drop; `None` when it cannot be mounted.
pub struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    pub fn path(&self) -> &Path {
        self.0.path()
    }

    pub fn mount() -> Option<Tmpfs> {
        let dir = tempfile::tempdir().ok()?;
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", "size=256m", "tmpfs"])
            .arg(dir.path())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Tmpfs(dir))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.0.path())
            .status();
    }
}

fn scratch(dir: &Path) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("unlink-race-bare-")
        .tempdir_in(dir)
        .expect("scratch dir for the bare loop")
}

/// One comparison of two benchmarks of a group, and each one's mix of cycles
/// over all of its batches (warm-up included).
pub struct Pair {
    pub group: String,
    pub a: String,
    pub b: String,
    /// What the ratio says (`harness vs bare loop`).
    pub what: &'static str,
    pub mix: (Mix, Mix),
}

pub fn run(c: &mut Criterion, config: &GridConfig, interrupted: &AtomicBool) -> Vec<Pair> {
    let tmpfs = Tmpfs::mount();
    if tmpfs.is_none() {
        eprintln!(
            "overhead: cannot mount a tmpfs (not root?): measuring the target filesystem only"
        );
    }
    let mut places: Vec<(String, PathBuf)> = Vec::new();
    if let Some(t) = &tmpfs {
        places.push(("tmpfs".into(), t.0.path().to_path_buf()));
    }
    // In a survey of several directories, the first one.
    places.push(("target".into(), config.dirs[0].clone()));
    let mut pairs = Vec::new();
    for (place, dir) in &places {
        for (readers, deleters) in [(1, 1), (4, 4)] {
            let s = Scenario {
                readers,
                deleters,
                ..Scenario::default()
            };
            let group_name = format!("overhead-{place}-r{readers}-d{deleters}");
            let mut group = c.benchmark_group(&group_name);
            group.throughput(Throughput::Elements(1));
            let harness = harness_bench(&mut group, "harness", &s, dir, interrupted);
            let bare_dir = scratch(dir);
            let fd = sys::open_dir(bare_dir.path()).expect("open the bare loop's scratch dir");
            let bare = Cell::new(Mix::default());
            group.bench_function(BenchmarkId::from_parameter("bare"), |b| {
                b.iter_custom(|iters| bare_run(fd.as_fd(), &s, iters.max(1), &bare))
            });
            if place == "target" {
                let p = Scenario {
                    workers: Workers::Processes,
                    ..s.clone()
                };
                let processes = harness_bench(&mut group, "processes", &p, dir, interrupted);
                pairs.push(Pair {
                    group: group_name.clone(),
                    a: "processes".into(),
                    b: "harness".into(),
                    what: "processes vs threads",
                    mix: (processes, harness),
                });
            }
            group.finish();
            pairs.push(Pair {
                group: group_name,
                a: "harness".into(),
                b: "bare".into(),
                what: "harness vs bare loop",
                mix: (harness, bare.get()),
            });
            if interrupted.load(Relaxed) {
                drop(tmpfs);
                super::exit(130);
            }
        }
    }
    pairs
}

fn harness_bench(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: &str,
    s: &Scenario,
    dir: &Path,
    interrupted: &AtomicBool,
) -> Mix {
    let mut harness: Option<Harness> = None;
    let mut timed = Mix::default();
    group.bench_function(BenchmarkId::from_parameter(id), |b| {
        let h = harness.get_or_insert_with(|| super::start_harness(s, dir));
        b.iter_custom(|iters| {
            let cpu = sys::process_cpu_ns();
            let (batch, elapsed) = super::timed_batch(h, iters, interrupted);
            timed = timed.add(batch.cycles, 0, sys::process_cpu_ns() - cpu);
            elapsed
        })
    });
    // Recreations are only in the tally; it covers the same batches (pace
    // `sleep`: no calibration).
    harness.map_or(Mix::default(), |h| {
        let t = h.finish();
        Mix {
            recreations: t.recreations,
            cpu_elsewhere: s.workers == Workers::Processes,
            ..timed
        }
    })
}
