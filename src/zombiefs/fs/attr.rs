//! Conversions between the backing directory and FUSE: errno values, names,
//! `/proc/self/fd` paths, and the attributes a node (or a zombie, or the
//! stats file) reports.

use std::ffi::{CString, OsStr};
use std::fs::{File, OpenOptions};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fuser::{Errno, FileAttr, FileType, INodeNo};

use super::super::STATS_FILE;
use super::super::table::{Key, ROOT, STATS_NODE};
use crate::sys::Stat;
use crate::sys::{self, flags};

/// A raw errno from the syscall layer as a FUSE error.
pub(super) fn errno(e: sys::Errno) -> Errno {
    Errno::from_i32(e)
}

pub(super) fn io_errno(e: &std::io::Error) -> Errno {
    Errno::from_i32(e.raw_os_error().unwrap_or(libc::EIO))
}

pub(super) fn cname(name: &OsStr) -> Result<CString, Errno> {
    CString::new(name.as_bytes()).map_err(|_| Errno::EINVAL)
}

/// The path through which a descriptor can be reopened with other flags.
pub(super) fn proc_path(fd: &OwnedFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

pub(super) fn proc_cpath(fd: &OwnedFd) -> CString {
    CString::new(format!("/proc/self/fd/{}", fd.as_raw_fd())).expect("no NUL in a number")
}

pub(super) fn key(st: &Stat) -> Key {
    (st.dev, st.ino)
}

pub(super) fn kind(mode: u32) -> FileType {
    match mode & libc::S_IFMT {
        libc::S_IFDIR => FileType::Directory,
        libc::S_IFLNK => FileType::Symlink,
        libc::S_IFIFO => FileType::NamedPipe,
        libc::S_IFSOCK => FileType::Socket,
        libc::S_IFCHR => FileType::CharDevice,
        libc::S_IFBLK => FileType::BlockDevice,
        _ => FileType::RegularFile,
    }
}

pub(super) fn time(s: i64, ns: i64) -> SystemTime {
    let ns = ns.clamp(0, 999_999_999) as u32;
    if s >= 0 {
        UNIX_EPOCH + Duration::new(s as u64, ns)
    } else {
        UNIX_EPOCH - Duration::new(s.unsigned_abs(), 0) + Duration::new(0, ns)
    }
}

/// The attributes of node `id`, whose backing inode has `st`.
pub(super) fn attr(id: u64, st: &Stat) -> FileAttr {
    FileAttr {
        ino: INodeNo(id),
        size: st.size.max(0) as u64,
        blocks: st.blocks.max(0) as u64,
        atime: time(st.atime_s, st.atime_ns),
        mtime: time(st.mtime_s, st.mtime_ns),
        ctime: time(st.ctime_s, st.ctime_ns),
        crtime: UNIX_EPOCH,
        kind: kind(st.mode),
        perm: (st.mode & 0o7777) as u16,
        nlink: st.nlink.min(u32::MAX as u64) as u32,
        uid: st.uid,
        gid: st.gid,
        rdev: st.rdev as u32,
        blksize: st.blksize.clamp(512, 1 << 30) as u32,
        flags: 0,
    }
}

/// What `fstat` on a dead macOS vnode reports (docs/zombiefs.md).
pub(super) fn zombie_attr() -> FileAttr {
    FileAttr {
        ino: INodeNo(0),
        size: 0,
        blocks: 0,
        atime: UNIX_EPOCH,
        mtime: UNIX_EPOCH,
        ctime: UNIX_EPOCH,
        crtime: UNIX_EPOCH,
        kind: FileType::RegularFile,
        perm: 0,
        nlink: 1,
        uid: 0,
        gid: 0,
        rdev: 0,
        blksize: 4096,
        flags: 0,
    }
}

/// The stats file: read-only, sized like the JSON it would serve now.
pub(super) fn stats_attr(len: usize) -> FileAttr {
    let now = SystemTime::now();
    FileAttr {
        ino: INodeNo(STATS_NODE),
        size: len as u64,
        blocks: len.div_ceil(512) as u64,
        atime: now,
        mtime: now,
        ctime: now,
        crtime: now,
        kind: FileType::RegularFile,
        perm: 0o444,
        nlink: 1,
        uid: 0,
        gid: 0,
        rdev: 0,
        blksize: 4096,
        flags: 0,
    }
}

/// Flags for reopening a backing file: the access mode and the flags that
/// change what I/O does; `O_CREAT`, `O_EXCL`, `O_NOCTTY` and `O_DIRECT` are
/// the kernel's business (or would need aligned buffers).
pub(super) fn reopen_flags(flags: i32) -> i32 {
    flags & (flags::O_TRUNC | flags::O_APPEND | flags::O_SYNC | flags::O_DSYNC)
}

pub(super) fn reopen(fd: &OwnedFd, flags: i32) -> std::io::Result<File> {
    let acc = flags & flags::O_ACCMODE;
    OpenOptions::new()
        .read(acc == flags::O_RDONLY || acc == flags::O_RDWR)
        .write(acc == flags::O_WRONLY || acc == flags::O_RDWR)
        .custom_flags(reopen_flags(flags))
        .open(proc_path(fd))
}

pub(super) fn is_stats_name(parent: INodeNo, name: &OsStr) -> bool {
    parent.0 == ROOT && name.as_bytes() == STATS_FILE.as_bytes()
}
