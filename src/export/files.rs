//! Report files on disk: `<label>.json`, `<label>.html` and `index.html`.
//!
//! An output path is judged by what it names (`lstat` through a descriptor of
//! its directory), never by its spelling:
//!
//! - `-` is standard output;
//! - a FIFO or a character device (also behind a symlink, like `/dev/stdout`)
//!   is written through, never replaced;
//! - a regular file is replaced atomically: the bytes go to a temporary file in
//!   the same directory (given the old file's mode, and owner when root), which
//!   is then exchanged with the target (`renameat2(RENAME_EXCHANGE)`); what it
//!   replaced is checked to be the file that was there (device and inode)
//!   before it is removed, or it is put back;
//! - a new file is created with mode 0644 minus the umask and renamed into
//!   place without replacing anything that appeared meanwhile;
//! - anything else (directory, block device, socket, dangling symlink) is
//!   refused.
//!
//! [`check_destination`] says so before any work is done; [`stage`] writes the
//! temporary file and [`Staged::commit`] puts it in place, so a command with
//! several outputs writes all of them or none.

use std::ffi::{CStr, CString, OsStr};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::Instant;

use crate::export::html;
use crate::report::schema::Report;
use crate::sys::{self, AsFd, BorrowedFd, Errno, OwnedFd, file_type::*, flags::*};

/// What an output path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// `-`: standard output.
    Stdout,
    /// A FIFO or a character device: written through.
    Stream(PathBuf),
    /// An existing regular file, replaced atomically with its mode kept.
    Replace(PathBuf),
    /// No file yet: created 0644 minus the umask.
    Create(PathBuf),
}

fn refuse(reason: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, reason.into())
}

fn os_err(errno: Errno) -> io::Error {
    io::Error::from_raw_os_error(errno)
}

/// The directory a path's last component lives in, opened (following
/// symlinks in it: only the last component is judged), and that component.
fn split(path: &Path) -> io::Result<(OwnedFd, CString)> {
    let name = match path.file_name() {
        Some(n) => n,
        None => return Err(refuse("is a directory")),
    };
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let dir = sys::open_dir_following(parent).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => refuse(format!("directory {} does not exist", parent.display())),
        _ => io::Error::new(e.kind(), format!("directory {}: {e}", parent.display())),
    })?;
    let name = CString::new(name.as_encoded_bytes()).map_err(|_| refuse("contains a NUL byte"))?;
    Ok((dir, name))
}

/// What `path` names, judged as the module docs say. Also checks that a file
/// can be created next to it (a read-only filesystem or a directory without
/// write permission is found here, before any work).
pub fn check_destination(path: &Path) -> io::Result<Destination> {
    let dest = classify(path, true)?;
    if let Destination::Replace(p) | Destination::Create(p) = &dest {
        let (dir, name) = split(p)?;
        let probe = temp_name(&name, "check");
        let fd = sys::openat(
            dir.as_fd(),
            &probe,
            O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW,
            0o600,
        )
        .map_err(os_err)?;
        drop(fd);
        let _ = sys::unlinkat(dir.as_fd(), &probe);
    }
    Ok(dest)
}

fn classify(path: &Path, follow: bool) -> io::Result<Destination> {
    if path.as_os_str() == OsStr::new("-") {
        return Ok(Destination::Stdout);
    }
    let (dir, name) = split(path)?;
    let st = match sys::fstatat(dir.as_fd(), &name) {
        Ok(st) => st,
        Err(sys::ENOENT) => {
            return Ok(Destination::Create(path.to_path_buf()));
        }
        Err(e) => return Err(os_err(e)),
    };
    match st.mode & S_IFMT {
        S_IFREG => Ok(Destination::Replace(path.to_path_buf())),
        S_IFIFO | S_IFCHR => Ok(Destination::Stream(path.to_path_buf())),
        S_IFDIR => Err(refuse("is a directory")),
        S_IFBLK => Err(refuse("is a block device: not written over")),
        S_IFSOCK => Err(refuse("is a socket")),
        S_IFLNK if follow => {
            // Judge what the link points to, and write there: the link stays.
            // A stream is written through the link itself (`/dev/stdout`
            // into a pipe points at `pipe:[…]`, which no path names).
            let meta =
                std::fs::metadata(path).map_err(|_| refuse("is a symbolic link to nothing"))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::FileTypeExt;
                if meta.file_type().is_fifo() || meta.file_type().is_char_device() {
                    return Ok(Destination::Stream(path.to_path_buf()));
                }
            }
            #[cfg(not(unix))]
            let _ = meta;
            let target =
                std::fs::canonicalize(path).map_err(|_| refuse("is a symbolic link to nothing"))?;
            classify(&target, false)
        }
        _ => Err(refuse(
            "is not a regular file, a FIFO or a character device",
        )),
    }
}

