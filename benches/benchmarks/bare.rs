//! Bare loops: the harness's syscalls with nothing else, for comparing the
//! harness against (pressure, latency). A reader does `open` → `fstat` →
//! `read` to EOF → `close`, or `ENOENT` → `open(O_CREAT|O_TRUNC)` + `write` +
//! `close`; a deleter paces itself as [`Pace`] says and `unlink`s. The only
//! bookkeeping is four local counters per reader, added up at the end:
//! cycles, raced opens (`fstat` gave `st_nlink == 0` or `st_ino == 0`, or
//! failed with `ENOENT`),
//! zombies (`st_ino == 0`) and recreations (the harness counts these too, so
//! the overhead benchmarks can compare the two loops' mix of cycles).
//!
//! [`create_race`] is the create race's bare loop (pressure, latency).
//!
//! [`run`] races until a cycle count or a time (pressure, overhead);
//! [`trial`] races until the first anomaly, a zombie or a `write` failing
//! with `EINVAL`, or a cap (latency). The two are one loop compiled twice
//! (`const TRIAL: bool`): what a trial needs, the `write`'s result and each
//! reader's cycle count published for the others, is compiled out of [`run`].

use std::ffi::CStr;
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Barrier, OnceLock};
use std::time::{Duration, Instant};

use unlink_race::content::Content;
use unlink_race::report::schema::Trial;
use unlink_race::scenario::{CreateFlags, Pace};
use unlink_race::sys::{self, ENOENT, flags::*};

pub const TARGET: &CStr = c"DEST.txt";

/// When a bare run ends.
#[derive(Debug, Clone, Copy)]
pub enum Stop {
    /// This many reader cycles in total (split over the readers, rounded up).
    Cycles(u64),
    /// After this long.
    Time(Duration),
}

/// When a trial ([`trial`]) gives up: it is then censored. (Trials are for
/// the latency benchmarks, built with zombiefs only.)
#[cfg_attr(not(all(feature = "zombiefs", target_os = "linux")), allow(dead_code))]
#[derive(Debug, Clone, Copy)]
pub struct TrialCap {
    /// Reader cycles in total (split over the readers, rounded up).
    pub cycles: u64,
    pub time: Duration,
}

/// What a bare run did.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BareRun {
    pub cycles: u64,
    pub raced_opens: u64,
    pub zombies: u64,
    /// `ENOENT` cycles whose recreate wrote the file.
    pub recreations: u64,
    /// From the start barrier to the last reader's end.
    pub elapsed: Duration,
}

impl std::ops::AddAssign for BareRun {
    fn add_assign(&mut self, o: BareRun) {
        self.cycles += o.cycles;
        self.raced_opens += o.raced_opens;
        self.zombies += o.zombies;
        self.recreations += o.recreations;
        self.elapsed += o.elapsed;
    }
}

/// What one reader cycle saw.
#[derive(Debug, Clone, Copy, Default)]
pub struct Seen {
    /// `open` succeeded on a file already unlinked (`st_nlink == 0` or
    /// `st_ino == 0`, or `fstat` failed with `ENOENT`).
    pub raced: bool,
    /// `fstat` gave `st_ino == 0`.
    pub zombie: bool,
    /// The recreate's `write` failed with `EINVAL` (only looked at in a trial).
    pub einval: bool,
    /// `ENOENT`, and the recreate wrote the file.
    pub recreated: bool,
}

