//! Workers as threads of this process, started once and parked between batches.
//!
//! A batch starts in two steps. The controller wakes every parked worker;
//! each one, once awake, waits at the start line until the last one is
//! there, and that one releases them all. A reader woken first therefore
//! never runs cycles alone while a deleter is still waiting for a core, and
//! the batch's time (and the count of cycles and raced opens to its first
//! anomaly) starts when the last of them is running in its loop
//! ([`Pool::racing_since_ns`]). They wait asleep, not spinning: a thread that
//! spun before the race starts it with less of the scheduler's favour than
//! one that slept, and on zombiefs that lengthened the time to the first
//! zombie (measured: mean cycles to the first 9.4 against 5.0 by the
//! pooled rate, where waiting asleep gave 4.1 against 3.6).

use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::scenario::Scenario;
use crate::sys::{self, AsFd, OwnedFd};

use super::HarnessError;
use super::board::Board;
use super::pool::Pool;
use super::records::WorkerId;
use super::slot::SlotSnapshot;
use super::worker::{Buffers, Control, SideDirs, Worker};
use crate::content::Content;

#[derive(Default)]
struct GateState {
    /// Bumped to start a batch.
    epoch: u64,
    quit: bool,
    /// Workers that finished the current batch.
    done: usize,
}

/// Start and end signals of a batch.
#[derive(Default)]
struct Gate {
    state: Mutex<GateState>,
    start: Condvar,
    done: Condvar,
    /// Signalled when the last worker has arrived.
    racing: Condvar,
    /// Workers awake in the current batch.
    arrived: AtomicUsize,
    /// Set by the last worker to arrive: everyone may go.
    released: AtomicBool,
    /// Workers past the start line and in their loop.
    running: AtomicUsize,
    /// Monotonic time the last worker entered its loop (0: not yet): the race is on.
    racing_since_ns: AtomicU64,
}

/// How often a worker waiting at the start line looks at the stop flag.
const START_POLL: Duration = Duration::from_millis(5);

impl Gate {
    /// A worker is awake in the new batch and waits, asleep, until all
    /// `workers` are (or the batch is stopped before it began); the last one
    /// to arrive releases them all.
    fn arrive(&self, workers: usize, control: &Control) {
        if self.arrived.fetch_add(1, Relaxed) + 1 == workers {
            let _g = self.state.lock().unwrap_or_else(|e| e.into_inner());
            self.released.store(true, Release);
            self.racing.notify_all();
        } else {
            let mut g = self.state.lock().unwrap_or_else(|e| e.into_inner());
            while !self.released.load(Acquire) && !control.stop.load(Relaxed) {
                g = self
                    .racing
                    .wait_timeout(g, START_POLL)
                    .unwrap_or_else(|e| e.into_inner())
                    .0;
            }
        }
        // The releaser is running at once; the others only once the
        // scheduler has woken them. The race is on when the last one runs:
        // cycles before that are start-up, not race.
        if self.running.fetch_add(1, Relaxed) + 1 == workers {
            control.mark_racing();
            self.racing_since_ns.store(sys::monotonic_ns(), Release);
        }
    }
}

pub struct ThreadPool {
    control: Arc<Control>,
    gate: Arc<Gate>,
    handles: Vec<JoinHandle<()>>,
}

/// Stack of a worker thread: its loop needs little, and a small stack
/// leaves room under a memory limit for many workers.
pub(crate) const WORKER_STACK: usize = 256 << 10;