/// A unique name next to `name` for a temporary file: `.<name>.unlink-race-
/// <what>-<pid>-<n>`, with `name` cut short when the whole would pass the
/// 255 bytes a file name can have (a long name the user gave must not fail
/// on a name the user never gave).
fn temp_name(name: &CStr, what: &str) -> CString {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let suffix = format!(
        ".unlink-race-{what}-{}-{}",
        sys::getpid(),
        COUNTER.fetch_add(1, Relaxed)
    );
    let room = NAME_MAX.saturating_sub(1 + suffix.len());
    let mut stem = name.to_bytes();
    if stem.len() > room {
        stem = &stem[..room];
        // Keep the cut on a character boundary where the name is UTF-8.
        while !stem.is_empty() && std::str::from_utf8(stem).is_err() {
            stem = &stem[..stem.len() - 1];
        }
    }
    let mut bytes = b".".to_vec();
    bytes.extend_from_slice(stem);
    bytes.extend_from_slice(suffix.as_bytes());
    CString::new(bytes).expect("no NUL: built from a CStr")
}

/// The longest file name Linux and macOS filesystems take, in bytes.
const NAME_MAX: usize = 255;

fn write_all_fd(fd: sys::BorrowedFd<'_>, mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        match sys::write(fd, bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) => return Err(os_err(e)),
        }
    }
    Ok(())
}

/// An output whose bytes are ready; [`Staged::commit`] puts them in place.
/// Dropped without a commit, it leaves nothing behind.
#[derive(Debug)]
pub struct Staged {
    inner: StagedKind,
}

#[derive(Debug)]
enum StagedKind {
    /// Written at commit (stdout, FIFO, device): nothing to stage on disk.
    Through { dest: Destination, bytes: Vec<u8> },
    /// A complete temporary file next to the target.
    File {
        dir: OwnedFd,
        tmp: CString,
        name: CString,
        /// Device and inode of the regular file it replaces.
        replaces: Option<(u64, u64)>,
        committed: bool,
    },
}

/// Prepares `bytes` (plus a final newline) for `path`: for a file, a complete
/// and synced temporary file next to it.
pub fn stage(path: &Path, bytes: &[u8]) -> io::Result<Staged> {
    let mut bytes = bytes.to_vec();
    bytes.push(b'\n');
    let dest = classify(path, true)?;
    let (target, replaces) = match &dest {
        Destination::Stdout | Destination::Stream(_) => {
            return Ok(Staged {
                inner: StagedKind::Through { dest, bytes },
            });
        }
        Destination::Replace(p) => (p, true),
        Destination::Create(p) => (p, false),
    };
    let (dir, name) = split(target)?;
    let old = if replaces {
        let st = sys::fstatat(dir.as_fd(), &name).map_err(os_err)?;
        if st.mode & S_IFMT != S_IFREG {
            return Err(refuse("changed while the run went on: not replaced"));
        }
        Some(st)
    } else {
        None
    };
    let tmp = temp_name(&name, "new");
    let fd = sys::openat(
        dir.as_fd(),
        &tmp,
        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW,
        0o644,
    )
    .map_err(os_err)?;
    let staged = Staged {
        inner: StagedKind::File {
            dir,
            tmp,
            name,
            replaces: old.map(|st| (st.dev, st.ino)),
            committed: false,
        },
    };
    if let Some(st) = old {
        sys::fchmod(fd.as_fd(), st.mode & 0o7777).map_err(os_err)?;
        if sys::geteuid() == 0 {
            let _ = sys::fchown(fd.as_fd(), st.uid, st.gid);
        }
    }
    write_all_fd(fd.as_fd(), &bytes)?;
    sys::fsync(fd.as_fd()).map_err(os_err)?;
    sys::close(fd).map_err(os_err)?;
    Ok(staged)
}

impl Staged {
    /// Puts the bytes in place: writes them through, or renames the
    /// temporary file over the target.
    pub fn commit(self) -> io::Result<()> {
        self.commit_until(None)
    }

