//! Bare loops: the harness's syscalls with nothing else, for comparing the
//! harness against (pressure, latency). A reader does `open` → `fstat` →
//! `read` to EOF → `close`, or `ENOENT` → `open(O_CREAT|O_TRUNC)` + `write` +
//! `close`; a deleter paces itself as [`Pace`] says and `unlink`s. The only
//! bookkeeping is three local counters per reader, added up at the end:
//! cycles, raced opens (`fstat` gave `st_nlink == 0` or `st_ino == 0`) and
//! zombies (`st_ino == 0`).

use std::ffi::CStr;
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::Barrier;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use unlink_race::content::Content;
use unlink_race::scenario::Pace;
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

/// What a bare run did.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BareRun {
    pub cycles: u64,
    pub raced_opens: u64,
    pub zombies: u64,
    /// From the start barrier to the last reader's end.
    pub elapsed: Duration,
}

impl std::ops::AddAssign for BareRun {
    fn add_assign(&mut self, o: BareRun) {
        self.cycles += o.cycles;
        self.raced_opens += o.raced_opens;
        self.zombies += o.zombies;
        self.elapsed += o.elapsed;
    }
}

/// One reader cycle; returns `(raced, zombie)`.
#[inline]
pub fn reader_cycle(dir: BorrowedFd<'_>, write_buf: &[u8], read_buf: &mut [u8]) -> (bool, bool) {
    match sys::openat(dir, TARGET, O_RDONLY | O_NOFOLLOW, 0) {
        Err(ENOENT) => {
            if let Ok(fd) = sys::openat(
                dir,
                TARGET,
                O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW,
                0o600,
            ) {
                let _ = sys::write(fd.as_fd(), write_buf);
                let _ = sys::close(fd);
            }
            (false, false)
        }
        Err(_) => (false, false),
        Ok(fd) => {
            let raced = match sys::fstat(fd.as_fd()) {
                Ok(st) => (st.nlink == 0 || st.ino == 0, st.ino == 0),
                Err(_) => (false, false),
            };
            while let Ok(n) = sys::read(fd.as_fd(), read_buf) {
                if n == 0 {
                    break;
                }
            }
            let _ = sys::close(fd);
            raced
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
    let content = Content::new(size as usize);
    let per_reader = match until {
        Stop::Cycles(n) => n.div_ceil(u64::from(readers)),
        Stop::Time(_) => u64::MAX,
    };
    let stop_readers = AtomicBool::new(false);
    let stop_deleters = AtomicBool::new(false);
    let aim = AtomicU64::new(0);
    let announce = pace == Pace::Aimed;
    let barrier = Barrier::new((readers + deleters + 1) as usize);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..readers)
            .map(|index| {
                let (content, barrier, stop, aim) = (&content, &barrier, &stop_readers, &aim);
                scope.spawn(move || {
                    let write_buf = content.buffer();
                    let mut read_buf = vec![0u8; content.len() + 1];
                    let (mut cycles, mut raced_opens, mut zombies) = (0u64, 0u64, 0u64);
                    barrier.wait();
                    while cycles < per_reader && !stop.load(Relaxed) {
                        if announce {
                            // Unique per reader and cycle: a deleter sees every change.
                            aim.store(u64::from(index) << 48 | (cycles + 1), Relaxed);
                        }
                        let (raced, zombie) = reader_cycle(dir, &write_buf, &mut read_buf);
                        cycles += 1;
                        raced_opens += u64::from(raced);
                        zombies += u64::from(zombie);
                    }
                    (cycles, raced_opens, zombies, Instant::now())
                })
            })
            .collect();
        for _ in 0..deleters {
            let (stop, barrier, aim) = (&stop_deleters, &barrier, &aim);
            scope.spawn(move || {
                barrier.wait();
                deleter(dir, pace, stop, aim);
            });
        }
        barrier.wait();
        let start = Instant::now();
        if let Stop::Time(d) = until {
            std::thread::sleep(d);
            stop_readers.store(true, Relaxed);
        }
        let mut out = BareRun::default();
        let mut last = start;
        for h in handles {
            let (c, r, z, end) = h.join().expect("bare reader");
            out.cycles += c;
            out.raced_opens += r;
            out.zombies += z;
            last = last.max(end);
        }
        stop_deleters.store(true, Relaxed);
        out.elapsed = last - start;
        out
    })
}
