//! zombiefs: the macOS open/unlink defect, emulated on Linux (docs/zombiefs.md).
//!
//! A FUSE filesystem that passes every operation through to a backing
//! directory, except in the race that macOS (APFS, 10.14–10.15) gets wrong:
//! when an `OPEN` reaches a node whose last link was removed by `unlink`
//! after the kernel looked it up, the handle it returns is a *zombie*.
//! `fstat` on it reports `st_ino == 0`, mode `0o100000`, `st_nlink == 1`,
//! uid and gid 0, size 0 and all times 0; `read` returns 0 bytes; `write`
//! fails with `EINVAL`. A file created with `open(O_CREAT)` whose name is
//! unlinked before its first `write` turns into a zombie the same way (the
//! `EINVAL` symptom). A create that races another create of the same name
//! gets a spurious `ENOENT`, as current macOS answers some racing
//! `open(O_CREAT)` calls (golang/go #81246): Linux serializes `O_CREAT`
//! opens of one directory, so the race zombiefs sees is an open for writing
//! of a file another thread has just created and not yet written to (or a
//! `CREATE` that finds its name made since its lookup). A node whose last link goes away because another file
//! was renamed over it never produces zombies: that is the workaround that
//! disk-objectstore adopted, and zombiefs lets its users check that it works.
//!
//! Outside that window zombiefs behaves as Linux does, so whatever a program
//! observes beyond Linux's own behaviour comes from the emulated defect, and
//! the counters in [`Stats`] say exactly how many zombies were handed out:
//! the ground truth a detector is checked against. They are readable at any
//! time from the virtual file [`STATS_FILE`] at the root of the mount.
//!
//! This emulates the *reported behaviour*; it contains nothing of Apple's code.
//!
//! ```no_run
//! use std::path::Path;
//! use unlink_race::zombiefs::{Mount, Options};
//!
//! let mount = Mount::new(Path::new("/tmp/backing"), Path::new("/mnt/zombie"), Options::default())?;
//! // ... race readers against deleters under /mnt/zombie ...
//! println!("{} zombies handed out", mount.stats().zombie_opens);
//! mount.unmount()?;
//! # Ok::<(), unlink_race::zombiefs::Error>(())
//! ```
//!
//! Layout: [`counts`] holds the counters, `table` the inodes and handles and
//! the rule that makes zombies, `fs` the FUSE operations on the backing
//! directory (`fs/attr.rs` converts attributes, `fs/ops.rs` holds the longer
//! operations); this file mounts and unmounts.

pub mod counts;
mod fs;
mod placement;
mod table;

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

pub use counts::{Defect, DefectCounts, FileDefects, Stats};
pub use placement::check_placement;
use placement::{id_of_fd, propagated_inside};

use crate::sys;

/// Name of the virtual file at the root of the mount that holds [`Stats`] as JSON.
pub const STATS_FILE: &str = ".zombiefs-stats";

/// Threads serving FUSE requests. One serves a reader fastest on a small
/// machine (more threads mostly add wake-ups) and still lets the race
/// happen, since the kernel queues an `UNLINK` between a `LOOKUP` and its
/// `OPEN`.
const SERVER_THREADS: usize = 1;
/// With `--stall-ms`, more threads, so that a stalled request delays itself
/// rather than the whole filesystem, as one slow syscall would.
const STALLING_SERVER_THREADS: usize = 4;

/// How often [`run_foreground`] looks for a signal or an external `umount`.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// What zombiefs does besides passing through.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// Fraction of racing opens that get a zombie, in `[0, 1]`; the others are
    /// served as Linux would (the content of the unlinked file).
    pub open_probability: f64,
    /// Fraction of racing creates (a created file unlinked before its first
    /// `write`) whose writes fail with `EINVAL`, in `[0, 1]`; the others write
    /// to the unlinked file as Linux does.
    pub write_probability: f64,
    /// Fraction of creates that raced another create of the same name
    /// ([`Stats::create_races`]) answered with a spurious `ENOENT`, in
    /// `[0, 1]`: the defect of current macOS; the others open the file as
    /// Linux does.
    pub create_race_probability: f64,
    /// Delay, in milliseconds, of every `CREATE` once it made its file and
    /// before it answers (0: none). Linux holds the directory locked
    /// through an `open(O_CREAT)`, so every other create of the name in
    /// that directory waits inside its own call meanwhile: their calls
    /// overlap the held one's.
    pub create_hold_ms: u64,
    /// Delay, in milliseconds, of every `stall_every`-th operation (0: none).
    pub stall_ms: u64,
    /// Which operations are delayed: every N-th one (needs `stall_ms > 0`).
    pub stall_every: u64,
    /// Seed of the draws that make a race a zombie; `None`: from the clock
    /// and the process id. A fixed seed makes a run's draws repeatable.
    pub seed: Option<u64>,
}

