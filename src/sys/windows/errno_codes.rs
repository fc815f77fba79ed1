//! Errors on Windows: the C runtime's errno values, the Win32 error (and
//! the NTSTATUS behind it) mapped onto them, their names, and which of them
//! say the environment failed rather than the race.

use windows_sys::Win32::Foundation as wf;

use super::{DELETE_PENDING, Errno, SysResult, WIN32_ERROR, win32_error_name};

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
pub(super) fn last_errno() -> Errno {
    // SAFETY: `GetLastError` reads the calling thread's last error; no preconditions.
    let code = unsafe { wf::GetLastError() };
    // SAFETY: as above, for the NTSTATUS the error was mapped from.
    let status = unsafe { RtlGetLastNtStatus() };
    errno_of(code, status)
}

/// A Win32 error (and the NTSTATUS it came from) as an [`Errno`].
fn errno_of(code: u32, status: i32) -> Errno {
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
pub(super) fn check(ok: windows_sys::core::BOOL) -> SysResult<()> {
    if ok == 0 { Err(last_errno()) } else { Ok(()) }
}

/// Errors that say the environment failed rather than the race: full disk or
/// quota, read-only volume, handle or memory limits.
pub fn is_environment_errno(errno: Errno) -> bool {
    matches!(errno, ENOSPC | EDQUOT | EROFS | EMFILE | ENFILE | ENOMEM)
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
    use super::super::SHARING_VIOLATION;
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
}
