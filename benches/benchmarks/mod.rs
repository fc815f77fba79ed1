//! Benchmark families of `cargo bench`, one file each.

pub mod bare;
pub mod grid;
pub mod latency;
pub mod overhead;
pub mod pressure;
pub mod report;
pub mod zombiefs;

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use criterion::Criterion;
use unlink_race::grid::GridConfig;
use unlink_race::harness::{Batch, BatchLimit, Harness, HarnessOptions};
use unlink_race::scenario::Scenario;

/// Criterion configured from the grid's timing, then from the command line.
pub fn criterion(config: &GridConfig) -> Criterion {
    Criterion::default()
        .warm_up_time(config.timing.warm_up)
        .measurement_time(config.timing.measurement)
        .sample_size(config.timing.sample_size)
        .configure_from_args()
}

/// Ctrl-C, SIGTERM and SIGHUP set the flag (the running batch stops, its
/// scratch directory is removed, the bench exits 130); a second one exits at once.
pub fn interrupt_flag() -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    let flag = unlink_race::signals::StopSignals::install(130)
        .expect("signal handler")
        .flag();
    let _ = INTERRUPT.set(std::sync::Arc::clone(&flag));
    flag
}

/// The flag of [`interrupt_flag`], for pace `auto`'s calibration.
static INTERRUPT: std::sync::OnceLock<std::sync::Arc<AtomicBool>> = std::sync::OnceLock::new();

type Cleanup = Box<dyn FnOnce() + Send>;

/// What must happen before the bench exits early (unmounting zombiefs).
static CLEANUP: std::sync::Mutex<Vec<Cleanup>> = std::sync::Mutex::new(Vec::new());

/// Registers `f` to run before an early [`exit`].
#[cfg_attr(not(all(feature = "zombiefs", target_os = "linux")), allow(dead_code))]
pub fn on_exit(f: impl FnOnce() + Send + 'static) {
    CLEANUP
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Box::new(f));
}

/// Exits with `code` after the registered clean-ups (Criterion's closures
/// cannot return errors, so errors and Ctrl-C leave through here).
pub fn exit(code: i32) -> ! {
    let cleanups = std::mem::take(&mut *CLEANUP.lock().unwrap_or_else(|e| e.into_inner()));
    for f in cleanups {
        f();
    }
    std::process::exit(code)
}

/// Starts a scenario's workers, or leaves the bench with exit 2.
pub fn start_harness(scenario: &Scenario, dir: &Path) -> Harness {
    start_harness_views(scenario, dir, None)
}

/// [`start_harness`], with deleters working through `other_side` when the
/// scenario has two views.
pub fn start_harness_views(scenario: &Scenario, dir: &Path, other_side: Option<&Path>) -> Harness {
    let options = HarnessOptions {
        interrupt: INTERRUPT.get().cloned(),
        other_side: other_side.map(Path::to_path_buf),
        ..HarnessOptions::default()
    };
    Harness::start(scenario, dir, options).unwrap_or_else(|e| {
        eprintln!("error: {}: {e}", scenario.name());
        exit(2)
    })
}

/// One Criterion measurement: a harness batch of `iters` reader cycles.
/// Returns the batch and the time Criterion should see: exactly `iters`
/// cycles' worth (readers round their quota up). A harness error leaves the
/// bench with exit 2.
pub fn timed_batch(h: &mut Harness, iters: u64, interrupted: &AtomicBool) -> (Batch, Duration) {
    let limit = BatchLimit {
        cycles: Some(iters.max(1)),
        ..BatchLimit::default()
    };
    let name = h.scenario().clone();
    let batch = batch(h, &limit, interrupted, || name.name());
    let scaled = batch.elapsed_ns as f64 * iters as f64 / batch.cycles.max(1) as f64;
    (batch, Duration::from_nanos(scaled.max(1.0) as u64))
}

/// One harness batch that Ctrl-C (`interrupted`) ends; a harness error
/// leaves the bench with exit 2, the message prefixed with `what()`.
pub fn batch(
    h: &mut Harness,
    limit: &BatchLimit,
    interrupted: &AtomicBool,
    what: impl FnOnce() -> String,
) -> Batch {
    let mut monitor = |_: &_| {
        if interrupted.load(Relaxed) {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    h.run_batch(limit, &mut monitor).unwrap_or_else(|e| {
        eprintln!("error: {}: {e}", what());
        exit(2)
    })
}
