//! The syscall layer on Windows: the same functions as the Unix backend,
//! over Win32 calls (`windows-sys`), and the only place they are called.
//!
//! Every wrapper is one `unsafe` call whose failure becomes an [`Errno`] at
//! once ([`last_errno`]): a Win32 error that has a POSIX meaning becomes that
//! errno (`ERROR_FILE_NOT_FOUND` is `ENOENT`), one that has none is kept as
//! [`WIN32_ERROR`] plus its code — [`DELETE_PENDING`] and
//! [`SHARING_VIOLATION`] above all, the two ways an open/unlink race fails on
//! Windows that POSIX has no word for. Errno values are the Windows C
//! runtime's, so that a report's numbers mean what they mean there.
//!
//! Windows opens paths, not names in a directory: a directory handle here
//! ([`OwnedFd`] from [`open_dir`], or [`openat`] with `O_DIRECTORY`) keeps
//! its full path (`\\?\C:\…\`), and every `*at` wrapper joins the name to it
//! in a buffer on the stack, so the hot path still allocates nothing.
#![allow(unsafe_code)]

pub mod platform;
#[path = "../types.rs"]
mod types;

use std::ffi::CStr;
use std::mem::MaybeUninit;
use std::os::windows::io::{AsHandle, AsRawHandle, BorrowedHandle, FromRawHandle, OwnedHandle};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use windows_sys::Win32::Foundation as wf;
use windows_sys::Win32::Storage::FileSystem as fs;
use windows_sys::Win32::System::{Performance, Threading};

pub use types::*;

// The Windows C runtime's errno values (errno.h), for the errnos the
// harness names; [`last_errno`] maps Win32 errors onto them.
pub const EPERM: Errno = 1;
pub const ENOENT: Errno = 2;
pub const EINTR: Errno = 4;
pub const EIO: Errno = 5;
pub const EBADF: Errno = 9;
pub const EAGAIN: Errno = 11;
pub const ENOMEM: Errno = 12;
pub const EACCES: Errno = 13;
pub const EBUSY: Errno = 16;
pub const EEXIST: Errno = 17;
pub const EXDEV: Errno = 18;
pub const ENOTDIR: Errno = 20;
pub const EISDIR: Errno = 21;
pub const EINVAL: Errno = 22;
pub const ENFILE: Errno = 23;
pub const EMFILE: Errno = 24;
pub const EFBIG: Errno = 27;
pub const ENOSPC: Errno = 28;
pub const EROFS: Errno = 30;
pub const ENAMETOOLONG: Errno = 38;
pub const ENOSYS: Errno = 40;
pub const ENOTEMPTY: Errno = 41;
pub const ECONNABORTED: Errno = 106;
pub const ELOOP: Errno = 114;
pub const ENOTCONN: Errno = 126;
pub const ETIMEDOUT: Errno = 138;
/// No stale handles on local Windows filesystems; a network share whose
/// name went away (`ERROR_NETNAME_DELETED`) is the nearest.
pub const ESTALE: Errno = WIN32_ERROR | 64;
/// `ERROR_DISK_QUOTA_EXCEEDED`: the CRT has no `EDQUOT`.
pub const EDQUOT: Errno = WIN32_ERROR | 1295;

/// `open` flags as [`openat`] understands them. Windows has no such flags:
/// these values are this backend's own, and `O_NO_SHARE_DELETE` is the one
/// that has no Unix counterpart.
pub mod flags {
    pub const O_RDONLY: i32 = 0;
    pub const O_WRONLY: i32 = 1;
    pub const O_RDWR: i32 = 2;
    pub const O_ACCMODE: i32 = 3;
    pub const O_APPEND: i32 = 0x8;
    pub const O_CREAT: i32 = 0x100;
    pub const O_TRUNC: i32 = 0x200;
    pub const O_EXCL: i32 = 0x400;
    /// Open a reparse point (a symlink) itself (`FILE_FLAG_OPEN_REPARSE_POINT`).
    pub const O_NOFOLLOW: i32 = 0x1000;
    /// Open a directory (`FILE_FLAG_BACKUP_SEMANTICS`).
    pub const O_DIRECTORY: i32 = 0x2000;
    /// `FILE_FLAG_WRITE_THROUGH`.
    pub const O_SYNC: i32 = 0x4000;
    pub const O_DSYNC: i32 = O_SYNC;
    /// Handles are not inherited unless asked: nothing to add.
    pub const O_CLOEXEC: i32 = 0;
    /// Leave `FILE_SHARE_DELETE` out of the share mode: nobody may delete or
    /// rename the file while this handle is open.
    pub const O_NO_SHARE_DELETE: i32 = 0x1_0000;
}

/// File types in `Stat::mode`, with the Unix values: Windows has no mode,
/// so [`fstat`] makes one from the file's attributes.
pub mod file_type {
    pub const S_IFMT: u32 = 0o170000;
    pub const S_IFREG: u32 = 0o100000;
    pub const S_IFDIR: u32 = 0o040000;
    pub const S_IFLNK: u32 = 0o120000;
    pub const S_IFIFO: u32 = 0o010000;
    pub const S_IFCHR: u32 = 0o020000;
    pub const S_IFBLK: u32 = 0o060000;
    pub const S_IFSOCK: u32 = 0o140000;
}

