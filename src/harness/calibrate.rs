//! Pace `auto`: a short calibration before timing starts that picks, for one
//! scenario on one filesystem, the deleter pacing that overlaps the most
//! opens with a removal per second (docs/methods.md#how-auto-chooses).
//!
//! Each candidate pacing gets its own harness (fresh scratch directory,
//! fresh workers), all started at once and parked. After a warm-up batch
//! each, the candidates take turns in short measured batches ([`TURN`]), so
//! that a machine whose speed drifts (other load, a hypervisor) slows all of
//! them alike instead of whichever ran last. After [`FIRST_ROUNDS`] rounds a
//! candidate below [`DROP_BELOW`] of the best stops taking turns (the
//! default, `sleep`, never does), and the others share the rest of the
//! [`BUDGET`]. Every turn's figures are kept for the report.
//!
//! **By what.** Overlapped opens: raced opens whose removal returned while
//! the `open` was still running, the window the defect needs. On zombiefs
//! they follow its own count of racing opens within about 10% at every
//! pacing, where raced opens (the file was gone by `fstat`, whenever the
//! removal came) put some pacings two to six times as high as they are. With worker
//! processes, which do not count overlapped opens, raced opens decide. When
//! the calibration itself finds anomalies by the dozen ([`ENOUGH_ANOMALIES`]
//! in one candidate), anomalies per second decide instead: that is what the
//! run is for.
//!
//! **Robust to spells.** On a shared machine a pacing's rate comes in
//! spells: two calibrations a minute apart disagree on the best pacing
//! about half the time when the best two are within a factor of 1.5,
//! because they are, then, about equally good. So `auto` keeps the
//! default, `sleep`, unless the best candidate beats it turn by turn (a
//! paired test, [`SWITCH_LEVEL`]) and by [`SWITCH_FACTOR`] overall: a
//! pacing that is better only in a spell does not win. When that leaves
//! the best candidate undecided, at least [`UNDECIDED_FROM`] times
//! `sleep`'s rate but short of the factor or of the paired test (a spell,
//! or a turn or two gone badly, as when a yielding deleter is starved), the
//! two of them take up to [`EXTRA_BUDGET`] more turns and the rule decides
//! on all of them: more turns, not a laxer rule. The measurement behind these
//! settings, and the agreement of two calibrations of the same point, are in
//! docs/methods.md#how-auto-chooses.
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
const WARM_UP: Duration = Duration::from_millis(50);
/// One measured turn.
pub const TURN: Duration = Duration::from_millis(80);
/// Measured turns of all candidates together (30 turns).
pub const BUDGET: Duration = Duration::from_millis(2400);
/// Rounds every candidate takes before the weak ones stop.
pub const FIRST_ROUNDS: u32 = 2;
/// After [`FIRST_ROUNDS`], a candidate whose rate is below this share of the
/// best one's stops taking turns (it cannot win).
pub const DROP_BELOW: f64 = 0.5;
/// The pacing `auto` keeps unless another is clearly better: the pace
/// before `auto`, and the best or close to it on zombiefs at every thread
/// count measured.
pub const DEFAULT: Pace = Pace::Sleep;
/// One-sided level of the paired test by which a candidate must beat
/// [`DEFAULT`] turn by turn to replace it.
pub const SWITCH_LEVEL: f64 = 0.01;
/// ... and how many times [`DEFAULT`]'s rate over all turns it must reach.
pub const SWITCH_FACTOR: f64 = 1.3;
/// A candidate kept out although its rate over all turns is at least this
/// many times [`DEFAULT`]'s is undecided: more turns could tell.
pub const UNDECIDED_FROM: f64 = 1.15;
/// More measured turns (of an undecided best candidate and [`DEFAULT`]
/// together).
pub const EXTRA_BUDGET: Duration = Duration::from_millis(2400);
/// Anomalies in one candidate's measured turns from which anomalies per
/// second decide instead of raced opens per second (at 30 the count's own
/// noise is under a fifth).
pub const ENOUGH_ANOMALIES: u64 = 30;

