//! Two views in two processes (`run --role reader` / `--role deleter`,
//! docs/two-views.md): when no one process can see both paths (a container
//! and its host, a WSL2 guest and Windows), the readers run in one process
//! and the deleters in another, joined by the directory they share.
//!
//! The reader makes the scratch directory and writes an *offer* in it; the
//! deleter, given its own path to the same directory, finds the offer there
//! (the reader's file read through the deleter's view), answers with an
//! *accept* (read back through the reader's view: both ways, as in the
//! single-process check), and races when the reader writes the *start*
//! file. The reader ends the race with a *stop* file, and the deleter
//! answers with its workers' counts, which the reader's report merges.
//!
//! Each message is one file in the scratch directory holding one line of
//! the versioned protocol of [`super::protocol`], written under a temporary
//! name and renamed into place so that a reader never sees half of it. The
//! deleter never removes the scratch directory: the reader does, after the
//! result. Both sides reach every name through a directory descriptor.

use crate::sys::{AsFd, BorrowedFd, OwnedFd};
use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::scenario::{Delete, Pace, Recreate, Scenario, Views, Workers};
use crate::sys::{self, flags::*, platform};

use super::pool::Pool;
use super::protocol::{self, ProtocolError};
use super::records::WorkerId;
use super::slot::{OPS, SlotSnapshot};
use super::worker::{Control, NONE, SideDirs};
use super::{HarnessError, SideInfo, errno_label, threads};

/// The message files, in the order they are written.
pub(super) const FILES: [&CStr; 5] = [
    c"role-offer",
    c"role-accept",
    c"role-start",
    c"role-stop",
    c"role-result",
];
const OFFER: &CStr = FILES[0];
const ACCEPT: &CStr = FILES[1];
const START: &CStr = FILES[2];
const STOP: &CStr = FILES[3];
const RESULT: &CStr = FILES[4];
/// The temporary name a message is written under before its rename.
pub(super) const TEMPORARY: &CStr = c".role-message";

/// How often a side looks for the other's next message.
const POLL: Duration = Duration::from_millis(20);
/// How long the reader waits for the deleters' result after its stop.
const RESULT_WAIT: Duration = Duration::from_secs(30);

/// The scenario as the reader offers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct RoleSpec {
    pub readers: u32,
    pub deleters: u32,
    pub file_size_bytes: u64,
    pub recreate: Recreate,
    pub delete: Delete,
    pub pace: Pace,
    pub views: Views,
    pub examples_per_class: u32,
}

impl RoleSpec {
    fn scenario(&self) -> Scenario {
        Scenario {
            readers: self.readers,
            deleters: self.deleters,
            file_size_bytes: self.file_size_bytes,
            recreate: self.recreate,
            delete: self.delete,
            workers: Workers::Threads,
            pace: self.pace,
            views: self.views,
            ..Scenario::default()
        }
    }
}

/// One message between the two sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "msg", rename_all = "snake_case")]
enum RoleMessage {
    /// The reader's offer: what to race, and a token the answer repeats.
    Offer { token: String, spec: RoleSpec },
    /// The deleter's answer: the token, and its side's directory.
    Accept {
        token: String,
        target_dir: String,
        fs_type: String,
        mount_point: String,
    },
    /// Race now.
    Start,
    /// Stop and send the result.
    Stop,
    /// The deleters' counts, in slot order; an environment failure of the
    /// deleter's side (errno, op code), which ended its race early.
    Result {
        slots: Vec<SlotSnapshot>,
        environment: Option<(i32, u8)>,
    },
}

/// Writes `msg` as the file `name` in `dir`: under a temporary name first,
/// then renamed into place.
fn send(dir: BorrowedFd<'_>, name: &CStr, msg: &RoleMessage) -> Result<(), String> {
    let line = protocol::encode(msg);
    let fd = sys::openat(
        dir,
        TEMPORARY,
        O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW,
        0o600,
    )
    .map_err(errno_label)?;
    let mut off = 0;
    while off < line.len() {
        match sys::write(fd.as_fd(), &line.as_bytes()[off..]) {
            Ok(0) => return Err("a write wrote nothing".into()),
            Ok(n) => off += n,
            Err(e) => return Err(errno_label(e)),
        }
    }
    sys::close(fd).map_err(errno_label)?;
    sys::renameat(dir, TEMPORARY, dir, name).map_err(errno_label)
}