/// An open handle, and for a directory its path (what `*at` calls join
/// names to).
#[derive(Debug)]
pub struct OwnedFd {
    handle: OwnedHandle,
    /// `\\?\C:\…\`, with the final separator, no NUL; empty for a file.
    dir: Box<[u16]>,
}

/// A borrowed [`OwnedFd`]: the handle and the directory path.
#[derive(Debug, Clone, Copy)]
pub struct BorrowedFd<'a> {
    handle: BorrowedHandle<'a>,
    dir: &'a [u16],
}

/// Borrows an [`OwnedFd`] (or a `File`, which names no directory): the
/// Windows stand-in for `std::os::fd::AsFd`.
pub trait AsFd {
    fn as_fd(&self) -> BorrowedFd<'_>;
}

impl AsFd for OwnedFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        BorrowedFd {
            handle: self.handle.as_handle(),
            dir: &self.dir,
        }
    }
}

impl AsFd for std::fs::File {
    fn as_fd(&self) -> BorrowedFd<'_> {
        BorrowedFd {
            handle: self.as_handle(),
            dir: &[],
        }
    }
}

impl From<std::fs::File> for OwnedFd {
    fn from(file: std::fs::File) -> OwnedFd {
        OwnedFd {
            handle: OwnedHandle::from(file),
            dir: Box::new([]),
        }
    }
}

impl BorrowedFd<'_> {
    fn raw(self) -> wf::HANDLE {
        self.handle.as_raw_handle()
    }
}

#[link(name = "ntdll")]
unsafe extern "system" {
    /// The NTSTATUS behind the calling thread's last Win32 error.
    fn RtlGetLastNtStatus() -> i32;
}

/// `STATUS_DELETE_PENDING`.
const STATUS_DELETE_PENDING: i32 = 0xC000_0056_u32 as i32;

/// The errno of the Win32 call that just failed: see the module docs.
/// Reading it allocates nothing.
#[inline]
fn last_errno() -> Errno {
    // SAFETY: `GetLastError` reads the calling thread's last error; no preconditions.
    let code = unsafe { wf::GetLastError() };
    // SAFETY: as above, for the NTSTATUS the error was mapped from.
    let status = unsafe { RtlGetLastNtStatus() };
    errno_of(code, status)
}

/// A Win32 error (and the NTSTATUS it came from) as an [`Errno`].
pub fn errno_of(code: u32, status: i32) -> Errno {
    match code {
        wf::ERROR_FILE_NOT_FOUND | wf::ERROR_PATH_NOT_FOUND => ENOENT,
        wf::ERROR_ACCESS_DENIED if status == STATUS_DELETE_PENDING => DELETE_PENDING,
        wf::ERROR_ACCESS_DENIED => EACCES,
        wf::ERROR_DELETE_PENDING => DELETE_PENDING,
        wf::ERROR_FILE_EXISTS | wf::ERROR_ALREADY_EXISTS => EEXIST,
        wf::ERROR_DIR_NOT_EMPTY => ENOTEMPTY,
        wf::ERROR_DISK_FULL | wf::ERROR_HANDLE_DISK_FULL => ENOSPC,
        wf::ERROR_TOO_MANY_OPEN_FILES => EMFILE,
        wf::ERROR_NOT_ENOUGH_MEMORY | wf::ERROR_OUTOFMEMORY => ENOMEM,
        wf::ERROR_WRITE_PROTECT => EROFS,
        wf::ERROR_INVALID_PARAMETER => EINVAL,
        wf::ERROR_INVALID_HANDLE => EBADF,
        wf::ERROR_DIRECTORY => ENOTDIR,
        wf::ERROR_FILENAME_EXCED_RANGE => ENAMETOOLONG,
        wf::ERROR_NOT_SAME_DEVICE => EXDEV,
        wf::ERROR_CANT_RESOLVE_FILENAME => ELOOP,
        wf::ERROR_BUSY => EBUSY,
        other => WIN32_ERROR | (other & 0xffff) as Errno,
    }
}

/// `FALSE` → errno.
#[inline]
fn check(ok: windows_sys::core::BOOL) -> SysResult<()> {
    if ok == 0 { Err(last_errno()) } else { Ok(()) }
}

/// The longest path [`at`] builds (the `\\?\` form allows 32 767).
const PATH_MAX: usize = 1024;

