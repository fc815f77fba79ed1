//! Workers as child processes of the same binary (`--workers processes`), as
//! the seed ran its reader and deleter.
//!
//! Each child runs one worker (`unlink-race __worker SCRATCH SPEC`, see
//! [`child_main`]) and talks to the parent over its standard streams in the
//! typed, versioned line protocol of [`super::protocol`]: the parent sends
//! `go`, `stop`, `first_anomaly` and `quit`; the child answers `ready`,
//! `progress` (every 20 ms), `done` and, at the end, its `result`. A child
//! holds only its own worker's slot.
//!
//! The parent mirrors each child's progress into its own `Control` slots, so the
//! controller, the watchdog and the progress line work as with threads. The
//! first-anomaly cycle is the parent's cycle total when it learns of the
//! anomaly, so with processes it is accurate to one progress interval.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::scenario::Scenario;
use crate::sys;

use super::HarnessError;
use super::board::Board;
use super::pool::Pool;
use super::protocol::{self, ChildProgress, ToChild, ToParent, WorkerSpec};
use super::records::{Role, WorkerId};
use super::slot::{SlotSnapshot, WorkerSlot};
use super::worker::{Buffers, Control, NONE, Worker};
use crate::content::Content;

/// The hidden subcommand that runs one worker.
pub const WORKER_SUBCOMMAND: &str = "__worker";

const PROGRESS_INTERVAL: Duration = Duration::from_millis(20);
const READY_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Default)]
struct State {
    ready: usize,
    done: usize,
    results: Vec<Option<SlotSnapshot>>,
    failure: Option<String>,
    /// The failure is the environment's (a child out of threads or memory).
    environment: bool,
    /// The last line each child wrote to its standard error.
    last_error: Vec<Option<String>>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Sends one message to every child; a child that is gone is ignored (its
/// reader thread reports it).
fn broadcast(stdins: &Mutex<Vec<ChildStdin>>, msg: &ToChild) {
    let line = protocol::encode(msg);
    let mut stdins = stdins.lock().unwrap_or_else(|e| e.into_inner());
    for s in stdins.iter_mut() {
        let _ = s.write_all(line.as_bytes());
        let _ = s.flush();
    }
}

pub struct ProcessPool {
    /// The board every child maps (see `board.rs`); its file is removed once
    /// every child has mapped it.
    board: sys::SharedWords,
    children: Vec<Child>,
    stdins: Arc<Mutex<Vec<ChildStdin>>>,
    control: Arc<Control>,
    shared: Arc<Shared>,
    /// One per child: its protocol lines, and its standard error.
    readers_threads: Vec<JoinHandle<()>>,
}

/// How long the parent waits for a killed child to be reaped before it
/// leaves it (a child stuck in a filesystem that does not answer).
const REAP_WAIT: Duration = Duration::from_millis(500);
/// Stack of the threads that relay a child's output.
const RELAY_STACK: usize = 128 << 10;

impl ProcessPool {
    pub fn start(
        scenario: &Scenario,
        scratch: &dyn Fn(Role) -> PathBuf,
        control: Arc<Control>,
        ids: &[WorkerId],
        examples_per_class: u32,
    ) -> Result<ProcessPool, HarnessError> {
        let exe = worker_executable()?;
        let (board_file, board) = board_file(ids.len())
            .map_err(|e| HarnessError::spawn("the board the workers share", e))?;
        let shared = Arc::new(Shared::default());
        {
            let mut state = shared.lock();
            state.results = vec![None; ids.len()];
            state.last_error = vec![None; ids.len()];
        }
        let stdins = Arc::new(Mutex::new(Vec::new()));
        // Dropped on an error below: the children started so far are killed.
        let mut pool = ProcessPool {
            board,
            children: Vec::new(),
            stdins: Arc::clone(&stdins),
            control: Arc::clone(&control),
            shared: Arc::clone(&shared),
            readers_threads: Vec::new(),
        };
        for (slot_index, id) in ids.iter().enumerate() {
            let spec = WorkerSpec::new(
                *id,
                scenario,
                examples_per_class,
                board_file.path().to_path_buf(),
            );
            let mut child = Command::new(&exe)
                .arg(WORKER_SUBCOMMAND)
                .arg(scratch(id.role))
                .arg(spec.encode())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                // Relayed: a child stuck in a filesystem then holds a pipe to
                // this process, not the caller's terminal or log.
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| {
                    HarnessError::spawn(
                        format!("worker process {} of {}", slot_index + 1, ids.len()),
                        e,
                    )
                })?;
            let stdout = child.stdout.take().expect("stdout is piped");
            let stderr = child.stderr.take().expect("stderr is piped");
            stdins
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(child.stdin.take().expect("stdin is piped"));
            pool.children.push(child);
            let thread_error = |e| HarnessError::spawn("a thread to read a worker process", e);
            let (control, shared_out, stdins, id) = (
                Arc::clone(&control),
                Arc::clone(&shared),
                Arc::clone(&stdins),
                *id,
            );
            let handle = std::thread::Builder::new()
                .name(format!("{} out", id.label()))
                .stack_size(RELAY_STACK)
                .spawn(move || {
                    read_child(
                        BufReader::new(stdout),
                        slot_index,
                        id,
                        &control,
                        &shared_out,
                        &stdins,
                    )
                })
                .map_err(thread_error)?;
            pool.readers_threads.push(handle);
            let shared_err = Arc::clone(&shared);
            let handle = std::thread::Builder::new()
                .name(format!("{} err", id.label()))
                .stack_size(RELAY_STACK)
                .spawn(move || relay_errors(BufReader::new(stderr), slot_index, &shared_err))
                .map_err(thread_error)?;
            pool.readers_threads.push(handle);
        }
        let deadline = Instant::now() + READY_TIMEOUT;
        let n = ids.len();
        let mut state = shared.lock();
        while state.ready < n && state.failure.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                state.failure = Some(format!(
                    "only {} of {n} worker processes started in time",
                    state.ready
                ));
                break;
            }
            state = shared
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        if let Some(f) = state.failure.clone() {
            let environment = state.environment;
            drop(state);
            return Err(if environment {
                HarnessError::WorkerEnvironment(f)
            } else {
                HarnessError::Worker(f)
            });
        }
        drop(state);
        // Every child has mapped the board: its file can go.
        drop(board_file);
        Ok(pool)
    }

