//! The private scratch directory: created under the target directory, held
//! by descriptors while the workers race in it, and removed through them.
//!
//! Nothing here may hold up the end of a run on a filesystem that stopped
//! answering: the directory is watched by a [`Probe`] thread (the controller
//! only reads what it found), and removed by a thread of its own that is
//! waited for [`REMOVAL_WAIT`] at most ([`Scratch::remove_within`]).
//!
//! Each scratch directory holds a marker file, [`MARKER`], naming the
//! process that made it (its id, start time and the boot it ran in). A run
//! killed with SIGKILL cannot remove its directory; the next run in the same
//! target directory does ([`remove_stale`]), once the marker, the owner and
//! the layout show it is one of ours and its process is gone.

use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use crate::sys::{self, AsFd, BorrowedFd, Errno, OwnedFd, file_type::*, flags::*};

use super::records::WorkerId;
use super::role;
use super::split::{MARKERS, OtherView};
use super::worker::{TARGET, TRASH_DIR, private_names};
use super::{HarnessError, errno_label};

/// The marker file in every scratch directory: who made it.
pub const MARKER: &CStr = c".unlink-race-scratch";
/// The prefix of every scratch directory's name: `unlink-race-<pid>-<hex>`.
const PREFIX: &str = "unlink-race-";
/// How long the end of a run waits for its scratch directory to be removed.
pub const REMOVAL_WAIT: Duration = Duration::from_secs(2);

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
            "{PREFIX}{}-{:x}",
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
    write_marker(scratch.dir.as_fd()).map_err(failed)?;
    sys::mkdirat(scratch.dir.as_fd(), TRASH_DIR, 0o700).map_err(failed)?;
    Ok((scratch, canonical))
}

/// Who made a scratch directory, as its marker says.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Maker {
    pid: u32,
    /// The process's start time (Linux: clock ticks after boot), if known.
    started: Option<u64>,
    /// The boot it ran in (Linux: `/proc/sys/kernel/random/boot_id`), if known.
    boot: Option<String>,
}

impl Maker {
    /// This process.
    fn this_process() -> Maker {
        let pid = sys::getpid();
        Maker {
            pid,
            started: process_start(pid),
            boot: boot_id(),
        }
    }

    fn text(&self) -> String {
        format!(
            "unlink-race scratch directory\npid {}\nstarted {}\nboot {}\n",
            self.pid,
            self.started.map_or_else(|| "-".into(), |t| t.to_string()),
            self.boot.as_deref().unwrap_or("-")
        )
    }

    fn parse(text: &str) -> Option<Maker> {
        let mut lines = text.lines();
        if lines.next()? != "unlink-race scratch directory" {
            return None;
        }
        let mut field = |key: &str| {
            lines
                .next()?
                .strip_prefix(key)?
                .strip_prefix(' ')
                .map(str::to_string)
        };
        let pid = field("pid")?.parse().ok()?;
        let started = field("started")?;
        let boot = field("boot")?;
        Some(Maker {
            pid,
            started: started.parse().ok(),
            boot: (boot != "-").then_some(boot),
        })
    }

    /// Whether the process that made the directory is still running: the
    /// same process id, start time and boot (what is not known counts as
    /// the same).
    fn is_running(&self) -> bool {
        fn same<T: PartialEq>(a: &Option<T>, b: &Option<T>) -> bool {
            a.is_none() || b.is_none() || a == b
        }
        process_running(self.pid)
            && same(&self.boot, &boot_id())
            && same(&self.started, &process_start(self.pid))
    }
}

/// Whether process `pid` exists and has not ended (a zombie waiting to be
/// reaped has: Linux shows it in state `Z` in `/proc/<pid>/stat`).
#[cfg(unix)]
fn process_running(pid: u32) -> bool {
    if !sys::process_exists(pid) {
        return false;
    }
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return true;
    };
    let state = stat
        .rfind(')')
        .and_then(|i| stat[i + 1..].split_whitespace().next());
    !matches!(state, Some("Z" | "X"))
}

/// The start time of process `pid` in clock ticks after boot (Linux:
/// field 22 of `/proc/<pid>/stat`).
fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The name (field 2) may hold spaces and parentheses: count after its end.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19)?.parse().ok()
}