/// `dir`'s path joined with `name`, NUL-terminated, in `buf`: the path
/// every `*at` wrapper passes on. `ENOTDIR` when `dir` is not a directory
/// handle, `EINVAL` for a name that is not UTF-8.
#[inline]
fn at<'b>(dir: BorrowedFd<'_>, name: &CStr, buf: &'b mut [u16; PATH_MAX]) -> SysResult<&'b [u16]> {
    if dir.dir.is_empty() {
        return Err(ENOTDIR);
    }
    let name = name.to_str().map_err(|_| EINVAL)?;
    let mut n = dir.dir.len();
    if n >= PATH_MAX {
        return Err(ENAMETOOLONG);
    }
    buf[..n].copy_from_slice(dir.dir);
    for unit in name.encode_utf16() {
        if n + 1 >= PATH_MAX {
            return Err(ENAMETOOLONG);
        }
        buf[n] = if unit == u16::from(b'/') {
            u16::from(b'\\')
        } else {
            unit
        };
        n += 1;
    }
    // `.` names the directory itself: `C:\dir\.` is not a `\\?\` path.
    if name == "." {
        n -= 2;
    }
    buf[n] = 0;
    Ok(&buf[..=n])
}

/// `CreateFileW(path, access, share, NULL, disposition, attributes)`.
#[inline]
fn create_file(
    path: &[u16],
    access: u32,
    share: u32,
    disposition: u32,
    attrs: u32,
) -> SysResult<OwnedHandle> {
    // SAFETY: `path` is NUL-terminated; a null security descriptor and
    // template handle are allowed.
    let h = unsafe {
        fs::CreateFileW(
            path.as_ptr(),
            access,
            share,
            std::ptr::null(),
            disposition,
            attrs,
            std::ptr::null_mut(),
        )
    };
    if h == wf::INVALID_HANDLE_VALUE {
        return Err(last_errno());
    }
    // SAFETY: `CreateFileW` just returned this handle and nothing else owns it.
    Ok(unsafe { OwnedHandle::from_raw_handle(h) })
}

/// `openat(dir, name, flags, mode)` as `CreateFileW`: `O_CREAT`/`O_EXCL`/
/// `O_TRUNC` pick the creation disposition, the share mode is read, write
/// and delete unless `O_NO_SHARE_DELETE`; `mode` only sets the read-only
/// attribute of a new file without the owner's write bit.
#[inline]
pub fn openat(dir: BorrowedFd<'_>, name: &CStr, flags: i32, mode: u32) -> SysResult<OwnedFd> {
    use self::flags::*;
    let mut buf = [0u16; PATH_MAX];
    let path = at(dir, name, &mut buf)?;
    let mut access = match flags & O_ACCMODE {
        O_WRONLY => wf::GENERIC_WRITE,
        O_RDWR => wf::GENERIC_READ | wf::GENERIC_WRITE,
        _ => wf::GENERIC_READ,
    };
    if flags & O_APPEND != 0 {
        access = match flags & O_ACCMODE {
            O_RDWR => fs::FILE_APPEND_DATA | wf::GENERIC_READ,
            _ => fs::FILE_APPEND_DATA,
        };
    }
    let disposition = match (
        flags & O_CREAT != 0,
        flags & O_EXCL != 0,
        flags & O_TRUNC != 0,
    ) {
        (true, true, _) => fs::CREATE_NEW,
        (true, false, true) => fs::CREATE_ALWAYS,
        (true, false, false) => fs::OPEN_ALWAYS,
        (false, _, true) => fs::TRUNCATE_EXISTING,
        (false, _, false) => fs::OPEN_EXISTING,
    };
    let mut share = fs::FILE_SHARE_READ | fs::FILE_SHARE_WRITE;
    if flags & O_NO_SHARE_DELETE == 0 {
        share |= fs::FILE_SHARE_DELETE;
    }
    let mut attrs = fs::FILE_ATTRIBUTE_NORMAL;
    if flags & O_CREAT != 0 && mode & 0o200 == 0 {
        attrs = fs::FILE_ATTRIBUTE_READONLY;
    }
    if flags & O_NOFOLLOW != 0 {
        attrs |= fs::FILE_FLAG_OPEN_REPARSE_POINT;
    }
    if flags & O_SYNC != 0 {
        attrs |= fs::FILE_FLAG_WRITE_THROUGH;
    }
    let directory = flags & O_DIRECTORY != 0;
    if directory {
        attrs |= fs::FILE_FLAG_BACKUP_SEMANTICS;
        access = fs::FILE_LIST_DIRECTORY | fs::FILE_READ_ATTRIBUTES | fs::FILE_TRAVERSE;
    }
    let handle = create_file(path, access, share, disposition, attrs)?;
    let dir = if directory {
        let st = handle_info(handle.as_handle().as_raw_handle())?;
        if st.mode & file_type::S_IFMT != file_type::S_IFDIR {
            return Err(ENOTDIR);
        }
        dir_path(&path[..path.len() - 1])
    } else {
        Box::new([])
    };
    Ok(OwnedFd { handle, dir })
}

/// A directory's path with the final separator.
fn dir_path(path: &[u16]) -> Box<[u16]> {
    let mut dir = path.to_vec();
    if dir.last() != Some(&u16::from(b'\\')) {
        dir.push(u16::from(b'\\'));
    }
    dir.into_boxed_slice()
}

