//! The private scratch directory: created under the target directory, held
//! by descriptors while the workers race in it, and removed through them.

use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::sys::{self, AsFd, BorrowedFd, Errno, OwnedFd, flags::*};

use super::records::WorkerId;
use super::role;
use super::split::{MARKERS, OtherView};
use super::worker::{TARGET, TRASH_DIR, private_names};
use super::{HarnessError, errno_label};

/// The private scratch directory, held by descriptors: its own, and its
/// parent's (the target directory) to remove it by name at the end. Renaming
/// the parent meanwhile moves nothing the harness relies on.
pub(super) struct Scratch {
    /// The target directory.
    pub(super) parent: OwnedFd,
    /// The scratch directory's name in `parent`.
    pub(super) name: CString,
    pub(super) dir: Arc<OwnedFd>,
    /// Device and inode of the scratch directory.
    pub(super) id: (u64, u64),
    /// Where it was created.
    pub(super) path: PathBuf,
    /// With two views: the same directory as the other side reaches it.
    pub(super) other: Option<OtherView>,
}

/// Checks the target directory and creates the private scratch directory in it.
pub(super) fn create_scratch(target: &Path) -> Result<(Scratch, PathBuf), HarnessError> {
    let bad = |reason: &str| HarnessError::TargetDir {
        path: target.to_path_buf(),
        reason: reason.into(),
    };
    let meta = std::fs::metadata(target).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => bad("does not exist"),
        _ => bad(&e.to_string()),
    })?;
    if !meta.is_dir() {
        return Err(bad("is not a directory"));
    }
    let canonical = target.canonicalize().map_err(|e| bad(&e.to_string()))?;
    let failed = |e: Errno| HarnessError::Scratch {
        path: canonical.clone(),
        source: std::io::Error::from_raw_os_error(e),
    };
    let parent = sys::open_dir(&canonical).map_err(|source| HarnessError::Scratch {
        path: canonical.clone(),
        source,
    })?;
    let mut attempt = 0u64;
    let name = loop {
        let name = CString::new(format!(
            "unlink-race-{}-{:x}",
            sys::getpid(),
            sys::monotonic_ns().wrapping_add(attempt) & 0xff_ffff
        ))
        .expect("no NUL in the name");
        match sys::mkdirat(parent.as_fd(), &name, 0o700) {
            Ok(()) => break name,
            Err(e) if e == sys::EEXIST && attempt < 100 => attempt += 1,
            Err(e) => return Err(failed(e)),
        }
    };
    let path = canonical.join(name.to_str().expect("an ASCII name"));
    let dir = match sys::openat(
        parent.as_fd(),
        &name,
        O_RDONLY | O_DIRECTORY | O_NOFOLLOW,
        0,
    ) {
        Ok(d) => d,
        Err(e) => {
            let _ = sys::rmdirat(parent.as_fd(), &name);
            return Err(failed(e));
        }
    };
    let st = sys::fstat(dir.as_fd()).map_err(failed)?;
    let scratch = Scratch {
        parent,
        name,
        dir: Arc::new(dir),
        id: (st.dev, st.ino),
        path,
        other: None,
    };
    // From here on a failure removes the scratch directory (on drop).
    sys::mkdirat(scratch.dir.as_fd(), TRASH_DIR, 0o700).map_err(failed)?;
    Ok((scratch, canonical))
}

/// Whether `name` is a create round's (`c` and 16 hex digits: see
/// `scenario::round_name`).
fn is_round_name(name: &[u8]) -> bool {
    name.len() == 17
        && name[0] == b'c'
        && name[1..]
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
}

impl Drop for Scratch {
    /// A scratch directory whose harness never started is removed here (a
    /// removed one is seen as gone and left alone).
    fn drop(&mut self) {
        let _ = self.remove(&[]);
    }
}

impl Scratch {
    /// The path worker processes open. On Linux it goes through this
    /// process's descriptor (`/proc/<pid>/fd/<n>/.`), so it names the scratch
    /// directory even if it or its parent was renamed meanwhile. Deleters of
    /// two views open it through the other side.
    pub(super) fn path_for_children(&self, role: super::Role) -> PathBuf {
        let (dir, path) = match (&self.other, role) {
            (Some(other), super::Role::Deleter) => (&other.dir, &other.path),
            _ => (&self.dir, &self.path),
        };
        #[cfg(target_os = "linux")]
        {
            use std::os::fd::AsRawFd;
            let _ = path;
            PathBuf::from(format!("/proc/{}/fd/{}/.", sys::getpid(), dir.as_raw_fd()))
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = dir;
            path.clone()
        }
    }

