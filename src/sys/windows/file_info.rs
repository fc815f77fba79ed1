//! What a handle names: `GetFileInformationByHandle` as a [`Stat`], with a
//! file being deleted counted as unlinked, for `fstat`, `fstatat` and
//! `file_id`.

use std::ffi::CStr;
use std::mem::MaybeUninit;
use std::os::windows::io::AsRawHandle;

use windows_sys::Win32::Foundation as wf;
use windows_sys::Win32::Storage::FileSystem as fs;

use super::errno_codes::check;
use super::{BorrowedFd, PATH_MAX, Stat, SysResult, at, create_file, file_type};

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
pub(super) fn handle_info(handle: wf::HANDLE) -> SysResult<Stat> {
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

/// The volume serial number and file index of what `path` names
/// (following reparse points), if it exists.
pub fn file_id(path: &std::path::Path) -> Option<(u64, u64)> {
    let file = std::fs::File::open(path).ok()?;
    handle_info(file.as_raw_handle())
        .ok()
        .map(|st| (st.dev, st.ino))
}