    /// Kills every child and reaps those that go within [`REAP_WAIT`]; a
    /// child stuck in a filesystem is left (its parent's exit hands it to
    /// `init`). The threads relaying its output are left with it.
    fn kill_children(&mut self) {
        for child in &mut self.children {
            if !matches!(child.try_wait(), Ok(Some(_))) {
                let _ = child.kill();
            }
        }
        let deadline = Instant::now() + REAP_WAIT;
        loop {
            self.children
                .retain_mut(|c| !matches!(c.try_wait(), Ok(Some(_)) | Err(_)));
            if self.children.is_empty() || Instant::now() >= deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        self.stdins
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        for h in std::mem::take(&mut self.readers_threads) {
            if h.is_finished() {
                let _ = h.join();
            }
        }
    }
}

impl Drop for ProcessPool {
    /// A pool dropped without `finish` (a failed start) leaves no child running.
    fn drop(&mut self) {
        self.kill_children();
    }
}

/// Keeps the last line a child writes to its standard error (its reason,
/// when it fails) and passes every line on to this process's.
fn relay_errors(err: impl BufRead, slot_index: usize, shared: &Shared) {
    for line in err.lines() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        eprintln!("{line}");
        shared.lock().last_error[slot_index] = Some(line);
    }
}

/// A fresh board file for `workers` workers in the system temp dir (never
/// in the directory under test), mapped.
fn board_file(workers: usize) -> std::io::Result<(tempfile::NamedTempFile, sys::SharedWords)> {
    let file = tempfile::Builder::new()
        .prefix("unlink-race-board-")
        .tempfile()?;
    let words = Board::words_for(workers);
    file.as_file()
        .set_len((words * std::mem::size_of::<u64>()) as u64)?;
    let map = sys::SharedWords::map(file.as_file(), words)?;
    Ok((file, map))
}

/// The binary that runs workers, once the command line said which
/// ([`set_worker_executable`]).
static WORKER_EXECUTABLE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Tells the harness that `exe` runs workers ([`WORKER_SUBCOMMAND`]): the
/// `unlink-race` binary says so of itself at start, whatever its file is
/// called.
pub fn set_worker_executable(exe: PathBuf) {
    let _ = WORKER_EXECUTABLE.set(exe);
}

