//! Pace `auto`: a short calibration before timing starts that picks, for one
//! scenario on one filesystem, the deleter pacing with the most raced opens
//! per second (docs/methods.md#how-auto-chooses).
//!
//! Each candidate pacing gets its own harness (fresh scratch directory,
//! fresh workers), all started at once and parked. After a warm-up batch
//! each, the candidates take turns in [`ROUNDS`] short measured batches, so
//! that a machine whose speed drifts (other load, a hypervisor) slows all of
//! them alike instead of whichever ran last. Each candidate's rate over all
//! its turns decides; every turn's figures are kept for the report.
//!
//! Raced opens are the opens the defect needs, so they decide while anomalies
//! are rare. When the calibration itself finds anomalies by the dozen
//! ([`ENOUGH_ANOMALIES`] in one candidate), the pacing that found them
//! fastest is chosen instead: that is what the run is for, and the two can
//! differ. An open counts as raced when the file is gone by its `fstat`, so
//! a deleter that wakes late (`sleep`) races many opens that were already
//! complete; on zombiefs, which only zombifies opens that a removal overtook
//! inside the filesystem, `sleep` raced as many opens as `yield` at 1×1 but
//! found a tenth of the zombies.
//!
//! The turn length was measured (`examples/calibration_rules.rs`): 60
//! calibrations over six points (tmpfs and ext4, 1×1, 2×2, 4×4), each
//! followed by what every pacing then did over 12 rounds of 0.3 s (the
//! pressure benchmark's rounds). With turns of 40 ms the pick reached 0.87
//! and 0.90 of the best pacing's rate on average, in two such measurements;
//! with turns of 80 ms, 0.98 both times. Short turns flatter `yield`, whose
//! rate comes in spells: at 2×2 on ext4 it races 300–600 opens/s most of the
//! time and ten times that for a few turns in a row. Rules that discount a
//! lucky turn (median, geometric mean, trimmed mean) did no better overall
//! than the rate over all turns (0.95–0.99 in one measurement or the other,
//! against 0.98 in both).
//!
//! Nothing a calibration run sees is counted in the run that follows; its
//! figures are kept (and reported) as they are. The interrupt flag of
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
pub const MEASURE: Duration = Duration::from_millis(480);
/// Turns each candidate takes.
pub const ROUNDS: u32 = 6;
/// Anomalies in one candidate's measured turns from which anomalies per
/// second decide instead of raced opens per second (at 30 the count's own
/// noise is under a fifth).
pub const ENOUGH_ANOMALIES: u64 = 30;

/// One measured turn of a candidate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Round {
    pub raced_opens_per_second: f64,
    pub anomalies_per_second: f64,
}

/// What a calibration chose by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    RacedOpens,
    /// Some candidate found [`ENOUGH_ANOMALIES`].
    Anomalies,
}

impl Basis {
    /// The figure, as reports and the bench name it.
    pub fn unit(self) -> &'static str {
        match self {
            Basis::RacedOpens => "raced opens/s",
            Basis::Anomalies => "anomalies/s",
        }
    }
}

/// What one candidate pacing did in its measured batches.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationPoint {
    pub pace: Pace,
    pub cycles: u64,
    pub raced_opens: u64,
    pub anomalies: u64,
    pub elapsed_ns: u64,
    /// Each measured round, in order.
    pub rounds: Vec<Round>,
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
            rounds: Vec::new(),
        }
    }

    /// Adds one measured round.
    pub fn add_round(&mut self, cycles: u64, raced_opens: u64, anomalies: u64, elapsed_ns: u64) {
        self.cycles += cycles;
        self.raced_opens += raced_opens;
        self.anomalies += anomalies;
        self.elapsed_ns += elapsed_ns;
        let per_second = |n: u64| n as f64 * 1e9 / elapsed_ns.max(1) as f64;
        self.rounds.push(Round {
            raced_opens_per_second: per_second(raced_opens),
            anomalies_per_second: per_second(anomalies),
        });
    }

    /// Raced opens (or anomalies) per second over all the measured turns:
    /// what [`choose`] decides by.
    pub fn rate(&self, basis: Basis) -> f64 {
        match basis {
            Basis::RacedOpens => self.per_second(self.raced_opens),
            Basis::Anomalies => self.per_second(self.anomalies),
        }
    }

    fn per_second(&self, n: u64) -> f64 {
        if self.elapsed_ns == 0 {
            0.0
        } else {
            n as f64 * 1e9 / self.elapsed_ns as f64
        }
    }

    fn add(&mut self, b: &Batch) {
        self.add_round(b.cycles, b.raced_opens, b.anomalies, b.elapsed_ns);
    }
}

/// The chosen pacing and every candidate's figures, in the order they ran.
#[derive(Debug, Clone, PartialEq)]
pub struct Calibration {
    pub chosen: Pace,
    pub points: Vec<CalibrationPoint>,
}

impl Calibration {
    /// The calibration of these candidates' figures, chosen by [`choose`].
    pub fn of(points: Vec<CalibrationPoint>) -> Calibration {
        Calibration {
            chosen: choose(&points),
            points,
        }
    }

    /// What the choice was made by ([`basis`] of the figures).
    pub fn basis(&self) -> Basis {
        basis(&self.points)
    }
}

/// Anomalies when some candidate found [`ENOUGH_ANOMALIES`], else raced opens.
pub fn basis(points: &[CalibrationPoint]) -> Basis {
    if points.iter().any(|p| p.anomalies >= ENOUGH_ANOMALIES) {
        Basis::Anomalies
    } else {
        Basis::RacedOpens
    }
}