/// One reader cycle. With `TRIAL` false the `write`'s result is ignored, as
/// in the harness's hot loop when nothing is looked for.
#[inline]
pub fn reader_cycle<const TRIAL: bool>(
    dir: BorrowedFd<'_>,
    write_buf: &[u8],
    read_buf: &mut [u8],
) -> Seen {
    match sys::openat(dir, TARGET, O_RDONLY | O_NOFOLLOW, 0) {
        Err(ENOENT) => {
            let mut seen = Seen::default();
            if let Ok(fd) = sys::openat(
                dir,
                TARGET,
                O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW,
                0o600,
            ) {
                let written = sys::write(fd.as_fd(), write_buf);
                if TRIAL {
                    seen.einval = written == Err(libc::EINVAL);
                }
                seen.recreated = written.is_ok();
                let _ = sys::close(fd);
            }
            seen
        }
        Err(_) => Seen::default(),
        Ok(fd) => {
            let seen = match sys::fstat(fd.as_fd()) {
                Ok(st) => Seen {
                    raced: st.nlink == 0 || st.ino == 0,
                    zombie: st.ino == 0,
                    ..Seen::default()
                },
                Err(e) => Seen {
                    raced: e == ENOENT,
                    ..Seen::default()
                },
            };
            while let Ok(n) = sys::read(fd.as_fd(), read_buf) {
                if n == 0 {
                    break;
                }
            }
            let _ = sys::close(fd);
            seen
        }
    }
}

/// A deleter paced by `pace` until `stop`. `aim` is where readers announce
/// their opens (pace `aimed`).
pub fn deleter(dir: BorrowedFd<'_>, pace: Pace, stop: &AtomicBool, aim: &AtomicU64) {
    match pace {
        Pace::Spin => {
            while !stop.load(Relaxed) {
                let _ = sys::unlinkat(dir, TARGET);
            }
        }
        Pace::Check | Pace::Yield | Pace::Sleep | Pace::Auto => {
            while !stop.load(Relaxed) {
                match sys::exists_at(dir, TARGET) {
                    Ok(true) => {
                        let _ = sys::unlinkat(dir, TARGET);
                    }
                    _ => match pace {
                        Pace::Check => {}
                        Pace::Yield => std::thread::yield_now(),
                        _ => sys::pause_briefly(),
                    },
                }
            }
        }
        Pace::Aimed => {
            let mut seen = aim.load(Relaxed);
            loop {
                let now = aim.load(Relaxed);
                if now != seen {
                    seen = now;
                    let _ = sys::unlinkat(dir, TARGET);
                } else if stop.load(Relaxed) {
                    break;
                } else {
                    std::hint::spin_loop();
                }
            }
        }
    }
}

/// `readers` × `deleters` bare threads in `dir` (a scratch directory) with
/// files of `size` bytes, until `until`.
pub fn run(
    dir: BorrowedFd<'_>,
    readers: u32,
    deleters: u32,
    size: u64,
    pace: Pace,
    until: Stop,
) -> BareRun {
    let per_reader = match until {
        Stop::Cycles(n) => n.div_ceil(u64::from(readers)),
        Stop::Time(_) => u64::MAX,
    };
    let wait = |shared: &Shared<'_>| {
        if let Stop::Time(d) = until {
            std::thread::sleep(d);
            shared.stop.store(true, Relaxed);
        }
    };
    race::<false>(dir, readers, deleters, size, pace, per_reader, wait).0
}

/// One trial: `readers` × `deleters` bare threads start together in `dir`
/// and race until a reader sees the first zombie (`st_ino == 0`) or a
/// `write` failing with `EINVAL`, or until `cap` (or `interrupted`), then
/// censored. As the harness counts a batch's: cycles are those of all
/// readers from the moment the last worker entered its loop to the anomaly
/// (at least 1), and the time runs from that moment to the last reader's
/// end (threads released by a barrier wake one after another).
#[cfg_attr(not(all(feature = "zombiefs", target_os = "linux")), allow(dead_code))]
pub fn trial(
    dir: BorrowedFd<'_>,
    readers: u32,
    deleters: u32,
    size: u64,
    pace: Pace,
    cap: TrialCap,
    interrupted: &AtomicBool,
) -> (Trial, BareRun) {
    let per_reader = cap.cycles.div_ceil(u64::from(readers)).max(1);
    let wait = |shared: &Shared<'_>| {
        let deadline = shared.start + cap.time;
        while !shared.stop.load(Relaxed) {
            let now = Instant::now();
            if now >= deadline || interrupted.load(Relaxed) {
                shared.stop.store(true, Relaxed);
                break;
            }
            // A reader that stops the trial unparks this thread.
            std::thread::park_timeout((deadline - now).min(Duration::from_millis(50)));
        }
    };
    let (out, first) = race::<true>(dir, readers, deleters, size, pace, per_reader, wait);
    let trial = Trial {
        cycles: first.unwrap_or(out.cycles).max(1),
        censored: first.is_none(),
        elapsed_ns: (out.elapsed.as_nanos() as u64).max(1),
    };
    (trial, out)
}

