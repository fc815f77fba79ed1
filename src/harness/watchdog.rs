//! The stall watchdog: steps running longer than the limit, less the time
//! the whole process was paused (SIGSTOP, Ctrl-Z).

use std::sync::atomic::Ordering::Relaxed;

use crate::sys;

use super::HarnessOptions;
use super::Role;
use super::records::{Stall, WorkerId};
use super::slot::OPS;
use super::worker::Control;

/// A gap between two controller wake-ups longer than this is a pause of the
/// whole process: four poll intervals, and at least a quarter of a second
/// (scheduling delays on a loaded machine stay well below it).
pub(super) fn pause_threshold_ns(poll_ns: u64) -> u64 {
    (4 * poll_ns).max(250_000_000)
}

/// Time from `busy` to `now` during which the process was paused.
pub(super) fn paused_within(pauses: &[(u64, u64)], busy: u64, now: u64) -> u64 {
    pauses
        .iter()
        .map(|&(start, len)| {
            let end = start + len;
            end.min(now).saturating_sub(start.max(busy))
        })
        .sum()
}

/// What the watchdog saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Watch {
    /// A worker has been stuck for twice the limit.
    pub stuck_long: bool,
    /// How long the race has been held past the limit, so that no cycle
    /// can move: every reader stuck (the shortest of their waits; 0 unless
    /// each is), or a creator stuck (the others wait for it at the line).
    pub racing_stuck_ns: u64,
}

/// Looks for steps running longer than the limit; records each once and
/// updates its duration on every look (so it is exact to the poll interval,
/// or runs to the end of the batch when the step never returned).
pub(super) fn watchdog(
    c: &Control,
    ids: &[WorkerId],
    readers: u32,
    options: &HarnessOptions,
    pauses: &[(u64, u64)],
    stalls: &mut Vec<(usize, u64, Stall)>,
) -> Watch {
    let now = sys::monotonic_ns();
    let limit = options.stall_timeout.as_nanos() as u64;
    let mut stuck_long = false;
    let mut readers_stuck = 0;
    let mut shortest_reader_wait = u64::MAX;
    let mut longest_creator_wait = 0;
    for id in ids {
        let slot_index = id.slot_index(readers);
        let slot = &c.slots[slot_index];
        let busy = slot.busy_since_ns.load(Relaxed);
        if busy == 0 {
            continue;
        }
        // Only the time the process was running counts.
        let running = now
            .saturating_sub(busy)
            .saturating_sub(paused_within(pauses, busy, now));
        if running <= limit {
            continue;
        }
        stuck_long |= running > 2 * limit;
        match id.role {
            Role::Reader => {
                readers_stuck += 1;
                shortest_reader_wait = shortest_reader_wait.min(running);
            }
            Role::Creator => longest_creator_wait = longest_creator_wait.max(running),
            Role::Deleter => {}
        }
        // Already recorded: keep its duration up to date while it lasts.
        if let Some((_, _, rec)) = stalls
            .iter_mut()
            .find(|(s, b, _)| *s == slot_index && *b == busy)
        {
            rec.elapsed_ns = running;
            continue;
        }
        let op = OPS.get(slot.busy_op.load(Relaxed) as usize).copied();
        stalls.push((
            slot_index,
            busy,
            Stall {
                worker: *id,
                op,
                elapsed_ns: running,
                unfinished: true,
            },
        ));
    }
    Watch {
        stuck_long,
        racing_stuck_ns: if readers_stuck == readers && readers > 0 {
            shortest_reader_wait
        } else {
            longest_creator_wait
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paused_time_inside_a_step_is_not_stall_time() {
        // (pauses, busy since, now, paused time within the step)
        type Case<'a> = (&'a [(u64, u64)], u64, u64, u64);
        let cases: &[Case] = &[
            (&[], 100, 200, 0),
            (&[(120, 50)], 100, 200, 50),
            // A pause before the step began, and one still going at `now`.
            (&[(10, 50), (180, 100)], 100, 200, 20),
            (&[(90, 20)], 100, 200, 10),
            (&[(120, 10), (150, 10)], 100, 200, 20),
        ];
        for &(pauses, busy, now, want) in cases {
            assert_eq!(paused_within(pauses, busy, now), want, "{pauses:?}");
        }
        assert_eq!(pause_threshold_ns(20_000_000), 250_000_000);
        assert_eq!(pause_threshold_ns(100_000_000), 400_000_000);
    }
}