    /// [`Staged::commit`]; a stream (a FIFO or standard output into a pipe)
    /// that waits for its reader gives up once `stop` is set and its
    /// deadline has passed (`stop` is `(flag, not before)`), failing with
    /// [`io::ErrorKind::Interrupted`].
    pub fn commit_until(mut self, stop: Option<(&AtomicBool, Instant)>) -> io::Result<()> {
        match &mut self.inner {
            StagedKind::Through { dest, bytes } => write_through(dest, bytes, stop),
            StagedKind::File {
                dir,
                tmp,
                name,
                replaces,
                committed,
            } => {
                put_in_place(dir, tmp, name, *replaces)?;
                *committed = true;
                Ok(())
            }
        }
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if let StagedKind::File {
            dir,
            tmp,
            committed: false,
            ..
        } = &self.inner
        {
            let _ = sys::unlinkat(dir.as_fd(), tmp);
        }
    }
}

/// How often a stream that cannot take bytes yet is looked at again (and
/// the stop flag with it).
#[cfg(unix)]
const STREAM_POLL_MS: i32 = 50;

/// An error once the wait for a reader is to end: the flag is set and its
/// deadline has passed.
fn stopped(stop: Option<(&AtomicBool, Instant)>) -> io::Result<()> {
    match stop {
        Some((flag, not_before)) if flag.load(Relaxed) && Instant::now() >= not_before => {
            Err(io::Error::new(
                io::ErrorKind::Interrupted,
                "stopped while waiting for the reader",
            ))
        }
        _ => Ok(()),
    }
}

/// Writes `bytes` to `fd` as its reader takes them, never blocking longer
/// than [`STREAM_POLL_MS`] without looking at `stop` while the reader
/// takes nothing: at most `PIPE_BUF` bytes at a time once `poll` says there
/// is room (a pipe then takes them whole), or without waiting on a
/// non-blocking descriptor.
#[cfg(unix)]
fn write_stream(
    fd: BorrowedFd<'_>,
    mut bytes: &[u8],
    stop: Option<(&AtomicBool, Instant)>,
) -> io::Result<()> {
    const CHUNK: usize = 4096;
    while !bytes.is_empty() {
        if !sys::poll_ready(fd, sys::POLLOUT, STREAM_POLL_MS).map_err(os_err)? {
            stopped(stop)?;
            continue;
        }
        match sys::write(fd, &bytes[..bytes.len().min(CHUNK)]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e == sys::EAGAIN || e == sys::EWOULDBLOCK => stopped(stop)?,
            Err(e) => return Err(os_err(e)),
        }
    }
    Ok(())
}

/// Windows has no `poll` on a stream: written whole, as a file is.
#[cfg(not(unix))]
fn write_stream(
    fd: BorrowedFd<'_>,
    bytes: &[u8],
    stop: Option<(&AtomicBool, Instant)>,
) -> io::Result<()> {
    stopped(stop)?;
    write_all_fd(fd, bytes)
}

fn write_through(
    dest: &Destination,
    bytes: &[u8],
    stop: Option<(&AtomicBool, Instant)>,
) -> io::Result<()> {
    match dest {
        #[cfg(unix)]
        Destination::Stdout => {
            io::stdout().lock().flush()?;
            write_stream(io::stdout().as_fd(), bytes, stop)
        }
        #[cfg(not(unix))]
        Destination::Stdout => {
            stopped(stop)?;
            let mut out = io::stdout().lock();
            out.write_all(bytes)?;
            out.flush()
        }
        Destination::Stream(path) => {
            let (dir, name) = split(path)?;
            // No O_CREAT, no O_TRUNC: only what is there is opened, and it is
            // checked to still be a FIFO or a device before a byte goes out.
            // Non-blocking: a FIFO without a reader answers ENXIO at once,
            // and is tried again until one comes (or the stop flag is set).
            #[cfg(unix)]
            let flags = O_WRONLY | O_NONBLOCK;
            #[cfg(not(unix))]
            let flags = O_WRONLY;
            #[cfg_attr(not(unix), allow(clippy::never_loop))]
            let fd = loop {
                match sys::openat(dir.as_fd(), &name, flags, 0) {
                    Ok(fd) => break fd,
                    #[cfg(unix)]
                    Err(sys::ENXIO) => {
                        stopped(stop)?;
                        std::thread::sleep(std::time::Duration::from_millis(STREAM_POLL_MS as u64));
                    }
                    Err(e) => return Err(os_err(e)),
                }
            };
            let st = sys::fstat(fd.as_fd()).map_err(os_err)?;
            if !matches!(st.mode & S_IFMT, S_IFIFO | S_IFCHR) {
                return Err(refuse("changed while the run went on: not written"));
            }
            write_stream(fd.as_fd(), bytes, stop)
        }
        Destination::Replace(_) | Destination::Create(_) => unreachable!("staged as a file"),
    }
}