impl Default for Options {
    /// Every racing open and racing create gets a zombie, every create that
    /// raced another a spurious `ENOENT`; nothing is delayed.
    fn default() -> Self {
        Options {
            open_probability: 1.0,
            write_probability: 1.0,
            create_race_probability: 1.0,
            create_hold_ms: 0,
            stall_ms: 0,
            stall_every: 0,
            seed: None,
        }
    }
}

/// An option out of range; the message is one line naming the flag.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OptionsError {
    #[error("--probability must be a number between 0 and 1, got '{0}'")]
    Probability(String),
    #[error("--open-probability must be a number between 0 and 1, got '{0}'")]
    OpenProbability(String),
    #[error("--write-probability must be a number between 0 and 1, got '{0}'")]
    WriteProbability(String),
    #[error("--create-race-probability must be a number between 0 and 1, got '{0}'")]
    CreateRaceProbability(String),
    #[error("--stall-every must be at least 1 when --stall-ms is set")]
    StallEvery,
}

impl Options {
    /// Options with `probability` for every symptom (racing opens, creates
    /// unlinked before their first write, creates racing creates), checked
    /// as [`Options::validate`] does.
    pub fn new(probability: f64, stall_ms: u64, stall_every: u64) -> Result<Options, OptionsError> {
        if !(0.0..=1.0).contains(&probability) {
            return Err(OptionsError::Probability(probability.to_string()));
        }
        let options = Options {
            open_probability: probability,
            write_probability: probability,
            create_race_probability: probability,
            create_hold_ms: 0,
            stall_ms,
            stall_every,
            seed: None,
        };
        options.validate()?;
        Ok(options)
    }

    /// Every probability in `[0, 1]`; `stall_every >= 1` when `stall_ms > 0`.
    pub fn validate(&self) -> Result<(), OptionsError> {
        if !(0.0..=1.0).contains(&self.open_probability) {
            return Err(OptionsError::OpenProbability(
                self.open_probability.to_string(),
            ));
        }
        if !(0.0..=1.0).contains(&self.write_probability) {
            return Err(OptionsError::WriteProbability(
                self.write_probability.to_string(),
            ));
        }
        if !(0.0..=1.0).contains(&self.create_race_probability) {
            return Err(OptionsError::CreateRaceProbability(
                self.create_race_probability.to_string(),
            ));
        }
        if self.stall_ms > 0 && self.stall_every == 0 {
            return Err(OptionsError::StallEvery);
        }
        Ok(())
    }
}

/// Parses `--probability` (`0.25`, `1`); anything outside `[0, 1]` is an error.
pub fn parse_probability(s: &str) -> Result<f64, OptionsError> {
    match s.trim().parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(OptionsError::Probability(s.to_string())),
    }
}

/// Why zombiefs could not start or stop; every message names the path.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Options(#[from] OptionsError),
    #[error("cannot use backing directory {path}: {source}")]
    Backing { path: PathBuf, source: io::Error },
    #[error("cannot use mount point {path}: {source}")]
    Mountpoint { path: PathBuf, source: io::Error },
    #[error(
        "cannot mount zombiefs on {path}: {source} (FUSE needs /dev/fuse and root, \
         or fusermount3 from the fuse3 package)"
    )]
    Mount { path: PathBuf, source: io::Error },
    #[error("cannot unmount zombiefs from {path}: {source}")]
    Unmount { path: PathBuf, source: io::Error },
    #[error(
        "zombiefs on {path} is busy: detached now, it goes away when the last file \
         open on it is closed"
    )]
    Busy { path: PathBuf },
    #[error(
        "zombiefs on {path} is covered by another mount: unmount that one first \
         (unmounting the path would remove it, not this one)"
    )]
    Covered { path: PathBuf },
    #[error("cannot install the SIGINT/SIGTERM/SIGHUP handlers: {0}")]
    Signals(io::Error),
    /// The mount point resolves into the backing directory (checked by
    /// device and inode, so a bind mount or a symlink alias counts): the
    /// filesystem would look itself up and hang.
    #[error(
        "mountpoint {} is inside --backing {}{}: zombiefs would look itself up and hang",
        mountpoint.display(),
        backing.display(),
        through.as_ref().map_or(String::new(), |t| format!(" (the mount appears at {} through mount propagation)", t.display()))
    )]
    Inside {
        mountpoint: PathBuf,
        backing: PathBuf,
        /// Where the mount showed up inside the backing directory, when a
        /// propagated copy of it did.
        through: Option<PathBuf>,
    },
    /// The backing directory resolves into the mount point: the mount would hide it.
    #[error(
        "--backing {} is inside the mountpoint {}: the mount would hide it",
        backing.display(),
        mountpoint.display()
    )]
    Hidden {
        backing: PathBuf,
        mountpoint: PathBuf,
    },
}

