//! The FUSE operations: a passthrough to the backing directory, plus zombies.
//!
//! Every reply carries entry and attribute timeouts of 0, so the kernel asks
//! again each time: each `open` of a name sends a fresh `LOOKUP` (which makes
//! the race window real) and each `fstat` a fresh `GETATTR` (which is how a
//! zombie's signature reaches the program). Files are opened with
//! `FOPEN_DIRECT_IO`: reads go to the backing file through the handle, never
//! to a page cache that a zombie's `GETATTR` (size 0) would truncate.
//! Shared `mmap` of such files needs Linux 6.6 or later
//! (`FUSE_DIRECT_IO_ALLOW_MMAP`); older kernels refuse it with `ENODEV`.
//!
//! Operations that change names (lookup, create, unlink, rename, ...) run
//! under the table lock together with their backing syscall, so the table
//! always agrees with the backing directory about which inode a name holds.
//! Reads and writes run outside it. Changes made to the backing directory
//! from outside the mount are not tracked.
//!
//! Here: the `Filesystem` operations and their replies; `state.rs` the
//! machinery they share (the table lock, the stall, the coin), `attr.rs`
//! attributes and conversions, `ops.rs` the longer operations.

mod attr;
mod ops;
mod state;

use std::ffi::OsStr;
use std::os::fd::AsFd;
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use fuser::{
    AccessFlags, Errno, FileHandle, Filesystem, FopenFlags, Generation, INodeNo, InitFlags,
    KernelConfig, LockOwner, OpenAccMode, OpenFlags, RenameFlags, ReplyAttr, ReplyCreate,
    ReplyData, ReplyDirectory, ReplyEmpty, ReplyEntry, ReplyOpen, ReplyStatfs, ReplyWrite, Request,
    TimeOrNow, WriteFlags,
};

use super::Options;
use super::counts::{Counters, Defect, bump};
use super::table::{Links, Open, ROOT, STATS_NODE, Table, WriteFate};
use crate::sys;
use attr::{
    cname, errno, io_errno, is_stats_name, key, proc_cpath, proc_path, reopen, stats_attr,
    zombie_attr,
};
use ops::Changes;

/// Entry and attribute timeout: none, so that the kernel always asks.
const TTL: Duration = Duration::ZERO;
/// Node ids are never reused, so one generation suffices.
const GENERATION: Generation = Generation(0);

/// The filesystem served by fuser.
pub(crate) struct ZombieFs {
    table: Mutex<Table>,
    counters: Arc<Counters>,
    options: Options,
    /// Requests seen, for `--stall-every`.
    requests: AtomicU64,
    /// SplitMix64 state for `--probability`.
    rng: AtomicU64,
}

impl Filesystem for ZombieFs {
    fn init(&mut self, _req: &Request, config: &mut KernelConfig) -> std::io::Result<()> {
        // `O_TRUNC` travels with `OPEN` instead of a separate `SETATTR`,
        // lookups in one directory may run in parallel, and direct-I/O files
        // can still be mapped shared. All are optional.
        for flag in [
            InitFlags::FUSE_ATOMIC_O_TRUNC,
            InitFlags::FUSE_PARALLEL_DIROPS,
            InitFlags::FUSE_DIRECT_IO_ALLOW_MMAP,
        ] {
            let _ = config.add_capabilities(flag);
        }
        Ok(())
    }

    fn lookup(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEntry) {
        if is_stats_name(parent, name) {
            let len = self.stats_json().len();
            return reply.entry(&TTL, &stats_attr(len), GENERATION);
        }
        self.stall();
        let result = cname(name).and_then(|name| {
            let mut table = self.table();
            self.lookup_locked(&mut table, parent, &name)
        });
        match result {
            Ok(attr) => reply.entry(&TTL, &attr, GENERATION),
            Err(e) => reply.error(e),
        }
    }

    fn forget(&self, _req: &Request, ino: INodeNo, nlookup: u64) {
        self.table().forget(ino.0, nlookup);
    }