/// Renames `tmp` to `name` in `dir`, replacing only the regular file
/// `replaces` (device, inode) or, when `None`, nothing.
fn put_in_place(
    dir: &OwnedFd,
    tmp: &CStr,
    name: &CStr,
    replaces: Option<(u64, u64)>,
) -> io::Result<()> {
    let dir = dir.as_fd();
    #[cfg(target_os = "linux")]
    {
        use sys::rename_flags::*;
        match replaces {
            Some(expected) => match sys::renameat2(dir, tmp, dir, name, RENAME_EXCHANGE) {
                Ok(()) => {
                    // `tmp` now names what was at the target.
                    let old = sys::fstatat(dir, tmp).map_err(os_err)?;
                    if old.mode & S_IFMT == S_IFREG && (old.dev, old.ino) == expected {
                        let _ = sys::unlinkat(dir, tmp);
                        return Ok(());
                    }
                    // Something else took its place meanwhile: put it back.
                    sys::renameat2(dir, tmp, dir, name, RENAME_EXCHANGE).map_err(os_err)?;
                    return Err(refuse("changed while the run went on: not replaced"));
                }
                Err(sys::ENOENT) => {
                    return Err(refuse("was removed while the run went on: not written"));
                }
                // Filesystems without RENAME_EXCHANGE: check, then rename.
                Err(sys::EINVAL | sys::ENOSYS) => {}
                Err(e) => return Err(os_err(e)),
            },
            None => match sys::renameat2(dir, tmp, dir, name, RENAME_NOREPLACE) {
                Ok(()) => return Ok(()),
                Err(sys::EEXIST) => {
                    return Err(refuse("appeared while the run went on: not replaced"));
                }
                Err(sys::EINVAL | sys::ENOSYS) => {}
                Err(e) => return Err(os_err(e)),
            },
        }
    }
    match (sys::fstatat(dir, name), replaces) {
        (Ok(st), Some(expected)) if st.mode & S_IFMT == S_IFREG && (st.dev, st.ino) == expected => {
        }
        (Err(sys::ENOENT), None) => {}
        _ => return Err(refuse("changed while the run went on: not replaced")),
    }
    sys::renameat(dir, tmp, dir, name).map_err(os_err)
}

/// Writes `bytes` (plus a final newline) to `path` as the module docs say:
/// through a stream, or atomically to a regular file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    stage(path, bytes)?.commit()
}

/// Writes `report` as pretty JSON to `path` (see [`write_atomic`]).
pub fn write_json(report: &Report, path: &Path) -> io::Result<()> {
    write_atomic(path, &report_json(report)?)
}

/// `report` as pretty JSON.
pub fn report_json(report: &Report) -> io::Result<Vec<u8>> {
    serde_json::to_vec_pretty(report).map_err(io::Error::other)
}

/// Checks before any work that report files can be written into `dir`:
/// what [`reports_dir_usable`] checks, then creates it when missing and
/// creates and removes a file in it.
pub fn check_reports_dir(dir: &Path) -> io::Result<()> {
    reports_dir_usable(dir)?;
    std::fs::create_dir_all(dir)?;
    check_destination(&dir.join("index.html")).map(drop)
}

/// Whether report files could be written into `dir`, found without
/// creating it: a path that is not a directory, a read-only filesystem or
/// a directory without write permission (its own, or that of the nearest
/// existing directory above it when it does not exist yet) is an error,
/// the same one [`check_reports_dir`] gives.
pub fn reports_dir_usable(dir: &Path) -> io::Result<()> {
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => return check_destination(&dir.join("index.html")).map(drop),
        Ok(_) => return Err(refuse("is not a directory")),
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        Err(_) => {}
    }
    // Not there yet: the nearest directory above it must take a new one.
    let mut above = dir.parent();
    while let Some(d) = above {
        let d = if d.as_os_str().is_empty() {
            Path::new(".")
        } else {
            d
        };
        match std::fs::metadata(d) {
            Ok(m) if m.is_dir() => {
                return check_destination(&d.join(".unlink-race-reports")).map(drop);
            }
            Ok(_) => return Err(os_err(sys::ENOTDIR)),
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            Err(_) => above = d.parent(),
        }
    }
    Ok(())
}

