//! What racing creates share, threads or processes alike: the line a create
//! race's round starts and ends at, and every worker's last create call
//! (its begin and end on the monotonic clock, and its errno), from which each
//! worker tells whether its own create raced another's.
//!
//! The board is plain words of memory read and written through atomics: a
//! heap allocation when the workers are threads, a file mapped `MAP_SHARED`
//! ([`crate::sys::SharedWords`]) when they are processes. Nothing on it takes
//! a lock or allocates, so it sits on the hot path.
//!
//! A waiter spins first (long when every worker has a CPU of its own, so
//! that it starts the moment the last one arrives), then sleeps: on Linux in
//! a futex wait the last arriver ends (one that works between processes on
//! the mapped board), elsewhere yielding, then napping. Measured against a
//! bare loop waiting at `std::sync::Barrier` (the pressure benchmarks, one
//! quick run), a waiter that only yielded left 4 and 8 creators on ext4 at a
//! tenth of its racing creates per second; sleeping in the kernel matched it.
//!
//! Layout, in 128-byte lines of 16 words (a line per writer, so that one
//! worker's stores do not slow down another's loads): line 0 is the line
//! creators wait at (arrivals, generation, the last arriver's decision, and
//! the abandon flag the controller raises when it gives up on a stuck
//! worker); line `1 + i` is worker `i`'s lane (begin, end, errno of its last
//! create).
//!
//! A *racing create* is a create call whose `[begin, end]` overlapped another
//! worker's create call on the same name: in a create round every creator's
//! call is on the round's name and is published before the round's second
//! line, so the count is exact for the calls as the clock saw them. A
//! reader's recreate in the open/unlink race looks at the other readers'
//! lanes as they are when its own call returns ([`Board::raced_live`]).

use std::sync::atomic::{AtomicU64, Ordering::Acquire, Ordering::Relaxed, Ordering::SeqCst};

use crate::sys;

/// Words per 128-byte line.
const LINE: usize = 16;
/// Line 0: creators that arrived at the current line.
const ARRIVED: usize = 0;
/// Line 0: bumped by the last arriver, which releases the others.
const GENERATION: usize = 1;
/// Line 0: what the last arriver decided (the same for everyone).
const DECISION: usize = 2;
/// Line 0: non-zero once the controller gave up on the batch.
const ABANDONED: usize = 3;
/// Line 0: waiters asleep on the generation (Linux: in a futex wait).
#[cfg(all(target_os = "linux", target_endian = "little"))]
const SLEEPERS: usize = 4;
/// Longest sleep of a waiter before it looks at the abandon flag again.
#[cfg(all(target_os = "linux", target_endian = "little"))]
const SLEEP_NS: u64 = 10_000_000;
/// A lane's words: begin, end, errno of the worker's last create call.
const BEGIN: usize = 0;
const END: usize = 1;
const ERRNO: usize = 2;

/// Looks a waiter spins before it sleeps, when there are more workers than
/// CPUs: a spinning waiter would keep the one it waits for off a CPU.
const SPINS_OVERSUBSCRIBED: u32 = 200;
/// Looks a waiter spins before it sleeps, when every worker has a CPU of its
/// own: it then starts its create the moment the last one arrives (measured
/// on tmpfs with 2 creators on 2 CPUs: 74% of creates raced with a 200-look
/// spin, 99.9% with this one). Not where the filesystem's server would have
/// no CPU left: on zombiefs with 2 creators on 2 CPUs, waiters spinning this
/// long cut the create calls to a third and zombiefs's create races to a
/// twentieth.
const SPINS_EACH_ON_A_CPU: u32 = 1 << 21;
/// Where there is no futex: looks (spins and yields) before a waiter naps
/// between looks, so that a worker stuck in a slow syscall does not cost the
/// others a core.
#[cfg(not(all(target_os = "linux", target_endian = "little")))]
const YIELDS: u32 = 1 << 22;

/// How long waiters at the line spin for `workers` workers: long when each
/// can have a CPU of its own, and so can the filesystem's server when a
/// process on this machine serves it (`fs_server`: FUSE); briefly otherwise.
pub fn spins_for(workers: u32, fs_server: bool) -> u32 {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    if workers as usize + usize::from(fs_server) <= cpus {
        SPINS_EACH_ON_A_CPU
    } else {
        SPINS_OVERSUBSCRIBED
    }
}

/// The heap board of a thread pool, or its words as a slice.
pub fn heap_words(workers: usize) -> Box<[AtomicU64]> {
    (0..Board::words_for(workers))
        .map(|_| AtomicU64::new(0))
        .collect()
}

/// One create call as a lane holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call {
    pub begin_ns: u64,
    pub end_ns: u64,
    pub errno: sys::Errno,
}

/// What a round was, from one creator's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundView {
    /// Creators whose create succeeded.
    pub winners: u32,
    /// Of those, the ones with a lower index.
    pub winners_before: u32,
    /// This creator's call overlapped another's.
    pub raced: bool,
}