    fn getattr(&self, req: &Request, ino: INodeNo, fh: Option<FileHandle>, reply: ReplyAttr) {
        if ino.0 == STATS_NODE {
            return reply.attr(&TTL, &stats_attr(self.stats_json().len()));
        }
        self.stall();
        let table = self.table();
        if table.through_zombie(ino.0, fh.map(|f| f.0), req.pid()) {
            return reply.attr(&TTL, &zombie_attr());
        }
        match self.node_attr(&table, ino.0) {
            Ok(attr) => reply.attr(&TTL, &attr),
            Err(e) => reply.error(e),
        }
    }

    fn setattr(
        &self,
        req: &Request,
        ino: INodeNo,
        mode: Option<u32>,
        uid: Option<u32>,
        gid: Option<u32>,
        size: Option<u64>,
        atime: Option<TimeOrNow>,
        mtime: Option<TimeOrNow>,
        _ctime: Option<SystemTime>,
        fh: Option<FileHandle>,
        _crtime: Option<SystemTime>,
        _chgtime: Option<SystemTime>,
        _bkuptime: Option<SystemTime>,
        _flags: Option<fuser::BsdFileFlags>,
        reply: ReplyAttr,
    ) {
        if ino.0 == STATS_NODE {
            return reply.error(Errno::EPERM);
        }
        self.stall();
        let changes = Changes {
            mode,
            uid,
            gid,
            size,
            atime,
            mtime,
        };
        match self.set_attributes(req.pid(), ino.0, fh.map(|f| f.0), &changes) {
            Ok(attr) => reply.attr(&TTL, &attr),
            Err(e) => reply.error(e),
        }
    }
    fn readlink(&self, _req: &Request, ino: INodeNo, reply: ReplyData) {
        self.stall();
        let fd = match self.table().node(ino.0) {
            Some(node) => Arc::clone(&node.fd),
            None => return reply.error(Errno::ENOENT),
        };
        match sys::readlink_fd(fd.as_fd()) {
            Ok(target) => reply.data(&target),
            Err(e) => reply.error(errno(e)),
        }
    }

    fn mkdir(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        _umask: u32,
        reply: ReplyEntry,
    ) {
        if is_stats_name(parent, name) {
            return reply.error(Errno::EEXIST);
        }
        self.stall();
        let result = cname(name).and_then(|name| {
            let mut table = self.table();
            let dir = Arc::clone(&table.node(parent.0).ok_or(Errno::ENOENT)?.fd);
            sys::mkdirat(dir.as_fd(), &name, mode & 0o7777).map_err(errno)?;
            let attr = self.lookup_locked(&mut table, parent, &name)?;
            // The kernel applied the caller's umask already; ours must not narrow it.
            let node = table.node(attr.ino.0).ok_or(Errno::ENOENT)?;
            let perm = std::fs::Permissions::from_mode(mode & 0o7777);
            std::fs::set_permissions(proc_path(&node.fd), perm).map_err(|e| io_errno(&e))?;
            self.node_attr(&table, attr.ino.0)
        });
        match result {
            Ok(attr) => reply.entry(&TTL, &attr, GENERATION),
            Err(e) => reply.error(e),
        }
    }