/// The binary that runs workers: `UNLINK_RACE_WORKER_EXE`, the command
/// line's own binary, or `unlink-race` beside a test or bench.
fn worker_executable() -> Result<PathBuf, HarnessError> {
    if let Ok(path) = std::env::var("UNLINK_RACE_WORKER_EXE") {
        return Ok(path.into());
    }
    if let Some(exe) = WORKER_EXECUTABLE.get() {
        return Ok(exe.clone());
    }
    let exe = std::env::current_exe().map_err(HarnessError::Spawn)?;
    if exe.file_stem().is_some_and(|s| s == "unlink-race") {
        return Ok(exe);
    }
    // Tests and benches live in target/<profile>/deps; the binary one level up.
    let candidate = exe
        .parent()
        .and_then(|d| d.parent())
        .map(|d| d.join("unlink-race"))
        .filter(|p| p.exists());
    candidate.ok_or_else(|| {
        HarnessError::Worker(format!(
            "--workers processes runs its workers with the unlink-race binary, and {} is a \
             program built on the library: build the binary (cargo build) next to it, or set \
             UNLINK_RACE_WORKER_EXE to the binary's path",
            exe.display()
        ))
    })
}

/// Parent side: one thread per child turns its lines into slot updates. A
/// line that is not a message of the protocol ends the run with an error.
fn read_child(
    out: impl BufRead,
    slot_index: usize,
    id: WorkerId,
    control: &Control,
    shared: &Shared,
    stdins: &Mutex<Vec<ChildStdin>>,
) {
    let slot = &control.slots[slot_index];
    for line in out.lines() {
        let Ok(line) = line else { break };
        let msg = match protocol::decode::<ToParent>(&line) {
            Ok(msg) => msg,
            Err(e) => {
                shared.lock().failure = Some(format!("{id}: {e}"));
                shared.changed.notify_all();
                return;
            }
        };
        match msg {
            ToParent::Ready => {
                shared.lock().ready += 1;
                shared.changed.notify_all();
            }
            ToParent::Progress(p) => apply_progress(&p, slot, control, id),
            ToParent::Done { t_ns } => {
                slot.finished_ns.store(t_ns, Relaxed);
                if id.role == Role::Reader && control.readers_running.fetch_sub(1, Relaxed) == 1 {
                    control.stop.store(true, Relaxed);
                    broadcast(stdins, &ToChild::Stop);
                }
                shared.lock().done += 1;
                shared.changed.notify_all();
            }
            ToParent::Result(snap) => {
                shared.lock().results[slot_index] = Some(*snap);
                shared.changed.notify_all();
            }
            ToParent::Failed {
                reason,
                environment,
            } => {
                let mut state = shared.lock();
                if state.failure.is_none() {
                    state.failure = Some(format!("{}: {reason}", id.label()));
                    state.environment = environment;
                }
                shared.changed.notify_all();
            }
        }
    }
    // End of output: the child exited. If it was not asked to, say so.
    let mut state = shared.lock();
    if state.results[slot_index].is_none() && state.failure.is_none() {
        let said = state.last_error[slot_index]
            .as_deref()
            .map(|l| format!(" ({})", l.trim()))
            .unwrap_or_default();
        state.failure = Some(format!("{} exited unexpectedly{said}", id.label()));
    }
    shared.changed.notify_all();
}

/// Mirrors a child's progress into the parent's slot.
fn apply_progress(p: &ChildProgress, slot: &WorkerSlot, control: &Control, id: WorkerId) {
    let before = slot.anomalies.load(Relaxed);
    slot.cycles.store(p.cycles, Relaxed);
    slot.raced_opens.store(p.raced_opens, Relaxed);
    slot.racing_creates.store(p.racing_creates, Relaxed);
    slot.removals.store(p.removals, Relaxed);
    slot.recreations.store(p.recreations, Relaxed);
    slot.empty_nlink_zero.store(p.empty_nlink_zero, Relaxed);
    slot.empty_nlink_nonzero
        .store(p.empty_nlink_nonzero, Relaxed);
    slot.busy_since_ns.store(p.busy_since_ns, Relaxed);
    slot.busy_op.store(p.busy_op, Relaxed);
    for (c, n) in slot.counts.iter().zip(p.counts) {
        c.store(n, Relaxed);
    }
    slot.anomalies.store(p.anomalies, Relaxed);
    if p.anomalies > before {
        control
            .batch_anomalies
            .fetch_add(p.anomalies - before, Relaxed);
        control.mark_first_anomaly();
    }
    if let Some((first_ns, class)) = p.first_anomaly {
        if control.first_anomaly_ns.load(Relaxed) == NONE
            && control
                .first_anomaly_ns
                .compare_exchange(NONE, first_ns, Relaxed, Relaxed)
                .is_ok()
        {
            control.first_anomaly_worker.store(id.packed(), Relaxed);
            control.first_anomaly_class.store(class, Relaxed);
        }
    }
    if let Some((errno, op)) = p.environment {
        if control.environment_errno.load(Relaxed) == 0 {
            control.environment_op.store(op, Relaxed);
            control.environment_errno.store(errno, Relaxed);
            control.stop.store(true, Relaxed);
        }
    }
}

