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
//!
//! Here: handles, paths and the calls on names; `errno_codes.rs` the errnos
//! and the Win32 errors behind them, `file_info.rs` what a handle names
//! (`fstat`), `clock.rs` the clocks, `shared_words.rs` memory that
//! processes share, `platform.rs` what reports say about the machine. The
//! `allow(unsafe_code)` below covers them all.
#![allow(unsafe_code)]

mod clock;
mod errno_codes;
mod file_info;
pub mod platform;
mod shared_words;
#[path = "../types.rs"]
mod types;

use std::ffi::CStr;
use std::os::windows::io::{AsHandle, AsRawHandle, BorrowedHandle, FromRawHandle, OwnedHandle};

use windows_sys::Win32::Foundation as wf;
use windows_sys::Win32::Storage::FileSystem as fs;

pub use clock::*;
pub use errno_codes::*;
use file_info::handle_info;
pub use file_info::{file_id, fstat, fstatat};
pub use shared_words::SharedWords;
pub use types::*;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