/// The candidate with the most per second of what [`basis`] says. On a tie
/// the other figure decides, then `sleep` (the pace before `auto`), then the
/// one that ran first. Ties are at zero: in scenarios whose race is rare
/// (`trash` at 1×1 on an idle machine) every candidate can race no open and
/// find no anomaly, and then no pacing has shown more than `sleep`.
pub fn choose(points: &[CalibrationPoint]) -> Pace {
    let basis = basis(points);
    let other = match basis {
        Basis::RacedOpens => Basis::Anomalies,
        Basis::Anomalies => Basis::RacedOpens,
    };
    let key = |p: &CalibrationPoint| (p.rate(basis), p.rate(other), p.pace == Pace::Sleep);
    points
        .iter()
        .fold(None::<&CalibrationPoint>, |best, p| match best {
            Some(b) if key(b) >= key(p) => Some(b),
            _ => Some(p),
        })
        .map_or(Pace::Sleep, |p| p.pace)
}

/// Runs every candidate pacing of `scenario` briefly in `target_dir` and
/// returns the one [`choose`] picks from their figures. With no deleter
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
        if let Some(left) = h.finish().scratch_left {
            eprintln!("warning: a calibration's scratch directory was left at {left}");
        }
    }
    points.retain(|p| p.elapsed_ns > 0);
    Ok(Calibration::of(points))
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
            rounds: Vec::new(),
        }
    }

    /// A candidate measured in rounds of 40 ms with `(raced opens,
    /// anomalies)` in each.
    fn with_anomalies(pace: Pace, rounds: &[(u64, u64)]) -> CalibrationPoint {
        let mut p = CalibrationPoint::empty(pace);
        for &(raced, anomalies) in rounds {
            p.add_round(1000, raced, anomalies, 40_000_000);
        }
        p
    }

    #[test]
    fn anomalies_decide_once_a_candidate_finds_enough_of_them() {
        // `sleep` races more opens, `yield` finds more anomalies.
        let sleep = with_anomalies(Pace::Sleep, &[(100, 2), (100, 3), (100, 2)]);
        let few = with_anomalies(Pace::Yield, &[(80, 5), (80, 6), (80, 5)]);
        assert_eq!(few.anomalies, 16);
        let cal = Calibration::of(vec![sleep.clone(), few]);
        assert_eq!((cal.chosen, cal.basis()), (Pace::Sleep, Basis::RacedOpens));
        // At ten per round `yield` has ENOUGH_ANOMALIES, and they decide.
        let enough = with_anomalies(Pace::Yield, &[(80, 10), (80, 10), (80, 10)]);
        assert_eq!(enough.anomalies, ENOUGH_ANOMALIES);
        let cal = Calibration::of(vec![sleep, enough]);
        assert_eq!((cal.chosen, cal.basis()), (Pace::Yield, Basis::Anomalies));
        assert_eq!(cal.points[1].rate(Basis::Anomalies), 250.0);
        // Every turn is kept for the report.
        assert_eq!(cal.points[1].rounds.len(), 3);
        assert_eq!(cal.points[1].rounds[0].anomalies_per_second, 250.0);
        assert_eq!(cal.points[0].rounds[1].raced_opens_per_second, 2500.0);
    }

    #[test]
    fn the_most_raced_opens_per_second_wins() {
        let points = [
            point(Pace::Spin, 10, 1_000_000_000),
            point(Pace::Check, 300, 2_000_000_000),
            point(Pace::Sleep, 100, 1_000_000_000),
        ];
        assert_eq!(choose(&points), Pace::Check);
        // A tie keeps the earlier candidate, unless `sleep` is in it.
        let tie = [point(Pace::Spin, 5, 1), point(Pace::Check, 5, 1)];
        assert_eq!(choose(&tie), Pace::Spin);
        let with_sleep = [
            point(Pace::Spin, 5, 1),
            point(Pace::Sleep, 5, 1),
            point(Pace::Aimed, 5, 1),
        ];
        assert_eq!(choose(&with_sleep), Pace::Sleep);
        assert_eq!(choose(&[]), Pace::Sleep);
    }

    /// zombiefs, `trash` at 1×1 on an idle machine: no candidate raced an
    /// open. Anomalies (here failed writes of racing creates) break the tie;
    /// with none, `sleep` is kept.
    #[test]
    fn a_tie_at_zero_goes_to_anomalies_then_to_sleep() {
        let quiet = |pace| with_anomalies(pace, &[(0, 0); 6]);
        let all_zero: Vec<_> = Pace::candidates(crate::scenario::Workers::Threads)
            .iter()
            .map(|&p| quiet(p))
            .collect();
        let cal = Calibration::of(all_zero.clone());
        assert_eq!((cal.chosen, cal.basis()), (Pace::Sleep, Basis::RacedOpens));
        let mut some = all_zero;
        some[2] = with_anomalies(
            Pace::Yield,
            &[(0, 1), (0, 0), (0, 2), (0, 0), (0, 0), (0, 0)],
        );
        let cal = Calibration::of(some.clone());
        assert_eq!((cal.chosen, cal.basis()), (Pace::Yield, Basis::RacedOpens));
        // More raced opens still beat anomalies below ENOUGH_ANOMALIES.
        some[0] = with_anomalies(Pace::Spin, &[(1, 0); 6]);
        assert_eq!(Calibration::of(some).chosen, Pace::Spin);
    }
}
