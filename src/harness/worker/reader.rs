//! A reader's loop: open, fstat, read to EOF, verify the content and close,
//! or recreate the file after `ENOENT`; a raced open is counted here.

use std::sync::atomic::Ordering::Relaxed;

use crate::content::{self, ContentCheck};
use crate::harness::overlap::any_landed_in;
use crate::harness::records::EventKind;
use crate::harness::slot::bump;
use crate::outcome::{Observation, Op, Side};
use crate::sys::{self, AsFd, EINVAL, ENOENT, ESTALE, OwnedFd, flags::*};

use super::{TARGET, Worker};

impl Worker<'_> {
    pub(super) fn reader_batch(&mut self) {
        let quota = self.control.quota_per_reader.load(Relaxed);
        let mut done = 0u64;
        while done < quota && !self.control.stop.load(Relaxed) {
            self.reader_cycle();
            done += 1;
        }
        if self.control.readers_running.fetch_sub(1, Relaxed) == 1 {
            self.control.stop.store(true, Relaxed);
        }
    }

    /// One reader cycle: open → fstat → read to EOF → verify → close, or
    /// `ENOENT` → recreate.
    fn reader_cycle(&mut self) {
        self.busy(Op::Open);
        let t = self.event(EventKind::OpenBegin, 0);
        self.slot.busy_since_ns.store(t, Relaxed);
        if self.announce {
            self.control.aim.0.store(t, Relaxed);
        }
        let opened = sys::openat(self.dir, TARGET, O_RDONLY | O_NOFOLLOW | self.share, 0);
        match opened {
            Err(e) => {
                self.event(EventKind::OpenEnd, e);
                bump(&self.slot.cycles);
                // Is the name still there for `stat`? Asked where an open
                // must not fail while it is: `EINVAL` and `ESTALE` (rare),
                // and with two views `ENOENT` (the reader's view may cache
                // a name the other side removed).
                let look = matches!(e, EINVAL | ESTALE) || (e == ENOENT && self.split);
                let obs = Observation {
                    name_visible: look && sys::fstatat(self.dir, TARGET).is_ok(),
                    ..Observation::failure(Side::Reader, Op::Open, e)
                };
                self.record(&obs, 0);
                if e == ENOENT {
                    self.recreate();
                }
            }
            Ok(fd) => {
                let ended = self.event(EventKind::OpenEnd, 0);
                bump(&self.slot.cycles);
                self.read_and_verify(fd, (t, ended));
            }
        }
        self.slot.busy_since_ns.store(0, Relaxed);
    }

    /// `open`: when the `open` began and returned.
    fn read_and_verify(&mut self, fd: OwnedFd, open: (u64, u64)) {
        self.busy(Op::Fstat);
        let stat = match sys::fstat(fd.as_fd()) {
            Ok(st) => {
                // A raced open: the last link went before this `fstat`
                // (or the descriptor is the macOS zombie, `st_ino == 0`).
                if st.nlink == 0 || st.ino == 0 {
                    self.raced(open);
                }
                st
            }
            Err(e) => {
                // The same window where `fstat` goes by the path (sshfs):
                // the name went before this `fstat`.
                if e == ENOENT {
                    self.raced(open);
                }
                self.close_quietly(fd);
                self.record(&Observation::failure(Side::Reader, Op::Fstat, e), 0);
                return;
            }
        };
        self.busy(Op::Read);
        let mut got = 0usize;
        while got < self.read_buf.len() {
            match sys::read(fd.as_fd(), &mut self.read_buf[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) => {
                    self.event(EventKind::ReadEnd, e);
                    self.close_quietly(fd);
                    let obs = Observation {
                        stat: Some(stat),
                        ..Observation::failure(Side::Reader, Op::Read, e)
                    };
                    self.record(&obs, got as u64);
                    return;
                }
            }
        }
        self.event(EventKind::ReadEnd, 0);
        self.busy(Op::Close);
        if let Err(e) = sys::close(fd) {
            self.record(
                &Observation::failure(Side::Reader, Op::Close, e),
                got as u64,
            );
            return;
        }
        let check = match self.content.check(&self.read_buf[..got]) {
            ContentCheck::Correct => self.check_generation(got),
            other => other,
        };
        let obs = Observation {
            stat: Some(stat),
            content: Some(check),
            ..Observation::success(Side::Reader, Op::Read)
        };
        self.record(&obs, got as u64);
    }

    /// Counts a raced open, and whether the removal that took its file
    /// ended while its `open` was running (an overlapped open).
    #[inline]
    fn raced(&self, (began, ended): (u64, u64)) {
        bump(&self.slot.raced_opens);
        if any_landed_in(&self.control.removal_marks, began, ended) {
            bump(&self.slot.overlapped_opens);
        }
    }

    /// Correct content is stale when its writer is known to have written a
    /// later generation since: a file holding a generation is replaced
    /// (removed, renamed over or truncated) before its writer writes the
    /// next one, so no later `open` may find it. Content without a header
    /// (under 16 bytes) cannot tell.
    #[inline]
    fn check_generation(&mut self, got: usize) -> ContentCheck {
        let Some(generation) = self.content.generation(&self.read_buf[..got]) else {
            return ContentCheck::Correct;
        };
        match self.last_generation.get_mut(content::writer_of(generation)) {
            Some(last) if generation < *last => {
                self.stale_generations = (generation, *last);
                ContentCheck::Stale
            }
            Some(last) => {
                *last = generation;
                ContentCheck::Correct
            }
            // No such writer: bytes that only look right.
            None => ContentCheck::Wrong,
        }
    }
}
