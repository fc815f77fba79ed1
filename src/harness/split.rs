//! Two views of one directory (docs/two-views.md): the scratch directory,
//! made through the target directory, is found again through the other
//! side, and both paths are shown to reach one directory before any race.
//!
//! The check writes a marker file through each side and reads it back
//! through the other, waiting a bounded time for caches (a view may not see
//! a new name at once). Paths that are not the same directory never show
//! the scratch directory, or each other's markers, and are refused. Every
//! name is reached through a directory descriptor, never following a
//! symlink, as in the rest of the harness.

use crate::sys::{AsFd, BorrowedFd, OwnedFd};
use std::ffi::CStr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::sys::{self, Errno, flags::*, platform};

use super::worker::TRASH_DIR;
use super::{HarnessError, errno_label};

/// The marker written through the target directory, and the one written
/// through the other side. Removed once read; in the list of names the
/// scratch directory's removal takes.
pub(super) const MARKERS: [&CStr; 2] = [c".view-check-dir", c".view-check-other-side"];

/// How long a view may take to show what the other one wrote.
pub const VIEW_WAIT: Duration = Duration::from_secs(5);

/// The scratch directory as the other side reaches it.
pub(super) struct OtherView {
    /// The other side's directory (where the scratch directory was found).
    pub(super) parent: OwnedFd,
    pub(super) dir: Arc<OwnedFd>,
    /// Device and inode of the scratch directory through this side.
    pub(super) id: (u64, u64),
    /// The scratch directory's path through this side.
    pub(super) path: PathBuf,
    /// The other side, resolved.
    pub(super) target_dir: PathBuf,
    pub(super) fs: platform::FsInfo,
}

/// Waits up to [`VIEW_WAIT`] for `attempt` to succeed, polling ever less
/// often; the last error when it never does.
fn wait_for<T>(mut attempt: impl FnMut() -> Result<T, String>) -> Result<T, String> {
    let deadline = Instant::now() + VIEW_WAIT;
    let mut pause = Duration::from_millis(1);
    loop {
        match attempt() {
            Ok(v) => return Ok(v),
            Err(e) if Instant::now() >= deadline => return Err(e),
            Err(_) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
        }
    }
}

/// Writes `text` to a new file `name` in `dir`.
fn write_marker(dir: BorrowedFd<'_>, name: &CStr, text: &[u8]) -> Result<(), Errno> {
    let fd = sys::openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)?;
    let mut off = 0;
    while off < text.len() {
        match sys::write(fd.as_fd(), &text[off..])? {
            0 => return Err(sys::EIO),
            n => off += n,
        }
    }
    sys::close(fd)
}

/// What `name` in `dir` holds (at most 256 bytes).
fn read_marker(dir: BorrowedFd<'_>, name: &CStr) -> Result<Vec<u8>, Errno> {
    let fd = sys::openat(dir, name, O_RDONLY | O_NOFOLLOW, 0)?;
    let mut buf = vec![0u8; 256];
    let mut got = 0;
    while got < buf.len() {
        match sys::read(fd.as_fd(), &mut buf[got..])? {
            0 => break,
            n => got += n,
        }
    }
    buf.truncate(got);
    Ok(buf)
}

/// Finds the scratch directory `name`, made in `dir` (descriptor `scratch`),
/// through `other`, and checks with a marker each way that both reach the
/// same directory. `dir` and `other` name the two sides in the errors.
pub(super) fn open_other_side(
    dir: &Path,
    scratch: BorrowedFd<'_>,
    name: &CStr,
    other: &Path,
) -> Result<OtherView, HarnessError> {
    let bad = |reason: String| HarnessError::TargetDir {
        path: other.to_path_buf(),
        reason,
    };
    let meta = std::fs::metadata(other).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => bad("does not exist".into()),
        _ => bad(e.to_string()),
    })?;
    if !meta.is_dir() {
        return Err(bad("is not a directory".into()));
    }
    let target_dir = other.canonicalize().map_err(|e| bad(e.to_string()))?;
    let parent = sys::open_dir(&target_dir).map_err(|e| bad(e.to_string()))?;
    let not_one = |reason: String| HarnessError::NotOneDirectory {
        dir: dir.to_path_buf(),
        other: other.to_path_buf(),
        reason,
    };
    let shown = name.to_string_lossy();
    let seconds = VIEW_WAIT.as_secs();
    let found = wait_for(|| {
        sys::openat(
            parent.as_fd(),
            name,
            O_RDONLY | O_DIRECTORY | O_NOFOLLOW,
            0,
        )
        .map_err(errno_label)
    })
    .map_err(|e| {
        not_one(format!(
            "the scratch directory {shown} made through the first is not found through the second within {seconds} s ({e})"
        ))
    })?;
    let st = sys::fstat(found.as_fd()).map_err(|e| bad(errno_label(e)))?;
    let view = OtherView {
        fs: platform::fs_info(parent.as_fd(), &target_dir),
        path: target_dir.join(shown.as_ref()),
        parent,
        dir: Arc::new(found),
        id: (st.dev, st.ino),
        target_dir,
    };
    let token = |side: &str| {
        format!(
            "unlink-race view check {} {} {side}\n",
            sys::getpid(),
            sys::monotonic_ns()
        )
    };
    let b = view.dir.as_fd();
    for (from, to, marker, what) in [
        (scratch, b, MARKERS[0], "the first"),
        (b, scratch, MARKERS[1], "the second"),
    ] {
        let text = token(what);
        write_marker(from, marker, text.as_bytes()).map_err(|e| {
            not_one(format!(
                "cannot write a marker file through {what}: {}",
                errno_label(e)
            ))
        })?;
        let other_name = if what == "the first" {
            "the second"
        } else {
            "the first"
        };
        let read = wait_for(|| match read_marker(to, marker) {
            Ok(got) if got == text.as_bytes() => Ok(()),
            Ok(got) => Err(format!("it reads {:?}", String::from_utf8_lossy(&got))),
            Err(e) => Err(errno_label(e)),
        });
        let _ = sys::unlinkat(from, marker);
        read.map_err(|e| {
            not_one(format!(
                "a file written through {what} does not read the same through {other_name} within {seconds} s ({e})"
            ))
        })?;
    }
    // The trash directory, made through the first side, for `--delete trash`.
    wait_for(|| {
        sys::openat(b, TRASH_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0)
            .map(drop)
            .map_err(errno_label)
    })
    .map_err(|e| {
        not_one(format!(
            "the scratch directory's trash directory is not found through the second ({e})"
        ))
    })?;
    Ok(view)
}