/// This boot's id (Linux), to tell a process id of an earlier boot.
fn boot_id() -> Option<String> {
    let id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    Some(id.trim().to_string()).filter(|s| !s.is_empty())
}

fn write_marker(dir: BorrowedFd<'_>) -> Result<(), Errno> {
    let fd = sys::openat(dir, MARKER, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600)?;
    let text = Maker::this_process().text();
    let mut bytes = text.as_bytes();
    while !bytes.is_empty() {
        match sys::write(fd.as_fd(), bytes)? {
            0 => return Err(sys::EIO),
            n => bytes = &bytes[n..],
        }
    }
    sys::close(fd)
}

/// A stale scratch directory found by [`remove_stale`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleScratch {
    pub path: PathBuf,
    /// The process that made it (gone).
    pub pid: u32,
    /// `None`: removed; else why it was left.
    pub left: Option<String>,
}

/// Removes the scratch directories in `target` whose run is gone (killed
/// with SIGKILL, or the machine restarted): a directory named
/// `unlink-race-<pid>-<hex>`, owned by this user, mode 0700, whose marker
/// names process `<pid>` and whose process is not running, holding only the
/// names a run makes. One that holds anything else is left and said so.
/// Directories of runs still going, of other users, and anything not made
/// by unlink-race are not touched.
pub fn remove_stale(target: &Path) -> Vec<StaleScratch> {
    let Ok(parent) = sys::open_dir(target) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(target) else {
        return Vec::new();
    };
    let me = sys::getpid();
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(text) = name.to_str() else { continue };
        let Some(pid) = scratch_pid(text) else {
            continue;
        };
        if pid == me {
            continue;
        }
        let Ok(cname) = CString::new(name.as_encoded_bytes()) else {
            continue;
        };
        let Some(left) = stale_removal(parent.as_fd(), &cname, pid) else {
            continue;
        };
        found.push(StaleScratch {
            path: target.join(&name),
            pid,
            left: left.err(),
        });
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found
}

/// The process id in a scratch directory's name `unlink-race-<pid>-<hex>`.
fn scratch_pid(name: &str) -> Option<u32> {
    let (pid, hex) = name.strip_prefix(PREFIX)?.split_once('-')?;
    let digits = |s: &str, radix| !s.is_empty() && s.chars().all(|c| c.is_digit(radix));
    (digits(pid, 10) && digits(hex, 16)).then(|| pid.parse().ok())?
}

/// `None`: not a stale scratch directory of ours (left alone, unsaid);
/// `Some(Ok)`: removed; `Some(Err(why))`: stale, but left.
fn stale_removal(parent: BorrowedFd<'_>, name: &CStr, pid: u32) -> Option<Result<(), String>> {
    let st = sys::fstatat(parent, name).ok()?;
    if st.mode & S_IFMT != S_IFDIR || st.uid != sys::geteuid() || st.mode & 0o7777 != 0o700 {
        return None;
    }
    let dir = sys::openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0).ok()?;
    let here = sys::fstat(dir.as_fd()).ok()?;
    if (here.dev, here.ino) != (st.dev, st.ino) {
        return None;
    }
    match read_marker(dir.as_fd()) {
        Some(maker) if maker.pid == pid => {
            if maker.is_running() {
                return None;
            }
        }
        // Another process's marker under this name: not what it seems.
        Some(_) => return None,
        // Made before markers existed (or killed before writing it): the
        // process id in the name decides.
        None => {
            if process_running(pid) {
                return None;
            }
        }
    }
    Some(remove_layout(parent, name, dir.as_fd(), (st.dev, st.ino)))
}

fn read_marker(dir: BorrowedFd<'_>) -> Option<Maker> {
    let fd = sys::openat(dir, MARKER, O_RDONLY | O_NOFOLLOW, 0).ok()?;
    let st = sys::fstat(fd.as_fd()).ok()?;
    if st.mode & S_IFMT != S_IFREG || st.size > 4096 {
        return None;
    }
    let mut buf = [0u8; 4096];
    let n = sys::read(fd.as_fd(), &mut buf).ok()?;
    Maker::parse(std::str::from_utf8(&buf[..n]).ok()?)
}