impl Pool for ProcessPool {
    fn start_batch(&mut self) {
        self.shared.lock().done = 0;
        let quota = self.control.quota_per_reader.load(Relaxed);
        let until = self.control.until_anomalies.load(Relaxed);
        let some = |v: u64| (v != NONE).then_some(v);
        let go = ToChild::Go {
            quota: some(quota),
            until_anomalies: some(until),
        };
        broadcast(&self.stdins, &go);
    }

    fn wait(&mut self, timeout: Duration) -> bool {
        let n = self.children.len();
        let state = self.shared.lock();
        let (state, _) = self
            .shared
            .changed
            .wait_timeout_while(state, timeout, |s| s.done < n && s.failure.is_none())
            .unwrap_or_else(|e| e.into_inner());
        state.done >= n
    }

    fn stop(&mut self) {
        self.control.stop.store(true, Relaxed);
        broadcast(&self.stdins, &ToChild::Stop);
    }

    fn failure(&self) -> Option<String> {
        self.shared.lock().failure.clone()
    }

    fn announce_first_anomaly(&mut self, t_ns: u64) {
        broadcast(&self.stdins, &ToChild::FirstAnomaly { t_ns });
    }

    fn abandon(&mut self) {
        Board::new(self.board.words()).abandon();
    }

    fn finish(mut self: Box<Self>, all_done: bool) -> Vec<SlotSnapshot> {
        broadcast(&self.stdins, &ToChild::Stop);
        broadcast(&self.stdins, &ToChild::Quit);
        let n = self.control.slots.len();
        let deadline = Instant::now()
            + if all_done {
                Duration::from_secs(10)
            } else {
                Duration::from_millis(500)
            };
        {
            let mut state = self.shared.lock();
            while state.results.iter().any(Option::is_none) && Instant::now() < deadline {
                let left = deadline.saturating_duration_since(Instant::now());
                state = self
                    .shared
                    .changed
                    .wait_timeout(state, left)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        }
        self.kill_children();
        let state = self.shared.lock();
        (0..n)
            .map(|i| {
                // A child that never sent its result still left its last progress.
                state.results[i]
                    .clone()
                    .unwrap_or_else(|| self.control.slots[i].snapshot())
            })
            .collect()
    }
}

enum ChildCommand {
    Go,
    Quit,
}

/// Sends one message to the parent.
fn send(msg: &ToParent) {
    let line = protocol::encode(msg);
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(line.as_bytes());
    let _ = out.flush();
}

/// Child side: runs one worker for the parent (`SCRATCH SPEC`, the spec as
/// JSON). Returns the exit code; a message from the parent that does not
/// decode ends the child with exit 2 (the parent then reports it gone).
pub fn child_main(args: &[String]) -> i32 {
    // Ctrl-C reaches the whole process group; the parent decides when to stop.
    crate::signals::leave_stop_signals_to_parent();
    let [scratch, spec] = args else {
        eprintln!("error: worker: usage: {WORKER_SUBCOMMAND} SCRATCH SPEC");
        return 2;
    };
    let spec = match WorkerSpec::decode(spec) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: worker: {e}");
            return 2;
        }
    };
    let scenario = spec.scenario();
    let dir = match sys::open_dir(std::path::Path::new(scratch)) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: worker: cannot open {scratch}: {e}");
            return 2;
        }
    };
    let board = match std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&spec.board)
        .and_then(|f| {
            sys::SharedWords::map(&f, Board::words_for(scenario.workers_count() as usize))
        }) {
        Ok(b) => b,
        Err(e) => {
            return fail(
                format!("cannot map the board {}: {e}", spec.board.display()),
                true,
            );
        }
    };
    // This worker's slot only: the parent holds everyone's.
    let control = Arc::new(Control::new(1, spec.examples_per_class));
    // Allocated before anything starts: a memory limit is reported, not an abort.
    let size = scenario.file_size_bytes;
    let buffers = match Content::try_new(size as usize)
        .map_err(|_| size)
        .and_then(|content| Buffers::allocate(spec.worker.role, &content))
    {
        Ok(b) => b,
        Err(bytes) => {
            return fail(
                format!(
                    "out of memory: cannot allocate {bytes} bytes for its buffers (a memory limit? see ulimit -v)"
                ),
                true,
            );
        }
    };
    let (tx, rx) = mpsc::channel();
    let stdin_control = Arc::clone(&control);
    let stdin_thread = std::thread::Builder::new()
        .name("parent".into())
        .stack_size(RELAY_STACK)
        .spawn(move || {
            let c = &stdin_control;
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                let msg = match protocol::decode::<ToChild>(&line) {
                    Ok(m) => m,
                    Err(e) => {
                        eprintln!("error: worker: from the parent: {e}");
                        std::process::exit(2);
                    }
                };
                match msg {
                    ToChild::Go {
                        quota,
                        until_anomalies,
                    } => {
                        c.quota_per_reader.store(quota.unwrap_or(NONE), Relaxed);
                        c.until_anomalies
                            .store(until_anomalies.unwrap_or(NONE), Relaxed);
                        c.batch_anomalies.store(0, Relaxed);
                        c.readers_running.store(1, Relaxed);
                        c.stop.store(false, Relaxed);
                        let _ = tx.send(ChildCommand::Go);
                    }
                    ToChild::Stop => c.stop.store(true, Relaxed),
                    ToChild::FirstAnomaly { t_ns } => {
                        let _ = c
                            .first_anomaly_ns
                            .compare_exchange(NONE, t_ns, Relaxed, Relaxed);
                    }
                    ToChild::Quit => break,
                }
            }
            c.stop.store(true, Relaxed);
            let _ = tx.send(ChildCommand::Quit);
        });
    if let Err(e) = stdin_thread {
        return fail(format!("cannot start a thread: {e}"), true);
    }
    let quit = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let progress = {
        let (control, quit) = (Arc::clone(&control), Arc::clone(&quit));
        std::thread::Builder::new()
            .name("progress".into())
            .stack_size(RELAY_STACK)
            .spawn(move || {
                while !quit.load(Relaxed) {
                    send_progress(&control);
                    std::thread::sleep(PROGRESS_INTERVAL);
                }
            })
    };
    let progress = match progress {
        Ok(p) => p,
        Err(e) => return fail(format!("cannot start a thread: {e}"), true),
    };
    send(&ToParent::Ready);
    let mut worker = Worker::with_buffers(
        spec.worker,
        &scenario,
        sys::AsFd::as_fd(&dir),
        &control,
        0,
        Board::new(board.words()),
        buffers,
    );
    while let Ok(ChildCommand::Go) = rx.recv() {
        worker.run_batch();
        send_progress(&control);
        send(&ToParent::Done {
            t_ns: control.slots[0].finished_ns.load(Relaxed),
        });
    }
    quit.store(true, Relaxed);
    let _ = progress.join();
    send_progress(&control);
    send(&ToParent::Result(Box::new(control.slots[0].snapshot())));
    0
}