/// A mounted zombiefs, served by background threads; unmounted on drop.
#[derive(Debug)]
pub struct Mount {
    mountpoint: PathBuf,
    /// The mount's device, to tell it from a mount stacked on top of it.
    dev: Option<u64>,
    counters: Arc<counts::Counters>,
    session: Option<fuser::BackgroundSession>,
    /// A busy mount's session after its lazy unmount: served until its last
    /// open file is closed.
    detached: Option<fuser::BackgroundSession>,
}

impl Mount {
    /// Mounts zombiefs on `mountpoint`, passing through to `backing`.
    ///
    /// `backing` is opened before the mount, so it may even be the mount
    /// point itself: zombiefs then sits over the directory it hides.
    pub fn new(backing: &Path, mountpoint: &Path, options: Options) -> Result<Mount, Error> {
        options.validate()?;
        let backing_err = |source| Error::Backing {
            path: backing.to_path_buf(),
            source,
        };
        let root = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(sys::flags::O_DIRECTORY)
            .open(backing)
            .map_err(backing_err)?;
        let mountpoint = mountpoint
            .canonicalize()
            .and_then(|p| {
                if p.is_dir() {
                    Ok(p)
                } else {
                    Err(io::Error::from_raw_os_error(libc::ENOTDIR))
                }
            })
            .map_err(|source| Error::Mountpoint {
                path: mountpoint.to_path_buf(),
                source,
            })?;
        let backing_id = id_of_fd(&root).map_err(backing_err)?;
        check_placement(backing, &mountpoint)?;
        let counters = Arc::new(counts::Counters::default());
        let fs = fs::ZombieFs::new(root.into(), options, Arc::clone(&counters))
            .map_err(|e| backing_err(io::Error::from_raw_os_error(e)))?;

        let mut config = fuser::Config::default();
        config.mount_options = vec![
            fuser::MountOption::FSName("zombiefs".into()),
            // Passed to the kernel as is, so that mountinfo says `fuse.zombiefs`.
            fuser::MountOption::CUSTOM("subtype=zombiefs".into()),
        ];
        config.n_threads = Some(if options.stall_ms > 0 || options.create_hold_ms > 0 {
            STALLING_SERVER_THREADS
        } else {
            SERVER_THREADS
        });
        config.clone_fd = true;
        let session =
            fuser::spawn_mount(fs, &mountpoint, &config).map_err(|source| Error::Mount {
                path: mountpoint.clone(),
                source,
            })?;
        let dev = std::fs::metadata(&mountpoint)
            .ok()
            .map(|m| std::os::unix::fs::MetadataExt::dev(&m));
        let mount = Mount {
            mountpoint,
            dev,
            counters,
            session: Some(session),
            detached: None,
        };
        // A shared mount propagates this one to its peers: a copy may now sit
        // inside the backing directory, where a lookup would reach zombiefs
        // from inside itself. Unmounted at once (dropping `mount`) if so.
        if let Some(dev) = dev {
            if let Some(through) = propagated_inside(dev, backing_id) {
                return Err(Error::Inside {
                    mountpoint: mount.mountpoint.clone(),
                    backing: backing.to_path_buf(),
                    through: Some(through),
                });
            }
        }
        Ok(mount)
    }

    /// The counters so far (the same numbers as [`STATS_FILE`]).
    pub fn stats(&self) -> Stats {
        self.counters.snapshot()
    }

    /// The defects served so far, file by file.
    pub fn files(&self) -> FileDefects {
        self.counters.files()
    }

    /// Where it is mounted (canonical path).
    pub fn mountpoint(&self) -> &Path {
        &self.mountpoint
    }