impl ThreadPool {
    /// Starts one parked thread per worker, each with its buffers allocated
    /// here first.
    pub fn start(
        scenario: &Scenario,
        dirs: &SideDirs,
        control: Arc<Control>,
        ids: &[WorkerId],
    ) -> Result<ThreadPool, HarnessError> {
        let content = Content::try_new(scenario.file_size_bytes as usize).map_err(|_| {
            HarnessError::Memory {
                what: "the file content".into(),
                bytes: scenario.file_size_bytes,
            }
        })?;
        let mut buffers = Vec::with_capacity(ids.len());
        for id in ids {
            buffers.push(Buffers::allocate(id.role, &content).map_err(|bytes| {
                HarnessError::Memory {
                    what: format!("the buffers of {}", id.label()),
                    bytes,
                }
            })?);
        }
        let gate = Arc::new(Gate::default());
        let workers = ids.len();
        // Dropped on an error below: the threads started so far are released.
        let mut pool = ThreadPool {
            control: Arc::clone(&control),
            gate: Arc::clone(&gate),
            handles: Vec::with_capacity(ids.len()),
        };
        for (&id, buffers) in ids.iter().zip(buffers) {
            let (scenario, dir, control, gate) = (
                scenario.clone(),
                Arc::clone(dirs.of(id.role)),
                Arc::clone(&control),
                Arc::clone(&gate),
            );
            let handle = std::thread::Builder::new()
                .name(id.label())
                .stack_size(WORKER_STACK)
                .spawn(move || {
                    worker_thread(id, &scenario, &dir, &control, &gate, workers, buffers)
                })
                .map_err(|e| {
                    HarnessError::spawn(format!("worker thread {} of {workers}", id.label()), e)
                })?;
            pool.handles.push(handle);
        }
        Ok(pool)
    }
}

impl Drop for ThreadPool {
    /// Parked threads are released (they return); one still in a batch
    /// returns when the batch ends.
    fn drop(&mut self) {
        let mut g = self.gate.state.lock().unwrap_or_else(|e| e.into_inner());
        g.quit = true;
        self.gate.start.notify_all();
    }
}

fn worker_thread(
    id: WorkerId,
    scenario: &Scenario,
    dir: &OwnedFd,
    control: &Control,
    gate: &Gate,
    workers: usize,
    buffers: Buffers,
) {
    let slot_index = id.slot_index(scenario.readers);
    let board = Board::new(&control.board);
    let mut worker = Worker::with_buffers(
        id,
        scenario,
        dir.as_fd(),
        control,
        slot_index,
        board,
        buffers,
    );
    let mut seen = 0;
    loop {
        {
            let mut g = gate.state.lock().unwrap_or_else(|e| e.into_inner());
            while g.epoch == seen && !g.quit {
                g = gate.start.wait(g).unwrap_or_else(|e| e.into_inner());
            }
            if g.quit {
                return;
            }
            seen = g.epoch;
        }
        gate.arrive(workers, control);
        worker.run_batch();
        let mut g = gate.state.lock().unwrap_or_else(|e| e.into_inner());
        g.done += 1;
        gate.done.notify_all();
    }
}

impl Pool for ThreadPool {
    fn start_batch(&mut self) {
        let mut g = self.gate.state.lock().unwrap_or_else(|e| e.into_inner());
        g.done = 0;
        self.gate.arrived.store(0, Relaxed);
        self.gate.released.store(false, Relaxed);
        self.gate.running.store(0, Relaxed);
        self.gate.racing_since_ns.store(0, Relaxed);
        g.epoch += 1;
        self.gate.start.notify_all();
    }

    fn wait(&mut self, timeout: Duration) -> bool {
        let n = self.handles.len();
        let g = self.gate.state.lock().unwrap_or_else(|e| e.into_inner());
        let (g, _) = self
            .gate
            .done
            .wait_timeout_while(g, timeout, |g| g.done < n)
            .unwrap_or_else(|e| e.into_inner());
        g.done >= n
    }

    fn racing_since_ns(&self) -> Option<u64> {
        Some(self.gate.racing_since_ns.load(Acquire)).filter(|&t| t != 0)
    }

    fn stop(&mut self) {
        self.control.stop.store(true, Relaxed);
    }

    fn failure(&self) -> Option<String> {
        // A worker thread cannot vanish: its loop has no error exit.
        None
    }

    fn announce_first_anomaly(&mut self, _t_ns: u64) {
        // Threads read `Control::first_anomaly_ns` directly.
    }

    fn abandon(&mut self) {
        Board::new(&self.control.board).abandon();
    }

    fn finish(mut self: Box<Self>, all_done: bool) -> Vec<SlotSnapshot> {
        {
            let mut g = self.gate.state.lock().unwrap_or_else(|e| e.into_inner());
            g.quit = true;
            self.gate.start.notify_all();
        }
        if all_done {
            for h in std::mem::take(&mut self.handles) {
                let _ = h.join();
            }
        }
        // A worker stuck in a syscall is left behind; its slot still tells what it did.
        self.control.slots.iter().map(|s| s.snapshot()).collect()
    }
}
