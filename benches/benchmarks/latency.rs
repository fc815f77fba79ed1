//! Time to the first anomaly: how long the tool takes to find a defect of
//! known rarity, next to the best bare loop of the same syscalls.
//!
//! The time to a defect that hits 1 in N racing opens is the time to N
//! racing opens, so the family measures two things per thread count (1×1,
//! 2×2, 4×4) and side (harness, bare loop):
//!
//! - **The rate** (the estimator with power): zombiefs mounted with
//!   `--open-probability 0` counts its racing opens (an `OPEN` that reached a
//!   node unlinked after its lookup, the window the emulated defect needs)
//!   while the contenders race in turns, interleaved so that a machine whose
//!   speed drifts slows all of them alike. First the harness and every bare
//!   pacing ([`BARE_PACES`], each measured) take [`ROUNDS`] rounds of
//!   [`TURN`]: the pacing with the most racing opens per second is the bare
//!   side's candidate. Then the harness, that bare pacing and, when the
//!   harness runs another pacing, the bare loop at the harness's pacing take
//!   [`PAIRS`] rounds of shorter turns; the better of the two bare pacings
//!   there is the bare side, and these rounds give the two sides' rates and
//!   their ratio: the turns of one round are next to each other in time, and
//!   a lucky pick in the first rounds cannot flatter the harness.
//!   On this shared machine a turn's rate varies far more than counting
//!   alone makes it, hence the many short turns. Each rate has a 95%
//!   interval (the wider of the Poisson one and Student's t over the
//!   turns), and so has harness / bare
//!   ([`unlink_race::report::build::turns_ratio`]). From a rate, the median
//!   time to the first anomaly at probability p is `ln 2 / (p × rate)`.
//! - **Trials** that check that implication: zombiefs mounted with
//!   `--open-probability` 1, 0.01 and 0.001 (and no `EINVAL` on racing
//!   creates, so the defect is exactly "1 in N racing opens gets a dead
//!   descriptor"). A trial releases the workers together and races until the
//!   first anomaly (`zombie_fd`, or `write_einval` from a zombie opened for
//!   writing), censored at a cap ([`PLAN`]); [`TRIALS`] trials per side,
//!   alternating. Each trial gives cycles and seconds to the first anomaly,
//!   counted as the harness counts a batch (from the moment the last worker
//!   runs in its loop to the anomaly, and to the last reader's stop); the
//!   Kaplan–Meier median of each, with its 95% interval
//!   ([`unlink_race::stats::km_median`]).
//! - **The create race**: zombiefs mounted with `--create-race-probability`
//!   1 and 0.01 alone ([`imp::CREATE_PLAN`]); [`imp::CREATORS`] creators with
//!   `O_CREAT` race until the first spurious `ENOENT`, the harness against
//!   the bare create loop of [`super::bare::create_trial`], in alternating
//!   trials (Kaplan–Meier medians; no rates: creators have no pace).
//!
//! The harness runs the bench's pace (`UNLINK_RACE_PACE`, default `auto`,
//! calibrated once per thread count when the rate harness starts; its
//! trials run the pace it chose); the bare loop's trials run its best
//! pacing. Criterion is not involved: its time per iteration would be the
//! mean of capped trials, which says less than either estimate.
//!
//! Everything goes into the report's `latency` section and the table
//! printed at the end. Run time: 2 to 3 minutes of rates per thread count, then
//! at most (every trial censored) [`PLAN`]'s caps × trials × 2 sides per
//! thread count. `UNLINK_RACE_QUICK=1` (with `UNLINK_RACE_LATENCY=1`) runs
//! only the point of the report's lead sentence, 0.001 at 1×1; Criterion's
//! `--test` one short round of rates and one trial per point.

use std::sync::atomic::AtomicBool;

use unlink_race::grid::GridConfig;
use unlink_race::report::schema::{LatencyMedian, LatencyPoint, Rate};

#[cfg(all(feature = "zombiefs", target_os = "linux"))]
pub fn run(config: &GridConfig, interrupted: &AtomicBool) -> Vec<LatencyPoint> {
    imp::run(config, interrupted)
}

