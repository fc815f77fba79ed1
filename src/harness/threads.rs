//! Workers as threads of this process, started once and parked between batches.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::scenario::Scenario;

use super::pool::Pool;
use super::records::WorkerId;
use super::slot::SlotSnapshot;
use super::worker::{Control, Worker};

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
}

pub struct ThreadPool {
    control: Arc<Control>,
    gate: Arc<Gate>,
    handles: Vec<JoinHandle<()>>,
}

impl ThreadPool {
    pub fn start(
        scenario: &Scenario,
        dir: Arc<OwnedFd>,
        control: Arc<Control>,
        ids: &[WorkerId],
    ) -> std::io::Result<ThreadPool> {
        let gate = Arc::new(Gate::default());
        let mut handles = Vec::with_capacity(ids.len());
        for &id in ids {
            let (scenario, dir, control, gate) = (
                scenario.clone(),
                Arc::clone(&dir),
                Arc::clone(&control),
                Arc::clone(&gate),
            );
            let handle = std::thread::Builder::new()
                .name(id.label())
                .spawn(move || worker_thread(id, &scenario, &dir, &control, &gate))?;
            handles.push(handle);
        }
        Ok(ThreadPool {
            control,
            gate,
            handles,
        })
    }
}

fn worker_thread(id: WorkerId, scenario: &Scenario, dir: &OwnedFd, control: &Control, gate: &Gate) {
    let slot_index = id.slot_index(scenario.readers);
    let mut worker = Worker::new(id, scenario, dir.as_fd(), control, slot_index);
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

    fn finish(self: Box<Self>, all_done: bool) -> Vec<SlotSnapshot> {
        {
            let mut g = self.gate.state.lock().unwrap_or_else(|e| e.into_inner());
            g.quit = true;
            self.gate.start.notify_all();
        }
        if all_done {
            for h in self.handles {
                let _ = h.join();
            }
        }
        // A worker stuck in a syscall is left behind; its slot still tells what it did.
        self.control.slots.iter().map(|s| s.snapshot()).collect()
    }
}
