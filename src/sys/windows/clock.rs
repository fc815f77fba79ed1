//! Clocks on Windows: the monotonic clock (`QueryPerformanceCounter`),
//! process and thread CPU time, and the deleter's brief pause.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use windows_sys::Win32::Foundation as wf;
use windows_sys::Win32::System::{Performance, Threading};

/// `QueryPerformanceFrequency`, read once (it is fixed at boot).
fn qpc_frequency() -> u64 {
    static FREQ: AtomicU64 = AtomicU64::new(0);
    let f = FREQ.load(Relaxed);
    if f != 0 {
        return f;
    }
    let mut f = 0i64;
    // SAFETY: `f` is writable; the call cannot fail on Windows XP and later.
    unsafe { Performance::QueryPerformanceFrequency(&mut f) };
    let f = (f as u64).max(1);
    FREQ.store(f, Relaxed);
    f
}

/// The monotonic clock in nanoseconds (`QueryPerformanceCounter`): never
/// steps, shared by the processes of one boot.
#[inline]
pub fn monotonic_ns() -> u64 {
    let mut t = 0i64;
    // SAFETY: `t` is writable; the call cannot fail on Windows XP and later.
    unsafe { Performance::QueryPerformanceCounter(&mut t) };
    let (t, f) = (t as u64, qpc_frequency());
    t / f * 1_000_000_000 + t % f * 1_000_000_000 / f
}

/// User plus kernel time, in nanoseconds, of a `Get*Times` call that fills
/// creation, exit, kernel and user `FILETIME`s (100 ns units, updated every
/// tick); 0 if it fails.
fn cpu_ns(
    times: impl FnOnce(
        &mut wf::FILETIME,
        &mut wf::FILETIME,
        &mut wf::FILETIME,
        &mut wf::FILETIME,
    ) -> windows_sys::core::BOOL,
) -> u64 {
    let zero = wf::FILETIME {
        dwLowDateTime: 0,
        dwHighDateTime: 0,
    };
    let (mut created, mut exited, mut kernel, mut user) = (zero, zero, zero, zero);
    if times(&mut created, &mut exited, &mut kernel, &mut user) == 0 {
        return 0;
    }
    let ticks =
        |ft: wf::FILETIME| (u64::from(ft.dwHighDateTime) << 32) | u64::from(ft.dwLowDateTime);
    (ticks(kernel) + ticks(user)) * 100
}

/// CPU time of the whole process, user and kernel, all threads, in
/// nanoseconds (`GetProcessTimes`).
pub fn process_cpu_ns() -> u64 {
    // SAFETY: the pseudo-handle of the current process and four writable `FILETIME`s.
    cpu_ns(|c, e, k, u| unsafe {
        Threading::GetProcessTimes(Threading::GetCurrentProcess(), c, e, k, u)
    })
}

/// CPU time of the calling thread, user and kernel, in nanoseconds
/// (`GetThreadTimes`).
pub fn thread_cpu_ns() -> u64 {
    // SAFETY: the pseudo-handle of the current thread and four writable `FILETIME`s.
    cpu_ns(|c, e, k, u| unsafe {
        Threading::GetThreadTimes(Threading::GetCurrentThread(), c, e, k, u)
    })
}

/// `Sleep(0)`: the deleter's "yield briefly" (Windows sleeps no shorter
/// than a timer tick, so this gives the rest of the time slice instead).
#[inline]
pub fn pause_briefly() {
    // SAFETY: `Sleep` has no preconditions.
    unsafe { Threading::Sleep(0) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_moves_forward() {
        let a = monotonic_ns();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let b = monotonic_ns();
        assert!(b - a >= 10_000_000, "{a} → {b}");
    }
}