    fn unlink(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        if is_stats_name(parent, name) {
            return reply.error(Errno::EPERM);
        }
        self.stall();
        let result = cname(name).and_then(|name| {
            let mut table = self.table();
            let dir = Arc::clone(&table.node(parent.0).ok_or(Errno::ENOENT)?.fd);
            let st = sys::fstatat(dir.as_fd(), &name).map_err(errno)?;
            sys::unlinkat(dir.as_fd(), &name).map_err(errno)?;
            bump(&self.counters.unlinks);
            let nlink = match table.id_of(key(&st)).and_then(|id| table.node(id)) {
                Some(node) => sys::fstat(node.fd.as_fd()).map_or(0, |s| s.nlink),
                None => st.nlink.saturating_sub(1),
            };
            table.lost_link(key(&st), nlink, Links::Unlinked);
            Ok(())
        });
        match result {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn rmdir(&self, _req: &Request, parent: INodeNo, name: &OsStr, reply: ReplyEmpty) {
        if is_stats_name(parent, name) {
            return reply.error(Errno::ENOTDIR);
        }
        self.stall();
        let result = cname(name).and_then(|name| {
            let mut table = self.table();
            let dir = Arc::clone(&table.node(parent.0).ok_or(Errno::ENOENT)?.fd);
            let st = sys::fstatat(dir.as_fd(), &name).map_err(errno)?;
            sys::rmdirat(dir.as_fd(), &name).map_err(errno)?;
            table.lost_link(key(&st), 0, Links::Replaced);
            Ok(())
        });
        match result {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn symlink(
        &self,
        _req: &Request,
        parent: INodeNo,
        link_name: &OsStr,
        target: &Path,
        reply: ReplyEntry,
    ) {
        if is_stats_name(parent, link_name) {
            return reply.error(Errno::EEXIST);
        }
        self.stall();
        let result = cname(link_name).and_then(|name| {
            let target = cname(target.as_os_str())?;
            let mut table = self.table();
            let dir = Arc::clone(&table.node(parent.0).ok_or(Errno::ENOENT)?.fd);
            sys::symlinkat(&target, dir.as_fd(), &name).map_err(errno)?;
            self.lookup_locked(&mut table, parent, &name)
        });
        match result {
            Ok(attr) => reply.entry(&TTL, &attr, GENERATION),
            Err(e) => reply.error(e),
        }
    }

    fn rename(
        &self,
        _req: &Request,
        parent: INodeNo,
        name: &OsStr,
        newparent: INodeNo,
        newname: &OsStr,
        flags: RenameFlags,
        reply: ReplyEmpty,
    ) {
        if is_stats_name(parent, name) || is_stats_name(newparent, newname) {
            return reply.error(Errno::EPERM);
        }
        self.stall();
        let result = cname(name).and_then(|name| {
            let newname = cname(newname)?;
            let mut table = self.table();
            let from = Arc::clone(&table.node(parent.0).ok_or(Errno::ENOENT)?.fd);
            let to = Arc::clone(&table.node(newparent.0).ok_or(Errno::ENOENT)?.fd);
            let target = sys::fstatat(to.as_fd(), &newname).ok();
            sys::renameat2(from.as_fd(), &name, to.as_fd(), &newname, flags.bits())
                .map_err(errno)?;
            if let Some(st) = target.filter(|_| !flags.contains(RenameFlags::RENAME_EXCHANGE)) {
                // Renamed over: the workaround, never a zombie.
                let nlink = match table.id_of(key(&st)).and_then(|id| table.node(id)) {
                    Some(node) => sys::fstat(node.fd.as_fd()).map_or(0, |s| s.nlink),
                    None => 0,
                };
                table.lost_link(key(&st), nlink, Links::Replaced);
            }
            Ok(())
        });
        match result {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(e),
        }
    }

    fn link(
        &self,
        _req: &Request,
        ino: INodeNo,
        newparent: INodeNo,
        newname: &OsStr,
        reply: ReplyEntry,
    ) {
        if ino.0 == STATS_NODE || is_stats_name(newparent, newname) {
            return reply.error(Errno::EPERM);
        }
        self.stall();
        let result = cname(newname).and_then(|newname| {
            let mut table = self.table();
            let fd = Arc::clone(&table.node(ino.0).ok_or(Errno::ENOENT)?.fd);
            let to = Arc::clone(&table.node(newparent.0).ok_or(Errno::ENOENT)?.fd);
            sys::link_following(&proc_cpath(&fd), to.as_fd(), &newname).map_err(errno)?;
            table.looked_up(ino.0);
            self.node_attr(&table, ino.0)
        });
        match result {
            Ok(attr) => reply.entry(&TTL, &attr, GENERATION),
            Err(e) => reply.error(e),
        }
    }

    fn open(&self, req: &Request, ino: INodeNo, flags: OpenFlags, reply: ReplyOpen) {
        let write = flags.acc_mode() != OpenAccMode::O_RDONLY;
        if ino.0 == STATS_NODE {
            if write {
                return reply.error(Errno::EACCES);
            }
            let json: Arc<[u8]> = self.stats_json().into();
            let fh = self
                .table()
                .add_handle(ino.0, Open::Stats(json), req.pid(), false);
            return reply.opened(FileHandle(fh), FopenFlags::FOPEN_DIRECT_IO);
        }
        self.stall();
        let mut table = self.table();
        if table.is_racing_open(ino.0) {
            bump(&self.counters.racing_opens);
            if self.draw(self.options.open_probability) {
                // The defect: the open succeeds on a dead node.
                let fh = table.add_handle(ino.0, Open::Zombie, req.pid(), false);
                let path = table.path_of(ino.0);
                drop(table);
                self.counters.served_at(path, Defect::ZombieFd);
                bump(&self.counters.opens);
                if flags.acc_mode() == OpenAccMode::O_WRONLY {
                    bump(&self.counters.zombie_write_opens);
                } else {
                    bump(&self.counters.zombie_opens);
                }
                return reply.opened(FileHandle(fh), FopenFlags::FOPEN_DIRECT_IO);
            }
        }
        // The defect of current macOS: a create that raced another create
        // of the name gets ENOENT, although the file is there.
        if write && table.is_create_race(ino.0, req.pid()) {
            bump(&self.counters.create_races);
            if self.draw(self.options.create_race_probability) {
                let path = table.path_of(ino.0);
                drop(table);
                self.counters.served_at(path, Defect::CreateEnoent);
                bump(&self.counters.spurious_create_enoents);
                return reply.error(Errno::ENOENT);
            }
        }
        let Some(node) = table.node(ino.0) else {
            return reply.error(Errno::ENOENT);
        };
        let fd = Arc::clone(&node.fd);
        drop(table);
        // Decided under the lock, so this open is ordered before any later
        // unlink; reopening the inode itself then gives what Linux gives.
        match reopen(&fd, flags.0) {
            Ok(file) => {
                let open = Open::File(Arc::new(file));
                let fh = self.table().add_handle(ino.0, open, req.pid(), false);
                bump(&self.counters.opens);
                reply.opened(FileHandle(fh), FopenFlags::FOPEN_DIRECT_IO);
            }
            Err(e) => reply.error(io_errno(&e)),
        }
    }

    fn read(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        size: u32,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyData,
    ) {
        let open = match self.table().handle(fh.0) {
            Some(h) => h.open.clone(),
            None => return reply.error(Errno::EBADF),
        };
        match open {
            Open::Stats(json) => {
                let start = (offset as usize).min(json.len());
                let end = start.saturating_add(size as usize).min(json.len());
                reply.data(&json[start..end]);
            }
            Open::Zombie => {
                self.stall();
                reply.data(&[]);
            }
            Open::File(file) => {
                self.stall();
                let mut buf = vec![0u8; size as usize];
                let mut filled = 0;
                // Short reads only at end of file, as the kernel expects.
                while filled < buf.len() {
                    match file.read_at(&mut buf[filled..], offset + filled as u64) {
                        Ok(0) => break,
                        Ok(n) => filled += n,
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) => return reply.error(io_errno(&e)),
                    }
                }
                reply.data(&buf[..filled]);
            }
            Open::Dir(_) => reply.error(Errno::EISDIR),
        }
    }

    fn write(
        &self,
        _req: &Request,
        ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        data: &[u8],
        _write_flags: WriteFlags,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        reply: ReplyWrite,
    ) {
        self.stall();
        let p = self.options.write_probability;
        let fate = self.table().before_write(fh.0, || {
            bump(&self.counters.racing_creates);
            self.draw(p)
        });
        let file = match fate {
            Ok(WriteFate::Write(file)) => file,
            Ok(WriteFate::TurnedZombie) => {
                bump(&self.counters.zombie_creates);
                self.served_einval(ino.0);
                return reply.error(Errno::EINVAL);
            }
            Ok(WriteFate::Zombie) => {
                self.served_einval(ino.0);
                return reply.error(Errno::EINVAL);
            }
            Err(()) => return reply.error(Errno::EBADF),
        };
        match file.write_all_at(data, offset) {
            Ok(()) => reply.written(data.len() as u32),
            Err(e) => reply.error(io_errno(&e)),
        }
    }

    fn flush(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _lock_owner: LockOwner,
        reply: ReplyEmpty,
    ) {
        // Writes reach the backing file at once; nothing is buffered here.
        // A close (each one flushes) ends the creation of a created file.
        self.table().closed(fh.0);
        reply.ok();
    }

    fn release(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        _lock_owner: Option<LockOwner>,
        _flush: bool,
        reply: ReplyEmpty,
    ) {
        self.table().release(fh.0);
        reply.ok();
    }

    fn fsync(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        datasync: bool,
        reply: ReplyEmpty,
    ) {
        self.stall();
        let open = self.table().handle(fh.0).map(|h| h.open.clone());
        let result = match open {
            Some(Open::File(f)) if datasync => f.sync_data(),
            Some(Open::File(f)) => f.sync_all(),
            Some(_) => Ok(()),
            None => return reply.error(Errno::EBADF),
        };
        match result {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(io_errno(&e)),
        }
    }

    fn opendir(&self, req: &Request, ino: INodeNo, _flags: OpenFlags, reply: ReplyOpen) {
        self.stall();
        match self.list_dir(req.pid(), ino.0) {
            Ok(fh) => reply.opened(FileHandle(fh), FopenFlags::empty()),
            Err(e) => reply.error(e),
        }
    }

    fn readdir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        offset: u64,
        mut reply: ReplyDirectory,
    ) {
        let entries = match self.table().handle(fh.0).map(|h| h.open.clone()) {
            Some(Open::Dir(entries)) => entries,
            _ => return reply.error(Errno::EBADF),
        };
        for (i, entry) in entries.iter().enumerate().skip(offset as usize) {
            // The offset of an entry is where the next readdir resumes.
            if reply.add(INodeNo(entry.ino), i as u64 + 1, entry.kind, &entry.name) {
                break;
            }
        }
        reply.ok();
    }

    fn releasedir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        fh: FileHandle,
        _flags: OpenFlags,
        reply: ReplyEmpty,
    ) {
        self.table().release(fh.0);
        reply.ok();
    }

    fn fsyncdir(
        &self,
        _req: &Request,
        _ino: INodeNo,
        _fh: FileHandle,
        _datasync: bool,
        reply: ReplyEmpty,
    ) {
        reply.ok();
    }

    fn statfs(&self, _req: &Request, _ino: INodeNo, reply: ReplyStatfs) {
        self.stall();
        let root = match self.table().node(ROOT) {
            Some(node) => Arc::clone(&node.fd),
            None => return reply.error(Errno::EIO),
        };
        match sys::fstatvfs(root.as_fd()) {
            Ok(s) => reply.statfs(
                s.blocks,
                s.blocks_free,
                s.blocks_available,
                s.files,
                s.files_free,
                s.block_size as u32,
                s.name_max as u32,
                s.fragment_size as u32,
            ),
            Err(e) => reply.error(errno(e)),
        }
    }

    fn access(&self, _req: &Request, ino: INodeNo, mask: AccessFlags, reply: ReplyEmpty) {
        if ino.0 == STATS_NODE {
            let writable = mask.intersects(AccessFlags::W_OK | AccessFlags::X_OK);
            return if writable {
                reply.error(Errno::EACCES)
            } else {
                reply.ok()
            };
        }
        self.stall();
        let fd = match self.table().node(ino.0) {
            Some(node) => Arc::clone(&node.fd),
            None => return reply.error(Errno::ENOENT),
        };
        match sys::access(&proc_cpath(&fd), mask.bits()) {
            Ok(()) => reply.ok(),
            Err(e) => reply.error(errno(e)),
        }
    }

    fn create(
        &self,
        req: &Request,
        parent: INodeNo,
        name: &OsStr,
        mode: u32,
        _umask: u32,
        flags: i32,
        reply: ReplyCreate,
    ) {
        if is_stats_name(parent, name) {
            return reply.error(Errno::EEXIST);
        }
        self.stall();
        let created = self.create_file(req.pid(), parent.0, name, mode, flags);
        if created.is_ok() && self.options.create_hold_ms > 0 {
            // The caller holds the directory meanwhile (see `create_hold_ms`).
            bump(&self.counters.stalls);
            std::thread::sleep(Duration::from_millis(self.options.create_hold_ms));
        }
        match created {
            Ok((attr, fh)) => reply.created(
                &TTL,
                &attr,
                GENERATION,
                FileHandle(fh),
                FopenFlags::FOPEN_DIRECT_IO,
            ),
            Err(e) => reply.error(e),
        }
    }
}
