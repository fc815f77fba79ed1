//! The outputs of every subcommand: checked before any work (what each
//! path names, no two the same file, at most one on standard output), then
//! staged whole and put in place all or none.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use unlink_race::export::files;

/// Checks before any work is done that an output can be written: what the
/// path names (a FIFO, a device and `-` are written through; a directory, a
/// block device or a socket is refused) and that its directory takes a new file.
pub fn check_output_path(flag: &str, path: &Path) -> Result<files::Destination> {
    files::check_destination(path).with_context(|| format!("{flag} {}", path.display()))
}

/// Checks every output before any work, and that no two name the same file
/// (by path, or by device and inode once it exists) and at most one goes to
/// standard output (`-`, or a path to the same file, like `/dev/stdout`).
pub fn check_outputs(outputs: &[(&str, &Path)]) -> Result<()> {
    let stdout_id = stdout_id();
    // (flag, name key, device and inode, goes to standard output)
    type Seen<'a> = (&'a str, Option<PathBuf>, Option<(u64, u64)>, bool);
    let mut seen: Vec<Seen> = Vec::new();
    for &(flag, path) in outputs {
        let dest = check_output_path(flag, path)?;
        let (key, id) = match &dest {
            files::Destination::Stdout => (None, stdout_id),
            files::Destination::Stream(p)
            | files::Destination::Replace(p)
            | files::Destination::Create(p) => (
                Some(
                    p.parent()
                        .and_then(|d| d.canonicalize().ok())
                        .map(|d| d.join(p.file_name().unwrap_or_default()))
                        .unwrap_or_else(|| p.clone()),
                ),
                std::fs::metadata(p).ok().and_then(|m| file_id(&m)),
            ),
        };
        let to_stdout = dest == files::Destination::Stdout || (id.is_some() && id == stdout_id);
        if to_stdout {
            if let Some((other, ..)) = seen.iter().find(|s| s.3) {
                bail!(
                    "{flag} {}: standard output already takes {other}; only one output can go to standard output",
                    path.display()
                );
            }
        }
        if let Some((other, ..)) = seen
            .iter()
            .find(|s| (key.is_some() && s.1 == key) || (id.is_some() && s.2 == id))
        {
            bail!("{flag} {}: the same file as {other}", path.display());
        }
        seen.push((flag, key, id, to_stdout));
    }
    Ok(())
}

/// Device and inode of standard output, if it is open.
fn stdout_id() -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        unlink_race::sys::fstat(std::io::stdout().as_fd())
            .ok()
            .map(|st| (st.dev, st.ino))
    }
    #[cfg(not(unix))]
    None
}

/// Device and inode of a file (none on Windows, where outputs are told
/// apart by their paths).
fn file_id(m: &std::fs::Metadata) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some((m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = m;
        None
    }
}

/// Whether `path` goes to standard output: `-`, or a path naming the same
/// file (`/dev/stdout`).
pub fn goes_to_stdout(path: &Path) -> bool {
    path.as_os_str() == "-"
        || stdout_id()
            .is_some_and(|id| std::fs::metadata(path).is_ok_and(|m| file_id(&m) == Some(id)))
}

/// Outputs staged completely (each a temporary file next to its target),
/// so that they are put in place all or none.
pub(crate) struct StagedOutputs(Vec<(String, files::Staged)>);

/// Stages every output; the first failure drops the others.
pub fn stage_outputs(outputs: &[(&str, &Path, Vec<u8>)]) -> Result<StagedOutputs> {
    let mut staged = Vec::with_capacity(outputs.len());
    for (flag, path, bytes) in outputs {
        let what = format!("{flag} {}", path.display());
        let s = files::stage(path, bytes).with_context(|| format!("{what}: cannot write"))?;
        staged.push((what, s));
    }
    Ok(StagedOutputs(staged))
}

impl StagedOutputs {
    /// Puts every staged output in place. A stream (a FIFO, standard output
    /// into a pipe) waits for its reader until `stop` is set and its
    /// deadline passed (`(flag, not before)`), and is then left unwritten
    /// ([`super::Stopped`]).
    pub fn commit(self, stop: Option<(&AtomicBool, Instant)>) -> Result<()> {
        for (what, s) in self.0 {
            match s.commit_until(stop) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {
                    return Err(super::Stopped(format!(
                        "{what}: stopped while waiting for its reader; not written"
                    ))
                    .into());
                }
                Err(e) => return Err(e).with_context(|| format!("{what}: cannot write")),
            }
        }
        Ok(())
    }
}
