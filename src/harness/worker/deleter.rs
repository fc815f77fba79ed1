//! A deleter's loop: each removal with its delete strategy, and the pacing
//! (docs/methods.md#pacing) between removals.

use std::ffi::CStr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use crate::harness::records::EventKind;
use crate::harness::slot::bump;
use crate::outcome::{Class, Observation, Op, Side};
use crate::scenario::{Delete, Pace};
use crate::sys::{self, BorrowedFd, Errno};

use super::{TARGET, Worker};

impl Worker<'_> {
    pub(super) fn deleter_batch(&mut self) {
        match self.pace {
            Pace::Aimed => self.aimed_batch(),
            pace => {
                // `replace` never creates the target, so it always looks first.
                let look = pace != Pace::Spin || self.delete == Delete::Replace;
                while !self.control.stop.load(Relaxed) {
                    self.deleter_step(look);
                }
            }
        }
    }

    /// Pace `aimed`: spin on the readers' announcement (a load, no syscall)
    /// and remove the moment one announces an `open`.
    fn aimed_batch(&mut self) {
        let control = self.control;
        let mut seen = control.aim.0.load(Relaxed);
        loop {
            let now = control.aim.0.load(Relaxed);
            if now != seen {
                seen = now;
                self.deleter_step(self.delete == Delete::Replace);
            } else if control.stop.load(Relaxed) {
                break;
            } else {
                std::hint::spin_loop();
            }
        }
    }

    /// One deleter step: with `look`, remove the target if it exists and
    /// pace when it does not; without, remove blindly (a removal that finds
    /// nothing counts as `remove_enoent`).
    fn deleter_step(&mut self, look: bool) {
        if look {
            self.busy(Op::Access);
            self.slot.busy_since_ns.store(sys::monotonic_ns(), Relaxed);
            match sys::exists_at(self.dir, TARGET) {
                Ok(true) => {}
                Ok(false) => {
                    self.slot.busy_since_ns.store(0, Relaxed);
                    match self.pace {
                        // The shortest sleep: a sleeper wakes with priority,
                        // often right when the file is back.
                        Pace::Sleep => sys::pause_briefly(),
                        // Under EEVDF (Linux >= 6.6) a yielding task's deadline
                        // moves back each time: sometimes that starves it.
                        Pace::Yield => std::thread::yield_now(),
                        _ => {}
                    }
                    return;
                }
                Err(e) => {
                    self.record(&Observation::failure(Side::Deleter, Op::Access, e), 0);
                    return;
                }
            }
        }
        let t = self.event(EventKind::RemoveBegin, 0);
        self.slot.busy_since_ns.store(t, Relaxed);
        let removed = match self.delete {
            Delete::Unlink => self.unlink(TARGET),
            Delete::Posix => {
                self.busy(Op::Unlink);
                posix_delete(self.dir, TARGET)
            }
            Delete::Trash => {
                self.busy(Op::Rename);
                match sys::renameat(self.dir, TARGET, self.dir, &self.trash_name) {
                    Ok(()) => {
                        // The name went with the rename; the unlink in the
                        // trash removes nothing a reader can open.
                        self.mark_took(sys::monotonic_ns());
                        let trash = Arc::clone(&self.trash_name);
                        self.unlink(&trash)
                    }
                    Err(e) => Err(e),
                }
            }
            Delete::Replace => {
                let tmp = Arc::clone(&self.tmp_name);
                let replaced = self
                    .write_file(&tmp)
                    .and_then(|()| self.rename_over(&tmp, Side::Deleter));
                // A failure was recorded by the write or the rename; the
                // timeline shows its errno.
                if let Err(e) = replaced {
                    self.event(EventKind::RemoveEnd, e);
                    self.slot.busy_since_ns.store(0, Relaxed);
                    return;
                }
                Ok(())
            }
        };
        match removed {
            Ok(()) => {
                let ended = self.event(EventKind::RemoveEnd, 0);
                if self.delete != Delete::Trash {
                    self.mark_took(ended);
                }
                bump(&self.slot.removals);
                self.count(Class::Removed);
                if self.recreates_after_removal {
                    self.recreate();
                }
            }
            Err(e) => {
                self.event(EventKind::RemoveEnd, e);
                let op = if self.delete == Delete::Trash {
                    Op::Rename
                } else {
                    Op::Unlink
                };
                self.record(&Observation::failure(Side::Deleter, op, e), 0);
            }
        }
        self.slot.busy_since_ns.store(0, Relaxed);
    }

    /// Publishes that a call took the target's name and returned at `t_ns`
    /// (overlapped opens: see `overlap.rs`).
    #[inline]
    fn mark_took(&self, t_ns: u64) {
        if let Some(mark) = self.mark {
            mark.took(t_ns);
        }
    }

    fn unlink(&mut self, name: &CStr) -> Result<(), Errno> {
        self.busy(Op::Unlink);
        sys::unlinkat(self.dir, name)
    }
}

/// Windows's POSIX-semantics delete.
#[cfg(windows)]
fn posix_delete(dir: BorrowedFd<'_>, name: &CStr) -> Result<(), Errno> {
    sys::unlinkat_posix(dir, name)
}

/// Only Windows has it: [`Scenario::validate`] refuses `posix` elsewhere.
#[cfg(not(windows))]
fn posix_delete(_dir: BorrowedFd<'_>, _name: &CStr) -> Result<(), Errno> {
    Err(sys::ENOSYS)
}
