//! Why the harness could not run ([`HarnessError`]), what an errno from the
//! scratch directory says about the environment, and the check of a target
//! directory before anything starts, which says it in the same words.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};

use crate::scenario::ScenarioError;
use crate::sys::{self, AsFd, Errno};

use super::threads;

/// Why the harness could not run.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error("target directory {path}: {reason}")]
    TargetDir { path: PathBuf, reason: String },
    #[error("cannot create the scratch directory in {path}: {source}")]
    Scratch {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot start workers: {0}")]
    Spawn(std::io::Error),
    #[error("worker process failed: {0}")]
    Worker(String),
    /// A process, thread or descriptor limit stopped the harness from
    /// starting what it needs (docs/usage.md#environment-errors: the
    /// environment, not the race).
    #[error(
        "environment error: cannot start {what}: {source} (a limit on processes, threads or memory? see ulimit -u and ulimit -v)"
    )]
    Resource {
        what: String,
        source: std::io::Error,
    },
    /// A worker process could not run for a reason of the environment.
    #[error("environment error: {0}")]
    WorkerEnvironment(String),
    /// A buffer the run needs could not be allocated.
    #[error(
        "environment error: out of memory: cannot allocate {bytes} bytes for {what} (a memory limit? see ulimit -v)"
    )]
    Memory { what: String, bytes: u64 },
    /// The scratch directory or its filesystem failed
    /// (docs/usage.md#environment-errors): not the race.
    #[error(
        "environment error: the scratch directory {} {} ({} got {}); not the race, and not counted",
        scratch.display(), environment_cause(*errno), op.unwrap_or("the scratch directory check"), errno_label(*errno)
    )]
    Environment {
        /// The operation that failed; `None` for the controller's own check.
        op: Option<&'static str>,
        errno: Errno,
        scratch: PathBuf,
    },
    #[error(
        "environment error: out of file descriptors: the limit is {limit} and this scenario needs about {needed} (raise it with ulimit -n)"
    )]
    Descriptors { limit: u64, needed: u64 },
    /// Two views that do not reach one directory (docs/two-views.md).
    #[error("{} and {} are not two views of one directory: {reason}", dir.display(), other.display())]
    NotOneDirectory {
        dir: PathBuf,
        other: PathBuf,
        reason: String,
    },
    /// A split scenario without the other side's path, or the other way round.
    #[error("{0}")]
    Views(&'static str),
    /// The two processes of two views did not meet, or lost each other.
    #[error("{0}")]
    Role(String),
    /// Every reader waited on the filesystem longer than the stall limit,
    /// with a look at the scratch directory waiting too or for 5 s: it
    /// stopped answering.
    #[error(
        "environment error: the scratch directory {} is on a filesystem that stopped answering: every reader has waited in a syscall for over {} s (a stopped or hung FUSE server?)",
        scratch.display(), limit.as_secs_f64()
    )]
    Frozen { scratch: PathBuf, limit: Duration },
}

impl HarnessError {
    /// Whether this is an environment error (docs/usage.md#environment-errors),
    /// as opposed to bad input.
    pub fn is_environment(&self) -> bool {
        matches!(
            self,
            HarnessError::Environment { .. }
                | HarnessError::Descriptors { .. }
                | HarnessError::Resource { .. }
                | HarnessError::WorkerEnvironment(_)
                | HarnessError::Memory { .. }
                | HarnessError::Frozen { .. }
        )
    }

    /// Starting `what` failed with `source`: a resource error (a limit on
    /// processes, threads, memory or descriptors) when its errno says so.
    pub fn spawn(what: impl Into<String>, source: std::io::Error) -> HarnessError {
        if source
            .raw_os_error()
            .is_some_and(|e| matches!(e, sys::EAGAIN | sys::ENOMEM | sys::EMFILE | sys::ENFILE))
        {
            HarnessError::Resource {
                what: what.into(),
                source,
            }
        } else {
            HarnessError::Spawn(source)
        }
    }
}

pub(super) fn errno_label(errno: Errno) -> String {
    match sys::errno_name(errno) {
        "" => format!("errno {errno}"),
        name => name.to_string(),
    }
}

