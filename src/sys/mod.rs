//! The syscall layer: the only module that calls `libc` or uses `unsafe`.
//!
//! Every wrapper is one `unsafe` expression that turns `-1` into the raw errno
//! at once (`last_errno`). Errno stays numeric ([`Errno`]) so that the
//! classifier keeps values it does not know. Descriptors cross the boundary as
//! `OwnedFd`/`BorrowedFd`, names as `&CStr`, and every file operation works
//! relative to a directory descriptor, never a path.
//!
//! The wrappers allocate nothing: they sit on the hot path of the race loop.
//! Platform differences (filesystem type, OS version, CPU model) are in
//! [`platform`]. This is the Unix backend; `windows/mod.rs` is the Windows
//! one, with the same functions over Win32 calls. Callers take the
//! descriptor types from here ([`OwnedFd`], [`BorrowedFd`], [`AsFd`]), so
//! the same code builds on both.
#![allow(unsafe_code)]

pub mod platform;
#[cfg(target_os = "linux")]
pub mod process;
mod types;

mod shared;

pub use shared::SharedWords;
#[cfg(all(target_os = "linux", target_endian = "little"))]
pub use shared::{futex_wait, futex_wake_all};

use std::ffi::{CStr, c_int};
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd};

pub use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
pub use types::*;

pub use libc::{
    EACCES, EAGAIN, ECONNABORTED, EDQUOT, EEXIST, EINTR, EINVAL, EIO, EMFILE, ENAMETOOLONG, ENFILE,
    ENOENT, ENOMEM, ENOSPC, ENOSYS, ENOTCONN, ENOTDIR, ENOTEMPTY, ENXIO, EPERM, EROFS, ESRCH,
    ESTALE, EWOULDBLOCK,
};

/// The signals the supervisor of a run forwards or sends.
pub use libc::{SIGKILL, SIGTERM};

/// `open` flags used by the harness, re-exported so callers need no `libc`.
pub mod flags {
    pub const O_RDONLY: i32 = libc::O_RDONLY;
    pub const O_WRONLY: i32 = libc::O_WRONLY;
    pub const O_CREAT: i32 = libc::O_CREAT;
    pub const O_TRUNC: i32 = libc::O_TRUNC;
    pub const O_EXCL: i32 = libc::O_EXCL;
    pub const O_NOFOLLOW: i32 = libc::O_NOFOLLOW;
    pub const O_CLOEXEC: i32 = libc::O_CLOEXEC;
    pub const O_DIRECTORY: i32 = libc::O_DIRECTORY;
    pub const O_RDWR: i32 = libc::O_RDWR;
    pub const O_ACCMODE: i32 = libc::O_ACCMODE;
    pub const O_APPEND: i32 = libc::O_APPEND;
    pub const O_SYNC: i32 = libc::O_SYNC;
    pub const O_DSYNC: i32 = libc::O_DSYNC;
    /// Windows only (leave `FILE_SHARE_DELETE` out of the share mode): no
    /// bits here, where `Scenario::validate` refuses it.
    pub const O_NO_SHARE_DELETE: i32 = 0;
    pub const O_NONBLOCK: i32 = libc::O_NONBLOCK;
    /// A descriptor that names an inode without opening it (Linux).
    #[cfg(target_os = "linux")]
    pub const O_PATH: i32 = libc::O_PATH;
}

/// File types, as `st_mode & S_IFMT` gives them (`mode_t` is `u16` on macOS).
#[allow(clippy::unnecessary_cast)]
pub mod file_type {
    pub const S_IFMT: u32 = libc::S_IFMT as u32;
    pub const S_IFREG: u32 = libc::S_IFREG as u32;
    pub const S_IFDIR: u32 = libc::S_IFDIR as u32;
    pub const S_IFLNK: u32 = libc::S_IFLNK as u32;
    pub const S_IFIFO: u32 = libc::S_IFIFO as u32;
    pub const S_IFCHR: u32 = libc::S_IFCHR as u32;
    pub const S_IFBLK: u32 = libc::S_IFBLK as u32;
    pub const S_IFSOCK: u32 = libc::S_IFSOCK as u32;
}

/// `renameat2` flags (Linux).
#[cfg(target_os = "linux")]
pub mod rename_flags {
    pub const RENAME_NOREPLACE: u32 = libc::RENAME_NOREPLACE;
    pub const RENAME_EXCHANGE: u32 = libc::RENAME_EXCHANGE;
}