/// Tells the parent why this worker cannot run; the exit code.
fn fail(reason: String, environment: bool) -> i32 {
    send(&ToParent::Failed {
        reason,
        environment,
    });
    2
}

fn send_progress(control: &Control) {
    let s = &control.slots[0];
    let first_ns = control.first_anomaly_ns.load(Relaxed);
    let errno = control.environment_errno.load(Relaxed);
    send(&ToParent::Progress(Box::new(ChildProgress {
        cycles: s.cycles.load(Relaxed),
        raced_opens: s.raced_opens.load(Relaxed),
        racing_creates: s.racing_creates.load(Relaxed),
        removals: s.removals.load(Relaxed),
        recreations: s.recreations.load(Relaxed),
        anomalies: s.anomalies.load(Relaxed),
        empty_nlink_zero: s.empty_nlink_zero.load(Relaxed),
        empty_nlink_nonzero: s.empty_nlink_nonzero.load(Relaxed),
        busy_since_ns: s.busy_since_ns.load(Relaxed),
        busy_op: s.busy_op.load(Relaxed),
        counts: s.counts.each_ref().map(|c| c.load(Relaxed)),
        first_anomaly: (first_ns != NONE)
            .then(|| (first_ns, control.first_anomaly_class.load(Relaxed))),
        environment: (errno != 0).then(|| (errno, control.environment_op.load(Relaxed))),
    })));
}