/// One measured turn of a candidate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Round {
    pub raced_opens_per_second: f64,
    /// `None` where overlapped opens are not counted (worker processes).
    pub overlapped_opens_per_second: Option<f64>,
    pub anomalies_per_second: f64,
}

/// What a calibration chose by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// Where overlapped opens are not counted (worker processes).
    RacedOpens,
    /// The opens that can show the defect (see `overlap.rs`).
    OverlappedOpens,
    /// Some candidate found [`ENOUGH_ANOMALIES`].
    Anomalies,
}

impl Basis {
    /// The figure, as reports and the bench name it.
    pub fn unit(self) -> &'static str {
        match self {
            Basis::RacedOpens => "raced opens/s",
            Basis::OverlappedOpens => "overlapped opens/s",
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
    /// `None` where overlapped opens are not counted (worker processes).
    pub overlapped_opens: Option<u64>,
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
            overlapped_opens: Some(0),
            anomalies: 0,
            elapsed_ns: 0,
            rounds: Vec::new(),
        }
    }

    /// Adds one measured round.
    fn add_round(
        &mut self,
        cycles: u64,
        raced_opens: u64,
        overlapped_opens: Option<u64>,
        anomalies: u64,
        elapsed_ns: u64,
    ) {
        self.cycles += cycles;
        self.raced_opens += raced_opens;
        self.overlapped_opens = self
            .overlapped_opens
            .zip(overlapped_opens)
            .map(|(a, b)| a + b);
        self.anomalies += anomalies;
        self.elapsed_ns += elapsed_ns;
        let per_second = |n: u64| n as f64 * 1e9 / elapsed_ns.max(1) as f64;
        self.rounds.push(Round {
            raced_opens_per_second: per_second(raced_opens),
            overlapped_opens_per_second: overlapped_opens.map(per_second),
            anomalies_per_second: per_second(anomalies),
        });
    }

    /// Raced opens, overlapped opens (0 where not counted) or anomalies per
    /// second over all the measured turns: what [`choose`] decides by.
    pub fn rate(&self, basis: Basis) -> f64 {
        match basis {
            Basis::RacedOpens => self.per_second(self.raced_opens),
            Basis::OverlappedOpens => self.per_second(self.overlapped_opens.unwrap_or(0)),
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
        self.add_round(
            b.cycles,
            b.raced_opens,
            b.overlapped_opens,
            b.anomalies,
            b.elapsed_ns,
        );
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

/// Anomalies when some candidate found [`ENOUGH_ANOMALIES`], else
/// overlapped opens where every candidate counted them, else raced opens.
pub fn basis(points: &[CalibrationPoint]) -> Basis {
    if points.iter().any(|p| p.anomalies >= ENOUGH_ANOMALIES) {
        Basis::Anomalies
    } else if points.iter().all(|p| p.overlapped_opens.is_some()) {
        Basis::OverlappedOpens
    } else {
        Basis::RacedOpens
    }
}

/// The candidate with the most per second of what [`basis`] says, unless
/// it is [`DEFAULT`] or does not clearly beat it: then [`DEFAULT`]. Clearly:
/// over the turns they both took in the same round (where turns were
/// recorded), the logarithms of its rate over [`DEFAULT`]'s have a mean
/// above 0 by a one-sided Student's t test at [`SWITCH_LEVEL`] (a turn with
/// nothing counted counts half an event), and its rate over all turns is at
/// least [`SWITCH_FACTOR`] times [`DEFAULT`]'s. Logarithms keep a spell of a
/// few turns ten times as fast from outweighing the others. When the best and [`DEFAULT`] tie
/// on what decides, the other figures decide, in turn: anomalies (or, when
/// anomalies decide, overlapped opens), then raced opens. Ties are at zero:
/// in scenarios whose race is rare (`trash` at 1×1 on an idle machine)
/// every candidate can race no open and find no anomaly, and then no pacing
/// has shown more than `sleep`. Without [`DEFAULT`] among the candidates,
/// the best wins (ties: the one that ran first).
pub fn choose(points: &[CalibrationPoint]) -> Pace {
    judge(points).0
}

/// [`choose`]'s pacing and, when it kept [`DEFAULT`] although the best
/// candidate's rate over all turns is at least [`UNDECIDED_FROM`] times
/// its own, that candidate: more turns of the two could tell.
fn judge(points: &[CalibrationPoint]) -> (Pace, Option<Pace>) {
    let basis = basis(points);
    // Ties: anomalies first (or, when they decide, the opens), then raced opens.
    let other = match basis {
        Basis::RacedOpens | Basis::OverlappedOpens => Basis::Anomalies,
        Basis::Anomalies => Basis::OverlappedOpens,
    };
    let key = |p: &CalibrationPoint| {
        (
            p.rate(basis),
            p.rate(other),
            p.rate(Basis::RacedOpens),
            p.pace == DEFAULT,
        )
    };
    let Some(best) = points
        .iter()
        .fold(None::<&CalibrationPoint>, |best, p| match best {
            Some(b) if key(b) >= key(p) => Some(b),
            _ => Some(p),
        })
    else {
        return (DEFAULT, None);
    };
    let Some(default) = points.iter().find(|p| p.pace == DEFAULT) else {
        return (best.pace, None);
    };
    let (rate, rate_default) = (best.rate(basis), default.rate(basis));
    if best.pace == DEFAULT || rate == rate_default {
        // A tie on what decides: the other figures did.
        return (best.pace, None);
    }
    let logs = paired_logs(best, default, basis);
    let consistent = logs.is_empty() || beats_turn_by_turn(&logs);
    if consistent && rate >= SWITCH_FACTOR * rate_default {
        (best.pace, None)
    } else if rate >= UNDECIDED_FROM * rate_default {
        (DEFAULT, Some(best.pace))
    } else {
        (DEFAULT, None)
    }
}

/// Over the turns `a` and `b` took in the same round, the logarithm of
/// `a`'s rate over `b`'s by `basis`, per turn (a turn with nothing counted
/// counts half an event): what [`choose`]'s paired test decides on.
pub fn paired_logs(a: &CalibrationPoint, b: &CalibrationPoint, basis: Basis) -> Vec<f64> {
    let turn_rate = |r: &Round| match basis {
        Basis::RacedOpens => r.raced_opens_per_second,
        Basis::OverlappedOpens => r.overlapped_opens_per_second.unwrap_or(0.0),
        Basis::Anomalies => r.anomalies_per_second,
    };
    let floor =
        |p: &CalibrationPoint| 0.5 * p.rounds.len() as f64 / (p.elapsed_ns.max(1) as f64 / 1e9);
    let (floor_a, floor_b) = (floor(a), floor(b));
    a.rounds
        .iter()
        .zip(&b.rounds)
        .map(|(x, y)| (turn_rate(x).max(floor_a) / turn_rate(y).max(floor_b)).ln())
        .collect()
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
        duration: Some(TURN),
        ..BatchLimit::default()
    };
    let mut points: Vec<CalibrationPoint> = candidates
        .iter()
        .map(|h| CalibrationPoint::empty(h.scenario().pace))
        .collect();
    for h in &mut candidates {
        h.run_batch(&warm_up, &mut monitor)?;
    }
    let mut taking = vec![true; candidates.len()];
    let mut turns_left = (BUDGET.as_nanos() / TURN.as_nanos()) as usize;
    let mut round = 0;
    'rounds: loop {
        let turns = taking.iter().filter(|&&t| t).count();
        if turns == 0 || (round >= FIRST_ROUNDS && turns > turns_left) {
            break;
        }
        for ((h, point), _) in candidates
            .iter_mut()
            .zip(&mut points)
            .zip(&taking)
            .filter(|(_, t)| **t)
        {
            if interrupted() {
                break 'rounds;
            }
            point.add(&h.run_batch(&turn, &mut monitor)?);
        }
        turns_left = turns_left.saturating_sub(turns);
        round += 1;
        if round >= FIRST_ROUNDS {
            still_taking(&points, &mut taking);
        }
    }
    // Undecided: the best and `sleep` take more turns together, in the
    // rounds' order, when both took every round so far (the paired test
    // pairs their turns by position); then the rule decides on all turns.
    if let (_, Some(best)) = judge(&points) {
        let pair: Vec<usize> = (0..points.len())
            .filter(|&i| points[i].pace == best || points[i].pace == DEFAULT)
            .collect();
        if pair.len() == 2 && points[pair[0]].rounds.len() == points[pair[1]].rounds.len() {
            let extra_rounds = EXTRA_BUDGET.as_nanos() / TURN.as_nanos() / 2;
            'extra: for _ in 0..extra_rounds {
                for &i in &pair {
                    if interrupted() {
                        break 'extra;
                    }
                    points[i].add(&candidates[i].run_batch(&turn, &mut monitor)?);
                }
            }
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

/// Whether `logs` (per turn, the logarithm of a candidate's rate over the
/// default's) have a mean above 0 by a one-sided Student's t test at
/// [`SWITCH_LEVEL`]. One turn is too few to tell.
fn beats_turn_by_turn(logs: &[f64]) -> bool {
    let n = logs.len();
    if n < 2 {
        return false;
    }
    let mean = logs.iter().sum::<f64>() / n as f64;
    let var = logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let se = (var / n as f64).sqrt();
    let t = crate::stats::student_t_quantile(1.0 - SWITCH_LEVEL, (n - 1) as f64);
    mean > 0.0 && (se == 0.0 || mean / se >= t)
}

/// Which candidates go on taking turns: those at [`DROP_BELOW`] of the best
/// rate or more, and [`DEFAULT`].
fn still_taking(points: &[CalibrationPoint], taking: &mut [bool]) {
    let basis = basis(points);
    let best = points.iter().map(|p| p.rate(basis)).fold(0.0, f64::max);
    for (p, t) in points.iter().zip(taking) {
        *t = *t && (p.pace == DEFAULT || p.rate(basis) >= DROP_BELOW * best);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A candidate that counted raced opens only (worker processes).
    fn point(pace: Pace, raced_opens: u64, elapsed_ns: u64) -> CalibrationPoint {
        CalibrationPoint {
            pace,
            cycles: 1000,
            raced_opens,
            overlapped_opens: None,
            anomalies: 0,
            elapsed_ns,
            rounds: Vec::new(),
        }
    }

    /// A candidate measured in rounds of 40 ms with `(raced opens,
    /// anomalies)` in each (overlapped opens not counted).
    fn with_anomalies(pace: Pace, rounds: &[(u64, u64)]) -> CalibrationPoint {
        let mut p = CalibrationPoint::empty(pace);
        for &(raced, anomalies) in rounds {
            p.add_round(1000, raced, None, anomalies, 40_000_000);
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

    const TURN_NS: u64 = 80_000_000;

    /// A candidate whose turns of 80 ms overlapped `opens[i]` opens each
    /// (and raced twice as many).
    fn overlapping(pace: Pace, opens: &[u64]) -> CalibrationPoint {
        let mut p = CalibrationPoint::empty(pace);
        for &n in opens {
            p.add_round(1000, 2 * n, Some(n), 0, 80_000_000);
        }
        p
    }

    #[test]
    fn overlapped_opens_decide_where_they_were_counted() {
        // `check` races more opens, `yield` overlaps more of them.
        let mut check = overlapping(Pace::Check, &[40; 6]);
        check.raced_opens = 1000;
        let points = vec![
            check,
            overlapping(Pace::Yield, &[60; 6]),
            overlapping(Pace::Sleep, &[30; 6]),
        ];
        let cal = Calibration::of(points.clone());
        assert_eq!(
            (cal.chosen, cal.basis()),
            (Pace::Yield, Basis::OverlappedOpens)
        );
        assert_eq!(cal.points[1].rate(Basis::OverlappedOpens), 750.0);
        // One candidate without the count (worker processes): raced opens decide.
        let mut mixed = points;
        mixed[1].add_round(1000, 0, None, 0, 80_000_000);
        assert_eq!(basis(&mixed), Basis::RacedOpens);
        assert_eq!(choose(&mixed), Pace::Check);
    }

    /// The measured reason for the rule: a pacing better only in a spell,
    /// or only a little, does not replace `sleep`; one better turn after
    /// turn does.
    #[test]
    fn sleep_stays_unless_another_is_better_turn_after_turn() {
        let sleep = overlapping(Pace::Sleep, &[40, 42, 38, 41, 40, 39]);
        // Twice the rate over all turns, from a spell of two turns.
        let spell = overlapping(Pace::Check, &[20, 21, 200, 180, 19, 22]);
        assert!(spell.rate(Basis::OverlappedOpens) > 1.9 * sleep.rate(Basis::OverlappedOpens));
        // ... and is undecided: more turns could tell.
        assert_eq!(
            judge(&[spell.clone(), sleep.clone()]),
            (Pace::Sleep, Some(Pace::Check))
        );
        // Better in every turn, but by 10%: decided.
        let little = overlapping(Pace::Check, &[44, 46, 42, 45, 44, 43]);
        assert_eq!(judge(&[little, sleep.clone()]), (Pace::Sleep, None));
        // By 20%: short of the factor, but undecided.
        let some = overlapping(Pace::Check, &[48, 50, 46, 49, 48, 47]);
        assert_eq!(
            judge(&[some, sleep.clone()]),
            (Pace::Sleep, Some(Pace::Check))
        );
        // Better by 45% in five turns of six, a little worse in one.
        let clear = overlapping(Pace::Check, &[58, 60, 55, 59, 38, 57]);
        assert_eq!(judge(&[clear.clone(), sleep.clone()]), (Pace::Check, None));
        // ... but not when one turn of six went badly (8 overlapped opens
        // where the others had 55-60): undecided.
        let mut bad_turn = clear.clone();
        bad_turn.rounds[1].overlapped_opens_per_second = Some(100.0);
        assert_eq!(
            judge(&[bad_turn.clone(), sleep.clone()]),
            (Pace::Sleep, Some(Pace::Check))
        );
        // The extra turns: more like the five good ones outweigh the bad
        // one; more like `sleep`'s end the spell.
        let extra = (EXTRA_BUDGET.as_nanos() / TURN.as_nanos() / 2) as usize;
        let mut extended = [bad_turn, sleep.clone()];
        let mut spell_over = [spell, sleep.clone()];
        for i in 0..extra {
            let wobble = i as u64 % 3;
            extended[0].add_round(1000, 2 * (56 + wobble), Some(56 + wobble), 0, TURN_NS);
            spell_over[0].add_round(1000, 2 * (20 + wobble), Some(20 + wobble), 0, TURN_NS);
            for side in [&mut extended[1], &mut spell_over[1]] {
                side.add_round(1000, 2 * (40 - wobble), Some(40 - wobble), 0, TURN_NS);
            }
        }
        assert_eq!(judge(&extended), (Pace::Check, None));
        assert_eq!(judge(&spell_over).0, Pace::Sleep);
    }

    /// Only the candidates that can still win take the rest of the turns.
    #[test]
    fn weak_candidates_stop_taking_turns() {
        let points = [
            overlapping(Pace::Spin, &[1, 1]),
            overlapping(Pace::Check, &[50, 50]),
            overlapping(Pace::Yield, &[25, 26]),
            overlapping(Pace::Sleep, &[2, 2]),
            overlapping(Pace::Aimed, &[24, 24]),
        ];
        let mut taking = [true; 5];
        still_taking(&points, &mut taking);
        // `sleep`, the default, stays however weak.
        assert_eq!(taking, [false, true, true, true, false]);
        // Once out, out.
        let mut again = [false, true, true, true, true];
        still_taking(&points, &mut again);
        assert!(!again[0]);
    }
}
