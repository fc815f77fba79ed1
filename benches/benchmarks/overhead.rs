//! What the harness costs: the harness against a bare loop of the same
//! syscalls with no bookkeeping, in the same process and run, at 1×1 and 4×4,
//! on a tmpfs (when root can mount one) and on the target filesystem; and
//! `processes` against `threads`. Prints the throughput ratios at the end.

use std::ffi::CStr;
use std::os::fd::{AsFd, BorrowedFd};
use std::path::{Path, PathBuf};
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput};
use unlink_race::content::Content;
use unlink_race::grid::GridConfig;
use unlink_race::harness::Harness;
use unlink_race::scenario::{Scenario, Workers};
use unlink_race::sys::{self, ENOENT, flags::*};

const TARGET: &CStr = c"DEST.txt";

/// One bare reader cycle: the seed's syscalls, nothing else.
fn bare_reader_cycle(dir: BorrowedFd<'_>, write_buf: &[u8], read_buf: &mut [u8]) {
    match sys::openat(dir, TARGET, O_RDONLY | O_NOFOLLOW, 0) {
        Err(ENOENT) => {
            if let Ok(fd) = sys::openat(
                dir,
                TARGET,
                O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW,
                0o600,
            ) {
                let _ = sys::write(fd.as_fd(), write_buf);
                let _ = sys::close(fd);
            }
        }
        Err(_) => {}
        Ok(fd) => {
            let _ = sys::fstat(fd.as_fd());
            while let Ok(n) = sys::read(fd.as_fd(), read_buf) {
                if n == 0 {
                    break;
                }
            }
            let _ = sys::close(fd);
        }
    }
}

/// `readers` × `deleters` bare threads, `cycles` reader cycles in total; the
/// time from the start barrier to the last reader's end.
fn bare_run(dir: BorrowedFd<'_>, s: &Scenario, cycles: u64) -> Duration {
    let content = Content::new(s.file_size_bytes as usize);
    let per_reader = cycles.div_ceil(u64::from(s.readers));
    let stop = AtomicBool::new(false);
    let barrier = Barrier::new((s.readers + s.deleters + 1) as usize);
    std::thread::scope(|scope| {
        let readers: Vec<_> = (0..s.readers)
            .map(|_| {
                let (content, barrier) = (&content, &barrier);
                scope.spawn(move || {
                    let write_buf = content.buffer();
                    let mut read_buf = vec![0u8; content.len() + 1];
                    barrier.wait();
                    for _ in 0..per_reader {
                        bare_reader_cycle(dir, &write_buf, &mut read_buf);
                    }
                })
            })
            .collect();
        for _ in 0..s.deleters {
            let (stop, barrier) = (&stop, &barrier);
            scope.spawn(move || {
                barrier.wait();
                while !stop.load(Relaxed) {
                    match sys::exists_at(dir, TARGET) {
                        Ok(true) => {
                            let _ = sys::unlinkat(dir, TARGET);
                        }
                        _ => sys::pause_briefly(),
                    }
                }
            });
        }
        barrier.wait();
        let start = Instant::now();
        for r in readers {
            let _ = r.join();
        }
        let elapsed = start.elapsed();
        stop.store(true, Relaxed);
        elapsed
    })
}

/// A tmpfs on a temp dir, unmounted on drop; `None` when it cannot be mounted.
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn mount() -> Option<Tmpfs> {
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
