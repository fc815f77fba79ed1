//! Processes on Linux, for `unlink-race emulate`: process groups, a
//! subreaper that reaps whatever a command leaves, and signals to a whole
//! group.
//!
//! The `pre_exec` hooks run in the child between `fork` and `exec`, where
//! only async-signal-safe calls are allowed: each makes one or two raw
//! syscalls and nothing else.

use std::ffi::c_int;
use std::os::unix::process::CommandExt;
use std::process::Command;

use super::{SysResult, check};

/// The child leads a new process group (its pgid is its pid), so that the
/// group can be signalled as one, and is killed (`SIGKILL`) when the thread
/// that spawned it dies: a parent killed outright takes its child along.
/// Spawn from a thread that lives as long as the child should.
pub fn in_new_group_dying_with_parent(cmd: &mut Command) {
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the hook makes only async-signal-safe syscalls (setpgid,
    // prctl, getppid, kill) and touches no memory the parent owns.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setpgid(0, 0) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) == -1
            {
                return Err(std::io::Error::last_os_error());
            }
            // The parent died before the prctl: nobody would ever kill us.
            if libc::getppid() != parent {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
            Ok(())
        });
    }
}

/// Before it runs the program, the child itself writes
/// `{"kind":"group","pgid":<its pid>}` and a newline to `fd`, in one write
/// (under `PIPE_BUF`, so whole): whoever reads `fd` knows the child's group
/// even when the parent is killed before it could say so. Register it after
/// [`in_new_group_dying_with_parent`], whose group this names.
pub fn announce_group(cmd: &mut Command, fd: std::os::fd::RawFd) {
    // SAFETY: the hook formats into a stack buffer and makes only
    // async-signal-safe syscalls (getpid, write); `fd` is the caller's open
    // descriptor, inherited by the child until it runs the program.
    unsafe {
        cmd.pre_exec(move || {
            let head = b"{\"kind\":\"group\",\"pgid\":";
            let mut line = [0u8; 48];
            line[..head.len()].copy_from_slice(head);
            let mut n = head.len();
            let mut digits = [0u8; 10];
            let (mut k, mut pid) = (0, libc::getpid() as u32);
            loop {
                digits[k] = b'0' + (pid % 10) as u8;
                k += 1;
                pid /= 10;
                if pid == 0 {
                    break;
                }
            }
            while k > 0 {
                k -= 1;
                line[n] = digits[k];
                n += 1;
            }
            line[n..n + 2].copy_from_slice(b"}\n");
            n += 2;
            libc::write(fd, line.as_ptr().cast(), n);
            Ok(())
        });
    }
}

/// The child starts a new session (`setsid`): outside its parent's process
/// group, so that neither a terminal's Ctrl-C nor a signal to that group
/// reaches it.
pub fn in_new_session(cmd: &mut Command) {
    // SAFETY: `setsid` is async-signal-safe and touches no memory.
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// `prctl(PR_SET_CHILD_SUBREAPER)`: orphaned descendants are reparented to
/// this process instead of init, so that [`reap_any`] collects them.
pub fn become_subreaper() -> SysResult<()> {
    // SAFETY: `prctl` with these arguments reads and writes no memory.
    check(unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1 as libc::c_ulong, 0, 0, 0) })
        .map(drop)
}

/// One child that has ended, reaped without waiting: its pid and its raw
/// wait status (`std::os::unix::process::ExitStatusExt::from_raw` reads
/// it). `Ok(None)` when no child has ended; `Err(ECHILD)` when there are no
/// children at all.
pub fn reap_any() -> SysResult<Option<(u32, i32)>> {
    let mut status: c_int = 0;
    // SAFETY: `status` is valid for one write.
    let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
    match pid {
        -1 => Err(super::last_errno()),
        0 => Ok(None),
        pid => Ok(Some((pid as u32, status))),
    }
}

/// `kill(-pgid, sig)`: `sig` to every process of the group.
pub fn signal_group(pgid: u32, sig: i32) -> SysResult<()> {
    if pgid <= 1 {
        // -1 and 0 would mean every process we may signal, or our own group.
        return Err(libc::EINVAL);
    }
    // SAFETY: `kill` reads and writes no memory.
    check(unsafe { libc::kill(-(pgid as libc::pid_t), sig) }).map(drop)
}

/// The live processes of process group `pgid` (zombies left out: they have
/// ended, only their parent has not collected them), from `/proc`.
pub fn group_members(pgid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut members = Vec::new();
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        if let Some((state, group)) = parse_stat(&stat) {
            if group == pgid && state != 'Z' && state != 'X' {
                members.push(pid);
            }
        }
    }
    members
}

/// State and process group from a `/proc/<pid>/stat` line: the fields after
/// the command name, which is in parentheses and may hold anything.
fn parse_stat(stat: &str) -> Option<(char, u32)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some((state, pgrp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_lines_give_state_and_group() {
        assert_eq!(
            parse_stat("123 (sh) S 1 123 123 0 -1 4194560 ..."),
            Some(('S', 123))
        );
        // A command name with spaces and parentheses.
        assert_eq!(parse_stat("77 (a (b) c) Z 5 70 70 0"), Some(('Z', 70)));
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn this_process_is_in_its_group() {
        let pgid = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|s| parse_stat(&s))
            .unwrap()
            .1;
        assert!(group_members(pgid).contains(&std::process::id()));
        assert_eq!(signal_group(1, 0), Err(libc::EINVAL));
    }
}