#[cfg(not(all(feature = "zombiefs", target_os = "linux")))]
pub fn run(_config: &GridConfig, _interrupted: &AtomicBool) -> Vec<LatencyPoint> {
    Vec::new()
}

/// `m [low, high]` with `digits` decimals; `cap` for an upper end beyond a
/// censored trial, `> cap` when the median itself is.
fn show(m: &LatencyMedian, digits: usize) -> String {
    let v = |x: f64| format!("{x:.digits$}");
    match (m.median, m.ci_low) {
        (None, _) => "> cap".into(),
        (Some(x), None) => format!("{} [too few]", v(x)),
        (Some(x), Some(lo)) => format!(
            "{} [{}, {}]",
            v(x),
            v(lo),
            m.ci_high.map_or("cap".into(), v)
        ),
    }
}

/// `rate [low, high]` with `digits` decimals.
fn show_rate(r: &Rate, digits: usize) -> String {
    let v = |x: f64| {
        if x.is_finite() {
            format!("{x:.digits$}")
        } else {
            "∞".into()
        }
    };
    format!("{} [{}, {}]", v(r.rate), v(r.ci_low), v(r.ci_high))
}

/// Prints the family's table: per point and side, zombiefs's racing opens
/// per second and the median time they imply, next to the trials'
/// Kaplan–Meier medians; harness / bare from the rates.
pub fn print(points: &[LatencyPoint]) {
    if points.is_empty() {
        return;
    }
    println!();
    println!(
        "latency: time to the first anomaly on zombiefs (7-byte file, inplace, unlink); \
         rates from zombiefs's racing opens, Kaplan-Meier medians of the trials; 95% intervals"
    );
    println!(
        "{:>7} {:>5} {:>15} {:>22} {:>24} {:>9} {:>24} {:>24} {:>20}",
        "p",
        "r x d",
        "method (pace)",
        "racing opens/s",
        "implied median s",
        "censored",
        "trials: median s",
        "median cycles",
        "harness/bare rate"
    );
    for p in points {
        let censored = p.trials.iter().filter(|t| t.censored).count();
        let (rate, implied, ratio) = match &p.rate {
            Some(r) => (
                show_rate(&r.racing_opens_per_second, 0),
                show(&r.implied_median_seconds, 3),
                r.ratio_to_bare
                    .as_ref()
                    .map_or(String::new(), |x| show_rate(x, 2)),
            ),
            None => Default::default(),
        };
        println!(
            "{:>7} {:>5} {:>15} {:>22} {:>24} {:>9} {:>24} {:>24} {:>20}",
            p.probability,
            match p.creators {
                Some(n) => format!("c{n}"),
                None => format!("{}x{}", p.readers, p.deleters),
            },
            match p.creators {
                // Creators have no pace.
                Some(_) => p.method.to_string(),
                None => format!("{} ({})", p.method, p.pace),
            },
            rate,
            implied,
            format!("{censored}/{}", p.trials.len()),
            show(&p.median_seconds, 3),
            show(&p.median_cycles, 0),
            ratio
        );
    }
}

#[cfg(all(feature = "zombiefs", target_os = "linux"))]
mod imp {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use unlink_race::grid::GridConfig;
    use unlink_race::harness::{BatchEnd, BatchLimit, Harness};
    use unlink_race::report::build::{
        calibration, implied_median_seconds, latency_medians, turns_rate, turns_ratio,
    };
    use unlink_race::report::schema::{
        Calibration, LatencyMethod, LatencyPoint, LatencyRate, PaceRate, Trial,
    };
    use unlink_race::scenario::{CreateFlags, Pace, Race, Scenario};
    use unlink_race::sys::{self, AsFd, BorrowedFd};
    use unlink_race::zombiefs::{Mount, Options};

    use super::super::bare::{self, Stop, TrialCap};