/// `ReadFile(fd, buf)`: `Ok(0)` at the end of the file.
#[inline]
pub fn read(fd: BorrowedFd<'_>, buf: &mut [u8]) -> SysResult<usize> {
    let len = u32::try_from(buf.len()).unwrap_or(u32::MAX);
    let mut got = 0u32;
    // SAFETY: `buf` is valid for writes of `len` bytes, `got` for one `u32`;
    // the handle is synchronous, so no `OVERLAPPED` is needed.
    check(unsafe {
        fs::ReadFile(
            fd.raw(),
            buf.as_mut_ptr(),
            len,
            &mut got,
            std::ptr::null_mut(),
        )
    })?;
    Ok(got as usize)
}

/// `WriteFile(fd, buf)`.
#[inline]
pub fn write(fd: BorrowedFd<'_>, buf: &[u8]) -> SysResult<usize> {
    let len = u32::try_from(buf.len()).unwrap_or(u32::MAX);
    let mut put = 0u32;
    // SAFETY: `buf` is valid for reads of `len` bytes, `put` for one `u32`;
    // the handle is synchronous, so no `OVERLAPPED` is needed.
    check(unsafe { fs::WriteFile(fd.raw(), buf.as_ptr(), len, &mut put, std::ptr::null_mut()) })?;
    Ok(put as usize)
}

/// 100 ns ticks from 1601-01-01 to 1970-01-01.
const UNIX_EPOCH_TICKS: i64 = 116_444_736_000_000_000;

/// A `FILETIME` as Unix seconds and nanoseconds.
fn unix_time(ft: wf::FILETIME) -> (i64, i64) {
    let ticks = ((u64::from(ft.dwHighDateTime) << 32) | u64::from(ft.dwLowDateTime)) as i64
        - UNIX_EPOCH_TICKS;
    (
        ticks.div_euclid(10_000_000),
        ticks.rem_euclid(10_000_000) * 100,
    )
}

/// `GetFileInformationByHandle(handle)` as a [`Stat`]: the volume serial
/// number is `dev`, the file index `ino`, the link count `nlink` less the
/// name being deleted ([`delete_pending`]), so that a file deleted while
/// open has `nlink == 0` as on Unix; the mode is made from the attributes;
/// `ctime` is the last write (the call gives no change time); ids, block
/// size and blocks are 0.
fn handle_info(handle: wf::HANDLE) -> SysResult<Stat> {
    let mut info = MaybeUninit::<fs::BY_HANDLE_FILE_INFORMATION>::uninit();
    // SAFETY: `info` is writable for one `BY_HANDLE_FILE_INFORMATION`; the
    // handle is borrowed for the call.
    check(unsafe { fs::GetFileInformationByHandle(handle, info.as_mut_ptr()) })?;
    // SAFETY: the call succeeded, so it filled the struct.
    let info = unsafe { info.assume_init() };
    let attrs = info.dwFileAttributes;
    let kind = if attrs & fs::FILE_ATTRIBUTE_REPARSE_POINT != 0 {
        file_type::S_IFLNK
    } else if attrs & fs::FILE_ATTRIBUTE_DIRECTORY != 0 {
        file_type::S_IFDIR
    } else {
        file_type::S_IFREG
    };
    let perm = match (kind, attrs & fs::FILE_ATTRIBUTE_READONLY != 0) {
        (file_type::S_IFDIR, _) => 0o755,
        (_, true) => 0o444,
        (_, false) => 0o644,
    };
    let (atime_s, atime_ns) = unix_time(info.ftLastAccessTime);
    let (mtime_s, mtime_ns) = unix_time(info.ftLastWriteTime);
    Ok(Stat {
        dev: u64::from(info.dwVolumeSerialNumber),
        ino: (u64::from(info.nFileIndexHigh) << 32) | u64::from(info.nFileIndexLow),
        mode: kind | perm,
        nlink: u64::from(info.nNumberOfLinks).saturating_sub(u64::from(delete_pending(handle))),
        uid: 0,
        gid: 0,
        rdev: 0,
        size: ((u64::from(info.nFileSizeHigh) << 32) | u64::from(info.nFileSizeLow)) as i64,
        blksize: 0,
        blocks: 0,
        atime_s,
        atime_ns,
        mtime_s,
        mtime_ns,
        ctime_s: mtime_s,
        ctime_ns: mtime_ns,
    })
}

/// `GetFileInformationByHandleEx(handle, FileStandardInfo)`: whether the
/// file is being deleted (`false` when the call fails).
fn delete_pending(handle: wf::HANDLE) -> bool {
    let mut info = MaybeUninit::<fs::FILE_STANDARD_INFO>::uninit();
    // SAFETY: `info` is writable for one `FILE_STANDARD_INFO`, the size
    // passed; the handle is borrowed for the call.
    let ok = unsafe {
        fs::GetFileInformationByHandleEx(
            handle,
            fs::FileStandardInfo,
            info.as_mut_ptr().cast(),
            size_of::<fs::FILE_STANDARD_INFO>() as u32,
        )
    };
    // SAFETY: the call succeeded, so it filled the struct.
    ok != 0 && unsafe { info.assume_init() }.DeletePending
}

