//! Time to the first anomaly: how long the tool takes to find a defect of
//! known rarity, next to the best bare loop of the same syscalls.
//!
//! zombiefs is mounted with `--open-probability` 1, 0.01 and 0.001 (and no
//! `EINVAL` on racing creates nor `ENOENT` on creates racing creates, so the
//! defect is exactly "1 in N racing opens gets a dead descriptor"). The
//! create race's points mount it with `--create-race-probability` 1 and
//! 0.01 alone ([`imp::CREATE_PLAN`]): 4 creators with `O_CREAT` race until
//! the first spurious `ENOENT`, the harness against the bare create loop
//! of [`super::bare::create_trial`]. At 1×1 and 2×2, a *trial* releases the workers
//! together and races until the first anomaly (`zombie_fd`, or `write_einval`
//! from a zombie opened for writing), censored at a cap: [`PLAN`] gives each
//! probability its cap, [`TRIALS`] trials per point. Each trial gives cycles
//! and seconds to the first anomaly, counted as the harness counts a batch
//! (from the moment the last worker runs in its loop to the anomaly, and to
//! the last reader's stop); the Kaplan–Meier median of each, with its 95%
//! interval ([`unlink_race::stats::km_median`]), goes into the report's
//! `latency` section and the table printed at the end.
//!
//! The contenders: the harness with the bench's pace (`UNLINK_RACE_PACE`,
//! default `auto`, calibrated when it starts), and the bare loop of
//! [`super::bare`] with the pacing that wins a calibration run the same way
//! as `auto` (each pacing 50 ms of warm-up, then 480 ms in turns of 80 ms
//! with the others, in the same directory, chosen by
//! [`unlink_race::harness::calibrate::choose`]). Their trials alternate,
//! harness then bare loop,
//! so that both see the same machine. Criterion is not involved: its time per
//! iteration would be the mean of capped trials, which says less than the
//! Kaplan–Meier median and needs warm-up trials on top.
//!
//! Run time at most (every trial censored): [`PLAN`]'s caps × trials × 4
//! (two thread counts, two contenders), plus the calibrations (harness and
//! bare loop: 5 × 0.25 s each per probability and thread count).
//! `UNLINK_RACE_QUICK=1` (with `UNLINK_RACE_LATENCY=1`) runs only the point
//! the report's lead sentence is about, 0.001 at 1×1 (20 trials each);
//! Criterion's `--test` one trial per point.

use std::sync::atomic::AtomicBool;

use unlink_race::grid::GridConfig;
use unlink_race::report::schema::{LatencyMedian, LatencyMethod, LatencyPoint};

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

/// Median seconds of the harness over those of the bare loop at the same
/// probability and thread count.
pub fn ratio(points: &[LatencyPoint], p: &LatencyPoint) -> Option<f64> {
    let bare = points.iter().find(|b| {
        b.method == LatencyMethod::Bare
            && b.probability == p.probability
            && (b.race, b.readers, b.deleters, b.creators)
                == (p.race, p.readers, p.deleters, p.creators)
    })?;
    Some(p.median_seconds.median? / bare.median_seconds.median?)
}

/// Prints the family's table: median cycles and seconds to the first anomaly
/// and the harness / bare loop ratio of median seconds.
pub fn print(points: &[LatencyPoint]) {
    if points.is_empty() {
        return;
    }
    println!();
    println!(
        "latency: time to the first anomaly on zombiefs (7-byte file, inplace, unlink); \
         Kaplan-Meier medians, 95% intervals"
    );
    println!(
        "{:>7} {:>5} {:>15} {:>7} {:>9} {:>7} {:>24} {:>28} {:>13}",
        "p",
        "r x d",
        "method (pace)",
        "trials",
        "censored",
        "cap s",
        "median cycles",
        "median seconds",
        "harness/bare"
    );
    for p in points {
        let censored = p.trials.iter().filter(|t| t.censored).count();
        let ratio = match p.method {
            LatencyMethod::Harness => ratio(points, p).map_or(String::new(), |r| format!("{r:.2}")),
            LatencyMethod::Bare => String::new(),
        };
        println!(
            "{:>7} {:>5} {:>15} {:>7} {:>9} {:>7} {:>24} {:>28} {:>13}",
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
            p.trials.len(),
            censored,
            p.cap_ns as f64 / 1e9,
            show(&p.median_cycles, 0),
            show(&p.median_seconds, 4),
            ratio
        );
    }
}

#[cfg(all(feature = "zombiefs", target_os = "linux"))]
mod imp {
    use std::path::Path;
    use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
    use std::time::Duration;

    use unlink_race::grid::GridConfig;
    use unlink_race::harness::calibrate::{self, Calibration, CalibrationPoint};
    use unlink_race::harness::{BatchEnd, BatchLimit, Harness};
    use unlink_race::report::build::{calibration, latency_medians};
    use unlink_race::report::schema::{LatencyMethod, LatencyPoint, Trial};
    use unlink_race::scenario::{CreateFlags, Pace, Race, Scenario, Workers};
    use unlink_race::sys::{self, AsFd, BorrowedFd};
    use unlink_race::zombiefs::{Mount, Options};

    use super::super::bare::{self, Stop, TrialCap};

    /// Each probability's trial cap (time; a trial is also censored after
    /// [`CAP_CYCLES`] reader cycles). A trial at probability p lasts about
    /// 1 / (p × raced opens per second), and zombiefs races 500 to a few
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
    const THREADS: [(u32, u32); 2] = [(1, 1), (2, 2)];
    /// The create race's probabilities and trial caps (on zombiefs 4
    /// creators race a create or two a round, a few hundred a second).
    pub const CREATE_PLAN: [(f64, Duration); 2] = [
        (1.0, Duration::from_millis(500)),
        (0.01, Duration::from_secs(4)),
    ];
    /// Creators of the create race's points.
    pub const CREATORS: u32 = 4;
    const SIZE: u64 = 7;