    /// Each probability's trial cap (time; a trial is also censored after
    /// [`CAP_CYCLES`] reader cycles). A trial at probability p lasts about
    /// 1 / (p × racing opens per second), and zombiefs races 300 to a few
    /// thousand opens per second on a 2-core machine: at 500 a cap is 2×
    /// (0.001) to 50× (1) the mean, so that few trials are censored.
    pub const PLAN: [(f64, Duration); 3] = [
        (1.0, Duration::from_millis(100)),
        (0.01, Duration::from_millis(500)),
        (0.001, Duration::from_secs(4)),
    ];
    /// Reader cycles after which a trial is censored (never reached at these
    /// caps on zombiefs; it bounds a trial on a much faster filesystem).
    const CAP_CYCLES: u64 = 2_000_000;
    /// Trials per point (harness and bare loop alike).
    pub const TRIALS: usize = 20;
    /// Rounds in which every contender races [`TURN`], to find the best
    /// bare pacing.
    pub const ROUNDS: u32 = 6;
    pub const TURN: Duration = Duration::from_millis(300);
    /// Rounds of turns ([`PAIR_TURN`] each) of the harness and the best bare
    /// pacing (and the bare loop at the harness's pacing, when another), for
    /// the two sides' rates and their ratio.
    pub const PAIRS: u32 = 200;
    pub const PAIR_TURN: Duration = Duration::from_millis(250);
    /// Bare pacings measured: every fixed one.
    pub const BARE_PACES: &[Pace] = &[
        Pace::Spin,
        Pace::Check,
        Pace::Yield,
        Pace::Sleep,
        Pace::Aimed,
    ];
    const THREADS: [(u32, u32); 3] = [(1, 1), (2, 2), (4, 4)];
    /// The create race's probabilities and trial caps (on zombiefs 4
    /// creators race a create or two a round, a few hundred a second).
    pub const CREATE_PLAN: [(f64, Duration); 2] = [
        (1.0, Duration::from_millis(500)),
        (0.01, Duration::from_secs(4)),
    ];
    /// Creators of the create race's points.
    pub const CREATORS: u32 = 4;
    const SIZE: u64 = 7;

    /// Criterion's `--test` mode: one short round, one trial of each.
    fn test_mode() -> bool {
        std::env::args().any(|a| a == "--test")
    }

    /// Whether a command-line filter (`cargo bench -- NAME`) leaves this family in.
    fn selected() -> bool {
        let mut positional = std::env::args()
            .skip(1)
            .filter(|a| !a.starts_with('-'))
            .peekable();
        positional.peek().is_none() || positional.any(|f| "latency-zombiefs".contains(&f))
    }

    /// A zombiefs mount in `base` giving dead descriptors to `p` of racing opens.
    fn mount(base: &Path, p: f64) -> Option<Mount> {
        let backing = base.join(format!("backing-{p}"));
        let mnt = base.join(format!("mnt-{p}"));
        for d in [&backing, &mnt] {
            std::fs::create_dir(d).expect("latency: directories in a fresh temp dir");
        }
        let options = Options {
            open_probability: p,
            write_probability: 0.0,
            create_race_probability: 0.0,
            ..Options::default()
        };
        match Mount::new(&backing, &mnt, options) {
            Ok(m) => Some(m),
            Err(e) => {
                eprintln!("latency: skipped: {e}");
                None
            }
        }
    }