/// What an errno from the scratch directory says about the environment.
pub fn environment_cause(errno: Errno) -> &'static str {
    match errno {
        sys::ENOENT | sys::ENOTDIR => "was removed",
        sys::EACCES | sys::EPERM => "is no longer accessible (no permission)",
        sys::EIO => "is on a filesystem that fails with I/O errors (shut down?)",
        // A FUSE connection whose server died answers ECONNABORTED, then ENOTCONN.
        sys::ENOTCONN | sys::ECONNABORTED => {
            "is on a disconnected filesystem (its FUSE server is gone?)"
        }
        sys::ESTALE => "is stale (removed on the server?)",
        sys::EROFS => "is on a read-only filesystem",
        sys::ENOSPC => "is on a full filesystem",
        sys::EDQUOT => "is over its disk quota",
        sys::EMFILE | sys::ENFILE => "cannot be used: out of file descriptors",
        sys::ENOMEM => "cannot be used: out of memory",
        _ => "failed",
    }
}

/// Why `dir` cannot be raced in, checked before anything starts: it does
/// not exist, is not a directory, or its filesystem fails (a FUSE mount
/// whose server is gone answers "Transport endpoint is not connected").
pub fn directory_problem(dir: &Path) -> Result<(), String> {
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err("is not a directory".into()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err("does not exist".into()),
        Err(e) => Err(match e.raw_os_error() {
            Some(errno) if environment_cause(errno) != "failed" => {
                format!("{e}; it {}", environment_cause(errno))
            }
            _ => e.to_string(),
        }),
    }
}

/// [`directory_problem`], plus a lookup of a name that is not there (which
/// no cache answers), in a thread of its own waited for `wait` at most, or
/// until `stop` is set: a filesystem that stopped answering (a FUSE server
/// stopped before the run) is said so instead of hanging the run before it
/// starts.
pub fn directory_problem_within(
    dir: &Path,
    wait: Duration,
    stop: Option<&AtomicBool>,
) -> Result<(), String> {
    let owned = dir.to_path_buf();
    let check = move || {
        directory_problem(&owned)?;
        let fd = sys::open_dir(&owned).map_err(|e| e.to_string())?;
        let name = std::ffi::CString::new(format!(
            ".unlink-race-lookup-{}-{}",
            sys::getpid(),
            sys::monotonic_ns()
        ))
        .expect("no NUL in the name");
        match sys::fstatat(fd.as_fd(), &name) {
            Ok(_) | Err(sys::ENOENT) => Ok(()),
            Err(e) => Err(match environment_cause(e) {
                "failed" => errno_label(e),
                cause => format!("{}; it {cause}", errno_label(e)),
            }),
        }
    };
    let (tx, rx) = std::sync::mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("directory check".into())
        .stack_size(threads::WORKER_STACK)
        .spawn(move || {
            let _ = tx.send(check());
        });
    match spawned {
        Ok(_) => {
            let deadline = Instant::now() + wait;
            while Instant::now() < deadline && !stop.is_some_and(|s| s.load(Relaxed)) {
                let step = deadline
                    .saturating_duration_since(Instant::now())
                    .min(Duration::from_millis(50));
                if let Ok(answer) = rx.recv_timeout(step) {
                    return answer;
                }
            }
            Err(format!(
                "its filesystem does not answer: a lookup in it has waited {:.1} s (a stopped or hung FUSE server?)",
                wait.min(Instant::now() - (deadline - wait)).as_secs_f64()
            ))
        }
        // No thread to spare: the check runs here (a limit is the likelier fault).
        Err(_) => directory_problem(dir),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_errors_name_their_cause() {
        for (errno, cause) in [
            (sys::ENOENT, "was removed"),
            (sys::EACCES, "no permission"),
            (sys::EIO, "I/O errors"),
            (sys::ENOTCONN, "disconnected"),
            (sys::EROFS, "read-only"),
            (sys::ENOSPC, "full"),
            (sys::EMFILE, "descriptors"),
        ] {
            let e = HarnessError::Environment {
                op: Some("open"),
                errno,
                scratch: "/s".into(),
            };
            let line = e.to_string();
            assert!(line.contains(cause), "{line}");
            assert!(line.contains("/s") && !line.contains('\n'), "{line}");
            assert!(e.is_environment());
        }
    }
}