/// Marks no first anomaly yet.
const NONE: u64 = u64::MAX;

/// A reader's cycle count, alone on its cache line (trials only).
#[repr(align(128))]
#[derive(Default)]
struct Slot(AtomicU64);

/// What the controlling thread sees while the readers race.
struct Shared<'a> {
    /// When the controlling thread passed the start barrier (a trial's cap runs from here).
    #[cfg_attr(not(all(feature = "zombiefs", target_os = "linux")), allow(dead_code))]
    start: Instant,
    /// Set to stop the readers.
    stop: &'a AtomicBool,
}

/// The loop of [`run`] (`TRIAL` false) and [`trial`] (`TRIAL` true): the
/// threads start together and `wait` runs in the calling thread from the
/// start (it stops the readers, or they stop at `per_reader` cycles, or in a
/// trial at the first anomaly). Returns the sums, elapsed from the start
/// barrier; in a trial elapsed from the moment the last worker entered its
/// loop instead, with the readers' cycles from that moment to the first
/// anomaly.
fn race<const TRIAL: bool>(
    dir: BorrowedFd<'_>,
    readers: u32,
    deleters: u32,
    size: u64,
    pace: Pace,
    per_reader: u64,
    wait: impl FnOnce(&Shared<'_>),
) -> (BareRun, Option<u64>) {
    let content = Content::new(size as usize);
    let stop_readers = AtomicBool::new(false);
    let stop_deleters = AtomicBool::new(false);
    let aim = AtomicU64::new(0);
    let announce = pace == Pace::Aimed;
    let slots: Vec<Slot> = if TRIAL {
        (0..readers).map(|_| Slot::default()).collect()
    } else {
        Vec::new()
    };
    let first = AtomicU64::new(NONE);
    let controller = std::thread::current();
    let barrier = Barrier::new((readers + deleters + 1) as usize);
    // Trials only: workers in their loop, and the readers' cycles and the
    // time when the last one got there.
    let running = AtomicU64::new(0);
    let racing_cycles = AtomicU64::new(0);
    let racing_since = OnceLock::new();
    let workers = u64::from(readers + deleters);
    let on_the_line = || {
        if TRIAL && running.fetch_add(1, Relaxed) + 1 == workers {
            racing_cycles.store(slots.iter().map(|s| s.0.load(Relaxed)).sum(), Relaxed);
            let _ = racing_since.set(Instant::now());
        }
    };
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..readers)
            .map(|index| {
                let (content, barrier, stop, aim) = (&content, &barrier, &stop_readers, &aim);
                let (slots, first, controller) = (&slots, &first, &controller);
                let on_the_line = &on_the_line;
                scope.spawn(move || {
                    let write_buf = content.buffer();
                    let mut read_buf = vec![0u8; content.len() + 1];
                    let mut sum = BareRun::default();
                    barrier.wait();
                    on_the_line();
                    while sum.cycles < per_reader && !stop.load(Relaxed) {
                        if announce {
                            // Unique per reader and cycle: a deleter sees every change.
                            aim.store(u64::from(index) << 48 | (sum.cycles + 1), Relaxed);
                        }
                        let seen = reader_cycle::<TRIAL>(dir, &write_buf, &mut read_buf);
                        sum.cycles += 1;
                        sum.raced_opens += u64::from(seen.raced);
                        sum.zombies += u64::from(seen.zombie);
                        sum.recreations += u64::from(seen.recreated);
                        if TRIAL {
                            slots[index as usize].0.store(sum.cycles, Relaxed);
                            if seen.zombie || seen.einval {
                                let total = slots.iter().map(|s| s.0.load(Relaxed)).sum();
                                let _ = first.compare_exchange(NONE, total, Relaxed, Relaxed);
                                break;
                            }
                        }
                    }
                    if TRIAL {
                        // An anomaly or this reader's cap ends the trial for all.
                        stop.store(true, Relaxed);
                        controller.unpark();
                    }
                    (sum, Instant::now())
                })
            })
            .collect();
        for _ in 0..deleters {
            let (stop, barrier, aim) = (&stop_deleters, &barrier, &aim);
            let on_the_line = &on_the_line;
            scope.spawn(move || {
                barrier.wait();
                on_the_line();
                deleter(dir, pace, stop, aim);
            });
        }
        barrier.wait();
        let start = Instant::now();
        wait(&Shared {
            start,
            stop: &stop_readers,
        });
        let mut out = BareRun::default();
        let mut last = start;
        for h in handles {
            let (sum, end) = h.join().expect("bare reader");
            out += sum;
            last = last.max(end);
        }
        stop_deleters.store(true, Relaxed);
        let first = first.load(Relaxed);
        if !TRIAL {
            out.elapsed = last - start;
            return (out, None);
        }
        // A trial stopped before every worker ran counts from the barrier.
        let since = racing_since.get().copied().unwrap_or(start);
        out.elapsed = last.saturating_duration_since(since);
        let racing = racing_cycles.load(Relaxed);
        (out, (first != NONE).then(|| first.saturating_sub(racing)))
    })
}

