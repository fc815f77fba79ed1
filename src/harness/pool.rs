//! What the controller needs from a set of workers, threads or processes.

use std::time::Duration;

use super::slot::SlotSnapshot;

/// A started set of workers, parked between batches.
///
/// Before [`Pool::start_batch`] the controller has set the batch fields of the
/// shared `Control` (quota, anomaly limit); while the batch runs it reads the
/// workers' slots there.
pub trait Pool {
    /// Releases every worker into a new batch.
    fn start_batch(&mut self);
    /// When every worker of the current batch was running (`None`: not known,
    /// or not yet), the start of the batch's time.
    fn racing_since_ns(&self) -> Option<u64> {
        None
    }
    /// Waits up to `timeout` for every worker to finish the batch; `true` when all have.
    fn wait(&mut self, timeout: Duration) -> bool;
    /// Asks every worker to end the batch now.
    fn stop(&mut self);
    /// Why a worker is gone (a child process that died), if one is.
    fn failure(&self) -> Option<String>;
    /// Tells workers in other processes that the first anomaly happened at `t_ns`.
    fn announce_first_anomaly(&mut self, t_ns: u64);
    /// Releases for good the workers waiting at the board's line for one
    /// that is stuck (the batch is given up).
    fn abandon(&mut self);
    /// Ends the workers and returns what each did, in slot order. With
    /// `all_done == false` some worker is stuck and is not waited for.
    fn finish(self: Box<Self>, all_done: bool) -> Vec<SlotSnapshot>;
}