    /// `true` once the filesystem is no longer served, e.g. after an external `umount`.
    pub fn is_finished(&self) -> bool {
        self.session.as_ref().is_none_or(|s| s.guard.is_finished())
    }

    /// Unmounts and waits for the server threads. If files are still open on
    /// the mount it is detached lazily instead and [`Error::Busy`] says so.
    pub fn unmount(mut self) -> Result<(), Error> {
        self.shutdown()
    }

    /// Whether another mount now sits on the mount point, over this one.
    fn is_covered(&self) -> bool {
        let top = std::fs::metadata(&self.mountpoint)
            .ok()
            .map(|m| std::os::unix::fs::MetadataExt::dev(&m));
        self.dev.is_some() && top != self.dev
    }

    /// Unmounts as [`Mount::unmount`] does, except that a busy mount is
    /// detached and served on until its last open file is closed (its
    /// clients never see a vanished server), and a covered one is left.
    fn unmount_and_wait(mut self, on_busy: impl FnOnce(&Error)) -> Result<(), Error> {
        match self.shutdown() {
            Err(e @ Error::Busy { .. }) => {
                on_busy(&e);
                match self.detached.take() {
                    Some(session) => session.join().map_err(|source| Error::Unmount {
                        path: self.mountpoint.clone(),
                        source,
                    }),
                    None => Ok(()),
                }
            }
            other => other,
        }
    }

    fn shutdown(&mut self) -> Result<(), Error> {
        if self
            .session
            .as_ref()
            .is_some_and(|s| !s.guard.is_finished())
            && self.is_covered()
        {
            return Err(Error::Covered {
                path: self.mountpoint.clone(),
            });
        }
        let Some(session) = self.session.take() else {
            return Ok(());
        };
        let unmount_err = |source| Error::Unmount {
            path: self.mountpoint.clone(),
            source,
        };
        if session.guard.is_finished() {
            // Unmounted from outside: nothing to undo, and the path may now
            // belong to another mount.
            return session.join().map_err(unmount_err);
        }
        match unmount_path(&self.mountpoint, false) {
            Ok(()) => session.join().map_err(unmount_err),
            Err(e) => match e.raw_os_error() {
                // Detached by someone else: its threads end with the last open file.
                Some(libc::EINVAL) => Ok(()),
                Some(libc::EBUSY) => {
                    // The server threads go on until the last open file closes.
                    unmount_path(&self.mountpoint, true).map_err(unmount_err)?;
                    self.detached = Some(session);
                    Err(Error::Busy {
                        path: self.mountpoint.clone(),
                    })
                }
                _ => Err(unmount_err(e)),
            },
        }
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

/// The setuid helper of the fuse3 package that mounts and unmounts FUSE
/// filesystems for users other than root.
const FUSERMOUNT: &str = "fusermount3";

/// Unmounts the filesystem mounted on `path`; `lazy` detaches it at once
/// even while files on it are open (`MNT_DETACH`). Root calls `umount2`;
/// anyone else, whom the kernel refuses (`EPERM`), asks `fusermount3 -u`,
/// which unmounts FUSE filesystems its caller mounted. `EBUSY` says files
/// are open; `EINVAL` that nothing is mounted there.
pub fn unmount_path(path: &Path, lazy: bool) -> io::Result<()> {
    let cpath = CString::new(path.as_os_str().as_bytes())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let done = if lazy {
        sys::umount_lazy(&cpath)
    } else {
        sys::umount(&cpath)
    };
    match done {
        Ok(()) => return Ok(()),
        Err(libc::EPERM) => {}
        Err(errno) => return Err(io::Error::from_raw_os_error(errno)),
    }
    let mut cmd = std::process::Command::new(FUSERMOUNT);
    cmd.arg("-u");
    if lazy {
        cmd.arg("-z");
    }
    let out = cmd
        .arg("--")
        .arg(path)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot run {FUSERMOUNT} -u (package fuse3): {e}"),
            )
        })?;
    if out.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&out.stderr).trim().to_string();
    // fusermount3 names the errno only in its message.
    if said.contains("busy") {
        Err(io::Error::from_raw_os_error(libc::EBUSY))
    } else if said.contains("not mounted") || said.contains("not found") {
        Err(io::Error::from_raw_os_error(libc::EINVAL))
    } else {
        Err(io::Error::other(format!(
            "{FUSERMOUNT} -u: {}",
            said.lines().next().unwrap_or("failed")
        )))
    }
}