/// Whether `name` is one a run makes in its scratch directory (`in_trash`:
/// inside its trash directory).
fn made_by_a_run(name: &[u8], in_trash: bool) -> bool {
    let numbered = |prefix: &[u8]| {
        name.strip_prefix(prefix)
            .is_some_and(|n| !n.is_empty() && n.iter().all(u8::is_ascii_digit))
    };
    if in_trash {
        return numbered(b"d");
    }
    name == TARGET.to_bytes()
        || name == MARKER.to_bytes()
        || numbered(b"tmp-r")
        || numbered(b"tmp-d")
        || numbered(b"tmp-c")
        || is_round_name(name)
}

/// Windows: whether process `pid` may still run; never known here, so a
/// stale scratch directory is left (and said so) rather than removed.
#[cfg(not(unix))]
fn process_running(_pid: u32) -> bool {
    true
}

/// The names in `dir` (not `.` and `..`).
fn names_in(dir: BorrowedFd<'_>) -> Result<Vec<CString>, String> {
    #[cfg(unix)]
    let path = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&dir));
    #[cfg(not(unix))]
    let path = String::new();
    let listed = if !path.is_empty() && Path::new(&path).exists() {
        std::fs::read_dir(&path)
    } else {
        sys::fd_path(dir)
            .map(std::fs::read_dir)
            .unwrap_or_else(|| Err(std::io::Error::from_raw_os_error(sys::ENOENT)))
    };
    let entries = listed.map_err(|e| e.to_string())?;
    entries
        .map(|e| {
            let e = e.map_err(|e| e.to_string())?;
            CString::new(e.file_name().as_encoded_bytes()).map_err(|e| e.to_string())
        })
        .collect()
}

/// Removes a stale scratch directory holding only what a run makes
/// (regular files of its names, and its trash directory of them).
fn remove_layout(
    parent: BorrowedFd<'_>,
    name: &CStr,
    dir: BorrowedFd<'_>,
    id: (u64, u64),
) -> Result<(), String> {
    let foreign = || "it holds files unlink-race did not make".to_string();
    let names = names_in(dir)?;
    let mut files = Vec::new();
    let mut trash = None;
    for n in &names {
        let st = sys::fstatat(dir, n).map_err(errno_label)?;
        if n.as_c_str() == TRASH_DIR && st.mode & S_IFMT == S_IFDIR {
            trash = Some(n);
        } else if st.mode & S_IFMT == S_IFREG && made_by_a_run(n.to_bytes(), false) {
            files.push(n);
        } else {
            return Err(foreign());
        }
    }
    if let Some(t) = trash {
        let tdir =
            sys::openat(dir, t, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0).map_err(errno_label)?;
        for n in names_in(tdir.as_fd())? {
            let st = sys::fstatat(tdir.as_fd(), &n).map_err(errno_label)?;
            if st.mode & S_IFMT != S_IFREG || !made_by_a_run(n.to_bytes(), true) {
                return Err(foreign());
            }
            sys::unlinkat(tdir.as_fd(), &n).map_err(errno_label)?;
        }
        sys::rmdirat(dir, t).map_err(errno_label)?;
    }
    for n in files {
        sys::unlinkat(dir, n).map_err(errno_label)?;
    }
    match sys::fstatat(parent, name) {
        Ok(st) if (st.dev, st.ino) == id => {}
        _ => return Err("it was moved meanwhile".into()),
    }
    sys::rmdirat(parent, name).map_err(errno_label)
}

/// Looks at the scratch directory (is it still there, does its filesystem
/// answer) from a thread of its own, so that the controller never waits on
/// a filesystem: it reads what the probe found, and for how long the look
/// under way has been waiting.
pub(super) struct Probe {
    state: Arc<ProbeState>,
}

#[derive(Default)]
struct ProbeState {
    /// Set to end the thread; it wakes at once.
    quit: std::sync::Mutex<bool>,
    wake: std::sync::Condvar,
    /// The thread is gone (its descriptor of the directory closed).
    ended: AtomicBool,
    /// The errno of the last look, 0 when the directory was fine.
    errno: AtomicI32,
    /// When the look under way began (0: none under way).
    busy_since_ns: AtomicU64,
}

