//! Where zombiefs may be mounted: never inside its own backing directory,
//! nor over it, judged by device and inode.

use std::io;
use std::path::{Path, PathBuf};

use crate::sys;

use super::Error;

/// Refuses a mount point that lies inside the backing directory (zombiefs
/// would look itself up and hang) or a backing directory inside the mount
/// point (the mount would hide it), judged by device and inode, so that a
/// bind mount or a symlink is no way around it. The same directory is fine:
/// the backing is opened before the mount covers it. A copy of the mount
/// that mount propagation puts inside the backing directory is found once
/// mounted, by [`Mount::new`](super::Mount::new).
pub fn check_placement(backing: &Path, mountpoint: &Path) -> Result<(), Error> {
    let backing_id = id_of_path(backing).map_err(|source| Error::Backing {
        path: backing.to_path_buf(),
        source,
    })?;
    let mount_id = id_of_path(mountpoint).map_err(|source| Error::Mountpoint {
        path: mountpoint.to_path_buf(),
        source,
    })?;
    if backing_id == mount_id {
        return Ok(());
    }
    if has_ancestor(mountpoint, backing_id) {
        return Err(Error::Inside {
            mountpoint: mountpoint.to_path_buf(),
            backing: backing.to_path_buf(),
            through: None,
        });
    }
    if has_ancestor(backing, mount_id) {
        return Err(Error::Hidden {
            backing: backing.to_path_buf(),
            mountpoint: mountpoint.to_path_buf(),
        });
    }
    Ok(())
}

/// Device and inode of an open directory.
pub(super) fn id_of_fd(fd: &impl std::os::fd::AsFd) -> io::Result<(u64, u64)> {
    sys::fstat(fd.as_fd())
        .map(|st| (st.dev, st.ino))
        .map_err(io::Error::from_raw_os_error)
}

/// Device and inode of the directory at `path`.
fn id_of_path(path: &Path) -> io::Result<(u64, u64)> {
    id_of_fd(&sys::open_dir(path)?)
}

/// Whether a directory above `dir` (following `..`, which crosses mounts the
/// way lookups do) has device and inode `id`. A directory that cannot be
/// opened ends the walk.
fn has_ancestor(dir: &Path, id: (u64, u64)) -> bool {
    let Ok(mut current) = sys::open_dir(dir) else {
        return false;
    };
    let Ok(mut here) = id_of_fd(&current) else {
        return false;
    };
    loop {
        let Ok(parent) = sys::openat(
            std::os::fd::AsFd::as_fd(&current),
            c"..",
            sys::flags::O_RDONLY | sys::flags::O_DIRECTORY,
            0,
        ) else {
            return false;
        };
        let Ok(up) = id_of_fd(&parent) else {
            return false;
        };
        if up == here {
            return false;
        }
        if up == id {
            return true;
        }
        (current, here) = (parent, up);
    }
}

/// A mount of device `dev` (this zombiefs, by mount propagation) that sits
/// inside the directory `backing` (device, inode), from `/proc/self/mountinfo`.
pub(super) fn propagated_inside(dev: u64, backing: (u64, u64)) -> Option<PathBuf> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    sys::platform::mount_points_of(&mountinfo, dev)
        .into_iter()
        .find(|p| {
            p.parent().is_some_and(|up| {
                id_of_path(up).is_ok_and(|id| id == backing) || has_ancestor(up, backing)
            })
        })
}