/// `fstat(fd)`: [`handle_info`] of the handle.
#[inline]
pub fn fstat(fd: BorrowedFd<'_>) -> SysResult<Stat> {
    handle_info(fd.raw())
}

/// `fstatat(dir, name)` without following a final reparse point: the name
/// opened for its attributes only (every share mode), then [`handle_info`].
pub fn fstatat(dir: BorrowedFd<'_>, name: &CStr) -> SysResult<Stat> {
    let mut buf = [0u16; PATH_MAX];
    let path = at(dir, name, &mut buf)?;
    let handle = create_file(
        path,
        fs::FILE_READ_ATTRIBUTES,
        fs::FILE_SHARE_READ | fs::FILE_SHARE_WRITE | fs::FILE_SHARE_DELETE,
        fs::OPEN_EXISTING,
        fs::FILE_FLAG_BACKUP_SEMANTICS | fs::FILE_FLAG_OPEN_REPARSE_POINT,
    )?;
    handle_info(handle.as_raw_handle())
}

/// Windows files have no mode bits to set: a no-op.
pub fn fchmod(_fd: BorrowedFd<'_>, _mode: u32) -> SysResult<()> {
    Ok(())
}

/// Windows files have no numeric owner: a no-op.
pub fn fchown(_fd: BorrowedFd<'_>, _uid: u32, _gid: u32) -> SysResult<()> {
    Ok(())
}

/// `FlushFileBuffers(fd)`.
pub fn fsync(fd: BorrowedFd<'_>) -> SysResult<()> {
    // SAFETY: the handle is borrowed for the call; a bad one is an error.
    check(unsafe { fs::FlushFileBuffers(fd.raw()) })
}

/// A process may hold about 2^24 handles: Windows has no lower soft limit.
pub fn descriptor_limit() -> SysResult<u64> {
    Ok(1 << 24)
}

/// Windows has no numeric user id: never root's 0.
pub fn geteuid() -> u32 {
    u32::MAX
}

/// `unlinkat(dir, name, 0)` as `DeleteFileW`: the name stays, delete
/// pending, while another handle is open (unless the filesystem deletes
/// with POSIX semantics by default, as NTFS on recent Windows 10 and 11 does).
#[inline]
pub fn unlinkat(dir: BorrowedFd<'_>, name: &CStr) -> SysResult<()> {
    let mut buf = [0u16; PATH_MAX];
    let path = at(dir, name, &mut buf)?;
    // SAFETY: `path` is NUL-terminated.
    check(unsafe { fs::DeleteFileW(path.as_ptr()) })
}

/// POSIX-semantics delete: the name opened for `DELETE` (every share mode),
/// then `SetFileInformationByHandle(FileDispositionInfoEx)` with
/// `FILE_DISPOSITION_FLAG_DELETE | FILE_DISPOSITION_FLAG_POSIX_SEMANTICS`:
/// the name goes at once, open handles keep working (Windows 10 1607 and
/// later; NTFS only, elsewhere `EINVAL` or `ERROR_NOT_SUPPORTED`).
#[inline]
pub fn unlinkat_posix(dir: BorrowedFd<'_>, name: &CStr) -> SysResult<()> {
    let mut buf = [0u16; PATH_MAX];
    let path = at(dir, name, &mut buf)?;
    let handle = create_file(
        path,
        fs::DELETE,
        fs::FILE_SHARE_READ | fs::FILE_SHARE_WRITE | fs::FILE_SHARE_DELETE,
        fs::OPEN_EXISTING,
        fs::FILE_FLAG_OPEN_REPARSE_POINT,
    )?;
    let info = fs::FILE_DISPOSITION_INFO_EX {
        Flags: fs::FILE_DISPOSITION_FLAG_DELETE | fs::FILE_DISPOSITION_FLAG_POSIX_SEMANTICS,
    };
    // SAFETY: `info` is a valid `FILE_DISPOSITION_INFO_EX` of the size
    // passed; the handle was opened with `DELETE` access.
    check(unsafe {
        fs::SetFileInformationByHandle(
            handle.as_raw_handle(),
            fs::FileDispositionInfoEx,
            (&info as *const fs::FILE_DISPOSITION_INFO_EX).cast(),
            size_of::<fs::FILE_DISPOSITION_INFO_EX>() as u32,
        )
    })
}

/// `unlinkat(dir, name, AT_REMOVEDIR)` as `RemoveDirectoryW`.
pub fn rmdirat(dir: BorrowedFd<'_>, name: &CStr) -> SysResult<()> {
    let mut buf = [0u16; PATH_MAX];
    let path = at(dir, name, &mut buf)?;
    // SAFETY: `path` is NUL-terminated.
    check(unsafe { fs::RemoveDirectoryW(path.as_ptr()) })
}