/// How long dropping a [`Probe`] waits for its thread to end (it does at
/// once, unless its look is stuck in a filesystem).
const PROBE_END_WAIT: Duration = Duration::from_millis(100);

impl Probe {
    /// Starts looking at `dir` every `every`.
    pub(super) fn start(dir: Arc<OwnedFd>, every: Duration) -> Result<Probe, HarnessError> {
        let state = Arc::new(ProbeState::default());
        let s = Arc::clone(&state);
        std::thread::Builder::new()
            .name("scratch probe".into())
            .stack_size(super::threads::WORKER_STACK)
            .spawn(move || {
                loop {
                    s.busy_since_ns.store(sys::monotonic_ns(), Relaxed);
                    let errno = sys::dir_failure(dir.as_fd()).unwrap_or(0);
                    s.busy_since_ns.store(0, Relaxed);
                    s.errno.store(errno, Relaxed);
                    let quit = s.quit.lock().unwrap_or_else(|e| e.into_inner());
                    let (quit, _) = s
                        .wake
                        .wait_timeout_while(quit, every, |q| !*q)
                        .unwrap_or_else(|e| e.into_inner());
                    if *quit {
                        break;
                    }
                }
                drop(dir);
                s.ended.store(true, Relaxed);
            })
            .map_err(|e| HarnessError::spawn("a thread to watch the scratch directory", e))?;
        Ok(Probe { state })
    }

    /// The errno that says the scratch directory failed, if it did.
    pub(super) fn failure(&self) -> Option<Errno> {
        Some(self.state.errno.load(Relaxed)).filter(|&e| e != 0)
    }

    /// When the look under way began, if one is under way.
    pub(super) fn busy_since_ns(&self) -> Option<u64> {
        Some(self.state.busy_since_ns.load(Relaxed)).filter(|&t| t != 0)
    }
}

impl Drop for Probe {
    /// Ends the thread, waiting [`PROBE_END_WAIT`] at most (a look stuck in
    /// a filesystem keeps it, and its descriptor, until it returns).
    fn drop(&mut self) {
        *self.state.quit.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.state.wake.notify_all();
        let deadline = std::time::Instant::now() + PROBE_END_WAIT;
        while !self.state.ended.load(Relaxed) && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
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

    /// [`Scratch::remove`] in a thread of its own, waited for `wait` at
    /// most: on a filesystem that stopped answering, the directory is left
    /// (and removed later, if the filesystem comes back while this process
    /// lives), and the error says where.
    pub(super) fn remove_within(self, ids: &[WorkerId], wait: Duration) -> Result<(), String> {
        let path = self.path.clone();
        let ids = ids.to_vec();
        let (tx, rx) = std::sync::mpsc::channel();
        let removal = std::thread::Builder::new()
            .name("scratch removal".into())
            .stack_size(super::threads::WORKER_STACK)
            .spawn(move || {
                let removed = self.remove(&ids);
                // Its descriptors are closed before anyone hears it is done.
                drop(self);
                let _ = tx.send(removed);
            });
        if let Err(e) = removal {
            return Err(format!(
                "{}: cannot start a thread to remove it: {e}",
                path.display()
            ));
        }
        rx.recv_timeout(wait).unwrap_or_else(|_| {
            Err(format!(
                "{}: its filesystem did not answer within {:.1} s",
                path.display(),
                wait.as_secs_f64()
            ))
        })
    }

    /// Removes the names the workers made, then the directory itself through
    /// its parent's descriptor, after checking that the name still names it
    /// (device and inode). Anything else found there is left, and so is the
    /// directory; the error says where it is. With two views, what the first
    /// side cannot remove is removed through the other.
    pub(super) fn remove(&self, ids: &[WorkerId]) -> Result<(), String> {
        let mut names = vec![TARGET.to_owned(), MARKER.to_owned()];
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
        if let Ok(found) = names_in(self.dir.as_fd()) {
            names.extend(found.into_iter().filter(|n| is_round_name(n.to_bytes())));
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
