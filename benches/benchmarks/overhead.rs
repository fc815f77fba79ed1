//! What the harness costs: the harness against a bare loop of the same
//! syscalls with no bookkeeping, in the same process and run, at 1×1 and 4×4,
//! on a tmpfs (when root can mount one) and on the target filesystem; and
//! `processes` against `threads`. Prints the throughput ratios at the end.

use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput};
use unlink_race::grid::GridConfig;
use unlink_race::harness::Harness;
use unlink_race::scenario::{Pace, Scenario, Workers};
use unlink_race::sys;

use super::bare::{self, Stop};

/// `readers` × `deleters` bare threads (the harness's default pace, `sleep`),
/// `cycles` reader cycles in total; the time from the start barrier to the
/// last reader's end.
fn bare_run(dir: BorrowedFd<'_>, s: &Scenario, cycles: u64) -> Duration {
    let until = Stop::Cycles(cycles);
    bare::run(
        dir,
        s.readers,
        s.deleters,
        s.file_size_bytes,
        Pace::Sleep,
        until,
    )
    .elapsed
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

/// One comparison: `(group, benchmark a, benchmark b, what the ratio says)`.
pub type Pair = (String, String, String, &'static str);

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
            harness_bench(&mut group, "harness", &s, dir, interrupted);
            let bare_dir = scratch(dir);
            let fd = sys::open_dir(bare_dir.path()).expect("open the bare loop's scratch dir");
            group.bench_function(BenchmarkId::from_parameter("bare"), |b| {
                b.iter_custom(|iters| bare_run(fd.as_fd(), &s, iters.max(1)))
            });
            if place == "target" {
                let p = Scenario {
                    workers: Workers::Processes,
                    ..s.clone()
                };
                harness_bench(&mut group, "processes", &p, dir, interrupted);
                pairs.push((
                    group_name.clone(),
                    "processes".into(),
                    "harness".into(),
                    "processes vs threads",
                ));
            }
            group.finish();
            pairs.push((
                group_name,
                "harness".into(),
                "bare".into(),
                "harness vs bare loop",
            ));
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
) {
    let mut harness: Option<Harness> = None;
    group.bench_function(BenchmarkId::from_parameter(id), |b| {
        let h = harness.get_or_insert_with(|| super::start_harness(s, dir));
        b.iter_custom(|iters| super::timed_batch(h, iters, interrupted).1)
    });
}