    pub fn run(config: &GridConfig, interrupted: &AtomicBool) -> Vec<LatencyPoint> {
        if !selected() {
            return Vec::new();
        }
        let base = tempfile::Builder::new()
            .prefix("unlink-race-latency-")
            .tempdir()
            .unwrap_or_else(|e| {
                eprintln!("error: latency: cannot make a temp dir: {e}");
                super::super::exit(2)
            });
        let plan: Vec<(f64, Duration)> = PLAN
            .into_iter()
            .filter(|&(p, _)| !config.quick || p <= 0.001)
            .collect();
        // Unmounted at the end, or by the bench's exit clean-up when an
        // error or Ctrl-C leaves early.
        let mounts: Mounts = Arc::default();
        {
            let (mounts, base) = (Arc::clone(&mounts), base.path().to_path_buf());
            super::super::on_exit(move || {
                unmount_all(&mounts);
                let _ = std::fs::remove_dir_all(base);
            });
        }
        for p in std::iter::once(0.0).chain(plan.iter().map(|&(p, _)| p)) {
            let Some(m) = mount(base.path(), p) else {
                unmount_all(&mounts);
                return Vec::new();
            };
            lock(&mounts).push(m);
        }
        let places: Vec<PathBuf> = lock(&mounts)
            .iter()
            .map(|m| m.mountpoint().to_path_buf())
            .collect();
        let racing_opens = || lock(&mounts)[0].stats().racing_opens;
        let trials = if test_mode() { 1 } else { TRIALS };
        let mut points = Vec::new();
        for (readers, deleters) in THREADS {
            if config.quick && (readers, deleters) != (1, 1) {
                continue;
            }
            let on = Place {
                dir: &places[0],
                racing_opens: &racing_opens,
            };
            let rates = rates(config, readers, deleters, &on, interrupted);
            rates.print(readers, deleters);
            for (&(p, cap), dir) in plan.iter().zip(&places[1..]) {
                if interrupted.load(Relaxed) {
                    break;
                }
                let at = Point {
                    p,
                    readers,
                    deleters,
                    cap: TrialCap {
                        cycles: CAP_CYCLES,
                        time: cap,
                    },
                    trials,
                };
                points.extend(race(&at, &rates, dir, interrupted));
            }
            if interrupted.load(Relaxed) {
                break;
            }
        }
        unmount_all(&mounts);
        if interrupted.load(Relaxed) {
            drop(base);
            super::super::exit(130);
        }
        if !config.quick && config.races.contains(&Race::Create) {
            points.extend(create_points(base.path(), trials, interrupted));
        }
        points
    }

    /// The create race's points: zombiefs answers the given fraction of
    /// creates racing a create with a spurious `ENOENT` (nothing else), and
    /// [`CREATORS`] creators with `O_CREAT` race until the first, the harness
    /// and the bare create loop in alternating trials.
    fn create_points(base: &Path, trials: usize, interrupted: &AtomicBool) -> Vec<LatencyPoint> {
        let mut points = Vec::new();
        for (p, time) in CREATE_PLAN {
            let backing = base.join(format!("backing-create-{p}"));
            let mnt = base.join(format!("mnt-create-{p}"));
            for d in [&backing, &mnt] {
                std::fs::create_dir(d).expect("latency: directories in a fresh temp dir");
            }
            let options = Options {
                open_probability: 0.0,
                write_probability: 0.0,
                create_race_probability: p,
                ..Options::default()
            };
            let mount = match Mount::new(&backing, &mnt, options) {
                Ok(m) => m,
                Err(e) => {
                    eprintln!("latency: skipped: {e}");
                    return points;
                }
            };
            let cap = TrialCap {
                cycles: CAP_CYCLES,
                time,
            };
            let scenario = Scenario::create(CREATORS, CreateFlags::Creat);
            let mut harness = super::super::start_harness(&scenario, mount.mountpoint());
            let bare_dir = tempfile::Builder::new()
                .prefix("unlink-race-bare-")
                .tempdir_in(mount.mountpoint())
                .expect("latency: scratch dir for the bare loop");
            let fd = sys::open_dir(bare_dir.path()).expect("latency: open the bare scratch dir");
            println!(
                "latency-zombiefs-create-p{p}-c{CREATORS}: {trials} trials each, cap {:.2} s",
                time.as_secs_f64()
            );
            let (mut h_trials, mut b_trials) = (Vec::new(), Vec::new());
            for _ in 0..trials {
                h_trials.push(harness_trial(&mut harness, cap, interrupted));
                b_trials.push(bare::create_trial(
                    fd.as_fd(),
                    CREATORS,
                    SIZE,
                    cap,
                    interrupted,
                ));
                if interrupted.load(Relaxed) {
                    break;
                }
            }
            drop(harness.finish());
            // Nothing may stay open on the mount when it goes.
            drop(fd);
            drop(bare_dir);
            for (method, trials) in [
                (LatencyMethod::Harness, h_trials),
                (LatencyMethod::Bare, b_trials),
            ] {
                let (median_cycles, median_seconds) = latency_medians(&trials);
                points.push(LatencyPoint {
                    probability: p,
                    race: Race::Create,
                    readers: 0,
                    deleters: 0,
                    creators: Some(CREATORS),
                    method,
                    pace: Pace::Sleep,
                    calibration: None,
                    cap_ns: time.as_nanos() as u64,
                    cap_cycles: CAP_CYCLES,
                    trials,
                    median_cycles,
                    median_seconds,
                    rate: None,
                });
            }
            if let Err(e) = mount.unmount() {
                eprintln!("latency: {e}");
            }
            if interrupted.load(Relaxed) {
                super::super::exit(130);
            }
        }
        points
    }