    /// Removes the names the workers made, then the directory itself through
    /// its parent's descriptor, after checking that the name still names it
    /// (device and inode). Anything else found there is left, and so is the
    /// directory; the error says where it is. With two views, what the first
    /// side cannot remove is removed through the other.
    pub(super) fn remove(&self, ids: &[WorkerId]) -> Result<(), String> {
        let mut names = vec![TARGET.to_owned()];
        names.extend(MARKERS.iter().map(|m| (*m).to_owned()));
        names.extend(role::FILES.iter().map(|m| (*m).to_owned()));
        names.push(role::TEMPORARY.to_owned());
        for id in ids {
            for n in private_names(*id) {
                if !n.is_empty() {
                    names.push(CString::new(n).expect("no NUL in worker names"));
                }
            }
        }
        // A create round's name is left when its round was cut short.
        if let Ok(entries) = std::fs::read_dir(self.path_for_children(super::Role::Reader)) {
            for entry in entries.flatten() {
                let name = entry.file_name();
                if is_round_name(name.as_encoded_bytes()) {
                    names.push(
                        CString::new(name.as_encoded_bytes()).expect("no NUL in a file name"),
                    );
                }
            }
        }
        let here = remove_through(
            self.dir.as_fd(),
            self.parent.as_fd(),
            &self.name,
            self.id,
            &self.path,
            &names,
        );
        match (here, &self.other) {
            // When the first side no longer answers (a FUSE server gone),
            // the second may.
            (Err(first), Some(other)) => remove_through(
                other.dir.as_fd(),
                other.parent.as_fd(),
                &self.name,
                other.id,
                &other.path,
                &names,
            )
            .map_err(|second| format!("{first}; through the other side, {second}")),
            (here, _) => here,
        }
    }
}

/// Removes `names` from the scratch directory `dir`, then the directory
/// itself from `parent` once `name` still names it (`id`: device and inode);
/// `path` says where it is in errors.
pub(super) fn remove_through(
    dir: BorrowedFd<'_>,
    parent: BorrowedFd<'_>,
    name: &CStr,
    id: (u64, u64),
    path: &Path,
    names: &[CString],
) -> Result<(), String> {
    let here = || {
        sys::fd_path(dir)
            .unwrap_or_else(|| path.to_path_buf())
            .display()
            .to_string()
    };
    match sys::fstat(dir) {
        Ok(st) if (st.dev, st.ino) != id => {
            return Err(format!("{} is not the scratch directory", here()));
        }
        // Already gone (removed from outside): nothing left to remove.
        Ok(st) if st.nlink == 0 => return Ok(()),
        Ok(_) => {}
        Err(e) => return Err(format!("{}: {}", here(), errno_label(e))),
    }
    for name in names {
        match sys::unlinkat(dir, name) {
            Ok(()) | Err(sys::ENOENT) => {}
            Err(e) => return Err(format!("{}: {}", here(), errno_label(e))),
        }
    }
    match sys::rmdirat(dir, TRASH_DIR) {
        Ok(()) | Err(sys::ENOENT) => {}
        Err(sys::ENOTEMPTY) => {
            return Err(format!("{}: holds files it did not make", here()));
        }
        Err(e) => return Err(format!("{}: {}", here(), errno_label(e))),
    }
    match sys::fstatat(parent, name) {
        Ok(st) if (st.dev, st.ino) == id => {}
        Ok(_) | Err(sys::ENOENT) => {
            return Err(format!("{}: it was moved or its name reused", here()));
        }
        Err(e) => return Err(format!("{}: {}", here(), errno_label(e))),
    }
    match sys::rmdirat(parent, name) {
        Ok(()) => Ok(()),
        Err(sys::ENOTEMPTY) => Err(format!("{}: holds files it did not make", here())),
        Err(e) => Err(format!("{}: {}", here(), errno_label(e))),
    }
}
