//! Writing the file: a reader's recreate, a deleter's replace and a creator's
//! content all write a fresh generation here.

use std::ffi::CStr;
use std::sync::Arc;

use crate::harness::board::Call;
use crate::harness::records::EventKind;
use crate::harness::slot::bump;
use crate::outcome::{Class, Observation, Op, Side};
use crate::scenario::Recreate;
use crate::sys::{self, AsFd, ENOENT, Errno, OwnedFd, flags::*};

use super::{TARGET, Worker};

impl Worker<'_> {
    /// Recreates the target: a reader after `ENOENT`; with two views and
    /// deleters recreating, a deleter after each removal, through its side
    /// (counted in `recreations`, not as the reader's class `recreated`).
    pub(super) fn recreate(&mut self) {
        let side = self.side();
        let written = match self.recreate {
            Recreate::Inplace => self.write_file(TARGET),
            Recreate::Atomic => {
                let tmp = Arc::clone(&self.tmp_name);
                self.write_file(&tmp)
                    .and_then(|()| self.rename_over(&tmp, side))
            }
        };
        if written.is_ok() {
            self.event(EventKind::Recreate, 0);
            bump(&self.slot.recreations);
            if side == Side::Reader {
                self.count(Class::Recreated);
            }
        }
    }

    /// `open(O_WRONLY|O_CREAT|O_TRUNC)` + `write` of a fresh generation + `close`.
    /// A step that failed is recorded, and its errno returned. A reader's
    /// create of the target publishes its call on the board and counts as a
    /// racing create when it overlapped another reader's.
    pub(super) fn write_file(&mut self, name: &CStr) -> Result<(), Errno> {
        let side = self.side();
        self.busy(Op::Create);
        let shared_name = side == Side::Reader && name == TARGET;
        let begin_ns = if shared_name {
            let t = sys::monotonic_ns();
            self.board.begin_live(self.lane, t);
            t
        } else {
            0
        };
        let opened = sys::openat(
            self.dir,
            name,
            O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | self.share,
            0o600,
        );
        if shared_name {
            let end_ns = sys::monotonic_ns();
            self.board.end_live(self.lane, end_ns);
            let mine = Call {
                begin_ns,
                end_ns,
                errno: 0,
            };
            if self.board.raced_live(self.lane, self.creating_lanes, mine) {
                bump(&self.slot.racing_creates);
            }
        }
        let fd = match opened {
            Ok(fd) => fd,
            Err(e) => {
                let dir_exists = e != ENOENT || sys::fstat(self.dir).is_ok_and(|st| st.nlink > 0);
                self.record(
                    &Observation {
                        dir_exists,
                        ..Observation::failure(side, Op::Create, e)
                    },
                    0,
                );
                return Err(e);
            }
        };
        self.generation += 1;
        self.write_content(fd, side)
    }

    /// Writes the current generation into `fd`, then closes it; a step that
    /// failed is recorded, and its errno returned.
    pub(super) fn write_content(&mut self, fd: OwnedFd, side: Side) -> Result<(), Errno> {
        self.content.stamp(&mut self.write_buf, self.generation);
        self.last_generation[self.own_slot] = self.generation;
        self.busy(Op::Write);
        let mut off = 0;
        while off < self.write_buf.len() {
            match sys::write(fd.as_fd(), &self.write_buf[off..]) {
                Ok(n) if n > 0 => off += n,
                Ok(_) => {
                    // A write that wrote nothing is an I/O failure.
                    self.close_quietly(fd);
                    self.record(&Observation::failure(side, Op::Write, sys::EIO), off as u64);
                    return Err(sys::EIO);
                }
                Err(e) => {
                    self.close_quietly(fd);
                    self.record(&Observation::failure(side, Op::Write, e), off as u64);
                    return Err(e);
                }
            }
        }
        self.busy(Op::Close);
        if let Err(e) = sys::close(fd) {
            self.record(&Observation::failure(side, Op::Close, e), 0);
            return Err(e);
        }
        Ok(())
    }

    /// `rename(from, TARGET)`; a failure is recorded and its errno returned.
    pub(super) fn rename_over(&mut self, from: &CStr, side: Side) -> Result<(), Errno> {
        self.busy(Op::Rename);
        sys::renameat(self.dir, from, self.dir, TARGET).inspect_err(|&e| {
            self.record(&Observation::failure(side, Op::Rename, e), 0);
        })
    }
}