/// The message in file `name` of `dir`: `Ok(None)` while there is none.
fn receive(dir: BorrowedFd<'_>, name: &CStr) -> Result<Option<RoleMessage>, String> {
    let fd = match sys::openat(dir, name, O_RDONLY | O_NOFOLLOW, 0) {
        Ok(fd) => fd,
        Err(sys::ENOENT) => return Ok(None),
        Err(e) => return Err(errno_label(e)),
    };
    let mut bytes = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        match sys::read(fd.as_fd(), &mut buf) {
            Ok(0) => break,
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            Err(e) => return Err(errno_label(e)),
        }
    }
    let text = String::from_utf8(bytes).map_err(|e| e.to_string())?;
    // A view that shows the name before its content: not there yet.
    if !text.ends_with('\n') {
        return Ok(None);
    }
    protocol::decode(text.trim_end())
        .map(Some)
        .map_err(|e: ProtocolError| e.to_string())
}

/// Polls `attempt` until it gives a value, `wait` runs out (`Ok(None)`) or
/// `interrupt` is set (`Ok(None)`).
fn poll<T>(
    wait: Duration,
    interrupt: Option<&AtomicBool>,
    mut attempt: impl FnMut() -> Result<Option<T>, String>,
) -> Result<Option<T>, String> {
    let deadline = Instant::now() + wait;
    loop {
        if let Some(v) = attempt()? {
            return Ok(Some(v));
        }
        if Instant::now() >= deadline || interrupt.is_some_and(|f| f.load(Relaxed)) {
            return Ok(None);
        }
        std::thread::sleep(POLL);
    }
}

/// A token no other run shares.
fn token() -> String {
    format!("{}-{}", sys::getpid(), sys::monotonic_ns())
}

/// The reader's side of the deleters in another process.
pub(super) struct RemoteDeleters {
    /// The scratch directory (the reader's view).
    dir: Arc<OwnedFd>,
    /// The deleter's directory as it reported it.
    pub(super) side: SideInfo,
    started: bool,
    /// The result, once the deleter sent it.
    result: Option<DeletersResult>,
}

/// The deleters' slots, and their side's environment failure (errno, op code).
type DeletersResult = (Vec<SlotSnapshot>, Option<(i32, u8)>);

/// Offers `scenario` in the scratch directory `dir` and waits up to `wait`
/// for a deleter to accept it. `scratch` names the directory in messages.
pub(super) fn offer(
    dir: &Arc<OwnedFd>,
    scratch: &Path,
    scenario: &Scenario,
    examples_per_class: u32,
    wait: Duration,
    interrupt: Option<&AtomicBool>,
) -> Result<RemoteDeleters, HarnessError> {
    let failed = |what: &str, e: String| HarnessError::Role(format!("{what}: {e}"));
    let token = token();
    let spec = RoleSpec {
        readers: scenario.readers,
        deleters: scenario.deleters,
        file_size_bytes: scenario.file_size_bytes,
        recreate: scenario.recreate,
        delete: scenario.delete,
        pace: scenario.pace,
        views: scenario.views,
        examples_per_class,
    };
    let d = dir.as_fd();
    send(
        d,
        OFFER,
        &RoleMessage::Offer {
            token: token.clone(),
            spec,
        },
    )
    .map_err(|e| failed("cannot write the offer", e))?;
    let accepted = poll(wait, interrupt, || receive(d, ACCEPT))
        .map_err(|e| failed("the deleter's answer", e))?;
    match accepted {
        Some(RoleMessage::Accept {
            token: t,
            target_dir,
            fs_type,
            mount_point,
        }) if t == token => Ok(RemoteDeleters {
            dir: Arc::clone(dir),
            side: SideInfo {
                target_dir: target_dir.into(),
                fs: platform::FsInfo {
                    fs_type,
                    mount_point,
                },
            },
            started: false,
            result: None,
        }),
        Some(other) => Err(HarnessError::Role(format!(
            "the deleter answered {other:?}, not this offer"
        ))),
        None if interrupt.is_some_and(|f| f.load(Relaxed)) => Err(HarnessError::Role(
            "interrupted while waiting for the deleter".into(),
        )),
        None => Err(HarnessError::Role(format!(
            "no deleter joined within {} s: run `unlink-race run --role deleter --dir <the \
             other path to this directory>` on the other side while this one waits (the offer \
             is in {})",
            wait.as_secs(),
            scratch.display()
        ))),
    }
}