    /// The family's zombiefs mounts: the rates' (zombifying nothing) first,
    /// then one per probability of [`PLAN`].
    type Mounts = Arc<Mutex<Vec<Mount>>>;

    fn lock(mounts: &Mounts) -> std::sync::MutexGuard<'_, Vec<Mount>> {
        mounts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Unmounts every mount still held (once: it takes them).
    fn unmount_all(mounts: &Mounts) {
        for m in std::mem::take(&mut *lock(mounts)) {
            if let Err(e) = m.unmount() {
                eprintln!("latency: {e}");
            }
        }
    }

    /// Where the rates race: a directory, and zombiefs's count of racing
    /// opens there.
    struct Place<'a> {
        dir: &'a Path,
        racing_opens: &'a dyn Fn() -> u64,
    }

    /// One contender's turns: `(racing opens, wall ns)` each.
    type Turns = Vec<(u64, u64)>;

    /// What one thread count's rates gave.
    struct Rates {
        /// The harness's pace (resolved) and how `auto` chose it.
        harness_pace: Pace,
        harness_calibration: Option<Calibration>,
        /// Every bare pacing's turns in the first rounds, in [`BARE_PACES`] order.
        bare: Vec<(Pace, Turns)>,
        /// The best of them.
        best: Pace,
        /// The turns of the pairs: the harness's, the best bare pacing's.
        harness: Turns,
        best_turns: Turns,
    }

    fn total(turns: &Turns) -> (u64, u64) {
        (
            turns.iter().map(|t| t.0).sum(),
            turns.iter().map(|t| t.1).sum(),
        )
    }

    /// The bare pacing with the most racing opens per second.
    fn best_bare(bare: &[(Pace, Turns)]) -> Pace {
        bare.iter()
            .max_by(|a, b| turns_rate(&a.1).rate.total_cmp(&turns_rate(&b.1).rate))
            .expect("bare pacings")
            .0
    }

    impl Rates {
        /// The `rate` section of the harness's point (`bare: false`) or
        /// the bare loop's, at probability `p`.
        fn section(&self, p: f64, bare: bool) -> LatencyRate {
            let turns = if bare {
                &self.best_turns
            } else {
                &self.harness
            };
            let (racing_opens, elapsed_ns) = total(turns);
            let rate = turns_rate(turns);
            LatencyRate {
                racing_opens,
                elapsed_ns,
                turns: turns.len() as u32,
                implied_median_seconds: implied_median_seconds(&rate, p),
                racing_opens_per_second: rate,
                ratio_to_bare: (!bare).then(|| turns_ratio(&self.harness, &self.best_turns)),
                paces: if bare {
                    self.bare
                        .iter()
                        .map(|(pace, t)| {
                            let (racing_opens, elapsed_ns) = total(t);
                            PaceRate {
                                pace: *pace,
                                racing_opens,
                                elapsed_ns,
                                racing_opens_per_second: turns_rate(t),
                            }
                        })
                        .collect()
                } else {
                    Vec::new()
                },
            }
        }

        fn print(&self, readers: u32, deleters: u32) {
            let rate = |t: &Turns| {
                let r = turns_rate(t);
                format!("{:.0} [{:.0}, {:.0}]", r.rate, r.ci_low, r.ci_high)
            };
            let mut line = format!(
                "latency-zombiefs-r{readers}-d{deleters}: racing opens/s, every bare pacing \
                 ({} turns of {:.1} s each):",
                self.bare.first().map_or(0, |b| b.1.len()),
                TURN.as_secs_f64(),
            );
            for (pace, t) in &self.bare {
                line += &format!(" {pace} {};", rate(t));
            }
            let r = turns_ratio(&self.harness, &self.best_turns);
            line += &format!(
                " then {} rounds of {:.2} s: harness ({}) {}, bare {} {}; harness / bare = {:.2} [{:.2}, {:.2}]",
                self.harness.len(),
                PAIR_TURN.as_secs_f64(),
                self.harness_pace,
                rate(&self.harness),
                self.best,
                rate(&self.best_turns),
                r.rate,
                r.ci_low,
                r.ci_high
            );
            if let Some(c) = &self.harness_calibration {
                let basis = c.basis();
                let figures: Vec<String> = c
                    .candidates
                    .iter()
                    .map(|p| {
                        let turns = p.rounds_raced_opens_per_second.len();
                        format!("{} {:.0} ({turns} turns)", p.pace, p.deciding_rate(basis))
                    })
                    .collect();
                line += &format!(
                    "; auto chose {} by {}: {}",
                    c.chosen,
                    basis.unit(),
                    figures.join(", ")
                );
            }
            println!("{line}");
        }
    }

    /// zombiefs's racing opens while `f` runs, and the wall time it took.
    fn counted(on: &Place<'_>, f: impl FnOnce()) -> (u64, u64) {
        let before = (on.racing_opens)();
        let start = Instant::now();
        f();
        let ns = start.elapsed().as_nanos() as u64;
        ((on.racing_opens)() - before, ns.max(1))
    }

    /// The harness (calibrated when it starts, for `auto`) and every bare
    /// pacing race in interleaved turns `on` a mount that zombifies nothing;
    /// then the harness, the best bare pacing and, when it is another, the
    /// bare loop at the harness's pacing, in [`PAIRS`] rounds: the best of
    /// those two bare pacings there is the bare side (so that a lucky pick
    /// in the first rounds does not flatter the harness).
    fn rates(
        config: &GridConfig,
        readers: u32,
        deleters: u32,
        on: &Place<'_>,
        interrupted: &AtomicBool,
    ) -> Rates {
        let scenario = Scenario {
            readers,
            deleters,
            file_size_bytes: SIZE,
            pace: config.pace,
            ..Scenario::default()
        };
        let dir = on.dir;
        let mut harness = super::super::start_harness(&scenario, dir);
        let bare_dir = tempfile::Builder::new()
            .prefix("unlink-race-bare-")
            .tempdir_in(dir)
            .expect("latency: scratch dir for the bare loops");
        let fd = sys::open_dir(bare_dir.path()).expect("latency: open the bare scratch dir");
        let (rounds, turn, pairs, pair_turn) = if test_mode() {
            (1, TURN / 10, 2, PAIR_TURN / 10)
        } else {
            (ROUNDS, TURN, PAIRS, PAIR_TURN)
        };
        let harness_turn = |harness: &mut Harness, turn: Duration| {
            let limit = BatchLimit {
                duration: Some(turn),
                ..BatchLimit::default()
            };
            counted(on, || {
                super::super::batch(harness, &limit, interrupted, || "latency".into());
            })
        };
        let bare_turn = |pace: Pace, turn: Duration| {
            let _ = sys::unlinkat(fd.as_fd(), bare::TARGET);
            counted(on, || {
                bare::run(fd.as_fd(), readers, deleters, SIZE, pace, Stop::Time(turn));
            })
        };
        let mut bare: Vec<(Pace, Turns)> = BARE_PACES.iter().map(|&p| (p, Vec::new())).collect();
        for _ in 0..rounds {
            // The harness races in these rounds too, so that every round
            // loads the machine as the pairs will.
            harness_turn(&mut harness, turn);
            for (pace, turns) in &mut bare {
                turns.push(bare_turn(*pace, turn));
            }
            if interrupted.load(Relaxed) {
                break;
            }
        }
        let harness_pace = harness.scenario().pace;
        let first = best_bare(&bare);
        let mut finalists: Vec<(Pace, Turns)> = vec![(first, Vec::new())];
        if harness_pace != first && BARE_PACES.contains(&harness_pace) {
            finalists.push((harness_pace, Vec::new()));
        }
        let mut h_turns = Vec::new();
        for i in 0..pairs {
            // The harness goes first in every other round.
            if i % 2 == 0 {
                h_turns.push(harness_turn(&mut harness, pair_turn));
            }
            for (pace, turns) in &mut finalists {
                turns.push(bare_turn(*pace, pair_turn));
            }
            if i % 2 == 1 {
                h_turns.push(harness_turn(&mut harness, pair_turn));
            }
            if interrupted.load(Relaxed) {
                break;
            }
        }
        let best = best_bare(&finalists);
        let b_turns = finalists
            .into_iter()
            .find(|(p, _)| *p == best)
            .map(|(_, t)| t)
            .expect("the best is a finalist");
        let harness_calibration = harness.calibration().map(calibration);
        drop(harness.finish());
        Rates {
            harness_pace,
            harness_calibration,
            bare,
            best,
            harness: h_turns,
            best_turns: b_turns,
        }
    }

    /// What one probability and thread count run.
    struct Point {
        p: f64,
        readers: u32,
        deleters: u32,
        cap: TrialCap,
        trials: usize,
    }

    /// The harness at the pace its rates ran and the bare loop at its best
    /// pacing, trials alternating; returns the harness's point, then the
    /// bare loop's.
    fn race(at: &Point, rates: &Rates, dir: &Path, interrupted: &AtomicBool) -> [LatencyPoint; 2] {
        let scenario = Scenario {
            readers: at.readers,
            deleters: at.deleters,
            file_size_bytes: SIZE,
            pace: rates.harness_pace,
            ..Scenario::default()
        };
        let mut harness = super::super::start_harness(&scenario, dir);
        let bare_dir = tempfile::Builder::new()
            .prefix("unlink-race-bare-")
            .tempdir_in(dir)
            .expect("latency: scratch dir for the bare loop");
        let fd = sys::open_dir(bare_dir.path()).expect("latency: open the bare scratch dir");
        let bare_pace = rates.best;
        println!(
            "latency-zombiefs-p{}-r{}-d{}: {} trials each, cap {:.2} s; harness pace {}, bare pace {} (the best measured)",
            at.p,
            at.readers,
            at.deleters,
            at.trials,
            at.cap.time.as_secs_f64(),
            rates.harness_pace,
            bare_pace
        );
        let (mut h_trials, mut b_trials) = (Vec::new(), Vec::new());
        for _ in 0..at.trials {
            // Each starts where its previous trial left the file, as the other's does.
            h_trials.push(harness_trial(&mut harness, at.cap, interrupted));
            b_trials.push(bare_trial(fd.as_fd(), at, bare_pace, interrupted));
            if interrupted.load(Relaxed) {
                break;
            }
        }
        drop(harness.finish());
        let point = |method, pace, calibration, trials: Vec<Trial>, bare: bool| {
            let (median_cycles, median_seconds) = latency_medians(&trials);
            LatencyPoint {
                probability: at.p,
                race: Race::OpenUnlink,
                creators: None,
                readers: at.readers,
                deleters: at.deleters,
                method,
                pace,
                calibration,
                cap_ns: at.cap.time.as_nanos() as u64,
                cap_cycles: at.cap.cycles,
                trials,
                median_cycles,
                median_seconds,
                rate: Some(rates.section(at.p, bare)),
            }
        };
        [
            point(
                LatencyMethod::Harness,
                rates.harness_pace,
                rates.harness_calibration.clone(),
                h_trials,
                false,
            ),
            point(LatencyMethod::Bare, bare_pace, None, b_trials, true),
        ]
    }

    fn bare_trial(dir: BorrowedFd<'_>, at: &Point, pace: Pace, interrupted: &AtomicBool) -> Trial {
        bare::trial(
            dir,
            at.readers,
            at.deleters,
            SIZE,
            pace,
            at.cap,
            interrupted,
        )
        .0
    }

    /// One harness trial: release the workers, race until the first anomaly.
    fn harness_trial(h: &mut Harness, cap: TrialCap, interrupted: &AtomicBool) -> Trial {
        let limit = BatchLimit {
            cycles: Some(cap.cycles),
            duration: Some(cap.time),
            until_anomalies: Some(1),
        };
        let b = super::super::batch(h, &limit, interrupted, || "latency".into());
        if b.end == BatchEnd::Interrupted {
            super::super::exit(130);
        }
        Trial {
            cycles: b.first_anomaly_cycle.unwrap_or(b.cycles).max(1),
            censored: b.first_anomaly_cycle.is_none(),
            elapsed_ns: b.elapsed_ns.max(1),
        }
    }
}