/// The errno of the call that just failed. Reading it allocates nothing.
#[inline]
fn last_errno() -> Errno {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// `-1` → errno, anything else → the value.
#[inline]
fn check(ret: c_int) -> SysResult<c_int> {
    if ret == -1 {
        Err(last_errno())
    } else {
        Ok(ret)
    }
}

/// `-1` → errno for calls returning `ssize_t`.
#[inline]
fn check_size(ret: libc::ssize_t) -> SysResult<usize> {
    if ret < 0 {
        Err(last_errno())
    } else {
        Ok(ret as usize)
    }
}

/// `openat(dir, name, flags, mode)`; `O_CLOEXEC` is always added.
#[inline]
pub fn openat(dir: BorrowedFd<'_>, name: &CStr, flags: i32, mode: u32) -> SysResult<OwnedFd> {
    // SAFETY: the path is a NUL-terminated `&CStr` and `dir` a descriptor borrowed for the call.
    let fd = check(unsafe {
        libc::openat(
            dir.as_raw_fd(),
            name.as_ptr(),
            flags | libc::O_CLOEXEC,
            mode as libc::c_uint,
        )
    })?;
    // SAFETY: `openat` just returned this descriptor and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `read(fd, buf)`, retried on `EINTR`.
#[inline]
pub fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> SysResult<usize> {
    loop {
        // SAFETY: `buf` is valid for writes of `buf.len()` bytes and `fd` is borrowed for the call.
        match check_size(unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) })
        {
            Err(EINTR) => continue,
            other => return other,
        }
    }
}

/// `write(fd, buf)`, retried on `EINTR`.
#[inline]
pub fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> SysResult<usize> {
    loop {
        // SAFETY: `buf` is valid for reads of `buf.len()` bytes and `fd` is borrowed for the call.
        match check_size(unsafe { libc::write(fd.as_raw_fd(), buf.as_ptr().cast(), buf.len()) }) {
            Err(EINTR) => continue,
            other => return other,
        }
    }
}

/// `fstat(fd)`, every field copied out.
#[inline]
pub fn fstat(fd: BorrowedFd<'_>) -> SysResult<Stat> {
    let mut st = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `st` points to writable memory the size of a `stat`; `fd` is borrowed for the call.
    check(unsafe { libc::fstat(fd.as_raw_fd(), st.as_mut_ptr()) })?;
    // SAFETY: `fstat` succeeded, so it filled the whole struct.
    Ok(stat_record(&unsafe { st.assume_init() }))
}

/// `fstatat(dir, name, AT_SYMLINK_NOFOLLOW)`.
pub fn fstatat(dir: BorrowedFd<'_>, name: &CStr) -> SysResult<Stat> {
    let mut st = MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `name` is NUL-terminated, `st` points to writable memory the size of a `stat`.
    check(unsafe {
        libc::fstatat(
            dir.as_raw_fd(),
            name.as_ptr(),
            st.as_mut_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })?;
    // SAFETY: `fstatat` succeeded, so it filled the whole struct.
    Ok(stat_record(&unsafe { st.assume_init() }))
}

/// Field widths differ between targets (`st_nlink` is `u16` on macOS, `u64` on
/// Linux x86_64), hence the casts that are no-ops on some of them.
#[allow(clippy::unnecessary_cast)]
fn stat_record(st: &libc::stat) -> Stat {
    Stat {
        dev: st.st_dev as u64,
        ino: st.st_ino as u64,
        mode: st.st_mode as u32,
        nlink: st.st_nlink as u64,
        uid: st.st_uid,
        gid: st.st_gid,
        rdev: st.st_rdev as u64,
        size: st.st_size as i64,
        blksize: st.st_blksize as i64,
        blocks: st.st_blocks as i64,
        atime_s: st.st_atime as i64,
        atime_ns: st.st_atime_nsec as i64,
        mtime_s: st.st_mtime as i64,
        mtime_ns: st.st_mtime_nsec as i64,
        ctime_s: st.st_ctime as i64,
        ctime_ns: st.st_ctime_nsec as i64,
    }
}

/// `fchmod(fd, mode)`.
pub fn fchmod(fd: BorrowedFd<'_>, mode: u32) -> SysResult<()> {
    // SAFETY: `fchmod` takes a descriptor and a mode; a bad descriptor is an errno.
    check(unsafe { libc::fchmod(fd.as_raw_fd(), mode as libc::mode_t) }).map(drop)
}

/// `fchown(fd, uid, gid)`.
pub fn fchown(fd: BorrowedFd<'_>, uid: u32, gid: u32) -> SysResult<()> {
    // SAFETY: `fchown` takes a descriptor and two ids; a bad descriptor is an errno.
    check(unsafe { libc::fchown(fd.as_raw_fd(), uid, gid) }).map(drop)
}

/// `fsync(fd)`.
pub fn fsync(fd: BorrowedFd<'_>) -> SysResult<()> {
    // SAFETY: `fsync` takes a descriptor; a bad descriptor is an errno.
    check(unsafe { libc::fsync(fd.as_raw_fd()) }).map(drop)
}

/// `getrlimit(RLIMIT_NOFILE)`: the soft limit on open descriptors.
#[allow(clippy::unnecessary_cast)]
pub fn descriptor_limit() -> SysResult<u64> {
    let mut lim = MaybeUninit::<libc::rlimit>::uninit();
    // SAFETY: `lim` is valid for writes of one `rlimit`.
    check(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, lim.as_mut_ptr()) })?;
    // SAFETY: `getrlimit` succeeded, so it filled the struct.
    Ok(unsafe { lim.assume_init() }.rlim_cur as u64)
}

