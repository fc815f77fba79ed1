//! A creator's loop: the create race's rounds, each met at the board's line,
//! and creator 0's check and removal of the round's name.

use std::ffi::CStr;
use std::sync::atomic::Ordering::Relaxed;

use crate::harness::board::Call;
use crate::harness::records::EventKind;
use crate::harness::slot::bump;
use crate::outcome::{CreateRound, Observation, Op, Side};
use crate::scenario::{name_of, round_name};
use crate::sys::{self, AsFd, ENOENT, flags::*};

use super::Worker;

impl Worker<'_> {
    /// Create rounds until the line says stop: the last creator to arrive
    /// decides for all (the quota of rounds, or the stop flag), so that no
    /// creator is left waiting for the others.
    pub(super) fn creator_batch(&mut self) {
        let control = self.control;
        let quota = control.quota_per_reader.load(Relaxed);
        let mut done = 0u64;
        while let Some((round, go)) = self.board.arrive(self.creating_lanes, self.spins, || {
            u64::from(done < quota && !control.stop.load(Relaxed))
        }) {
            if go == 0 || !self.create_round(round) {
                break;
            }
            done += 1;
        }
        if control.readers_running.fetch_sub(1, Relaxed) == 1 {
            control.stop.store(true, Relaxed);
        }
    }

    /// One round of the create race on the fresh name of `round`; `false`
    /// when the controller abandoned the batch at the round's second line.
    fn create_round(&mut self, round: u64) -> bool {
        let name_buf = round_name(round);
        self.round_name = name_buf;
        let name = name_of(&name_buf);
        self.busy(Op::Create);
        let begin_ns = self.event(EventKind::OpenBegin, 0);
        self.slot.busy_since_ns.store(begin_ns, Relaxed);
        let opened = sys::openat(
            self.dir,
            name,
            O_WRONLY | self.create_flags | O_NOFOLLOW | self.share,
            0o600,
        );
        let errno = opened.as_ref().err().copied().unwrap_or(0);
        let end_ns = self.event(EventKind::OpenEnd, errno);
        let mine = Call {
            begin_ns,
            end_ns,
            errno,
        };
        self.board.publish(self.lane, mine);
        // Whether the name is there right after a failed create (the round's
        // names go only after its second line): what the example keeps.
        self.exists_after_create = (errno != 0).then(|| self.name_exists());
        if let Ok(fd) = opened {
            // Every winner writes the round's content; they all write the
            // same bytes, so the name ends up with it whoever wrote last.
            self.generation = round;
            let _ = self.write_content(fd, Side::Creator);
        }
        self.slot.busy_since_ns.store(0, Relaxed);
        if self
            .board
            .arrive(self.creating_lanes, self.spins, || 1)
            .is_none()
        {
            return false;
        }
        let view = self.board.round(self.lane, self.creating_lanes, mine);
        bump(&self.slot.cycles);
        if view.raced {
            bump(&self.slot.racing_creates);
        }
        let dir_exists = errno != ENOENT || sys::fstat(self.dir).is_ok_and(|st| st.nlink > 0);
        self.record(
            &Observation {
                dir_exists,
                create_round: Some(CreateRound {
                    exclusive: self.exclusive,
                    winners: view.winners,
                    winners_before: view.winners_before,
                }),
                ..Observation::failure(Side::Creator, Op::Create, errno)
            },
            0,
        );
        if self.lane == 0 {
            self.end_round(name, view.winners > 0);
        }
        true
    }

    /// Creator 0 after a round: reads the name back when the round had a
    /// winner (it must hold the round's content), and removes it (it must
    /// be there when someone made it).
    fn end_round(&mut self, name: &CStr, made: bool) {
        if made {
            self.check_round(name);
        }
        let t = self.event(EventKind::RemoveBegin, 0);
        self.slot.busy_since_ns.store(t, Relaxed);
        self.busy(Op::Unlink);
        let removed = sys::unlinkat(self.dir, name);
        self.event(EventKind::RemoveEnd, removed.err().unwrap_or(0));
        match removed {
            Ok(()) => {}
            Err(ENOENT) if !made => {}
            Err(e) => self.record(&Observation::failure(Side::Creator, Op::Unlink, e), 0),
        }
        self.slot.busy_since_ns.store(0, Relaxed);
    }

    /// Reads a round's name back: it must hold the round's content.
    fn check_round(&mut self, name: &CStr) {
        self.busy(Op::Open);
        self.slot.busy_since_ns.store(sys::monotonic_ns(), Relaxed);
        match sys::openat(self.dir, name, O_RDONLY | O_NOFOLLOW | self.share, 0) {
            Ok(fd) => {
                self.busy(Op::Read);
                let mut got = 0usize;
                let mut failed = None;
                while got < self.read_buf.len() {
                    match sys::read(fd.as_fd(), &mut self.read_buf[got..]) {
                        Ok(0) => break,
                        Ok(n) => got += n,
                        Err(e) => {
                            failed = Some(e);
                            break;
                        }
                    }
                }
                self.close_quietly(fd);
                match failed {
                    Some(e) => self.record(
                        &Observation::failure(Side::Creator, Op::Read, e),
                        got as u64,
                    ),
                    None => {
                        let check = self.content.check(&self.read_buf[..got]);
                        if check != crate::content::ContentCheck::Correct {
                            let obs = Observation {
                                content: Some(check),
                                ..Observation::success(Side::Creator, Op::Read)
                            };
                            self.record(&obs, got as u64);
                        }
                    }
                }
            }
            Err(e) => self.record(&Observation::failure(Side::Creator, Op::Open, e), 0),
        }
    }
}
