//! Workers as child processes of the same binary (`--workers processes`), as
//! the seed ran its reader and deleter.
//!
//! Each child runs one worker (`unlink-race __worker …`, see [`child_main`])
//! and talks to the parent over its standard streams, one line per message:
//!
//! | parent → child | meaning |
//! |---|---|
//! | `go QUOTA UNTIL` | run a batch: QUOTA reader cycles, stop at UNTIL own anomalies (`-` for none) |
//! | `stop` | end the batch now |
//! | `first T_NS` | the run's first anomaly happened at T_NS (freezes the timeline ring) |
//! | `quit` | send the result and exit (so does end of input) |
//!
//! | child → parent | meaning |
//! |---|---|
//! | `ready` | started, scratch directory open |
//! | `p …` | progress, every 20 ms: counters, the watchdog's view, first anomaly |
//! | `done T_NS` | the batch ended at T_NS (`CLOCK_MONOTONIC`, shared by all processes) |
//! | `result JSON` | the final [`SlotSnapshot`], examples and timeline ring included |
//!
//! The parent mirrors each child's progress into its own `Control` slots, so the
//! controller, the watchdog and the progress line work as with threads. The
//! first-anomaly cycle is the parent's cycle total when it learns of the
//! anomaly, so with processes it is accurate to one progress interval.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::outcome::CLASS_COUNT;
use crate::scenario::{Scenario, Workers};
use crate::sys;

use super::HarnessError;
use super::pool::Pool;
use super::records::{Role, WorkerId};
use super::slot::{SlotSnapshot, WorkerSlot};
use super::worker::{Control, NONE, Worker};

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

/// Sends one line to every child; a child that is gone is ignored (its reader
/// thread reports it).
fn broadcast(stdins: &Mutex<Vec<ChildStdin>>, line: &str) {
    let mut stdins = stdins.lock().unwrap_or_else(|e| e.into_inner());
    for s in stdins.iter_mut() {
        let _ = s.write_all(line.as_bytes());
        let _ = s.flush();
    }
}

pub struct ProcessPool {
    children: Vec<Child>,
    stdins: Arc<Mutex<Vec<ChildStdin>>>,
    control: Arc<Control>,
    shared: Arc<Shared>,
    readers_threads: Vec<JoinHandle<()>>,
}

impl ProcessPool {
    pub fn start(
        scenario: &Scenario,
        scratch: &Path,
        control: Arc<Control>,
        ids: &[WorkerId],
        examples_per_class: u32,
    ) -> Result<ProcessPool, HarnessError> {
        let exe = worker_executable()?;
        let shared = Arc::new(Shared::default());
        shared.lock().results = vec![None; ids.len()];
        let stdins = Arc::new(Mutex::new(Vec::new()));
        let mut pool = ProcessPool {
            children: Vec::new(),
            stdins: Arc::clone(&stdins),
            control: Arc::clone(&control),
            shared: Arc::clone(&shared),
            readers_threads: Vec::new(),
        };
        for (slot_index, id) in ids.iter().enumerate() {
            let role = match id.role {
                Role::Reader => "reader",
                Role::Deleter => "deleter",
            };
            let mut child = Command::new(&exe)
                .arg(WORKER_SUBCOMMAND)
                .arg(scratch)
                .args([role, &id.index.to_string()])
                .args(scenario.run_flags().split(' '))
                .args(["--examples", &examples_per_class.to_string()])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .map_err(HarnessError::Spawn)?;
            let stdout = child.stdout.take().expect("stdout is piped");
            stdins
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(child.stdin.take().expect("stdin is piped"));
            pool.children.push(child);
            let (control, shared, stdins, id) = (
                Arc::clone(&control),
                Arc::clone(&shared),
                Arc::clone(&stdins),
                *id,
            );
            let handle = std::thread::spawn(move || {
                read_child(
                    BufReader::new(stdout),
                    slot_index,
                    id,
                    &control,
                    &shared,
                    &stdins,
                )
            });
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
            drop(state);
            return Err(HarnessError::Worker(f));
        }
        drop(state);
        Ok(pool)
    }
}

/// The binary that runs workers: this one, or `unlink-race` beside a test or bench.
fn worker_executable() -> Result<std::path::PathBuf, HarnessError> {
    if let Ok(path) = std::env::var("UNLINK_RACE_WORKER_EXE") {
        return Ok(path.into());
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
        HarnessError::Worker(
            "--workers processes needs the unlink-race binary (build it, or set UNLINK_RACE_WORKER_EXE)".into(),
        )
    })
}

