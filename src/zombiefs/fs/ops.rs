//! The longer FUSE operations, as plain methods that return a result: changing
//! attributes, listing a directory and creating a file. `mod.rs` turns their
//! results into replies.

use std::ffi::{CString, OsStr};
use std::fs::{File, OpenOptions};
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirEntryExt, PermissionsExt};
use std::sync::Arc;
use std::time::SystemTime;

use fuser::{Errno, FileAttr, FileType, TimeOrNow};

use super::super::STATS_FILE;
use super::super::counts::{Defect, bump};
use super::super::table::{DirEntry, Open, ROOT, STATS_NODE};
use super::ZombieFs;
use super::attr::{attr, cname, errno, io_errno, key, kind, proc_path, reopen_flags};
use crate::sys::{self, flags};

/// What a `SETATTR` asks to change.
pub(super) struct Changes {
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub size: Option<u64>,
    pub atime: Option<TimeOrNow>,
    pub mtime: Option<TimeOrNow>,
}

impl ZombieFs {
    /// `SETATTR` of node `id`, asked by thread `pid` (through handle `fh`).
    pub(super) fn set_attributes(
        &self,
        pid: u32,
        id: u64,
        fh: Option<u64>,
        changes: &Changes,
    ) -> Result<FileAttr, Errno> {
        let table = self.table();
        if table.through_zombie(id, fh, pid) {
            // A dead vnode takes no changes.
            return Err(Errno::EINVAL);
        }
        let node = table.node(id).ok_or(Errno::ENOENT)?;
        let path = proc_path(&node.fd);
        let handle_file = fh
            .and_then(|fh| table.handle(fh))
            .and_then(|h| match &h.open {
                Open::File(f) => Some(Arc::clone(f)),
                _ => None,
            });
        let result = (|| -> std::io::Result<()> {
            if let Some(mode) = changes.mode {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode & 0o7777))?;
            }
            if changes.uid.is_some() || changes.gid.is_some() {
                std::os::unix::fs::chown(&path, changes.uid, changes.gid)?;
            }
            if let Some(size) = changes.size {
                match &handle_file {
                    Some(f) if f.set_len(size).is_ok() => {}
                    _ => OpenOptions::new().write(true).open(&path)?.set_len(size)?,
                }
            }
            if changes.atime.is_some() || changes.mtime.is_some() {
                let to_time = |t: TimeOrNow| match t {
                    TimeOrNow::SpecificTime(t) => t,
                    TimeOrNow::Now => SystemTime::now(),
                };
                let mut times = std::fs::FileTimes::new();
                if let Some(t) = changes.atime {
                    times = times.set_accessed(to_time(t));
                }
                if let Some(t) = changes.mtime {
                    times = times.set_modified(to_time(t));
                }
                File::open(&path)?.set_times(times)?;
            }
            Ok(())
        })();
        result.map_err(|e| io_errno(&e))?;
        self.node_attr(&table, id)
    }

    /// `OPENDIR` of node `id`: the listing as it is now, kept in a new handle.
    pub(super) fn list_dir(&self, pid: u32, id: u64) -> Result<u64, Errno> {
        let (fd, dev) = {
            let table = self.table();
            match table.node(id) {
                Some(node) if node.kind == FileType::Directory => {
                    (Arc::clone(&node.fd), node.key.0)
                }
                Some(_) => return Err(Errno::ENOTDIR),
                None => return Err(Errno::ENOENT),
            }
        };
        let listing = std::fs::read_dir(proc_path(&fd)).map_err(|e| io_errno(&e))?;
        let mut entries = vec![
            DirEntry {
                name: ".".into(),
                ino: id,
                kind: FileType::Directory,
            },
            DirEntry {
                name: "..".into(),
                ino: ROOT,
                kind: FileType::Directory,
            },
        ];
        if id == ROOT {
            entries.push(DirEntry {
                name: STATS_FILE.into(),
                ino: STATS_NODE,
                kind: FileType::RegularFile,
            });
        }
        let mut table = self.table();
        for entry in listing {
            let entry = entry.map_err(|e| io_errno(&e))?;
            let name = entry.file_name();
            if id == ROOT && name == STATS_FILE {
                continue; // hidden by the virtual file
            }
            let kind = entry
                .file_type()
                .ok()
                .and_then(FileType::from_std)
                .unwrap_or(FileType::RegularFile);
            // Known inodes show their node id, as `stat` does.
            let ino = table.id_of((dev, entry.ino())).unwrap_or(entry.ino());
            entries.push(DirEntry { name, ino, kind });
        }
        Ok(table.add_handle(id, Open::Dir(entries.into()), pid, false))
    }

    /// `CREATE` of `name` in `parent`: the node's attributes and the new handle.
    pub(super) fn create_file(
        &self,
        pid: u32,
        parent: u64,
        name: &OsStr,
        mode: u32,
        open_flags: i32,
    ) -> Result<(FileAttr, u64), Errno> {
        let name: CString = cname(name)?;
        let mut table = self.table();
        let dir = Arc::clone(&table.node(parent).ok_or(Errno::ENOENT)?.fd);
        let flags_now =
            (open_flags & flags::O_ACCMODE) | reopen_flags(open_flags) | flags::O_NOFOLLOW;
        let perm = mode & 0o7777;
        // Exclusive first, to know whether this call made the file.
        let excl = flags::O_CREAT | flags::O_EXCL;
        let (fd, made) = match sys::openat(dir.as_fd(), &name, flags_now | excl, perm) {
            Ok(fd) => (fd, true),
            Err(libc::EEXIST) if open_flags & flags::O_EXCL == 0 => {
                // Made by another create since this one's lookup: the race
                // of current macOS's spurious ENOENT.
                bump(&self.counters.create_races);
                if self.draw(self.options.create_race_probability) {
                    let path = table
                        .path_of(parent)
                        .join(OsStr::from_bytes(name.as_bytes()));
                    self.counters.served_at(path, Defect::CreateEnoent);
                    bump(&self.counters.spurious_create_enoents);
                    return Err(Errno::ENOENT);
                }
                (
                    sys::openat(dir.as_fd(), &name, flags_now, 0).map_err(errno)?,
                    false,
                )
            }
            Err(e) => return Err(errno(e)),
        };
        let file = File::from(fd);
        if made {
            // The kernel applied the caller's umask already; ours must not narrow it.
            let perm = std::fs::Permissions::from_mode(perm);
            file.set_permissions(perm).map_err(|e| io_errno(&e))?;
        }
        let st = sys::fstat(file.as_fd()).map_err(errno)?;
        let node_fd = file.try_clone().map_err(|e| io_errno(&e))?;
        let id = table.remember(node_fd.into(), key(&st), kind(st.mode));
        table.named(id, parent, OsStr::from_bytes(name.as_bytes()));
        let fh = table.add_handle(id, Open::File(Arc::new(file)), pid, true);
        bump(&self.counters.creates);
        Ok((attr(id, &st), fh))
    }
}