/// `mkdirat(dir, name, mode)` as `CreateDirectoryW`; the mode has no meaning here.
pub fn mkdirat(dir: BorrowedFd<'_>, name: &CStr, _mode: u32) -> SysResult<()> {
    let mut buf = [0u16; PATH_MAX];
    let path = at(dir, name, &mut buf)?;
    // SAFETY: `path` is NUL-terminated; a null security descriptor is allowed.
    check(unsafe { fs::CreateDirectoryW(path.as_ptr(), std::ptr::null()) })
}

/// `renameat(from_dir, from, to_dir, to)` as `MoveFileExW` with
/// `MOVEFILE_REPLACE_EXISTING`.
#[inline]
pub fn renameat(
    from_dir: BorrowedFd<'_>,
    from: &CStr,
    to_dir: BorrowedFd<'_>,
    to: &CStr,
) -> SysResult<()> {
    let mut from_buf = [0u16; PATH_MAX];
    let mut to_buf = [0u16; PATH_MAX];
    let from = at(from_dir, from, &mut from_buf)?;
    let to = at(to_dir, to, &mut to_buf)?;
    // SAFETY: both paths are NUL-terminated.
    check(unsafe { fs::MoveFileExW(from.as_ptr(), to.as_ptr(), fs::MOVEFILE_REPLACE_EXISTING) })
}

/// `faccessat(dir, name, F_OK)` as `GetFileAttributesW`: `Ok(true)` when the
/// name exists, `Ok(false)` on `ENOENT`, the errno otherwise (a name being
/// deleted gives [`DELETE_PENDING`]).
#[inline]
pub fn exists_at(dir: BorrowedFd<'_>, name: &CStr) -> SysResult<bool> {
    let mut buf = [0u16; PATH_MAX];
    let path = at(dir, name, &mut buf)?;
    // SAFETY: `path` is NUL-terminated.
    if unsafe { fs::GetFileAttributesW(path.as_ptr()) } != fs::INVALID_FILE_ATTRIBUTES {
        return Ok(true);
    }
    match last_errno() {
        ENOENT => Ok(false),
        e => Err(e),
    }
}

/// `CloseHandle(fd)`, reporting its error (dropping an `OwnedFd` ignores it).
#[inline]
pub fn close(fd: OwnedFd) -> SysResult<()> {
    let handle = std::os::windows::io::IntoRawHandle::into_raw_handle(fd.handle);
    // SAFETY: `into_raw_handle` gave up ownership, so it is closed exactly once.
    check(unsafe { wf::CloseHandle(handle) })
}

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

/// `uname()`-like fields: `Windows`, the computer name, the version
/// (`10.0.26100`) and the architecture.
pub fn uname() -> Uname {
    let v = platform::version_numbers();
    Uname {
        sysname: "Windows".into(),
        nodename: std::env::var("COMPUTERNAME").unwrap_or_default(),
        release: format!("{}.{}.{}", v.0, v.1, v.2),
        machine: std::env::consts::ARCH.into(),
    }
}

/// Errors that say the environment failed rather than the race: full disk or
/// quota, read-only volume, handle or memory limits.
pub fn is_environment_errno(errno: Errno) -> bool {
    matches!(errno, ENOSPC | EDQUOT | EROFS | EMFILE | ENFILE | ENOMEM)
}

/// `GetFinalPathNameByHandleW(fd)`: where the handle's file is now.
pub fn fd_path(fd: BorrowedFd<'_>) -> Option<std::path::PathBuf> {
    final_path(fd.raw()).map(|w| std::path::PathBuf::from(String::from_utf16_lossy(&w)))
}

/// The handle's path, `\\?\` form, without NUL.
fn final_path(handle: wf::HANDLE) -> Option<Vec<u16>> {
    let mut buf = vec![0u16; 512];
    loop {
        // SAFETY: `buf` is writable for `buf.len()` UTF-16 units.
        let n = unsafe {
            fs::GetFinalPathNameByHandleW(
                handle,
                buf.as_mut_ptr(),
                buf.len() as u32,
                fs::FILE_NAME_NORMALIZED,
            )
        } as usize;
        if n == 0 {
            return None;
        }
        if n < buf.len() {
            buf.truncate(n);
            return Some(buf);
        }
        buf.resize(n + 1, 0);
    }
}

/// Opens a directory without following a final reparse point, keeping
/// its final path for the `*at` wrappers.
pub fn open_dir(path: &std::path::Path) -> std::io::Result<OwnedFd> {
    open_directory(path, fs::FILE_FLAG_OPEN_REPARSE_POINT)
}

/// Opens a directory, following reparse points.
pub fn open_dir_following(path: &std::path::Path) -> std::io::Result<OwnedFd> {
    open_directory(path, 0)
}