/// What a bare create race did.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BareCreates {
    /// Create calls (one per creator a round).
    pub calls: u64,
    /// Create calls whose `[begin, end]` overlapped another creator's in
    /// their round (as the harness counts `racing_creates`).
    pub racing: u64,
    /// Creates that failed with `ENOENT` (the directory exists).
    pub enoents: u64,
    /// From the first round's release to the last round's end.
    pub elapsed: Duration,
}

impl std::ops::AddAssign for BareCreates {
    fn add_assign(&mut self, o: BareCreates) {
        self.calls += o.calls;
        self.racing += o.racing;
        self.enoents += o.enoents;
        self.elapsed += o.elapsed;
    }
}

/// One creator's last create call, alone on its cache line.
#[repr(align(128))]
#[derive(Default)]
struct Call {
    begin: AtomicU64,
    end: AtomicU64,
    ok: AtomicBool,
}

/// The bare create race: `creators` threads in `dir` (a scratch directory)
/// released together by a barrier (`std::sync::Barrier`, as a C reproducer
/// uses `pthread_barrier_wait`) each round to `openat(O_WRONLY|flags)` one
/// fresh name, write the round's content and close; creator 0 then reads
/// the name back and removes it, as the harness does. The only bookkeeping:
/// each creator's clock reads around its `openat`, compared after the round
/// to count racing creates, and a count of `ENOENT`s. Runs until `until`
/// (a cycle count is create calls), or in a trial (`first_enoent`) until
/// the first `ENOENT`.
pub fn create_race(
    dir: BorrowedFd<'_>,
    creators: u32,
    flags: CreateFlags,
    size: u64,
    until: Stop,
    first_enoent: bool,
    interrupted: &AtomicBool,
) -> BareCreates {
    let cap = match until {
        Stop::Cycles(c) => TrialCap {
            cycles: c,
            time: Duration::MAX,
        },
        Stop::Time(d) => TrialCap {
            cycles: u64::MAX,
            time: d,
        },
    };
    create_rounds(dir, creators, flags, size, cap, first_enoent, interrupted).0
}

/// One trial of the bare create race: rounds until the first `ENOENT` or
/// the cap (then censored). Its cycles are the create calls to the end of
/// the round of the first `ENOENT` (at least 1), its time from the start to
/// that round's end.
#[cfg_attr(not(all(feature = "zombiefs", target_os = "linux")), allow(dead_code))]
pub fn create_trial(
    dir: BorrowedFd<'_>,
    creators: u32,
    size: u64,
    cap: TrialCap,
    interrupted: &AtomicBool,
) -> Trial {
    let (out, first_round) = create_rounds(
        dir,
        creators,
        CreateFlags::Creat,
        size,
        cap,
        true,
        interrupted,
    );
    Trial {
        cycles: first_round
            .map_or(out.calls, |r| (r + 1) * u64::from(creators))
            .max(1),
        censored: first_round.is_none(),
        elapsed_ns: (out.elapsed.as_nanos() as u64).max(1),
    }
}

