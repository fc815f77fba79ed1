//! Pace `auto`: a short calibration before timing starts that picks, for one
//! scenario on one filesystem, the deleter pacing with the most raced opens
//! per second (DESIGN §10, "pressure").
//!
//! Each candidate pacing runs in its own harness (fresh scratch directory,
//! fresh workers): a warm-up batch, then a measured batch. Nothing a
//! calibration run sees is counted in the run that follows; its figures are
//! kept (and reported) as they are.

use std::ops::ControlFlow;
use std::path::Path;
use std::time::Duration;

use crate::scenario::{Pace, Scenario};

use super::{BatchLimit, Harness, HarnessError, HarnessOptions};

/// Warm-up of each candidate (workers reach their pace, caches fill).
pub const WARM_UP: Duration = Duration::from_millis(50);
/// Measured time of each candidate.
pub const MEASURE: Duration = Duration::from_millis(200);

/// What one candidate pacing did in its measured batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CalibrationPoint {
    pub pace: Pace,
    pub cycles: u64,
    pub raced_opens: u64,
    pub anomalies: u64,
    pub elapsed_ns: u64,
}

impl CalibrationPoint {
    pub fn raced_opens_per_second(&self) -> f64 {
        if self.elapsed_ns == 0 {
            0.0
        } else {
            self.raced_opens as f64 * 1e9 / self.elapsed_ns as f64
        }
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
fn choose(points: &[CalibrationPoint]) -> Pace {
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
    let mut points = Vec::new();
    for &pace in Pace::candidates(scenario.workers) {
        let candidate = Scenario {
            pace,
            ..scenario.clone()
        };
        let mut h = Harness::start(&candidate, target_dir, options.clone())?;
        let mut go_on = |_: &_| ControlFlow::Continue(());
        let warm_up = BatchLimit {
            duration: Some(WARM_UP),
            ..BatchLimit::default()
        };
        h.run_batch(&warm_up, &mut go_on)?;
        let measure = BatchLimit {
            duration: Some(MEASURE),
            ..BatchLimit::default()
        };
        let b = h.run_batch(&measure, &mut go_on)?;
        h.finish();
        points.push(CalibrationPoint {
            pace,
            cycles: b.cycles,
            raced_opens: b.raced_opens,
            anomalies: b.anomalies,
            elapsed_ns: b.elapsed_ns,
        });
    }
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