fn open_directory(path: &std::path::Path, extra: u32) -> std::io::Result<OwnedFd> {
    use std::os::windows::ffi::OsStrExt;
    let wide: Vec<u16> = path.as_os_str().encode_wide().chain([0]).collect();
    let handle = create_file(
        &wide,
        fs::FILE_LIST_DIRECTORY | fs::FILE_READ_ATTRIBUTES | fs::FILE_TRAVERSE,
        fs::FILE_SHARE_READ | fs::FILE_SHARE_WRITE | fs::FILE_SHARE_DELETE,
        fs::OPEN_EXISTING,
        fs::FILE_FLAG_BACKUP_SEMANTICS | extra,
    )
    .map_err(io_error)?;
    let st = handle_info(handle.as_raw_handle()).map_err(io_error)?;
    if st.mode & file_type::S_IFMT != file_type::S_IFDIR {
        return Err(io_error(ENOTDIR));
    }
    let full = final_path(handle.as_raw_handle()).ok_or_else(std::io::Error::last_os_error)?;
    Ok(OwnedFd {
        handle,
        dir: dir_path(&full),
    })
}

/// An [`Errno`] as an `io::Error` whose message says what it is.
pub fn io_error(errno: Errno) -> std::io::Error {
    let name = errno_name(errno);
    match errno {
        ENOENT => std::io::ErrorKind::NotFound.into(),
        EEXIST => std::io::ErrorKind::AlreadyExists.into(),
        EACCES => std::io::ErrorKind::PermissionDenied.into(),
        _ if errno & WIN32_ERROR != 0 => std::io::Error::from_raw_os_error(errno & 0xffff),
        _ => std::io::Error::other(if name.is_empty() {
            format!("errno {errno}")
        } else {
            name.into()
        }),
    }
}

/// Words of memory that processes share: a file mapped with
/// `CreateFileMappingW` and `MapViewOfFile`, read and written only through
/// atomics (the create race's start line when the workers are processes).
#[derive(Debug)]
pub struct SharedWords {
    view: std::ptr::NonNull<AtomicU64>,
    len: usize,
    /// The mapping object, closed after the view is unmapped.
    _mapping: OwnedHandle,
}

// SAFETY: the view is only ever accessed through `AtomicU64`s, which are
// safe to share and to send between threads.
unsafe impl Send for SharedWords {}
// SAFETY: as above: every access is atomic.
unsafe impl Sync for SharedWords {}