/// Whether a zombiefs is mounted on `path` (`/proc/self/mountinfo`),
/// whoever serves it, alive or not.
pub fn is_mounted_at(path: &Path) -> bool {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return false;
    };
    info.lines().any(|line| {
        let mut halves = line.splitn(2, " - ");
        let (Some(mount), Some(fs)) = (halves.next(), halves.next()) else {
            return false;
        };
        mount.split(' ').nth(4).map(unescape_mountinfo).as_deref()
            == Some(path.as_os_str().as_bytes())
            && fs.split(' ').next() == Some("fuse.zombiefs")
    })
}

/// A mountinfo field with its octal escapes (`\040` for a space) undone.
fn unescape_mountinfo(field: &str) -> Vec<u8> {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match (b[i], octal) {
            (b'\\', Some(d)) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// Mounts zombiefs and serves it until SIGINT or SIGTERM arrives or the
/// mount is removed from outside (`umount`), then unmounts cleanly and
/// returns the final counters. A second signal during the unmount ends the
/// process at once (exit status 130); once it returns, the signals terminate
/// the process again as by default.
pub fn run_foreground(backing: &Path, mountpoint: &Path, options: Options) -> Result<Stats, Error> {
    run_foreground_with(backing, mountpoint, options, || {})
}

/// [`run_foreground`], calling `mounted` once the mount is in place.
pub fn run_foreground_with(
    backing: &Path,
    mountpoint: &Path,
    options: Options,
    mounted: impl FnOnce(),
) -> Result<Stats, Error> {
    options.validate()?;
    let signals = crate::signals::StopSignals::install(130).map_err(Error::Signals)?;
    let stop = signals.flag();
    let result = Mount::new(backing, mountpoint, options).and_then(|mount| {
        mounted();
        loop {
            while !stop.load(Ordering::SeqCst) && !mount.is_finished() {
                std::thread::sleep(POLL_INTERVAL);
            }
            // Never unmount a mount stacked over this one: say so and serve on
            // until that one is gone (a second signal exits at once).
            if !mount.is_finished() && mount.is_covered() {
                eprintln!(
                    "zombiefs: {}",
                    Error::Covered {
                        path: mount.mountpoint.clone()
                    }
                );
                while mount.is_covered() && !mount.is_finished() {
                    std::thread::sleep(POLL_INTERVAL);
                }
                continue;
            }
            break;
        }
        let stats = mount.stats();
        mount
            .unmount_and_wait(|busy| {
                eprintln!("zombiefs: {busy}; serving until then (a second signal exits at once)")
            })
            .map(|()| stats)
    });
    signals.uninstall().map_err(Error::Signals)?;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_escapes_are_undone() {
        assert_eq!(unescape_mountinfo("/tmp/a\\040b"), b"/tmp/a b");
        assert_eq!(unescape_mountinfo("/x\\134y"), b"/x\\y");
        assert_eq!(unescape_mountinfo("/plain\\9"), b"/plain\\9");
        assert!(!is_mounted_at(Path::new("/no/such/mount")));
    }

    #[test]
    fn options_are_validated() {
        assert!(Options::default().validate().is_ok());
        assert_eq!(Options::new(0.5, 10, 3).unwrap().stall_every, 3);
        assert_eq!(
            Options::new(1.5, 0, 0),
            Err(OptionsError::Probability("1.5".into()))
        );
        assert_eq!(Options::new(0.5, 10, 0), Err(OptionsError::StallEvery));
        let both = Options::new(0.5, 0, 0).unwrap();
        assert_eq!((both.open_probability, both.write_probability), (0.5, 0.5));
        let bad_write = Options {
            write_probability: -1.0,
            ..Options::default()
        };
        assert_eq!(
            bad_write.validate().unwrap_err().to_string(),
            "--write-probability must be a number between 0 and 1, got '-1'"
        );
        assert_eq!(parse_probability("0.25"), Ok(0.25));
        assert_eq!(parse_probability("1"), Ok(1.0));
        assert!(parse_probability("-0.1").is_err());
        assert!(parse_probability("NaN").is_err());
        assert_eq!(
            parse_probability("2").unwrap_err().to_string(),
            "--probability must be a number between 0 and 1, got '2'"
        );
        assert_eq!(
            OptionsError::StallEvery.to_string(),
            "--stall-every must be at least 1 when --stall-ms is set"
        );
    }
}