/// The effective user id.
pub fn geteuid() -> u32 {
    // SAFETY: `geteuid` has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// `unlinkat(dir, name, 0)`.
#[inline]
pub fn unlinkat(dir: BorrowedFd<'_>, name: &CStr) -> SysResult<()> {
    // SAFETY: `name` is NUL-terminated and `dir` is borrowed for the call.
    check(unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), 0) }).map(drop)
}

/// `unlinkat(dir, name, AT_REMOVEDIR)`.
pub fn rmdirat(dir: BorrowedFd<'_>, name: &CStr) -> SysResult<()> {
    // SAFETY: `name` is NUL-terminated and `dir` is borrowed for the call.
    check(unsafe { libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), libc::AT_REMOVEDIR) }).map(drop)
}

/// `mkdirat(dir, name, mode)`.
pub fn mkdirat(dir: BorrowedFd<'_>, name: &CStr, mode: u32) -> SysResult<()> {
    // SAFETY: `name` is NUL-terminated and `dir` is borrowed for the call.
    check(unsafe { libc::mkdirat(dir.as_raw_fd(), name.as_ptr(), mode as libc::mode_t) }).map(drop)
}

/// `renameat(from_dir, from, to_dir, to)`.
#[inline]
pub fn renameat(
    from_dir: BorrowedFd<'_>,
    from: &CStr,
    to_dir: BorrowedFd<'_>,
    to: &CStr,
) -> SysResult<()> {
    // SAFETY: both names are NUL-terminated and both descriptors borrowed for the call.
    check(unsafe {
        libc::renameat(
            from_dir.as_raw_fd(),
            from.as_ptr(),
            to_dir.as_raw_fd(),
            to.as_ptr(),
        )
    })
    .map(drop)
}

/// `renameat2(from_dir, from, to_dir, to, flags)`: `flags` is `0`,
/// `RENAME_NOREPLACE` or `RENAME_EXCHANGE`, as the kernel passed them.
#[cfg(target_os = "linux")]
pub fn renameat2(
    from_dir: BorrowedFd<'_>,
    from: &CStr,
    to_dir: BorrowedFd<'_>,
    to: &CStr,
    flags: u32,
) -> SysResult<()> {
    // SAFETY: both names are NUL-terminated and both descriptors borrowed for the call.
    check(unsafe {
        libc::renameat2(
            from_dir.as_raw_fd(),
            from.as_ptr(),
            to_dir.as_raw_fd(),
            to.as_ptr(),
            flags as libc::c_uint,
        )
    })
    .map(drop)
}

/// `symlinkat(target, dir, name)`.
pub fn symlinkat(target: &CStr, dir: BorrowedFd<'_>, name: &CStr) -> SysResult<()> {
    // SAFETY: `target` and `name` are NUL-terminated and `dir` is borrowed for the call.
    check(unsafe { libc::symlinkat(target.as_ptr(), dir.as_raw_fd(), name.as_ptr()) }).map(drop)
}

