//! What both backends of [`crate::sys`] share: the numeric errno, the
//! records of `fstat`, `fstatvfs` and `uname`, the Windows errors that have
//! no POSIX errno, and what is built from the wrappers alone.

use super::{BorrowedFd, ENOENT, fstatat};

/// A raw `errno` value, kept as the kernel returned it.
pub type Errno = i32;

/// Result of one syscall: the value, or the raw errno.
pub type SysResult<T> = Result<T, Errno>;

/// Every field `fstat` returns, widened to one integer type per field so
/// that it reads the same on every target.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Stat {
    pub dev: u64,
    pub ino: u64,
    pub mode: u32,
    pub nlink: u64,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
    pub size: i64,
    pub blksize: i64,
    pub blocks: i64,
    pub atime_s: i64,
    pub atime_ns: i64,
    pub mtime_s: i64,
    pub mtime_ns: i64,
    pub ctime_s: i64,
    pub ctime_ns: i64,
}

/// What `fstatvfs` says about a filesystem, in the units `statvfs` uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FsStats {
    pub blocks: u64,
    pub blocks_free: u64,
    pub blocks_available: u64,
    pub files: u64,
    pub files_free: u64,
    pub block_size: u64,
    pub fragment_size: u64,
    pub name_max: u64,
}

/// `uname()` fields as strings.
#[derive(Debug, Clone, Default)]
pub struct Uname {
    pub sysname: String,
    pub nodename: String,
    pub release: String,
    pub machine: String,
}

/// The process id.
pub fn getpid() -> u32 {
    std::process::id()
}

/// Whether the directory `dir` names is still usable: `None` when a lookup
/// in it works and it still has a link, else the errno that says why not
/// (`ENOENT` for a removed directory, `EACCES`, `EIO` from a filesystem that
/// was shut down, `ENOTCONN` from a FUSE filesystem whose server is gone).
#[cold]
pub fn dir_failure(dir: BorrowedFd<'_>) -> Option<Errno> {
    match fstatat(dir, c".") {
        Err(e) => Some(e),
        Ok(st) if st.nlink == 0 => Some(ENOENT),
        Ok(_) => None,
    }
}

/// Windows errors that have no POSIX errno are kept as this bit plus the
/// Win32 error code, so that no errno of any Unix collides with them.
pub const WIN32_ERROR: Errno = 0x4000_0000;

/// A create, open or delete of a name whose file is being deleted: Win32
/// `ERROR_ACCESS_DENIED` (5) with NTSTATUS `STATUS_DELETE_PENDING`
/// (`0xC0000056`), kept as `ERROR_DELETE_PENDING` (303). Never seen on Unix.
pub const DELETE_PENDING: Errno = WIN32_ERROR | 303;

/// A handle that the share modes of the handles already open refuse:
/// Win32 `ERROR_SHARING_VIOLATION` (32), NTSTATUS
/// `STATUS_SHARING_VIOLATION` (`0xC0000043`). Never seen on Unix.
pub const SHARING_VIOLATION: Errno = WIN32_ERROR | 32;

/// The name of a Windows error kept as [`WIN32_ERROR`] plus its code
/// (`""` when unknown: the number is kept anyway).
pub fn win32_error_name(errno: Errno) -> &'static str {
    if errno & WIN32_ERROR == 0 {
        return "";
    }
    match errno & !WIN32_ERROR {
        32 => "ERROR_SHARING_VIOLATION",
        33 => "ERROR_LOCK_VIOLATION",
        50 => "ERROR_NOT_SUPPORTED",
        64 => "ERROR_NETNAME_DELETED",
        123 => "ERROR_INVALID_NAME",
        303 => "ERROR_DELETE_PENDING",
        1117 => "ERROR_IO_DEVICE",
        1295 => "ERROR_DISK_QUOTA_EXCEEDED",
        _ => "",
    }
}

/// The descriptor limit before and after [`super::platform::raise_fd_limit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FdLimit {
    /// Soft limit found at start.
    pub before: u64,
    /// Soft limit in force now.
    pub now: u64,
}

/// Filesystem type and mount point of the filesystem holding `dir`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FsInfo {
    pub fs_type: String,
    pub mount_point: String,
}

/// OS version as reports name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsVersion {
    /// Short version (`12`, `10.15.7`).
    pub version: String,
    /// Human-readable name (`Debian GNU/Linux 12 (bookworm)`, `macOS 10.15.7`).
    pub name: String,
}

/// The bytes of `len` shared words, or an error when `file` is shorter
/// (a new file is zeros once [`std::fs::File::set_len`] made it long enough).
pub(crate) fn shared_bytes(file: &std::fs::File, len: usize) -> std::io::Result<usize> {
    let bytes = len * size_of::<u64>();
    if file.metadata()?.len() < bytes as u64 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("shared memory file is shorter than {bytes} bytes"),
        ));
    }
    Ok(bytes)
}