/// The loop of [`create_race`] and [`create_trial`]: also the round (from
/// 0) of the first `ENOENT`, when `first_enoent` stops there.
fn create_rounds(
    dir: BorrowedFd<'_>,
    creators: u32,
    flags: CreateFlags,
    size: u64,
    cap: TrialCap,
    first_enoent: bool,
    interrupted: &AtomicBool,
) -> (BareCreates, Option<u64>) {
    let n = creators as usize;
    let rounds = cap.cycles.div_ceil(u64::from(creators));
    let deadline = Instant::now().checked_add(cap.time);
    let first_round = AtomicU64::new(NONE);
    let content = Content::new(size as usize);
    let calls: Vec<Call> = (0..n).map(|_| Call::default()).collect();
    let barrier = Barrier::new(n);
    let go = AtomicBool::new(true);
    let found = AtomicBool::new(false);
    let open_flags = O_WRONLY | O_NOFOLLOW | flags.open_flags();
    // Names never used before in this directory, as the harness's are.
    let base = sys::monotonic_ns();
    let started = Instant::now();
    let sums: Vec<BareCreates> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..n)
            .map(|me| {
                let (calls, barrier, go, found, content) =
                    (&calls, &barrier, &go, &found, &content);
                let first_round = &first_round;
                scope.spawn(move || {
                    let mut buf = content.buffer();
                    let mut read_buf = vec![0u8; content.len() + 1];
                    let mut sum = BareCreates::default();
                    let mut round = 0u64;
                    loop {
                        barrier.wait();
                        if !go.load(Relaxed) {
                            break;
                        }
                        let name_buf = unlink_race::scenario::round_name(base + round);
                        let name = unlink_race::scenario::name_of(&name_buf);
                        let begin = sys::monotonic_ns();
                        let opened = sys::openat(dir, name, open_flags, 0o600);
                        let end = sys::monotonic_ns();
                        let call = &calls[me];
                        call.begin.store(begin, Relaxed);
                        call.end.store(end, Relaxed);
                        call.ok.store(opened.is_ok(), Relaxed);
                        match opened {
                            Ok(fd) => {
                                content.stamp(&mut buf, round);
                                let _ = sys::write(fd.as_fd(), &buf);
                                let _ = sys::close(fd);
                            }
                            Err(ENOENT) => {
                                sum.enoents += 1;
                                found.store(true, Relaxed);
                                let _ = first_round.compare_exchange(NONE, round, Relaxed, Relaxed);
                            }
                            Err(_) => {}
                        }
                        let leader = barrier.wait().is_leader();
                        sum.calls += 1;
                        let raced = calls.iter().enumerate().any(|(j, c)| {
                            j != me && c.begin.load(Relaxed) <= end && begin <= c.end.load(Relaxed)
                        });
                        sum.racing += u64::from(raced);
                        if leader {
                            if calls.iter().any(|c| c.ok.load(Relaxed)) {
                                if let Ok(fd) = sys::openat(dir, name, O_RDONLY | O_NOFOLLOW, 0) {
                                    while let Ok(k) = sys::read(fd.as_fd(), &mut read_buf) {
                                        if k == 0 {
                                            break;
                                        }
                                    }
                                    let _ = sys::close(fd);
                                }
                            }
                            let _ = sys::unlinkat(dir, name);
                            round += 1;
                            let more = round < rounds
                                && deadline.is_none_or(|d| Instant::now() < d)
                                && !(first_enoent && found.load(Relaxed))
                                && !interrupted.load(Relaxed);
                            go.store(more, Relaxed);
                        } else {
                            round += 1;
                        }
                    }
                    sum
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("bare creator"))
            .collect()
    });
    let mut out = BareCreates::default();
    for s in sums {
        out += s;
    }
    out.elapsed = started.elapsed();
    let first = first_round.load(Relaxed);
    (out, (first != NONE).then_some(first))
}