/// `linkat(AT_FDCWD, from, to_dir, to, AT_SYMLINK_FOLLOW)`: with `from` a
/// `/proc/self/fd/N` path this links the inode a descriptor names.
pub fn link_following(from: &CStr, to_dir: BorrowedFd<'_>, to: &CStr) -> SysResult<()> {
    // SAFETY: both paths are NUL-terminated and `to_dir` is borrowed for the call.
    check(unsafe {
        libc::linkat(
            libc::AT_FDCWD,
            from.as_ptr(),
            to_dir.as_raw_fd(),
            to.as_ptr(),
            libc::AT_SYMLINK_FOLLOW,
        )
    })
    .map(drop)
}

/// `readlinkat(fd, "")`: the target of the symlink that `fd` (`O_PATH`) names.
pub fn readlink_fd(fd: BorrowedFd<'_>) -> SysResult<Vec<u8>> {
    let mut buf = vec![0u8; libc::PATH_MAX as usize];
    // SAFETY: `buf` is valid for writes of `buf.len()` bytes; the empty path is NUL-terminated.
    let n = check_size(unsafe {
        libc::readlinkat(
            fd.as_raw_fd(),
            c"".as_ptr(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    })?;
    buf.truncate(n);
    Ok(buf)
}

/// `access(path, mode)` with the real ids (`faccessat(AT_FDCWD, path, mode, 0)`).
pub fn access(path: &CStr, mode: i32) -> SysResult<()> {
    // SAFETY: `path` is NUL-terminated.
    check(unsafe { libc::faccessat(libc::AT_FDCWD, path.as_ptr(), mode, 0) }).map(drop)
}

/// `fstatvfs(fd)`.
#[allow(clippy::unnecessary_cast)]
pub fn fstatvfs(fd: BorrowedFd<'_>) -> SysResult<FsStats> {
    let mut st = MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `st` points to writable memory the size of a `statvfs`; `fd` is borrowed.
    check(unsafe { libc::fstatvfs(fd.as_raw_fd(), st.as_mut_ptr()) })?;
    // SAFETY: `fstatvfs` succeeded, so it filled the whole struct.
    let st = unsafe { st.assume_init() };
    Ok(FsStats {
        blocks: st.f_blocks as u64,
        blocks_free: st.f_bfree as u64,
        blocks_available: st.f_bavail as u64,
        files: st.f_files as u64,
        files_free: st.f_ffree as u64,
        block_size: st.f_bsize as u64,
        fragment_size: st.f_frsize as u64,
        name_max: st.f_namemax as u64,
    })
}

/// `umount2(path, 0)`: fails with `EBUSY` while files on it are open.
#[cfg(target_os = "linux")]
pub fn umount(path: &CStr) -> SysResult<()> {
    // SAFETY: `path` is NUL-terminated.
    check(unsafe { libc::umount2(path.as_ptr(), 0) }).map(drop)
}

/// `umount2(path, MNT_DETACH)`: detaches now, finishes when the last file closes.
#[cfg(target_os = "linux")]
pub fn umount_lazy(path: &CStr) -> SysResult<()> {
    // SAFETY: `path` is NUL-terminated.
    check(unsafe { libc::umount2(path.as_ptr(), libc::MNT_DETACH) }).map(drop)
}

/// `faccessat(dir, name, F_OK, 0)`: `Ok(true)` when the name exists,
/// `Ok(false)` on `ENOENT`, the errno otherwise.
#[inline]
pub fn exists_at(dir: BorrowedFd<'_>, name: &CStr) -> SysResult<bool> {
    // SAFETY: `name` is NUL-terminated and `dir` is borrowed for the call.
    match check(unsafe { libc::faccessat(dir.as_raw_fd(), name.as_ptr(), libc::F_OK, 0) }) {
        Ok(_) => Ok(true),
        Err(ENOENT) => Ok(false),
        Err(e) => Err(e),
    }
}

/// `close(fd)`, reporting its errno (dropping an `OwnedFd` ignores it).
#[inline]
pub fn close(fd: OwnedFd) -> SysResult<()> {
    // SAFETY: `into_raw_fd` gave up ownership, so the descriptor is closed exactly once.
    check(unsafe { libc::close(fd.into_raw_fd()) }).map(drop)
}

/// The monotonic clock in nanoseconds ([`platform::MONOTONIC_CLOCK`]:
/// `CLOCK_UPTIME_RAW` on macOS, `CLOCK_MONOTONIC` elsewhere): comparable
/// between processes of one boot.
#[inline]
pub fn monotonic_ns() -> u64 {
    clock_ns(platform::MONOTONIC_CLOCK)
}

/// CPU time of the whole process, user and system, all threads, in
/// nanoseconds (`CLOCK_PROCESS_CPUTIME_ID`): what the benchmarks divide by
/// cycles to tell CPU cost from waiting.
pub fn process_cpu_ns() -> u64 {
    clock_ns(libc::CLOCK_PROCESS_CPUTIME_ID)
}

/// CPU time of the calling thread, user and system, in nanoseconds
/// (`CLOCK_THREAD_CPUTIME_ID`): what a computation cost, whatever else the
/// machine was doing.
pub fn thread_cpu_ns() -> u64 {
    clock_ns(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// `clock_gettime(clock)` in nanoseconds, for a clock every supported
/// target has.
#[inline]
fn clock_ns(clock: libc::clockid_t) -> u64 {
    let mut ts = MaybeUninit::<libc::timespec>::uninit();
    // SAFETY: `ts` is writable for one `timespec`; with a valid pointer and a
    // clock every supported target has, `clock_gettime` cannot fail.
    unsafe { libc::clock_gettime(clock, ts.as_mut_ptr()) };
    // SAFETY: `clock_gettime` filled the struct.
    let ts = unsafe { ts.assume_init() };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// `nanosleep(1 µs)`: the deleter's "yield briefly" when the file is absent
/// (the kernel's timer slack makes it about 50 µs on Linux).
#[inline]
pub fn pause_briefly() {
    let ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 1000,
    };
    // SAFETY: `ts` is a valid `timespec`; a null remainder pointer is allowed.
    unsafe { libc::nanosleep(&ts, std::ptr::null_mut()) };
}

/// `uname()`; empty strings if it fails.
pub fn uname() -> Uname {
    let mut u = MaybeUninit::<libc::utsname>::zeroed();
    // SAFETY: `u` points to writable memory the size of a `utsname`.
    if check(unsafe { libc::uname(u.as_mut_ptr()) }).is_err() {
        return Uname::default();
    }
    // SAFETY: `uname` succeeded and filled every field with a NUL-terminated string.
    let u = unsafe { u.assume_init() };
    Uname {
        sysname: c_chars(&u.sysname),
        nodename: c_chars(&u.nodename),
        release: c_chars(&u.release),
        machine: c_chars(&u.machine),
    }
}

/// A NUL-terminated `c_char` array (as in `utsname`, `statfs`) to a `String`.
pub(crate) fn c_chars(chars: &[libc::c_char]) -> String {
    let bytes: Vec<u8> = chars
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The parent's process id (1, or a subreaper's, once the parent is gone).
pub fn getppid() -> u32 {
    // SAFETY: `getppid` has no preconditions and cannot fail.
    unsafe { libc::getppid() as u32 }
}

/// `kill(pid, signal)`.
pub fn kill(pid: u32, signal: i32) -> SysResult<()> {
    let pid = libc::pid_t::try_from(pid).map_err(|_| libc::ESRCH)?;
    // SAFETY: `kill` takes a process id and a signal number; a bad one is an errno.
    check(unsafe { libc::kill(pid, signal) }).map(drop)
}

/// Whether a process `pid` exists (`kill(pid, 0)`: `EPERM` means it does,
/// belonging to someone else).
pub fn process_exists(pid: u32) -> bool {
    !matches!(kill(pid, 0), Err(libc::ESRCH))
}

/// A pipe, both ends close-on-exec: `(read end, write end)`.
pub fn pipe() -> SysResult<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as c_int; 2];
    // SAFETY: `fds` is writable for the two descriptors `pipe` returns.
    check(unsafe { libc::pipe(fds.as_mut_ptr()) })?;
    // SAFETY: `pipe` just returned these descriptors and nothing else owns them.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    set_cloexec(read.as_fd(), true)?;
    set_cloexec(write.as_fd(), true)?;
    Ok((read, write))
}

/// Sets or clears `FD_CLOEXEC`: whether a program this process starts
/// inherits the descriptor.
pub fn set_cloexec(fd: BorrowedFd<'_>, on: bool) -> SysResult<()> {
    // SAFETY: `F_GETFD` only reads the descriptor's flags.
    let flags = check(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_GETFD) })?;
    let flags = if on {
        flags | libc::FD_CLOEXEC
    } else {
        flags & !libc::FD_CLOEXEC
    };
    // SAFETY: `F_SETFD` sets the descriptor flags read above, one bit changed.
    check(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, flags) }).map(drop)
}