    /// Criterion's `--test` mode: one trial of each, to check that it runs.
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
        let trials = if test_mode() { 1 } else { TRIALS };
        let mut points = Vec::new();
        for (p, cap) in PLAN {
            if config.quick && p > 0.001 {
                continue;
            }
            let backing = base.path().join(format!("backing-{p}"));
            let mnt = base.path().join(format!("mnt-{p}"));
            for d in [&backing, &mnt] {
                std::fs::create_dir(d).expect("latency: directories in a fresh temp dir");
            }
            let options = Options {
                open_probability: p,
                write_probability: 0.0,
                create_race_probability: 0.0,
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
                time: cap,
            };
            for (readers, deleters) in THREADS {
                if config.quick && (readers, deleters) != (1, 1) {
                    continue;
                }
                let point = Point {
                    p,
                    readers,
                    deleters,
                    cap,
                    trials,
                };
                points.extend(race(config, &point, mount.mountpoint(), interrupted));
                if interrupted.load(Relaxed) {
                    break;
                }
            }
            if let Err(e) = mount.unmount() {
                eprintln!("latency: {e}");
            }
            if interrupted.load(Relaxed) {
                drop(base);
                super::super::exit(130);
            }
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

    /// What one probability and thread count run.
    struct Point {
        p: f64,
        readers: u32,
        deleters: u32,
        cap: TrialCap,
        trials: usize,
    }

    /// The harness and the calibrated bare loop at one point, trials
    /// alternating; returns the harness's point, then the bare loop's.
    fn race(
        config: &GridConfig,
        at: &Point,
        dir: &Path,
        interrupted: &AtomicBool,
    ) -> [LatencyPoint; 2] {
        let scenario = Scenario {
            readers: at.readers,
            deleters: at.deleters,
            file_size_bytes: SIZE,
            pace: config.pace,
            ..Scenario::default()
        };
        let mut harness = super::super::start_harness(&scenario, dir);
        let bare_dir = tempfile::Builder::new()
            .prefix("unlink-race-bare-")
            .tempdir_in(dir)
            .expect("latency: scratch dir for the bare loop");
        let fd = sys::open_dir(bare_dir.path()).expect("latency: open the bare scratch dir");
        let bare_calibration = calibrate_bare(fd.as_fd(), at.readers, at.deleters, interrupted);
        let bare_pace = bare_calibration.chosen;
        println!(
            "latency-zombiefs-p{}-r{}-d{}: {} trials each, cap {:.2} s; harness pace {}, bare pace {} (calibrated)",
            at.p,
            at.readers,
            at.deleters,
            at.trials,
            at.cap.time.as_secs_f64(),
            harness.scenario().pace,
            bare_pace
        );
        let (mut h_trials, mut b_trials) = (Vec::new(), Vec::new());
        for _ in 0..at.trials {
            // Each starts where its previous trial left the file, as the other's does.
            h_trials.push(harness_trial(&mut harness, at.cap, interrupted));
            let (t, _) = bare::trial(
                fd.as_fd(),
                at.readers,
                at.deleters,
                SIZE,
                bare_pace,
                at.cap,
                interrupted,
            );
            b_trials.push(t);
            if interrupted.load(Relaxed) {
                break;
            }
        }
        let harness_pace = harness.scenario().pace;
        let harness_calibration = harness.calibration().map(calibration);
        drop(harness.finish());
        let point = |method, pace, calibration, trials: Vec<Trial>| {
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
            }
        };
        [
            point(
                LatencyMethod::Harness,
                harness_pace,
                harness_calibration,
                h_trials,
            ),
            point(
                LatencyMethod::Bare,
                bare_pace,
                Some(calibration(&bare_calibration)),
                b_trials,
            ),
        ]
    }

    /// The bare pacing with the most raced opens per second, chosen as
    /// pace `auto` chooses the harness's: the same candidates, a warm-up run
    /// each, then [`calibrate::ROUNDS`] short measured runs each, the
    /// candidates taking turns, and [`calibrate::choose`] decides.
    /// Criterion's `--test` mode shortens each run to a tenth.
    fn calibrate_bare(
        dir: BorrowedFd<'_>,
        readers: u32,
        deleters: u32,
        interrupted: &AtomicBool,
    ) -> Calibration {
        let scale = if test_mode() { 10 } else { 1 };
        let candidates = Pace::candidates(Workers::Threads);
        for &pace in candidates {
            let warm_up = Stop::Time(calibrate::WARM_UP / scale);
            bare::run(dir, readers, deleters, SIZE, pace, warm_up);
        }
        let mut points: Vec<CalibrationPoint> = candidates
            .iter()
            .map(|&p| CalibrationPoint::empty(p))
            .collect();
        let turn = Stop::Time(calibrate::MEASURE / calibrate::ROUNDS / scale);
        for _ in 0..calibrate::ROUNDS {
            for p in &mut points {
                let r = bare::run(dir, readers, deleters, SIZE, p.pace, turn);
                p.add_round(
                    r.cycles,
                    r.raced_opens,
                    r.zombies,
                    r.elapsed.as_nanos() as u64,
                );
            }
            if interrupted.load(Relaxed) {
                break;
            }
        }
        Calibration::of(points)
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