impl RemoteDeleters {
    /// Releases the deleters (on the first batch; they race until the stop).
    pub(super) fn start(&mut self) -> Result<(), HarnessError> {
        if !self.started {
            send(self.dir.as_fd(), START, &RoleMessage::Start)
                .map_err(|e| HarnessError::Role(format!("cannot write the start file: {e}")))?;
            self.started = true;
        }
        Ok(())
    }

    /// While racing: a result that came before the stop means the deleter's
    /// side ended on its own; its environment failure, if any.
    pub(super) fn poll_early_end(&mut self) -> Option<(i32, u8)> {
        if self.result.is_none() && sys::exists_at(self.dir.as_fd(), RESULT).unwrap_or(false) {
            if let Ok(Some(RoleMessage::Result { slots, environment })) =
                receive(self.dir.as_fd(), RESULT)
            {
                self.result = Some((slots, environment));
            }
        }
        self.result.as_ref().and_then(|(_, env)| *env)
    }

    /// Stops the deleters and returns their slots (readers' first, empty),
    /// in slot order; an error when their result never came.
    pub(super) fn finish(
        mut self,
        readers: usize,
        deleters: usize,
    ) -> Result<Vec<SlotSnapshot>, String> {
        if self.result.is_none() {
            send(self.dir.as_fd(), STOP, &RoleMessage::Stop)
                .map_err(|e| format!("cannot write the stop file: {e}"))?;
            let got = poll(RESULT_WAIT, None, || receive(self.dir.as_fd(), RESULT))?;
            match got {
                Some(RoleMessage::Result { slots, environment }) => {
                    self.result = Some((slots, environment));
                }
                Some(other) => return Err(format!("the deleter sent {other:?}, not its result")),
                None => {
                    return Err(format!(
                        "the deleter sent no result within {} s of the stop",
                        RESULT_WAIT.as_secs()
                    ));
                }
            }
        }
        let (slots, _) = self.result.take().unwrap_or_default();
        if slots.len() != readers + deleters {
            return Err(format!(
                "the deleter sent {} workers' counts, not {}",
                slots.len(),
                readers + deleters
            ));
        }
        // The other process's clock may be another machine's (a VM): its
        // events would not line up with the readers' timeline.
        Ok(slots
            .into_iter()
            .map(|s| SlotSnapshot {
                events: Vec::new(),
                ..s
            })
            .collect())
    }
}

/// What the deleter's side did, for its own summary.
#[derive(Debug, Clone, PartialEq)]
pub struct DeleterRun {
    /// The scratch directory through this side.
    pub scratch: PathBuf,
    /// The scenario the reader offered.
    pub scenario: Scenario,
    pub removals: u64,
    pub recreations: u64,
    pub anomalies: u64,
    /// Why the race ended: the reader's stop, or not.
    pub end: DeleterEnd,
}

/// Why the deleter's race ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleterEnd {
    /// The reader wrote the stop file.
    Stopped,
    /// The scratch directory went away (the reader is gone, or ended early).
    ScratchGone,
    /// Ctrl-C (or the like) on this side.
    Interrupted,
    /// This side's view of the directory failed (errno).
    Environment(i32),
}

/// The offers waiting in `dir`: scratch directories of readers whose offer
/// no deleter took yet, by name.
fn waiting_offers(parent: BorrowedFd<'_>, dir: &Path) -> Result<Vec<(CString, OwnedFd)>, String> {
    let listing = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut found = Vec::new();
    for entry in listing.flatten() {
        let name = entry.file_name();
        let Some(text) = name.to_str() else { continue };
        if !text.starts_with("unlink-race-") {
            continue;
        }
        let Ok(cname) = CString::new(text) else {
            continue;
        };
        let Ok(scratch) = sys::openat(parent, &cname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0)
        else {
            continue;
        };
        let has = |n: &CStr| sys::exists_at(scratch.as_fd(), n).unwrap_or(false);
        if has(OFFER) && !has(ACCEPT) {
            found.push((cname, scratch));
        }
    }
    Ok(found)
}

