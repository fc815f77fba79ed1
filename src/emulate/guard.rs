//! The guard: a small process that cleans up after an emulator that died
//! without doing it itself (`kill -9`, an out-of-memory kill, a crash).
//!
//! The emulator starts it first, in a session of its own (so that neither
//! Ctrl-C at a terminal nor a signal to the emulator's process group reaches
//! it), and tells it, one JSON line at a time on its standard input, what
//! there is to clean up: the private directory, the mount point, the
//! command's process group. The pipe is the emulator's lifeline: when it
//! closes without [`Message::Done`], the emulator is gone, and the guard
//! ends the command's process group, lazily unmounts zombiefs if it is
//! still mounted there and removes the private directory, then exits.
//! Both ends are the same executable, so the messages need no version.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::sys;
use crate::zombiefs;

/// The hidden first argument that makes the `unlink-race` binary a guard.
pub const GUARD_SUBCOMMAND: &str = "__emulate-guard";

/// How long the guard lets the command's processes end after `SIGTERM`,
/// and then after `SIGKILL`: it cleans up within twice this.
const GUARD_GRACE: Duration = Duration::from_secs(2);

/// What the emulator tells its guard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Message {
    /// The private directory (backing and mount point inside), to remove.
    Root { path: PathBuf },
    /// Where zombiefs is (about to be) mounted.
    Mount { path: PathBuf },
    /// The command's process group.
    Group { pgid: u32 },
    /// Everything is cleaned up: nothing left to do.
    Done,
}

/// The emulator's end: the guard process and the pipe to it.
#[derive(Debug)]
pub struct Guard {
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Guard {
    /// Starts the guard: this executable with [`GUARD_SUBCOMMAND`].
    pub fn start() -> std::io::Result<Guard> {
        let exe = std::env::current_exe()?;
        let mut cmd = Command::new(exe);
        cmd.arg(GUARD_SUBCOMMAND)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        sys::process::in_new_session(&mut cmd);
        let mut child = cmd.spawn()?;
        let stdin = child.stdin.take();
        Ok(Guard { child, stdin })
    }

    /// The pipe to the guard, for a child to announce its process group
    /// itself ([`sys::process::announce_group`]).
    pub fn pipe_fd(&self) -> Option<std::os::fd::RawFd> {
        use std::os::fd::AsRawFd;
        self.stdin.as_ref().map(|pipe| pipe.as_raw_fd())
    }

    /// Tells the guard one more thing to clean up if the emulator dies.
    pub fn tell(&mut self, message: &Message) -> std::io::Result<()> {
        let mut line = serde_json::to_string(message).map_err(std::io::Error::other)?;
        line.push('\n');
        match &mut self.stdin {
            Some(pipe) => pipe.write_all(line.as_bytes()),
            None => Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe)),
        }
    }

    /// Everything is cleaned up: the guard exits without doing anything.
    pub fn done(mut self) {
        let _ = self.tell(&Message::Done);
        drop(self.stdin.take());
        let _ = self.child.wait();
    }
}

/// What the guard would clean up.
#[derive(Debug, Default)]
struct Leftovers {
    root: Option<PathBuf>,
    mount: Option<PathBuf>,
    pgid: Option<u32>,
}

/// The guard process: reads messages until the pipe closes, and cleans up
/// unless the last one was [`Message::Done`]. Returns its exit status.
pub fn guard_main() -> i32 {
    // Stop signals are the emulator's to handle; the guard outlives it.
    crate::signals::leave_stop_signals_to_parent();
    let mut left = Leftovers::default();
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        match serde_json::from_str::<Message>(&line) {
            Ok(Message::Done) => return 0,
            Ok(Message::Root { path }) => left.root = Some(path),
            Ok(Message::Mount { path }) => left.mount = Some(path),
            Ok(Message::Group { pgid }) => left.pgid = Some(pgid),
            Err(_) => {}
        }
    }
    let said = clean_up(&left);
    if !said.is_empty() {
        eprintln!(
            "unlink-race emulate: the emulator ended without cleaning up (killed?); its guard {}",
            said.join(", ")
        );
    }
    0
}

/// Ends the group, unmounts, removes the directory; says what it did.
fn clean_up(left: &Leftovers) -> Vec<String> {
    let mut said = Vec::new();
    if let Some(pgid) = left.pgid {
        let n = sys::process::group_members(pgid).len();
        if n > 0 {
            end_group(pgid, GUARD_GRACE, || {});
            said.push(format!(
                "ended the command's process group {pgid} ({n} process{})",
                if n == 1 { "" } else { "es" }
            ));
        }
    }
    let mut still_mounted = false;
    if let Some(mount) = &left.mount {
        if zombiefs::is_mounted_at(mount) {
            match zombiefs::unmount_path(mount, true) {
                Ok(()) => said.push(format!("unmounted {}", mount.display())),
                Err(e) => {
                    still_mounted = true;
                    said.push(format!("could not unmount {}: {e}", mount.display()));
                }
            }
        }
    }
    if let Some(root) = &left.root {
        if still_mounted {
            said.push(format!("left {} (still mounted inside)", root.display()));
        } else if root.exists() {
            match std::fs::remove_dir_all(root) {
                Ok(()) => said.push(format!("removed {}", root.display())),
                Err(e) => said.push(format!("could not remove {}: {e}", root.display())),
            }
        }
    }
    said
}

/// Ends process group `pgid`: `SIGTERM` (and `SIGCONT`, for stopped
/// members), up to `grace` for it to empty, then `SIGKILL` and up to
/// `grace` again. `meanwhile` runs between looks (the emulator reaps its
/// children there). Returns whether the group is empty.
pub fn end_group(pgid: u32, grace: Duration, mut meanwhile: impl FnMut()) -> bool {
    for sig in [libc::SIGTERM, libc::SIGKILL] {
        if sys::process::group_members(pgid).is_empty() {
            return true;
        }
        let _ = sys::process::signal_group(pgid, sig);
        let _ = sys::process::signal_group(pgid, libc::SIGCONT);
        if wait_until_empty(pgid, grace, &mut meanwhile) {
            return true;
        }
    }
    false
}

/// Waits up to `limit` for process group `pgid` to have no live member.
fn wait_until_empty(pgid: u32, limit: Duration, meanwhile: &mut impl FnMut()) -> bool {
    let start = Instant::now();
    loop {
        meanwhile();
        if sys::process::group_members(pgid).is_empty() {
            return true;
        }
        if start.elapsed() >= limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_as_one_line_each() {
        for m in [
            Message::Root {
                path: "/tmp/a b".into(),
            },
            Message::Mount {
                path: "/tmp/a b/mnt".into(),
            },
            Message::Group { pgid: 42 },
            Message::Done,
        ] {
            let line = serde_json::to_string(&m).unwrap();
            assert!(!line.contains('\n'));
            assert_eq!(serde_json::from_str::<Message>(&line).unwrap(), m);
        }
        assert_eq!(
            serde_json::to_string(&Message::Group { pgid: 7 }).unwrap(),
            r#"{"kind":"group","pgid":7}"#
        );
    }
}
