//! Benchmark families of `cargo bench`, one file each.

pub mod grid;
pub mod overhead;
pub mod report;
pub mod zombiefs;

use criterion::Criterion;
use unlink_race::grid::GridConfig;

/// Criterion configured from the grid's timing, then from the command line.
pub fn criterion(config: &GridConfig) -> Criterion {
    Criterion::default()
        .warm_up_time(config.timing.warm_up)
        .measurement_time(config.timing.measurement)
        .sample_size(config.timing.sample_size)
        .configure_from_args()
}

/// Ctrl-C and SIGTERM set the flag (the running batch stops, its scratch
/// directory is removed, the bench exits 130); a second one exits at once.
pub fn interrupt_flag() -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(sig, 130, std::sync::Arc::clone(&flag))
            .expect("signal handler");
        signal_hook::flag::register(sig, std::sync::Arc::clone(&flag)).expect("signal handler");
    }
    flag
}

type Cleanup = Box<dyn FnOnce() + Send>;

/// What must happen before the bench exits early (unmounting zombiefs).
static CLEANUP: std::sync::Mutex<Vec<Cleanup>> = std::sync::Mutex::new(Vec::new());

/// Registers `f` to run before an early [`exit`].
#[cfg_attr(not(feature = "zombiefs"), allow(dead_code))]
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