/// The deleter's side: waits up to `wait` for a reader's offer in `dir`,
/// accepts it, races its deleters from the reader's start to its stop (or
/// until the scratch directory goes, or `interrupt`), and sends the result.
pub fn serve_deleters(
    dir: &Path,
    wait: Duration,
    stall_timeout: Duration,
    interrupt: Option<&AtomicBool>,
    mut joined: impl FnMut(&Path, &Scenario),
) -> Result<DeleterRun, HarnessError> {
    let failed = |what: &str, e: String| HarnessError::Role(format!("{what}: {e}"));
    let bad = |reason: String| HarnessError::TargetDir {
        path: dir.to_path_buf(),
        reason,
    };
    if !dir.is_dir() {
        return Err(bad(if dir.exists() {
            "is not a directory".into()
        } else {
            "does not exist".into()
        }));
    }
    let target_dir = dir.canonicalize().map_err(|e| bad(e.to_string()))?;
    let parent = sys::open_dir(&target_dir).map_err(|e| bad(e.to_string()))?;
    let offers = poll(wait, interrupt, || {
        let found = waiting_offers(parent.as_fd(), &target_dir)?;
        Ok((!found.is_empty()).then_some(found))
    })
    .map_err(|e| failed("looking for a reader's offer", e))?;
    let mut offers = match offers {
        Some(o) => o,
        None if interrupt.is_some_and(|f| f.load(Relaxed)) => {
            return Err(HarnessError::Role(
                "interrupted while waiting for a reader".into(),
            ));
        }
        None => {
            return Err(HarnessError::Role(format!(
                "no reader's offer appeared in {} within {} s: start `unlink-race run --role \
                 reader --dir <the other path to this directory>` on the other side",
                target_dir.display(),
                wait.as_secs()
            )));
        }
    };
    if offers.len() > 1 {
        let names: Vec<String> = offers
            .iter()
            .map(|(n, _)| n.to_string_lossy().into_owned())
            .collect();
        return Err(HarnessError::Role(format!(
            "{} readers wait in {} ({}): start one at a time",
            offers.len(),
            target_dir.display(),
            names.join(", ")
        )));
    }
    let (name, scratch) = offers.remove(0);
    let scratch_path = target_dir.join(name.to_string_lossy().as_ref());
    let (token, spec) = match receive(scratch.as_fd(), OFFER) {
        Ok(Some(RoleMessage::Offer { token, spec })) => (token, spec),
        Ok(other) => {
            return Err(HarnessError::Role(format!(
                "{}: not an offer: {other:?}",
                scratch_path.display()
            )));
        }
        Err(e) => return Err(failed(&format!("{}: the offer", scratch_path.display()), e)),
    };
    let scenario = spec.scenario();
    scenario.validate()?;
    let fs = platform::fs_info(parent.as_fd(), &target_dir);
    send(
        scratch.as_fd(),
        ACCEPT,
        &RoleMessage::Accept {
            token,
            target_dir: target_dir.display().to_string(),
            fs_type: fs.fs_type,
            mount_point: fs.mount_point,
        },
    )
    .map_err(|e| failed("cannot write the answer", e))?;
    joined(&scratch_path, &scenario);
    let scratch = Arc::new(scratch);
    let started = poll(wait, interrupt, || {
        let d = scratch.as_fd();
        if sys::dir_failure(d).is_some() {
            return Err("the scratch directory went away".into());
        }
        Ok([START, STOP]
            .iter()
            .find(|n| sys::exists_at(d, n).unwrap_or(false))
            .copied())
    })
    .map_err(|e| failed("waiting for the reader's start", e))?;
    match started {
        Some(n) if n == START => {}
        Some(_) => {
            return Err(HarnessError::Role(
                "the reader stopped before it started the race".into(),
            ));
        }
        None => {
            return Err(HarnessError::Role(format!(
                "the reader did not start the race within {} s",
                wait.as_secs()
            )));
        }
    }
    race(
        &scenario,
        &spec,
        scratch,
        scratch_path,
        stall_timeout,
        interrupt,
    )
}

