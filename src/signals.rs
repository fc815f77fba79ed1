//! The signals that stop a run: SIGINT (Ctrl-C), SIGTERM and SIGHUP (a closed
//! terminal or SSH session), registered in one place for the command line,
//! the bench, worker processes and zombiefs.
//!
//! A stop signal sets a flag the caller polls (the run stops, writes what it
//! has and removes its scratch directory). For `unlink-race run` that is all
//! any number of them do ([`stop_flag`]): `timeout` sends SIGTERM to its
//! child and then to the whole process group, a terminal sends Ctrl-C to
//! every process of the job, and none of that may cut the cleanup short; the
//! run bounds its own stop instead. The bench and zombiefs keep the escape
//! hatch of [`StopSignals::install`]: a second signal exits at once.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use signal_hook::SigId;

/// The signals that stop a run.
#[cfg(unix)]
pub const STOP_SIGNALS: [i32; 3] = [
    signal_hook::consts::SIGINT,
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGHUP,
];

/// The signals that stop a run: Windows has no SIGHUP, and Ctrl-C reaches
/// the C runtime as SIGINT.
#[cfg(windows)]
pub const STOP_SIGNALS: [i32; 2] = [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM];

/// Stop signals caught into a flag.
pub struct StopSignals {
    flag: Arc<AtomicBool>,
    ids: Vec<SigId>,
}

impl StopSignals {
    /// Catches the stop signals: the first sets the flag, a second exits the
    /// process with `exit_code`.
    pub fn install(exit_code: i32) -> io::Result<StopSignals> {
        let flag = Arc::new(AtomicBool::new(false));
        let mut ids = Vec::new();
        for sig in STOP_SIGNALS {
            // The shutdown action goes first: it fires only once the flag is set.
            ids.push(signal_hook::flag::register_conditional_shutdown(
                sig,
                exit_code,
                Arc::clone(&flag),
            )?);
            ids.push(signal_hook::flag::register(sig, Arc::clone(&flag))?);
        }
        Ok(StopSignals { flag, ids })
    }

    /// Set once a stop signal arrived.
    pub fn flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.flag)
    }

    /// Whether a stop signal arrived.
    pub fn stopped(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Gives the stop signals back their default effect (termination).
    pub fn uninstall(self) -> io::Result<()> {
        for id in self.ids {
            signal_hook::low_level::unregister(id);
        }
        // With no action left the signals would be swallowed.
        for sig in STOP_SIGNALS {
            signal_hook::flag::register_conditional_default(sig, Arc::new(AtomicBool::new(true)))?;
        }
        Ok(())
    }
}

/// The process-wide stop flag: every stop signal, however many and in
/// whatever order, sets it and does nothing else. Installed on first use;
/// later calls return the same flag. `None` when the handlers cannot be
/// installed.
pub fn stop_flag() -> Option<Arc<AtomicBool>> {
    static FLAG: OnceLock<Option<Arc<AtomicBool>>> = OnceLock::new();
    FLAG.get_or_init(|| {
        let flag = Arc::new(AtomicBool::new(false));
        for sig in STOP_SIGNALS {
            signal_hook::flag::register(sig, Arc::clone(&flag)).ok()?;
        }
        Some(flag)
    })
    .clone()
}

/// A worker process leaves the stop signals to its parent (a terminal sends
/// Ctrl-C and SIGHUP to the whole process group): they are caught and ignored.
pub fn leave_stop_signals_to_parent() {
    for sig in STOP_SIGNALS {
        let _ = signal_hook::flag::register(sig, Arc::new(AtomicBool::new(false)));
    }
}

/// Catches the stop signals for a process that must clean up whatever
/// happens (`unlink-race emulate`): each one stores its number in the
/// returned cell, which the caller takes and resets; none ever exits, so a
/// second Ctrl-C cannot skip the cleanup.
pub fn catch_stop_signals() -> io::Result<Arc<std::sync::atomic::AtomicUsize>> {
    let last = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for sig in STOP_SIGNALS {
        signal_hook::flag::register_usize(sig, Arc::clone(&last), sig as usize)?;
    }
    Ok(last)
}
