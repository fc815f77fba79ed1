//! `unlink-race run` as two processes, so that its exit is bounded whatever
//! the filesystem under test does.
//!
//! A thread blocked in a FUSE request that its server has already read (a
//! server stopped with SIGSTOP, or one that never answers) cannot be killed:
//! the kernel waits for the answer, and a process is not reaped until every
//! one of its threads is gone. Worker threads racing on such a mount would
//! keep the process that runs them alive, whatever it does. So the process
//! the caller started (the *supervisor*: a shell, `timeout`, a test) only
//! starts a second one that runs everything (the *run*) and waits for the
//! run's exit code, which the run sends over a pipe once its report is
//! written and its output is complete. The supervisor then exits with that
//! code, whether or not the run's process can be reaped yet; the run has by
//! then said in one line what it left behind.
//!
//! Stop signals reach both (a terminal or `timeout` signals the whole
//! process group); one sent to the supervisor alone is passed on. If the run
//! has not answered 8 s after a stop signal (its main thread itself stuck in
//! a filesystem before the run began), the supervisor exits 130 and says
//! so. If the supervisor dies (SIGKILL), the run ends at once as if killed
//! with it; the next run in that directory removes the scratch directory it
//! left. Where the run cannot be started as a process of its own (a process
//! limit), it runs in this process instead.

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use unlink_race::sys;

use super::EXIT_INTERRUPTED;

/// The hidden first argument of the run's process: `__supervised FD PID run …`.
const SUPERVISED: &str = "__supervised";
/// How long after a stop signal the supervisor waits for the run's answer.
const STOP_BACKSTOP: Duration = Duration::from_secs(8);
/// How long it waits for the run's process to be reaped once it answered.
const REAP_WAIT: Duration = Duration::from_secs(1);
/// How often the run looks whether its supervisor is still there.
const PARENT_POLL: Duration = Duration::from_millis(100);

/// Runs `args` through `run_cli`, in two processes when it is `run`.
/// Returns the exit code.
pub fn dispatch(args: Vec<String>, run_cli: fn(Vec<String>) -> u8) -> u8 {
    match args.get(1).map(String::as_str) {
        Some("run") => supervise(&args).unwrap_or_else(|| run_cli(args)),
        Some(SUPERVISED) => supervised(args, run_cli),
        _ => run_cli(args),
    }
}

/// The path that starts this same binary (also once renamed or replaced).
pub fn this_binary() -> Option<std::path::PathBuf> {
    if cfg!(target_os = "linux") && std::path::Path::new("/proc/self/exe").exists() {
        return Some("/proc/self/exe".into());
    }
    std::env::current_exe().ok()
}

/// The supervisor: starts the run and waits for its exit code. `None` when
/// the run cannot be started as a process of its own.
fn supervise(args: &[String]) -> Option<u8> {
    let stop = unlink_race::signals::stop_flag()?;
    let (answer, write_end) = sys::pipe().ok()?;
    // Only the run inherits the write end: this process starts nothing else.
    sys::set_cloexec(write_end.as_fd(), false).ok()?;
    let mut child = Command::new(this_binary()?)
        .arg0(&args[0])
        .arg(SUPERVISED)
        .arg(write_end.as_raw_fd().to_string())
        .arg(sys::getpid().to_string())
        .args(&args[1..])
        .spawn()
        .ok()?;
    drop(write_end);
    let mut stopped_at: Option<Instant> = None;
    loop {
        if sys::poll_ready(answer.as_fd(), sys::POLLIN, 100).unwrap_or(true) {
            let mut code = [0u8];
            return Some(match sys::read(answer.as_fd(), &mut code) {
                Ok(1) => {
                    reap_within(&mut child, REAP_WAIT);
                    code[0]
                }
                // No answer: the run's process ended without one (killed,
                // or a panic); its status says how.
                _ => exit_code_of(&mut child),
            });
        }
        if stop.swap(false, std::sync::atomic::Ordering::SeqCst) {
            // One sent to this process alone is passed on.
            let _ = sys::kill(child.id(), sys::SIGTERM);
            stopped_at.get_or_insert_with(Instant::now);
        }
        if stopped_at.is_some_and(|at| at.elapsed() > STOP_BACKSTOP) {
            eprintln!(
                "error: interrupted, but the run (process {}) did not stop within {} s: a \
                 filesystem it uses does not answer; it is left behind, with its scratch \
                 directory if it made one",
                child.id(),
                STOP_BACKSTOP.as_secs()
            );
            return Some(EXIT_INTERRUPTED);
        }
    }
}

/// Waits up to `limit` for the run's process to be reaped (a thread of it
/// stuck in a filesystem keeps it from that; it is then left to `init`).
fn reap_within(child: &mut Child, limit: Duration) {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if !matches!(child.try_wait(), Ok(None)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The exit code of a run's process that ended without answering: its own,
/// 130 when a stop signal ended it, 128 + the signal otherwise.
fn exit_code_of(child: &mut Child) -> u8 {
    match child.wait() {
        Ok(status) => match (status.code(), status.signal()) {
            (Some(code), _) => code as u8,
            (None, Some(sig)) if unlink_race::signals::STOP_SIGNALS.contains(&sig) => {
                EXIT_INTERRUPTED
            }
            (None, Some(sig)) => 128u8.saturating_add(sig as u8),
            (None, None) => super::EXIT_ERROR,
        },
        Err(_) => super::EXIT_ERROR,
    }
}

/// The run: `__supervised FD PID run …`. Runs the command, then sends the
/// exit code on descriptor FD and lets go of the standard streams, so that
/// the caller sees the end even while a thread of this process is stuck.
fn supervised(args: Vec<String>, run_cli: fn(Vec<String>) -> u8) -> u8 {
    let answer = args
        .get(2)
        .and_then(|fd| fd.parse().ok())
        .and_then(sys::inherited_fd);
    let parent: Option<u32> = args.get(3).and_then(|p| p.parse().ok());
    let (Some(answer), Some(parent)) = (answer, parent) else {
        eprintln!("error: {SUPERVISED} is internal to unlink-race run");
        return super::EXIT_ERROR;
    };
    // Worker processes must not hold it: the answer comes from this one.
    let _ = sys::set_cloexec(answer.as_fd(), true);
    // Catch stop signals from the start: one that comes before the run is
    // under way stops it at once, and never kills it mid-cleanup.
    let _ = unlink_race::signals::stop_flag();
    watch_parent(parent);
    let mut rest = vec![args[0].clone()];
    rest.extend(args.into_iter().skip(4));
    let code = run_cli(rest);
    answer_and_let_go(&answer, code);
    code
}

/// Ends this process at once when its supervisor is gone (killed with
/// SIGKILL): the run dies with it, as it would in one process.
fn watch_parent(parent: u32) {
    let watcher = std::thread::Builder::new()
        .name("supervisor watch".into())
        .stack_size(64 << 10)
        .spawn(move || {
            loop {
                if sys::getppid() != parent {
                    let _ = sys::kill(sys::getpid(), sys::SIGKILL);
                }
                std::thread::sleep(PARENT_POLL);
            }
        });
    // Without a thread to spare (a process limit) the run goes on unwatched.
    drop(watcher);
}

/// Sends the exit code, then points the standard streams at `/dev/null`.
fn answer_and_let_go(answer: &OwnedFd, code: u8) {
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    let _ = sys::write(answer.as_fd(), &[code]);
    sys::detach_standard_streams();
}