/// Races the deleters until the stop, and sends their result.
fn race(
    scenario: &Scenario,
    spec: &RoleSpec,
    scratch: Arc<OwnedFd>,
    scratch_path: PathBuf,
    stall_timeout: Duration,
    interrupt: Option<&AtomicBool>,
) -> Result<DeleterRun, HarnessError> {
    let slots = (scenario.readers + scenario.deleters) as usize;
    let control = Arc::new(Control::new(slots, spec.examples_per_class));
    let ids: Vec<WorkerId> = (0..scenario.deleters).map(WorkerId::deleter).collect();
    let dirs = SideDirs {
        reader: Arc::clone(&scratch),
        deleter: Arc::clone(&scratch),
    };
    let mut pool = threads::ThreadPool::start(scenario, &dirs, Arc::clone(&control), &ids)?;
    control.quota_per_reader.store(NONE, Relaxed);
    control.until_anomalies.store(NONE, Relaxed);
    control.readers_running.store(0, Relaxed);
    pool.start_batch();
    let d = scratch.as_fd();
    let end = loop {
        if pool.wait(POLL) {
            // Deleters run until told: only an environment error ends them.
            break DeleterEnd::Environment(control.environment_errno.load(Relaxed));
        }
        if interrupt.is_some_and(|f| f.load(Relaxed)) {
            break DeleterEnd::Interrupted;
        }
        let errno = control.environment_errno.load(Relaxed);
        if errno != 0 {
            break DeleterEnd::Environment(errno);
        }
        if sys::dir_failure(d).is_some() {
            break DeleterEnd::ScratchGone;
        }
        if sys::exists_at(d, STOP).unwrap_or(false) {
            break DeleterEnd::Stopped;
        }
    };
    pool.stop();
    let deadline = Instant::now() + stall_timeout;
    let mut all_done = false;
    while !all_done && Instant::now() < deadline {
        all_done = pool.wait(POLL);
    }
    let snapshots = Box::new(pool).finish(all_done);
    let environment = match control.environment_errno.load(Relaxed) {
        0 => None,
        errno => Some((errno, control.environment_op.load(Relaxed))),
    };
    let sum = |f: fn(&SlotSnapshot) -> u64| snapshots.iter().map(f).sum::<u64>();
    let run = DeleterRun {
        scratch: scratch_path,
        scenario: scenario.clone(),
        removals: sum(|s| s.removals),
        recreations: sum(|s| s.recreations),
        anomalies: sum(|s| s.anomalies),
        end,
    };
    if end != DeleterEnd::ScratchGone {
        send(
            d,
            RESULT,
            &RoleMessage::Result {
                slots: snapshots,
                environment,
            },
        )
        .map_err(|e| HarnessError::Role(format!("cannot write the result: {e}")))?;
    }
    if let DeleterEnd::Environment(errno) = end {
        let op = environment.and_then(|(_, op)| OPS.get(op as usize));
        return Err(HarnessError::Environment {
            op: op.map(|o| o.name()),
            errno,
            scratch: run.scratch,
        });
    }
    Ok(run)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_round_trips() {
        let spec = RoleSpec {
            readers: 2,
            deleters: 1,
            file_size_bytes: 4096,
            recreate: Recreate::Atomic,
            delete: Delete::Trash,
            pace: Pace::Check,
            views: Views::SplitRecreating,
            examples_per_class: 5,
        };
        for msg in [
            RoleMessage::Offer {
                token: "1-2".into(),
                spec: spec.clone(),
            },
            RoleMessage::Accept {
                token: "1-2".into(),
                target_dir: "/b".into(),
                fs_type: "ext4".into(),
                mount_point: "/".into(),
            },
            RoleMessage::Start,
            RoleMessage::Stop,
            RoleMessage::Result {
                slots: vec![SlotSnapshot::default(); 3],
                environment: Some((28, 7)),
            },
        ] {
            let line = protocol::encode(&msg);
            let v = format!("{{\"v\":{},", protocol::PROTOCOL_VERSION);
            assert!(line.starts_with(&v), "{line}");
            assert_eq!(protocol::decode::<RoleMessage>(line.trim_end()), Ok(msg));
        }
        assert_eq!(spec.scenario().views, Views::SplitRecreating);
    }

    #[test]
    fn messages_cross_through_files() {
        let dir = tempfile::tempdir().unwrap();
        let fd = sys::open_dir(dir.path()).unwrap();
        assert_eq!(receive(fd.as_fd(), START), Ok(None));
        send(fd.as_fd(), START, &RoleMessage::Start).unwrap();
        assert_eq!(receive(fd.as_fd(), START), Ok(Some(RoleMessage::Start)));
        // Only the message is left: its temporary name was renamed.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["role-start"]);
        std::fs::write(
            dir.path().join("role-stop"),
            format!("{{\"v\":{},\"msg\":\"stop\"", protocol::PROTOCOL_VERSION),
        )
        .unwrap();
        assert_eq!(
            receive(fd.as_fd(), STOP),
            Ok(None),
            "half a line is not there yet"
        );
        std::fs::write(dir.path().join("role-stop"), "{\"v\":9,\"msg\":\"stop\"}\n").unwrap();
        assert!(
            receive(fd.as_fd(), STOP).is_err(),
            "another version is an error"
        );
    }
}