impl SharedWords {
    /// Maps the first `len` words of `file`, which must be at least that long.
    pub fn map(file: &std::fs::File, len: usize) -> std::io::Result<SharedWords> {
        use windows_sys::Win32::System::Memory as mem;
        let len = len.max(1);
        let bytes = shared_bytes(file, len)?;
        // SAFETY: the file's handle is borrowed for the call; a null name and
        // security descriptor are allowed; size 0 maps the whole file.
        let mapping = unsafe {
            mem::CreateFileMappingW(
                file.as_raw_handle(),
                std::ptr::null(),
                mem::PAGE_READWRITE,
                0,
                0,
                std::ptr::null(),
            )
        };
        if mapping.is_null() {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `CreateFileMappingW` just returned this handle and nothing else owns it.
        let mapping = unsafe { OwnedHandle::from_raw_handle(mapping) };
        // SAFETY: a fresh view of the first `bytes` bytes of the mapping;
        // the system picks the address, so it overlaps nothing of ours.
        let view = unsafe {
            mem::MapViewOfFile(mapping.as_raw_handle(), mem::FILE_MAP_WRITE, 0, 0, bytes)
        };
        let view =
            std::ptr::NonNull::new(view.Value.cast()).ok_or_else(std::io::Error::last_os_error)?;
        Ok(SharedWords {
            view,
            len,
            _mapping: mapping,
        })
    }

    /// The words, as atomics.
    pub fn words(&self) -> &[AtomicU64] {
        // SAFETY: the view is `len` page-aligned words, valid until drop,
        // and `AtomicU64` has the size and alignment of a `u64`.
        unsafe { std::slice::from_raw_parts(self.view.as_ptr(), self.len) }
    }
}

impl Drop for SharedWords {
    fn drop(&mut self) {
        use windows_sys::Win32::System::Memory as mem;
        let view = mem::MEMORY_MAPPED_VIEW_ADDRESS {
            Value: self.view.as_ptr().cast(),
        };
        // SAFETY: the view made in `map`, unmapped once.
        unsafe { mem::UnmapViewOfFile(view) };
    }
}

/// The volume serial number and file index of what `path` names
/// (following reparse points), if it exists.
pub fn file_id(path: &std::path::Path) -> Option<(u64, u64)> {
    let file = std::fs::File::open(path).ok()?;
    handle_info(file.as_raw_handle())
        .ok()
        .map(|st| (st.dev, st.ino))
}

/// Symbolic name of an errno, for reports (`""` when unknown: the number is kept anyway).
pub fn errno_name(errno: Errno) -> &'static str {
    match errno {
        0 => "",
        EPERM => "EPERM",
        ENOENT => "ENOENT",
        EINTR => "EINTR",
        EIO => "EIO",
        EBADF => "EBADF",
        EAGAIN => "EAGAIN",
        ENOMEM => "ENOMEM",
        EACCES => "EACCES",
        EBUSY => "EBUSY",
        EEXIST => "EEXIST",
        EXDEV => "EXDEV",
        ENOTDIR => "ENOTDIR",
        EISDIR => "EISDIR",
        EINVAL => "EINVAL",
        ENFILE => "ENFILE",
        EMFILE => "EMFILE",
        EFBIG => "EFBIG",
        ENOSPC => "ENOSPC",
        EROFS => "EROFS",
        ELOOP => "ELOOP",
        ENAMETOOLONG => "ENAMETOOLONG",
        ENOTEMPTY => "ENOTEMPTY",
        ENOTCONN => "ENOTCONN",
        ECONNABORTED => "ECONNABORTED",
        ETIMEDOUT => "ETIMEDOUT",
        ENOSYS => "ENOSYS",
        _ => win32_error_name(errno),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn win32_errors_map_to_errnos_and_keep_the_windows_ones() {
        assert_eq!(errno_of(wf::ERROR_FILE_NOT_FOUND, 0), ENOENT);
        assert_eq!(errno_of(wf::ERROR_PATH_NOT_FOUND, 0), ENOENT);
        assert_eq!(errno_of(wf::ERROR_FILE_EXISTS, 0), EEXIST);
        assert_eq!(errno_of(wf::ERROR_ACCESS_DENIED, 0), EACCES);
        assert_eq!(
            errno_of(wf::ERROR_ACCESS_DENIED, STATUS_DELETE_PENDING),
            DELETE_PENDING
        );
        assert_eq!(errno_of(wf::ERROR_SHARING_VIOLATION, 0), SHARING_VIOLATION);
        assert_eq!(errno_name(SHARING_VIOLATION), "ERROR_SHARING_VIOLATION");
        assert_eq!(errno_name(DELETE_PENDING), "ERROR_DELETE_PENDING");
        assert_eq!(errno_of(999, 0), WIN32_ERROR | 999);
    }

    #[test]
    fn a_directory_handle_opens_names_in_it_and_reports_them_gone() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = open_dir(tmp.path()).unwrap();
        let d = dir.as_fd();
        let fd = openat(
            d,
            c"f",
            flags::O_WRONLY | flags::O_CREAT | flags::O_EXCL,
            0o600,
        )
        .unwrap();
        assert_eq!(write(fd.as_fd(), b"CONTENT"), Ok(7));
        let st = fstat(fd.as_fd()).unwrap();
        assert_eq!(
            (st.size, st.mode & file_type::S_IFMT),
            (7, file_type::S_IFREG)
        );
        assert_ne!(st.ino, 0);
        close(fd).unwrap();
        assert_eq!(
            openat(
                d,
                c"f",
                flags::O_WRONLY | flags::O_CREAT | flags::O_EXCL,
                0o600
            )
            .err(),
            Some(EEXIST)
        );
        let fd = openat(d, c"f", flags::O_RDONLY, 0).unwrap();
        let mut buf = [0u8; 16];
        assert_eq!(read(fd.as_fd(), &mut buf), Ok(7));
        assert_eq!(read(fd.as_fd(), &mut buf), Ok(0));
        drop(fd);
        assert_eq!(exists_at(d, c"f"), Ok(true));
        renameat(d, c"f", d, c"g").unwrap();
        unlinkat(d, c"g").unwrap();
        assert_eq!(exists_at(d, c"g"), Ok(false));
        assert_eq!(openat(d, c"g", flags::O_RDONLY, 0).err(), Some(ENOENT));
        assert_eq!(unlinkat(d, c"g"), Err(ENOENT));
        mkdirat(d, c"sub", 0o700).unwrap();
        assert_eq!(
            fstatat(d, c"sub").unwrap().mode & file_type::S_IFMT,
            file_type::S_IFDIR
        );
        rmdirat(d, c"sub").unwrap();
        assert!(fstat(d).unwrap().nlink > 0);
    }

    #[test]
    fn a_file_deleted_while_open_goes_when_its_last_handle_closes() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = open_dir(tmp.path()).unwrap();
        let d = dir.as_fd();
        let fd = openat(d, c"f", flags::O_WRONLY | flags::O_CREAT, 0o600).unwrap();
        assert_eq!(fstat(fd.as_fd()).unwrap().nlink, 1);
        unlinkat(d, c"f").unwrap();
        // Windows: delete-pending, and `nlink` 0; NTFS with POSIX deletes by
        // default: gone at once; Wine: still there until the close.
        let st = fstat(fd.as_fd()).unwrap();
        assert!(st.nlink <= 1, "{st:?}");
        match openat(d, c"f", flags::O_RDONLY, 0) {
            Ok(again) => drop(again),
            Err(e) => assert!(matches!(e, ENOENT | DELETE_PENDING), "{e}"),
        }
        close(fd).unwrap();
        assert_eq!(exists_at(d, c"f"), Ok(false));
    }

    #[test]
    fn the_clock_moves_forward() {
        let a = monotonic_ns();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let b = monotonic_ns();
        assert!(b - a >= 10_000_000, "{a} → {b}");
    }
}