/// Writes `<label>.json` and `<label>.html` into `dir` (both or neither),
/// then rewrites `index.html` over every report there; returns the paths
/// written.
pub fn write_report_files(report: &Report, dir: &Path) -> io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let json = dir.join(format!("{}.json", report.label));
    let page = dir.join(format!("{}.html", report.label));
    let staged = [
        stage(&json, &report_json(report)?)?,
        stage(&page, html::render_report(report).as_bytes())?,
    ];
    for s in staged {
        s.commit()?;
    }
    let index = write_index(dir)?;
    Ok(vec![json, page, index])
}

/// Every unlink-race report JSON in `dir`, by file name, as summaries
/// ([`crate::report::load::load_summary`]: what the index shows). Files
/// that are not reports (or not of a schema this version reads) and
/// anything that is not a regular file (a FIFO, a socket) are skipped with
/// a warning that names the file and the problem.
pub fn load_reports_in(dir: &Path) -> io::Result<Vec<(String, Report)>> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    names.sort();
    let mut out = Vec::new();
    for path in names {
        match crate::report::load::load_summary_of_file(&path) {
            Ok(r) => {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                out.push((name, r));
            }
            Err(e) => eprintln!(
                "warning: {}; left out of the index",
                crate::export::terminal::clean_line(&e.to_string())
            ),
        }
    }
    Ok(out)
}

/// Writes `dir/index.html` over every report JSON in `dir`, with each
/// scenario's comparison verdict against the first report.
pub fn write_index(dir: &Path) -> io::Result<PathBuf> {
    let reports = load_reports_in(dir)?;
    let page = crate::export::index::render_index_html(&reports);
    let index = dir.join("index.html");
    write_atomic(&index, page.as_bytes())?;
    Ok(index)
}

// Symlinks, FIFOs and modes: Unix only.
#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};

    #[test]
    fn destinations_are_judged_by_what_the_path_names() {
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join("f");
        std::fs::write(&file, "x").unwrap();
        let link = d.path().join("l");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let dangling = d.path().join("dangling");
        std::os::unix::fs::symlink(d.path().join("nothing"), &dangling).unwrap();
        let new = d.path().join("new");
        let canonical_file = file.canonicalize().unwrap();
        let cases: Vec<(&Path, Result<Destination, &str>)> = vec![
            (Path::new("-"), Ok(Destination::Stdout)),
            (
                Path::new("/dev/null"),
                Ok(Destination::Stream("/dev/null".into())),
            ),
            (&file, Ok(Destination::Replace(file.clone()))),
            (&link, Ok(Destination::Replace(canonical_file))),
            (&new, Ok(Destination::Create(new.clone()))),
            (d.path(), Err("is a directory")),
            (&dangling, Err("is a symbolic link to nothing")),
            (Path::new("/nonexistent-dir/x"), Err("does not exist")),
        ];
        for (path, want) in cases {
            let got = check_destination(path);
            match want {
                Ok(dest) => assert_eq!(got.unwrap(), dest, "{}", path.display()),
                Err(text) => {
                    let e = got.unwrap_err().to_string();
                    assert!(e.contains(text), "{}: {e}", path.display());
                }
            }
        }
    }

    #[test]
    fn a_replaced_file_keeps_its_mode_and_a_new_one_gets_0644() {
        let d = tempfile::tempdir().unwrap();
        let old = d.path().join("old");
        std::fs::write(&old, "before").unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_atomic(&old, b"after").unwrap();
        assert_eq!(std::fs::read_to_string(&old).unwrap(), "after\n");
        assert_eq!(std::fs::metadata(&old).unwrap().mode() & 0o7777, 0o640);
        let new = d.path().join("new");
        write_atomic(&new, b"x").unwrap();
        // The test process's umask is 022 or stricter.
        let mode = std::fs::metadata(&new).unwrap().mode() & 0o7777;
        assert_eq!(mode & !0o644, 0, "{mode:o}");
        assert_eq!(mode & 0o600, 0o600, "{mode:o}");
        // Only the two files: no temporary left behind.
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 2);
    }

    #[test]
    fn a_fifo_is_written_through_not_replaced() {
        let d = tempfile::tempdir().unwrap();
        let fifo = d.path().join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(&fifo).unwrap())
        };
        write_atomic(&fifo, b"through").unwrap();
        assert_eq!(reader.join().unwrap(), b"through\n");
        assert!(
            std::fs::symlink_metadata(&fifo)
                .unwrap()
                .file_type()
                .is_fifo()
        );
    }

    #[test]
    fn an_uncommitted_stage_leaves_nothing() {
        let d = tempfile::tempdir().unwrap();
        let staged = stage(&d.path().join("x"), b"x").unwrap();
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
        drop(staged);
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
    }
}
