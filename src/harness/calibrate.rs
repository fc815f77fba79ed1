//! Pace `auto`: a short calibration before timing starts that picks, for one
//! scenario on one filesystem, the deleter pacing with the most raced opens
//! per second (DESIGN §10, "pressure").
//!
//! Each candidate pacing gets its own harness (fresh scratch directory,
//! fresh workers), all started at once and parked. After a warm-up batch
//! each, the candidates take turns in [`ROUNDS`] short measured batches, so
//! that a machine whose speed drifts (other load, a hypervisor) slows all of
//! them alike instead of whichever ran last; the sums decide. Nothing a
//! calibration run sees is counted in the run that follows; its figures are
//! kept (and reported) as they are. The interrupt flag of
//! [`HarnessOptions`] ends the calibration within one short batch: the
//! candidates measured so far decide, and the caller sees the flag.

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use crate::scenario::{Pace, Scenario};

use super::{Batch, BatchLimit, Harness, HarnessError, HarnessOptions};

/// Warm-up of each candidate (workers reach their pace, caches fill).
pub const WARM_UP: Duration = Duration::from_millis(50);
/// Measured time of each candidate, over all rounds.
pub const MEASURE: Duration = Duration::from_millis(200);
/// Turns each candidate takes.
pub const ROUNDS: u32 = 5;

/// What one candidate pacing did in its measured batches.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CalibrationPoint {
    pub pace: Pace,
    pub cycles: u64,
    pub raced_opens: u64,
    pub anomalies: u64,
    pub elapsed_ns: u64,
}

impl CalibrationPoint {
    /// A candidate that has run nothing yet.
    pub fn empty(pace: Pace) -> CalibrationPoint {
        CalibrationPoint {
            pace,
            cycles: 0,
            raced_opens: 0,
            anomalies: 0,
            elapsed_ns: 0,
        }
    }

    pub fn raced_opens_per_second(&self) -> f64 {
        if self.elapsed_ns == 0 {
            0.0
        } else {
            self.raced_opens as f64 * 1e9 / self.elapsed_ns as f64
        }
    }

    fn add(&mut self, b: &Batch) {
        self.cycles += b.cycles;
        self.raced_opens += b.raced_opens;
        self.anomalies += b.anomalies;
        self.elapsed_ns += b.elapsed_ns;
    }
}

/// The chosen pacing and every candidate's figures, in the order they ran.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    pub chosen: Pace,
    pub points: Vec<CalibrationPoint>,
}

/// The candidate with the most raced opens per second; on a tie (none raced
/// at all, say) the one that ran first.
pub fn choose(points: &[CalibrationPoint]) -> Pace {
    points
        .iter()
        .fold(None::<&CalibrationPoint>, |best, p| match best {
            Some(b) if b.raced_opens_per_second() >= p.raced_opens_per_second() => Some(b),
            _ => Some(p),
        })
        .map_or(Pace::Sleep, |p| p.pace)
}

/// Runs every candidate pacing of `scenario` briefly in `target_dir` and
/// returns the one with the most raced opens per second. With no deleter
/// pacing does nothing: `sleep` is chosen without running anything.
pub fn calibrate(
    scenario: &Scenario,
    target_dir: &Path,
    options: &HarnessOptions,
) -> Result<Calibration, HarnessError> {
    if scenario.deleters == 0 {
        return Ok(Calibration {
            chosen: Pace::Sleep,
            points: Vec::new(),
        });
    }
    let interrupted = || options.interrupt.as_ref().is_some_and(|f| f.load(Relaxed));
    let mut monitor = |_: &_| {
        if interrupted() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    };
    let mut candidates = Vec::new();
    for &pace in Pace::candidates(scenario.workers) {
        let candidate = Scenario {
            pace,
            ..scenario.clone()
        };
        candidates.push(Harness::start(&candidate, target_dir, options.clone())?);
    }
    let warm_up = BatchLimit {
        duration: Some(WARM_UP),
        ..BatchLimit::default()
    };
    let turn = BatchLimit {
        duration: Some(MEASURE / ROUNDS),
        ..BatchLimit::default()
    };
    let mut points: Vec<CalibrationPoint> = candidates
        .iter()
        .map(|h| CalibrationPoint::empty(h.scenario().pace))
        .collect();
    for h in &mut candidates {
        h.run_batch(&warm_up, &mut monitor)?;
    }
    'rounds: for _ in 0..ROUNDS {
        for (h, point) in candidates.iter_mut().zip(&mut points) {
            if interrupted() {
                break 'rounds;
            }
            point.add(&h.run_batch(&turn, &mut monitor)?);
        }
    }
    for h in candidates {
        h.finish();
    }
    points.retain(|p| p.elapsed_ns > 0);
    Ok(Calibration {
        chosen: choose(&points),
        points,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(pace: Pace, raced_opens: u64, elapsed_ns: u64) -> CalibrationPoint {
        CalibrationPoint {
            pace,
            cycles: 1000,
            raced_opens,
            anomalies: 0,
            elapsed_ns,
        }
    }

    #[test]
    fn the_most_raced_opens_per_second_wins() {
        let points = [
            point(Pace::Spin, 10, 1_000_000_000),
            point(Pace::Check, 300, 2_000_000_000),
            point(Pace::Sleep, 100, 1_000_000_000),
        ];
        assert_eq!(choose(&points), Pace::Check);
        // A tie keeps the earlier candidate.
        let tie = [point(Pace::Spin, 5, 1), point(Pace::Check, 5, 1)];
        assert_eq!(choose(&tie), Pace::Spin);
        assert_eq!(choose(&[]), Pace::Sleep);
    }
}