/// The shared words of one harness's workers.
#[derive(Clone, Copy)]
pub struct Board<'a> {
    words: &'a [AtomicU64],
}

impl<'a> Board<'a> {
    /// Words a board for `workers` workers takes.
    pub fn words_for(workers: usize) -> usize {
        LINE * (workers + 1)
    }

    /// The board over `words` (at least [`Board::words_for`] the workers).
    pub fn new(words: &'a [AtomicU64]) -> Board<'a> {
        Board { words }
    }

    fn lane(&self, i: usize, word: usize) -> &AtomicU64 {
        &self.words[LINE * (i + 1) + word]
    }

    /// Waits until `n` workers have arrived at the line (spinning `spins`
    /// looks, then yielding the CPU between looks, then sleeping); the last
    /// one asks `decide` and everyone returns its answer with the line's new
    /// generation (the same for all). `None` when the controller abandoned
    /// the batch while this one waited.
    #[inline]
    pub fn arrive(&self, n: u32, spins: u32, decide: impl FnOnce() -> u64) -> Option<(u64, u64)> {
        let (arrived, generation, decision) = (
            &self.words[ARRIVED],
            &self.words[GENERATION],
            &self.words[DECISION],
        );
        let seen = generation.load(Acquire);
        if arrived.fetch_add(1, Relaxed) + 1 == u64::from(n) {
            arrived.store(0, Relaxed);
            decision.store(decide(), Relaxed);
            generation.store(seen + 1, SeqCst);
            self.wake_sleepers();
            return Some((seen + 1, decision.load(Relaxed)));
        }
        let mut looks = 0u32;
        loop {
            let now = generation.load(Acquire);
            if now != seen {
                return Some((now, decision.load(Relaxed)));
            }
            if self.words[ABANDONED].load(Relaxed) != 0 {
                return None;
            }
            looks = looks.saturating_add(1);
            if looks < spins {
                std::hint::spin_loop();
            } else {
                self.sleep(seen, looks);
            }
        }
    }

    /// Waits a while for the generation to move on from `seen`: asleep in
    /// the kernel where it can wake us (Linux), else yielding, then napping.
    #[cold]
    fn sleep(&self, seen: u64, looks: u32) {
        #[cfg(all(target_os = "linux", target_endian = "little"))]
        {
            let _ = looks;
            let sleepers = &self.words[SLEEPERS];
            sleepers.fetch_add(1, SeqCst);
            // The last arriver bumps the generation, then looks for
            // sleepers: either it sees this one, or the wait sees the bump.
            if self.words[GENERATION].load(SeqCst) == seen {
                sys::futex_wait(&self.words[GENERATION], seen as u32, SLEEP_NS);
            }
            sleepers.fetch_sub(1, SeqCst);
        }
        #[cfg(not(all(target_os = "linux", target_endian = "little")))]
        {
            let _ = seen;
            if looks < YIELDS {
                std::thread::yield_now();
            } else {
                sys::pause_briefly();
            }
        }
    }

    /// Wakes the waiters asleep on the generation, if any.
    #[inline]
    fn wake_sleepers(&self) {
        #[cfg(all(target_os = "linux", target_endian = "little"))]
        if self.words[SLEEPERS].load(SeqCst) > 0 {
            sys::futex_wake_all(&self.words[GENERATION]);
        }
    }

    /// Releases every worker waiting at the line for good (the controller
    /// gave up on a stuck one).
    pub fn abandon(&self) {
        self.words[ABANDONED].store(1, SeqCst);
        #[cfg(all(target_os = "linux", target_endian = "little"))]
        sys::futex_wake_all(&self.words[GENERATION]);
    }

    /// Publishes worker `lane`'s create call once it returned.
    #[inline]
    pub fn publish(&self, lane: usize, call: Call) {
        self.lane(lane, ERRNO)
            .store(u64::from(call.errno as u32), Relaxed);
        self.lane(lane, BEGIN).store(call.begin_ns, Relaxed);
        self.lane(lane, END).store(call.end_ns, Relaxed);
    }

    /// Worker `lane`'s last published call.
    #[inline]
    pub fn call(&self, lane: usize) -> Call {
        Call {
            begin_ns: self.lane(lane, BEGIN).load(Relaxed),
            end_ns: self.lane(lane, END).load(Relaxed),
            errno: self.lane(lane, ERRNO).load(Relaxed) as u32 as sys::Errno,
        }
    }

    /// The round as creator `me` of `n` sees it once all have passed the
    /// second line: every lane holds this round's call.
    #[inline]
    pub fn round(&self, me: usize, n: u32, mine: Call) -> RoundView {
        let mut view = RoundView {
            winners: 0,
            winners_before: 0,
            raced: false,
        };
        for j in 0..n as usize {
            let other = if j == me { mine } else { self.call(j) };
            if other.errno == 0 {
                view.winners += 1;
                if j < me {
                    view.winners_before += 1;
                }
            }
            if j != me && overlaps(&mine, &other) {
                view.raced = true;
            }
        }
        view
    }

    /// A reader's recreate under way: its begin, with its end left behind
    /// it (so that the others see it running).
    #[inline]
    pub fn begin_live(&self, lane: usize, begin_ns: u64) {
        self.lane(lane, BEGIN).store(begin_ns, Relaxed);
    }

    /// The recreate of [`Board::begin_live`] returned.
    #[inline]
    pub fn end_live(&self, lane: usize, end_ns: u64) {
        self.lane(lane, END).store(end_ns, Relaxed);
    }

    /// Whether `mine` (worker `me`'s call, just returned) overlapped a call
    /// of another of the first `n` lanes, as their lanes are now: a call
    /// still under way (its end older than its begin) counts as running
    /// until now. The end is read before the begin, so a call that ends
    /// between the two reads is seen running, never as an older one.
    #[inline]
    pub fn raced_live(&self, me: usize, n: u32, mine: Call) -> bool {
        (0..n as usize).filter(|&j| j != me).any(|j| {
            let end_ns = self.lane(j, END).load(Relaxed);
            let begin_ns = self.lane(j, BEGIN).load(Relaxed);
            let end_ns = if end_ns < begin_ns { u64::MAX } else { end_ns };
            begin_ns != 0
                && overlaps(
                    &mine,
                    &Call {
                        begin_ns,
                        end_ns,
                        errno: 0,
                    },
                )
        })
    }
}

/// Whether two calls' `[begin, end]` intervals share a moment.
#[inline]
pub fn overlaps(a: &Call, b: &Call) -> bool {
    a.begin_ns <= b.end_ns && b.begin_ns <= a.end_ns
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{name_of, round_name};

    fn call(begin_ns: u64, end_ns: u64, errno: i32) -> Call {
        Call {
            begin_ns,
            end_ns,
            errno,
        }
    }

    #[test]
    fn waiters_spin_long_only_where_every_worker_and_the_server_have_a_cpu() {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
        assert_eq!(spins_for(cpus, false), SPINS_EACH_ON_A_CPU);
        assert_eq!(spins_for(cpus + 1, false), SPINS_OVERSUBSCRIBED);
        assert_eq!(spins_for(cpus, true), SPINS_OVERSUBSCRIBED);
        if cpus > 1 {
            assert_eq!(spins_for(cpus - 1, true), SPINS_EACH_ON_A_CPU);
        }
    }

    #[test]
    fn a_round_counts_winners_and_overlaps() {
        let words = heap_words(3);
        let b = Board::new(&words);
        // 0: [10, 20] won; 1: [15, 30] EEXIST; 2: [40, 50] won, alone.
        b.publish(0, call(10, 20, 0));
        b.publish(1, call(15, 30, libc::EEXIST));
        b.publish(2, call(40, 50, 0));
        let v = |me: usize| b.round(me, 3, b.call(me));
        assert_eq!(
            v(0),
            RoundView {
                winners: 2,
                winners_before: 0,
                raced: true
            }
        );
        assert!(v(1).raced);
        assert_eq!(
            v(2),
            RoundView {
                winners: 2,
                winners_before: 1,
                raced: false
            }
        );
        // Touching ends overlap: the clock saw both at that moment.
        assert!(overlaps(&call(1, 5, 0), &call(5, 9, 0)));
        assert!(!overlaps(&call(1, 5, 0), &call(6, 9, 0)));
    }

    #[test]
    fn a_live_call_runs_until_it_ends() {
        let words = heap_words(2);
        let b = Board::new(&words);
        assert!(!b.raced_live(0, 2, call(10, 20, 0)), "nothing published");
        b.publish(1, call(1, 2, 0));
        b.begin_live(1, 15);
        assert!(b.raced_live(0, 2, call(10, 20, 0)), "1 is still running");
        assert!(b.raced_live(0, 2, call(100, 200, 0)), "1 is still running");
        b.end_live(1, 18);
        assert!(b.raced_live(0, 2, call(10, 20, 0)));
        assert!(!b.raced_live(0, 2, call(19, 25, 0)));
    }

    #[test]
    fn the_last_arriver_decides_for_everyone() {
        let words = heap_words(4);
        let b = Board::new(&words);
        let answers: Vec<(u64, u64)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4u64)
                .map(|i| s.spawn(move || b.arrive(4, SPINS_OVERSUBSCRIBED, || 40 + i).unwrap()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
        assert_eq!(answers[0].0, 1);
        assert!((40..44).contains(&answers[0].1));
        // Abandoned: a lone waiter leaves.
        b.abandon();
        assert_eq!(b.arrive(2, SPINS_OVERSUBSCRIBED, || 0), None);
    }

    #[test]
    fn round_names_are_fixed_width_hex() {
        assert_eq!(name_of(&round_name(0x2a)).to_bytes(), b"c000000000000002a");
        assert_eq!(
            name_of(&round_name(u64::MAX)).to_bytes(),
            b"cffffffffffffffff"
        );
    }
}