/// Takes ownership of an inherited descriptor number, if it is open.
pub fn inherited_fd(fd: i32) -> Option<OwnedFd> {
    // SAFETY: `F_GETFD` on any number only reads flags; `EBADF` says it is not open.
    if fd < 3 || check(unsafe { libc::fcntl(fd, libc::F_GETFD) }).is_err() {
        return None;
    }
    // SAFETY: the descriptor is open, was handed to this process to own,
    // and nothing else in it holds it.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Whether `fd` is ready for `events` (`libc::POLLIN`, `POLLOUT`) within
/// `timeout_ms`; `Ok(false)` on timeout. Hang-up and errors count as ready:
/// the next read or write says what happened.
pub fn poll_ready(fd: BorrowedFd<'_>, events: i16, timeout_ms: i32) -> SysResult<bool> {
    let mut p = libc::pollfd {
        fd: fd.as_raw_fd(),
        events,
        revents: 0,
    };
    // SAFETY: `p` is one valid `pollfd` and the count passed is 1.
    match check(unsafe { libc::poll(&mut p, 1, timeout_ms) }) {
        Ok(n) => Ok(n > 0),
        Err(EINTR) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Points standard input, output and error at `/dev/null` (`dup2`), so
/// that whoever reads this process's output sees its end now, even while a
/// thread of it is stuck and keeps the process from exiting.
pub fn detach_standard_streams() {
    let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    else {
        return;
    };
    for fd in 0..3 {
        // SAFETY: `dup2` between two open descriptors; it replaces `fd`.
        unsafe { libc::dup2(null.as_raw_fd(), fd) };
    }
}

/// `POLLIN` and `POLLOUT` for [`poll_ready`].
pub use libc::{POLLIN, POLLOUT};

/// Errnos that say the environment failed rather than the race: full disk or
/// quota, read-only filesystem, descriptor or memory limits.
pub fn is_environment_errno(errno: Errno) -> bool {
    matches!(
        errno,
        libc::ENOSPC | libc::EDQUOT | libc::EROFS | libc::EMFILE | libc::ENFILE | libc::ENOMEM
    )
}

/// Where a descriptor's file is now (Linux: `/proc/self/fd`), if known.
pub fn fd_path(fd: BorrowedFd<'_>) -> Option<std::path::PathBuf> {
    if cfg!(target_os = "linux") {
        std::fs::read_link(format!("/proc/self/fd/{}", fd.as_raw_fd())).ok()
    } else {
        None
    }
}

/// Opens a directory without following a final symlink.
pub fn open_dir(path: &std::path::Path) -> std::io::Result<OwnedFd> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)?;
    Ok(OwnedFd::from(file))
}

/// Opens a directory, following symlinks.
pub fn open_dir_following(path: &std::path::Path) -> std::io::Result<OwnedFd> {
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open(path)?;
    Ok(OwnedFd::from(file))
}

/// The device and inode of what `path` names (following symlinks), if it exists.
pub fn file_id(path: &std::path::Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Symbolic name of an errno, for reports (`""` when unknown: the number is kept anyway).
pub fn errno_name(errno: Errno) -> &'static str {
    match errno {
        0 => "",
        libc::EPERM => "EPERM",
        libc::ENOENT => "ENOENT",
        libc::EINTR => "EINTR",
        libc::EIO => "EIO",
        libc::EBADF => "EBADF",
        libc::EAGAIN => "EAGAIN",
        libc::ENOMEM => "ENOMEM",
        libc::EACCES => "EACCES",
        libc::EBUSY => "EBUSY",
        libc::EEXIST => "EEXIST",
        libc::EXDEV => "EXDEV",
        libc::ENOTDIR => "ENOTDIR",
        libc::EISDIR => "EISDIR",
        libc::EINVAL => "EINVAL",
        libc::ENFILE => "ENFILE",
        libc::EMFILE => "EMFILE",
        libc::EFBIG => "EFBIG",
        libc::ENOSPC => "ENOSPC",
        libc::EROFS => "EROFS",
        libc::ELOOP => "ELOOP",
        libc::ENAMETOOLONG => "ENAMETOOLONG",
        libc::ENOTEMPTY => "ENOTEMPTY",
        libc::ESTALE => "ESTALE",
        libc::EDQUOT => "EDQUOT",
        libc::ENOTCONN => "ENOTCONN",
        libc::ECONNABORTED => "ECONNABORTED",
        libc::ETIMEDOUT => "ETIMEDOUT",
        libc::ENOSYS => "ENOSYS",
        _ => win32_error_name(errno),
    }
}