/// Parent side: one thread per child turns its lines into slot updates.
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
        let (tag, rest) = line.split_once(' ').unwrap_or((line.as_str(), ""));
        match tag {
            "ready" => {
                shared.lock().ready += 1;
                shared.changed.notify_all();
            }
            "p" => apply_progress(rest, slot, control, id),
            "done" => {
                slot.finished_ns
                    .store(rest.trim().parse().unwrap_or(0), Relaxed);
                if id.role == Role::Reader && control.readers_running.fetch_sub(1, Relaxed) == 1 {
                    control.stop.store(true, Relaxed);
                    broadcast(stdins, "stop\n");
                }
                shared.lock().done += 1;
                shared.changed.notify_all();
            }
            "result" => {
                let parsed = serde_json::from_str::<SlotSnapshot>(rest);
                let mut state = shared.lock();
                match parsed {
                    Ok(snap) => state.results[slot_index] = Some(snap),
                    Err(e) => state.failure = Some(format!("{}: bad result: {e}", id.label())),
                }
                shared.changed.notify_all();
            }
            _ => {}
        }
    }
    // End of output: the child exited. If it was not asked to, say so.
    let mut state = shared.lock();
    if state.results[slot_index].is_none() && state.failure.is_none() {
        state.failure = Some(format!("{} exited unexpectedly", id.label()));
    }
    shared.changed.notify_all();
}

/// Mirrors a child's `p` line into the parent's slot.
fn apply_progress(rest: &str, slot: &WorkerSlot, control: &Control, id: WorkerId) {
    let v: Vec<u64> = rest.split(' ').map(|x| x.parse().unwrap_or(0)).collect();
    if v.len() != 12 + CLASS_COUNT {
        return;
    }
    let before = slot.anomalies.load(Relaxed);
    slot.cycles.store(v[0], Relaxed);
    slot.removals.store(v[1], Relaxed);
    slot.recreations.store(v[2], Relaxed);
    slot.empty_nlink_zero.store(v[4], Relaxed);
    slot.empty_nlink_nonzero.store(v[5], Relaxed);
    slot.busy_since_ns.store(v[6], Relaxed);
    slot.busy_op.store(v[7] as u8, Relaxed);
    for (c, n) in slot.counts.iter().zip(&v[12..]) {
        c.store(*n, Relaxed);
    }
    slot.anomalies.store(v[3], Relaxed);
    if v[3] > before {
        control.batch_anomalies.fetch_add(v[3] - before, Relaxed);
        let _ = control.batch_first_anomaly_cycle.compare_exchange(
            NONE,
            control.total_cycles(),
            Relaxed,
            Relaxed,
        );
    }
    let first_ns = v[8];
    if first_ns != NONE
        && control.first_anomaly_ns.load(Relaxed) == NONE
        && control
            .first_anomaly_ns
            .compare_exchange(NONE, first_ns, Relaxed, Relaxed)
            .is_ok()
    {
        control.first_anomaly_worker.store(id.packed(), Relaxed);
        control.first_anomaly_class.store(v[9] as u32, Relaxed);
    }
    if v[10] != 0 && control.environment_errno.load(Relaxed) == 0 {
        control.environment_op.store(v[11] as u8, Relaxed);
        control.environment_errno.store(v[10] as i32, Relaxed);
        control.stop.store(true, Relaxed);
    }
}

impl Pool for ProcessPool {
    fn start_batch(&mut self) {
        self.shared.lock().done = 0;
        let quota = self.control.quota_per_reader.load(Relaxed);
        let until = self.control.until_anomalies.load(Relaxed);
        let fmt = |v: u64| {
            if v == NONE {
                "-".to_string()
            } else {
                v.to_string()
            }
        };
        broadcast(&self.stdins, &format!("go {} {}\n", fmt(quota), fmt(until)));
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
        broadcast(&self.stdins, "stop\n");
    }

    fn failure(&self) -> Option<String> {
        self.shared.lock().failure.clone()
    }

    fn announce_first_anomaly(&mut self, t_ns: u64) {
        broadcast(&self.stdins, &format!("first {t_ns}\n"));
    }

