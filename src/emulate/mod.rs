//! `unlink-race emulate -- CMD`: runs a program of one's own against the
//! emulated defects, and says what it was served (docs/emulate.md).
//!
//! zombiefs is mounted over a private backing directory (mode 0700, in a
//! fresh directory under the system temp dir, removed at the end) and the
//! command runs with `TMPDIR`, `TMP` and `TEMP` pointing at the mount (with
//! [`Place::Overlay`], zombiefs sits over a directory of the user's instead,
//! backed by that directory itself). When the command ends, zombiefs's own
//! counters say what it was served ([`served`]).
//!
//! Nothing is left behind, however it ends:
//!
//! - the command leads a process group of its own, so that all of it can be
//!   signalled; a stop signal to the emulator (SIGINT, SIGTERM, SIGHUP, any
//!   number of them) is passed on to that group, `--timeout` sends it
//!   `SIGTERM`, and `SIGKILL` follows after `--kill-after`; whatever is left
//!   of the group when the command itself ends is ended the same way;
//! - the emulator is a subreaper, so that it collects every process the
//!   command leaves behind;
//! - if the emulator itself is killed, the command is killed by the kernel
//!   (`PR_SET_PDEATHSIG`) and the [`guard`] process ends the rest of its
//!   group, unmounts and removes the private directory.

pub mod guard;
pub mod served;

use std::ffi::OsString;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::sys;
use crate::zombiefs::{self, FileDefects, Mount, Stats};
use guard::{Guard, Message};

/// Where zombiefs goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Place {
    /// A private directory made under this one (the system temp dir by
    /// default): the command's `TMPDIR`, `TMP` and `TEMP` point at the mount.
    Private { under: PathBuf },
    /// Over this directory, backed by itself: its files stay where they are
    /// and the environment is left as it is.
    Overlay { dir: PathBuf },
}

/// One run of `emulate`.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The program and its arguments.
    pub command: Vec<OsString>,
    pub options: zombiefs::Options,
    pub place: Place,
    /// Run the command with its working directory in the mount.
    pub cwd: bool,
    /// End the command (`SIGTERM` to its group) after this long.
    pub timeout: Option<Duration>,
    /// How long the command's group has after a signal before `SIGKILL`.
    pub kill_after: Duration,
}

/// How the command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// It exited with this status.
    Exited(i32),
    /// A signal ended it.
    Signaled(i32),
    /// It could not be started: not found (127) or not executable (126),
    /// as a shell says.
    NotStarted { status: u8 },
}

/// What happened, and what the command was served.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub end: End,
    /// `--timeout` ran out and the command's group was ended.
    pub timed_out: bool,
    /// The first stop signal the emulator received, passed on to the command.
    pub interrupted: Option<i32>,
    /// Why the command could not be started.
    pub not_started: Option<String>,
    /// zombiefs's counters when the command's group had ended.
    pub stats: Stats,
    pub files: FileDefects,
    /// Where zombiefs was mounted (canonical).
    pub mountpoint: PathBuf,
    /// Processes of the command's group still running after it ended, ended then.
    pub leftovers: usize,
    /// Lines about the cleanup worth saying (a busy mount detached, a
    /// directory that could not be removed).
    pub notes: Vec<String>,
    pub elapsed: Duration,
}

