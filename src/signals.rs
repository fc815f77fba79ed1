//! The signals that stop a run: SIGINT (Ctrl-C), SIGTERM and SIGHUP (a closed
//! terminal or SSH session), registered in one place for the command line,
//! the bench, worker processes and zombiefs.
//!
//! The first stop signal sets a flag the caller polls (the run stops, writes
//! what it has and removes its scratch directory); a second one exits at once
//! with the given status.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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
