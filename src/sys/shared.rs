//! Memory that worker processes share, and the futex that waits on it.

use std::os::fd::AsRawFd;

/// Words of memory that processes share: a file mapped `MAP_SHARED`, read
/// and written only through atomics. The create race's start line and its
/// creators' call times live here when the workers are processes.
#[derive(Debug)]
pub struct SharedWords {
    ptr: std::ptr::NonNull<std::sync::atomic::AtomicU64>,
    len: usize,
}

// SAFETY: the mapping is only ever accessed through `AtomicU64`s, which are
// safe to share and to send between threads.
unsafe impl Send for SharedWords {}
// SAFETY: as above: every access is atomic.
unsafe impl Sync for SharedWords {}

impl SharedWords {
    /// Maps the first `len` words of `file`, which must be at least that
    /// long (a new file is zeros once [`std::fs::File::set_len`] made it so).
    pub fn map(file: &std::fs::File, len: usize) -> std::io::Result<SharedWords> {
        let bytes = super::types::shared_bytes(file, len.max(1))?;
        // SAFETY: a fresh mapping of an open file's first `bytes` bytes; the
        // kernel picks the address, so it overlaps nothing of ours.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                bytes,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                file.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        let ptr = std::ptr::NonNull::new(ptr.cast()).ok_or_else(std::io::Error::last_os_error)?;
        Ok(SharedWords {
            ptr,
            len: len.max(1),
        })
    }

    /// The words, as atomics.
    pub fn words(&self) -> &[std::sync::atomic::AtomicU64] {
        // SAFETY: the mapping is `len` page-aligned words, valid until drop,
        // and `AtomicU64` has the size and alignment of a `u64`.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl Drop for SharedWords {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `map`, of this length, unmapped once.
        unsafe {
            libc::munmap(
                self.ptr.as_ptr().cast(),
                self.len * std::mem::size_of::<u64>(),
            )
        };
    }
}

/// Sleeps while the low 32 bits of `word` hold `expected`, at most
/// `timeout_ns` (a shared futex: it works between processes on a
/// [`SharedWords`] mapping, and between threads on any memory). Returns at
/// once when the value differs already; may return early.
#[cfg(all(target_os = "linux", target_endian = "little"))]
pub fn futex_wait(word: &std::sync::atomic::AtomicU64, expected: u32, timeout_ns: u64) {
    let ts = libc::timespec {
        tv_sec: (timeout_ns / 1_000_000_000) as libc::time_t,
        tv_nsec: (timeout_ns % 1_000_000_000) as libc::c_long,
    };
    // SAFETY: the address is a live, 8-byte aligned word; the kernel reads
    // its first 4 bytes (its low half on a little-endian target) atomically.
    // `ts` outlives the call; the other arguments are unused by FUTEX_WAIT.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            &ts as *const libc::timespec,
            std::ptr::null::<u32>(),
            0u32,
        )
    };
}

/// Wakes every thread in [`futex_wait`] on `word`.
#[cfg(all(target_os = "linux", target_endian = "little"))]
pub fn futex_wake_all(word: &std::sync::atomic::AtomicU64) {
    // SAFETY: FUTEX_WAKE only uses the address as a key; it reads nothing.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAKE,
            i32::MAX,
            std::ptr::null::<libc::timespec>(),
            std::ptr::null::<u32>(),
            0u32,
        )
    };
}