    fn finish(mut self: Box<Self>, all_done: bool) -> Vec<SlotSnapshot> {
        broadcast(&self.stdins, "stop\nquit\n");
        let n = self.children.len();
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
        for child in &mut self.children {
            if !matches!(child.try_wait(), Ok(Some(_))) {
                let _ = child.kill();
            }
            let _ = child.wait();
        }
        self.stdins
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        for h in self.readers_threads.drain(..) {
            let _ = h.join();
        }
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

/// Parses a child's arguments: `SCRATCH ROLE INDEX` then `run` flags.
struct ChildArgs {
    scratch: std::path::PathBuf,
    id: WorkerId,
    scenario: Scenario,
    examples: u32,
}

fn parse_child_args(args: &[String]) -> Result<ChildArgs, String> {
    let [scratch, role, index, flags @ ..] = args else {
        return Err("usage: __worker SCRATCH ROLE INDEX FLAGS".into());
    };
    let role = match role.as_str() {
        "reader" => Role::Reader,
        "deleter" => Role::Deleter,
        other => return Err(format!("bad role {other}")),
    };
    let index = index.parse().map_err(|_| format!("bad index {index}"))?;
    let mut scenario = Scenario {
        workers: Workers::Processes,
        ..Scenario::default()
    };
    let mut examples = super::DEFAULT_EXAMPLES_PER_CLASS;
    for pair in flags.chunks(2) {
        let [flag, value] = pair else {
            return Err("flags come in pairs".into());
        };
        let bad = |_| format!("bad value {value} for {flag}");
        match flag.as_str() {
            "--readers" => scenario.readers = value.parse().map_err(|_| format!("bad {flag}"))?,
            "--deleters" => scenario.deleters = value.parse().map_err(|_| format!("bad {flag}"))?,
            "--size" => {
                scenario.file_size_bytes =
                    crate::scenario::parse_size(value).map_err(|e| e.to_string())?
            }
            "--recreate" => scenario.recreate = value.parse().map_err(bad)?,
            "--delete" => scenario.delete = value.parse().map_err(bad)?,
            "--workers" => {}
            "--examples" => examples = value.parse().map_err(|_| format!("bad {flag}"))?,
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(ChildArgs {
        scratch: scratch.into(),
        id: WorkerId { role, index },
        scenario,
        examples,
    })
}

enum ChildCommand {
    Go,
    Quit,
}

/// Child side: runs one worker for the parent. Returns the exit code.
pub fn child_main(args: &[String]) -> i32 {
    // Ctrl-C reaches the whole process group; the parent decides when to stop.
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ =
            signal_hook::flag::register(sig, Arc::new(std::sync::atomic::AtomicBool::new(false)));
    }
    let args = match parse_child_args(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: worker: {e}");
            return 2;
        }
    };
    let dir = match sys::open_dir(&args.scratch) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: worker: cannot open {}: {e}", args.scratch.display());
            return 2;
        }
    };
    let workers = (args.scenario.readers + args.scenario.deleters) as usize;
    let control = Arc::new(Control::new(workers, args.examples));
    let slot_index = args.id.slot_index(args.scenario.readers);
    let (tx, rx) = mpsc::channel();
    let stdin_control = Arc::clone(&control);
    std::thread::spawn(move || {
        let c = &stdin_control;
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            let mut words = line.split(' ');
            let parse = |w: Option<&str>| w.and_then(|w| w.parse().ok()).unwrap_or(NONE);
            match words.next() {
                Some("go") => {
                    c.quota_per_reader.store(parse(words.next()), Relaxed);
                    c.until_anomalies.store(parse(words.next()), Relaxed);
                    c.batch_anomalies.store(0, Relaxed);
                    c.readers_running.store(1, Relaxed);
                    c.stop.store(false, Relaxed);
                    let _ = tx.send(ChildCommand::Go);
                }
                Some("stop") => c.stop.store(true, Relaxed),
                Some("first") => {
                    let _ = c.first_anomaly_ns.compare_exchange(
                        NONE,
                        parse(words.next()),
                        Relaxed,
                        Relaxed,
                    );
                }
                Some("quit") => break,
                _ => {}
            }
        }
        c.stop.store(true, Relaxed);
        let _ = tx.send(ChildCommand::Quit);
    });
    let quit = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let progress = {
        let (control, quit) = (Arc::clone(&control), Arc::clone(&quit));
        std::thread::spawn(move || {
            while !quit.load(Relaxed) {
                print_progress(&control, slot_index);
                std::thread::sleep(PROGRESS_INTERVAL);
            }
        })
    };
    println!("ready");
    let mut worker = Worker::new(
        args.id,
        &args.scenario,
        std::os::fd::AsFd::as_fd(&dir),
        &control,
    );
    while let Ok(ChildCommand::Go) = rx.recv() {
        worker.run_batch();
        print_progress(&control, slot_index);
        println!(
            "done {}",
            control.slots[slot_index].finished_ns.load(Relaxed)
        );
    }
    quit.store(true, Relaxed);
    let _ = progress.join();
    print_progress(&control, slot_index);
    let snapshot = control.slots[slot_index].snapshot();
    match serde_json::to_string(&snapshot) {
        Ok(json) => println!("result {json}"),
        Err(e) => eprintln!("error: worker: cannot encode result: {e}"),
    }
    let _ = std::io::stdout().flush();
    0
}

fn print_progress(control: &Control, slot_index: usize) {
    let s = &control.slots[slot_index];
    let mut line = format!(
        "p {} {} {} {} {} {} {} {} {} {} {} {}",
        s.cycles.load(Relaxed),
        s.removals.load(Relaxed),
        s.recreations.load(Relaxed),
        s.anomalies.load(Relaxed),
        s.empty_nlink_zero.load(Relaxed),
        s.empty_nlink_nonzero.load(Relaxed),
        s.busy_since_ns.load(Relaxed),
        s.busy_op.load(Relaxed),
        control.first_anomaly_ns.load(Relaxed),
        control.first_anomaly_class.load(Relaxed),
        control.environment_errno.load(Relaxed) as u32,
        control.environment_op.load(Relaxed),
    );
    for c in &s.counts {
        line.push(' ');
        line.push_str(&c.load(Relaxed).to_string());
    }
    line.push('\n');
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(line.as_bytes());
    let _ = out.flush();
}