/// Why `emulate` itself could not do its part; one line each.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot start the guard process ({0})")]
    Guard(std::io::Error),
    #[error("cannot catch SIGINT/SIGTERM/SIGHUP: {0}")]
    Signals(std::io::Error),
    #[error("cannot make a private directory under {path}: {source}")]
    Private {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Zombiefs(#[from] zombiefs::Error),
}

/// Looks for stop signals and ended children this often at most; sooner
/// while the command is young, so that a short one costs little.
const POLL_MAX: Duration = Duration::from_millis(20);

/// Mounts zombiefs, runs the command, waits for it and its process group,
/// unmounts and cleans up. `on_start` is called once the mount is up, with
/// the mount point, before the command starts.
///
/// Call it from a thread that outlives the command (the main thread): the
/// kernel kills the command when the thread that started it ends.
pub fn run(settings: &Settings, on_start: impl FnOnce(&Path)) -> Result<Outcome, Error> {
    let started = Instant::now();
    let stop = crate::signals::catch_stop_signals().map_err(Error::Signals)?;
    let mut guard = Guard::start().map_err(Error::Guard)?;
    let private = match &settings.place {
        Place::Private { under } => match Private::make(under, |root| {
            let _ = guard.tell(&Message::Root {
                path: root.to_path_buf(),
            });
        }) {
            Ok(p) => Some(p),
            Err(e) => {
                guard.done();
                return Err(e);
            }
        },
        Place::Overlay { .. } => None,
    };
    let (backing, mountpoint) = match (&private, &settings.place) {
        (Some(p), _) => (p.backing(), p.mountpoint()),
        (None, Place::Overlay { dir }) | (None, Place::Private { under: dir }) => {
            (dir.clone(), dir.clone())
        }
    };
    let _ = guard.tell(&Message::Mount {
        path: mountpoint.canonicalize().unwrap_or(mountpoint.clone()),
    });
    let mount = match Mount::new(&backing, &mountpoint, settings.options) {
        Ok(m) => m,
        Err(e) => {
            if let Some(p) = private {
                let _ = p.remove();
            }
            guard.done();
            return Err(e.into());
        }
    };
    let mountpoint = mount.mountpoint().to_path_buf();
    on_start(&mountpoint);
    let mut run = Supervised::default();
    let pending = stop.swap(0, Ordering::SeqCst);
    if pending != 0 {
        // Stopped before the command started: it never runs.
        run.interrupted = Some(pending as i32);
    } else {
        // Orphans of the command are reparented here, and reaped.
        let _ = sys::process::become_subreaper();
        match spawn(settings, &mountpoint, guard.pipe_fd()) {
            Ok(pid) => {
                let _ = guard.tell(&Message::Group { pgid: pid });
                run = supervise(pid, settings, &stop);
            }
            Err(e) => {
                let status = match e.kind() {
                    std::io::ErrorKind::NotFound => 127,
                    _ => 126,
                };
                let program = settings.command[0].to_string_lossy();
                run.end = Some(End::NotStarted { status });
                run.not_started = Some(format!("cannot run {program}: {e}"));
            }
        }
    }
    let stats = mount.stats();
    let files = mount.files();
    let mut notes = Vec::new();
    let mounted_dev = std::fs::metadata(&mountpoint).ok().map(|m| m.dev());
    let unmounted = match mount.unmount() {
        Ok(()) => true,
        Err(e @ zombiefs::Error::Busy { .. }) => {
            notes.push(format!(
                "{e} (a process outside the command's group holds a file there); \
                 it goes when this process exits"
            ));
            true
        }
        Err(e) => {
            notes.push(e.to_string());
            false
        }
    };
    if let Some(p) = private {
        // Never remove through a mount that is still there.
        let still = std::fs::metadata(&mountpoint).ok().map(|m| m.dev()) == mounted_dev
            && zombiefs::is_mounted_at(&mountpoint);
        if !unmounted || still {
            notes.push(format!(
                "left {} (zombiefs still mounted inside)",
                p.root.display()
            ));
        } else if let Err(e) = p.remove() {
            notes.push(e);
        }
    }
    guard.done();
    Ok(Outcome {
        end: run.end.unwrap_or(End::Exited(0)),
        timed_out: run.timed_out,
        interrupted: run.interrupted,
        not_started: run.not_started,
        stats,
        files,
        mountpoint,
        leftovers: run.leftovers,
        notes,
        elapsed: started.elapsed(),
    })
}

/// The private directory: `backing/` and `mnt/` side by side in a fresh
/// directory of mode 0700, neither inside the other.
struct Private {
    root: PathBuf,
}

impl Private {
    /// Makes it; `made` hears of the root first, before anything is inside.
    fn make(under: &Path, made: impl FnOnce(&Path)) -> Result<Private, Error> {
        let err = |source| Error::Private {
            path: under.to_path_buf(),
            source,
        };
        let root = tempfile::Builder::new()
            .prefix("unlink-race-emulate-")
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir_in(under)
            .map_err(err)?
            .keep();
        let private = Private { root };
        made(&private.root);
        let mut dir = std::fs::DirBuilder::new();
        dir.mode(0o700);
        for sub in [private.backing(), private.mountpoint()] {
            if let Err(e) = dir.create(&sub) {
                let _ = private.remove();
                return Err(err(e));
            }
        }
        Ok(private)
    }

    fn backing(&self) -> PathBuf {
        self.root.join("backing")
    }

    fn mountpoint(&self) -> PathBuf {
        self.root.join("mnt")
    }

    /// Removes it all (the command's files in `backing/` too).
    fn remove(self) -> Result<(), String> {
        std::fs::remove_dir_all(&self.root)
            .map_err(|e| format!("could not remove {}: {e}", self.root.display()))
    }
}

/// Starts the command as the leader of a new process group; returns its pid.
/// The child names its group to the guard (`guard`) before the command
/// runs, so that an emulator killed at any moment leaves no process behind.
fn spawn(
    settings: &Settings,
    mountpoint: &Path,
    guard: Option<std::os::fd::RawFd>,
) -> std::io::Result<u32> {
    let mut cmd = Command::new(&settings.command[0]);
    cmd.args(&settings.command[1..]);
    if matches!(settings.place, Place::Private { .. }) {
        for var in ["TMPDIR", "TMP", "TEMP"] {
            cmd.env(var, mountpoint);
        }
    }
    if settings.cwd {
        cmd.current_dir(mountpoint);
    }
    sys::process::in_new_group_dying_with_parent(&mut cmd);
    if let Some(fd) = guard {
        sys::process::announce_group(&mut cmd, fd);
    }
    // The child is reaped by `supervise` (waitpid of any child), never by
    // `Child::wait`: dropping the handle leaves it running.
    cmd.spawn().map(|child| child.id())
}

/// What [`supervise`] saw.
#[derive(Debug, Default)]
struct Supervised {
    end: Option<End>,
    timed_out: bool,
    interrupted: Option<i32>,
    not_started: Option<String>,
    leftovers: usize,
}

/// Waits for the command `pid` (leader of group `pid`), passing stop
/// signals on, enforcing the timeout, then ends whatever is left of its
/// group.
fn supervise(pid: u32, settings: &Settings, stop: &AtomicUsize) -> Supervised {
    let started = Instant::now();
    let mut run = Supervised::default();
    let mut kill_at: Option<Instant> = None;
    let mut status = None;
    let reap = |status: &mut Option<ExitStatus>| {
        while let Ok(Some((child, raw))) = sys::process::reap_any() {
            // Others are orphans the command left, or the guard.
            if child == pid {
                *status = Some(ExitStatus::from_raw(raw));
            }
        }
    };
    loop {
        reap(&mut status);
        if status.is_some() {
            break;
        }
        let now = Instant::now();
        let sig = stop.swap(0, Ordering::SeqCst);
        if sig != 0 {
            run.interrupted.get_or_insert(sig as i32);
            let _ = sys::process::signal_group(pid, sig as i32);
            kill_at.get_or_insert(now + settings.kill_after);
        }
        if let Some(limit) = settings.timeout {
            if !run.timed_out && now.duration_since(started) >= limit {
                run.timed_out = true;
                let _ = sys::process::signal_group(pid, libc::SIGTERM);
                let _ = sys::process::signal_group(pid, libc::SIGCONT);
                kill_at.get_or_insert(now + settings.kill_after);
            }
        }
        if kill_at.is_some_and(|t| now >= t) {
            let _ = sys::process::signal_group(pid, libc::SIGKILL);
        }
        let young = started.elapsed() / 20;
        std::thread::sleep(young.clamp(Duration::from_millis(1), POLL_MAX));
    }
    let status = status.expect("the loop ends with the command's status");
    run.end = Some(match (status.code(), status.signal()) {
        (Some(code), _) => End::Exited(code),
        (None, Some(sig)) => End::Signaled(sig),
        (None, None) => End::Exited(255),
    });
    // The command is gone; what it left in its group goes too.
    run.leftovers = sys::process::group_members(pid).len();
    if run.leftovers > 0 {
        let mut ignored = None;
        guard::end_group(pid, settings.kill_after, || reap(&mut ignored));
    }
    run
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_private_directory_is_0700_and_removed() {
        let under = tempfile::tempdir().unwrap();
        let mut told = None;
        let p = Private::make(under.path(), |root| told = Some(root.to_path_buf())).unwrap();
        assert_eq!(told.as_ref(), Some(&p.root));
        let mode = std::fs::metadata(&p.root).unwrap().mode() & 0o777;
        assert_eq!(mode, 0o700);
        assert!(p.backing().is_dir() && p.mountpoint().is_dir());
        assert!(!p.mountpoint().starts_with(p.backing()));
        std::fs::write(p.backing().join("x"), b"1").unwrap();
        let root = p.root.clone();
        p.remove().unwrap();
        assert!(!root.exists());
    }
}
