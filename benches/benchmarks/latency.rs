//! Time to the first anomaly: how long the tool takes to find a defect of
//! known rarity, next to a bare loop of the same syscalls.
//!
//! zombiefs is mounted with `--open-probability` 1, 0.01 and 0.001 (and no
//! `EINVAL` on racing creates, so the defect is exactly "1 in N racing opens
//! gets a dead descriptor"). At 1×1 and 2×2, a *trial* starts the workers and
//! races until the first anomaly (`zombie_fd`, or `write_einval` from a
//! zombie opened for writing), capped at 5 s or 2 million cycles and then
//! censored. Each trial gives cycles and
//! seconds to the first anomaly; the Kaplan–Meier median of each, with a
//! distribution-free 95% interval, is printed at the end with the ratio of
//! median seconds, harness over bare loop.
//!
//! Where a trial is short (probability 1 and 0.01) Criterion times the trials
//! (flat sampling, one group per probability), the harness and the bare loop
//! one after the other. At 0.001 a trial takes about a second: trials of the
//! two alternate, harness then bare loop, so that both see the same machine,
//! and Criterion is not involved.
//!
//! The bare loop here is a minimal one of this family's own: readers that
//! open, `fstat`, read to EOF and close (on `ENOENT` create and write), and
//! deleters that unlink when the file exists and otherwise pause as the
//! harness's deleters do; a reader stops the trial when `fstat` gives
//! `st_ino == 0` or a `write` fails with `EINVAL`.

use std::sync::atomic::AtomicBool;

use criterion::Criterion;
use unlink_race::grid::GridConfig;
use unlink_race::report::schema::Trial;

/// One point of the family: a probability, a thread count, a method.
pub struct Point {
    pub probability: f64,
    pub readers: u32,
    pub deleters: u32,
    /// `harness` or `bare`.
    pub method: &'static str,
    pub trials: Vec<Trial>,
}

#[cfg(all(feature = "zombiefs", target_os = "linux"))]
pub fn run(c: &mut Criterion, config: &GridConfig, interrupted: &AtomicBool) -> Vec<Point> {
    imp::run(c, config, interrupted)
}

#[cfg(not(all(feature = "zombiefs", target_os = "linux")))]
pub fn run(_c: &mut Criterion, _config: &GridConfig, _interrupted: &AtomicBool) -> Vec<Point> {
    Vec::new()
}

/// A median and its 95% interval; `high == None`: the upper bound lies
/// beyond a censored trial (at the cap).
pub struct Median {
    pub median: Option<u64>,
    /// `None` with fewer than 6 observations (no 95% interval exists).
    pub interval: Option<(u64, Option<u64>)>,
}

/// Median of `(value, event)` observations by Kaplan–Meier, and a 95%
/// interval from order statistics: `[x_(j), x_(n+1-j)]` with the largest `j`
/// such that `P(B < j) <= 0.025` for `B ~ Binomial(n, 1/2)`.
pub fn km_median(obs: &[(u64, bool)]) -> Median {
    let curve = unlink_race::stats::kaplan_meier(obs);
    let median = curve.iter().find(|p| p.survival <= 0.5).map(|p| p.cycles);
    let mut sorted = obs.to_vec();
    sorted.sort_unstable_by_key(|&(v, event)| (v, !event));
    let n = sorted.len();
    if n == 0 {
        return Median {
            median,
            interval: None,
        };
    }
    // Ranks j < k (1-based) with P(j <= B < k) >= 0.95, B ~ Binomial(n, 1/2).
    let ln_half_n = n as f64 * 0.5f64.ln();
    let mut ln_choose = 0.0f64;
    let mut cdf = Vec::with_capacity(n + 1);
    let mut acc = 0.0;
    for i in 0..=n {
        if i > 0 {
            ln_choose += ((n - i + 1) as f64).ln() - (i as f64).ln();
        }
        acc += (ln_choose + ln_half_n).exp();
        cdf.push(acc);
    }
    // P(B < j) <= 0.025: the largest such j (none for n < 6).
    let interval = (1..=n.div_ceil(2))
        .rev()
        .find(|&j| cdf[j - 1] <= 0.025)
        .map(|j| {
            let high = sorted[n - j];
            (sorted[j - 1].0, high.1.then_some(high.0))
        });
    Median { median, interval }
}

/// `m [low, high]` in units of `scale`; `> cap` when the median itself is censored.
fn show(m: &Median, scale: f64, digits: usize) -> String {
    let v = |x: u64| format!("{:.*}", digits, x as f64 / scale);
    match (m.median, m.interval) {
        (None, _) => "> cap".into(),
        (Some(x), None) => format!("{} [too few]", v(x)),
        (Some(x), Some((lo, hi))) => {
            format!("{} [{}, {}]", v(x), v(lo), hi.map_or("cap".into(), v))
        }
    }
}

fn seconds(trials: &[Trial]) -> Vec<(u64, bool)> {
    trials.iter().map(|t| (t.elapsed_ns, !t.censored)).collect()
}

/// Prints the family's table: median cycles and seconds to the first anomaly
/// and the harness / bare loop ratio of median seconds.
pub fn print(points: &[Point]) {
    if points.is_empty() {
        return;
    }
    println!();
    println!(
        "latency: time to the first anomaly on zombiefs (7-byte file, inplace, unlink); \
         Kaplan-Meier medians, 95% intervals"
    );
    println!(
        "{:>7} {:>5} {:>8} {:>7} {:>9} {:>26} {:>28} {:>14}",
        "p",
        "r x d",
        "method",
        "trials",
        "censored",
        "median cycles",
        "median seconds",
        "harness/bare"
    );
    for p in points {
        let cycles: Vec<(u64, bool)> = p.trials.iter().map(|t| (t.cycles, !t.censored)).collect();
        let secs = seconds(&p.trials);
        let censored = p.trials.iter().filter(|t| t.censored).count();
        let median_cycles = show(&km_median(&cycles), 1.0, 0);
        let median_s = km_median(&secs);
        let median_secs = show(&median_s, 1e9, 4);
        let ratio = if p.method == "harness" {
            points
                .iter()
                .find(|b| {
                    b.method == "bare"
                        && b.probability == p.probability
                        && (b.readers, b.deleters) == (p.readers, p.deleters)
                })
                .and_then(|b| {
                    Some(median_s.median? as f64 / km_median(&seconds(&b.trials)).median? as f64)
                })
                .map_or(String::new(), |r| format!("{r:.2}"))
        } else {
            String::new()
        };
        println!(
            "{:>7} {:>5} {:>8} {:>7} {:>9} {:>26} {:>28} {:>14}",
            p.probability,
            format!("{}x{}", p.readers, p.deleters),
            p.method,
            p.trials.len(),
            censored,
            median_cycles,
            median_secs,
            ratio
        );
    }
}

#[cfg(all(feature = "zombiefs", target_os = "linux"))]
mod imp {
    use std::ffi::CStr;
    use std::ops::ControlFlow;
    use std::os::fd::{AsFd, BorrowedFd};
    use std::path::Path;
    use std::sync::Barrier;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
    use std::time::{Duration, Instant};

    use criterion::{BenchmarkId, Criterion, SamplingMode};
    use unlink_race::content::Content;
    use unlink_race::grid::GridConfig;
    use unlink_race::harness::{BatchEnd, BatchLimit, Harness};
    use unlink_race::report::schema::Trial;
    use unlink_race::scenario::Scenario;
    use unlink_race::sys::{self, ENOENT, flags::*};
    use unlink_race::zombiefs::{Mount, Options};

    use super::Point;

    /// A trial that has not seen an anomaly after this long is censored.
    const TRIAL_CAP: Duration = Duration::from_secs(5);
    /// ... or after this many reader cycles.
    const TRIAL_CAP_CYCLES: u64 = 2_000_000;
    const PROBABILITIES: [f64; 3] = [1.0, 0.01, 0.001];
    const THREADS: [(u32, u32); 2] = [(1, 1), (2, 2)];
    /// Trials per point at least (Criterion's flat samples are one or more trials each).
    const MIN_TRIALS: usize = 20;
    /// At or below this probability the trials alternate outside Criterion.
    const CRITERION_DOWN_TO: f64 = 0.01;
    const TARGET: &CStr = c"DEST.txt";
    const NONE: u64 = u64::MAX;

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

    fn label(p: f64) -> String {
        format!("latency-zombiefs-p{p}")
    }

    pub fn run(c: &mut Criterion, config: &GridConfig, interrupted: &AtomicBool) -> Vec<Point> {
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
        let mut points = Vec::new();
        for p in PROBABILITIES {
            let backing = base.path().join(format!("backing-{p}"));
            let mnt = base.path().join(format!("mnt-{p}"));
            for d in [&backing, &mnt] {
                std::fs::create_dir(d).expect("latency: directories in a fresh temp dir");
            }
            let options = Options {
                open_probability: p,
                write_probability: 0.0,
                ..Options::default()
            };
            let mount = match Mount::new(&backing, &mnt, options) {
                Ok(m) => m,
                Err(e) => {
                    eprintln!("latency: skipped: {e}");
                    return points;
                }
            };
            points.extend(run_probability(
                c,
                config,
                p,
                mount.mountpoint(),
                interrupted,
            ));
            if let Err(e) = mount.unmount() {
                eprintln!("latency: {e}");
            }
            if interrupted.load(Relaxed) {
                drop(base);
                super::super::exit(130);
            }
        }
        points
    }

    fn run_probability(
        c: &mut Criterion,
        config: &GridConfig,
        p: f64,
        dir: &Path,
        interrupted: &AtomicBool,
    ) -> Vec<Point> {
        let mut points = Vec::new();
        let use_criterion = p >= CRITERION_DOWN_TO;
        let mut group = c.benchmark_group(label(p));
        group
            .sampling_mode(SamplingMode::Flat)
            .sample_size(MIN_TRIALS)
            .warm_up_time(Duration::from_millis(200))
            .measurement_time(config.timing.measurement.min(Duration::from_secs(2)));
        for (readers, deleters) in THREADS {
            let scenario = Scenario {
                readers,
                deleters,
                ..Scenario::default()
            };
            let mut harness = super::super::start_harness(&scenario, dir);
            let bare_dir = tempfile::Builder::new()
                .prefix("unlink-race-bare-")
                .tempdir_in(dir)
                .expect("latency: scratch dir for the bare loop");
            let bare_fd =
                sys::open_dir(bare_dir.path()).expect("latency: open the bare scratch dir");
            let content = Content::new(scenario.file_size_bytes as usize);
            let mut h_trials = Vec::new();
            let mut b_trials = Vec::new();
            if use_criterion {
                let id = format!("r{readers}-d{deleters}");
                group.bench_function(BenchmarkId::new("harness", &id), |b| {
                    b.iter_custom(|iters| {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            let t = harness_trial(&mut harness, interrupted);
                            total += Duration::from_nanos(t.elapsed_ns);
                            h_trials.push(t);
                        }
                        total
                    })
                });
                group.bench_function(BenchmarkId::new("bare", &id), |b| {
                    b.iter_custom(|iters| {
                        let mut total = Duration::ZERO;
                        for _ in 0..iters {
                            let t = bare_trial(bare_fd.as_fd(), &scenario, &content, interrupted);
                            total += Duration::from_nanos(t.elapsed_ns);
                            b_trials.push(t);
                        }
                        total
                    })
                });
            } else {
                let pairs = if test_mode() { 1 } else { MIN_TRIALS };
                for _ in 0..pairs {
                    h_trials.push(harness_trial(&mut harness, interrupted));
                    b_trials.push(bare_trial(
                        bare_fd.as_fd(),
                        &scenario,
                        &content,
                        interrupted,
                    ));
                    if interrupted.load(Relaxed) {
                        break;
                    }
                }
            }
            drop(harness.finish());
            for (method, trials) in [("harness", h_trials), ("bare", b_trials)] {
                points.push(Point {
                    probability: p,
                    readers,
                    deleters,
                    method,
                    trials,
                });
            }
            if interrupted.load(Relaxed) {
                break;
            }
        }
        group.finish();
        points
    }

    /// One harness trial: release the workers, race until the first anomaly.
    fn harness_trial(h: &mut Harness, interrupted: &AtomicBool) -> Trial {
        let limit = BatchLimit {
            cycles: Some(TRIAL_CAP_CYCLES),
            duration: Some(TRIAL_CAP),
            until_anomalies: Some(1),
        };
        let mut monitor = |_: &_| {
            if interrupted.load(Relaxed) {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        };
        match h.run_batch(&limit, &mut monitor) {
            Ok(b) => {
                if b.end == BatchEnd::Interrupted {
                    super::super::exit(130);
                }
                Trial {
                    cycles: b.first_anomaly_cycle.unwrap_or(b.cycles).max(1),
                    censored: b.first_anomaly_cycle.is_none(),
                    elapsed_ns: b.elapsed_ns,
                }
            }
            Err(e) => {
                eprintln!("error: latency: {e}");
                super::super::exit(2)
            }
        }
    }

    /// What the workers of one bare trial share.
    struct Race {
        stop: AtomicBool,
        cycles: AtomicU64,
        first_cycle: AtomicU64,
        t0_ns: AtomicU64,
        /// When the last reader left its loop.
        t_end_ns: AtomicU64,
    }

    impl Race {
        fn found(&self, cycle: u64) {
            let _ = self
                .first_cycle
                .compare_exchange(NONE, cycle, Relaxed, Relaxed);
            self.stop.store(true, Relaxed);
        }
    }

    /// One bare reader cycle; calls `race.found` on a zombie or on `EINVAL`.
    fn bare_cycle(dir: BorrowedFd<'_>, race: &Race, write_buf: &[u8], read_buf: &mut [u8]) {
        match sys::openat(dir, TARGET, O_RDONLY | O_NOFOLLOW, 0) {
            Err(ENOENT) => {
                let n = race.cycles.fetch_add(1, Relaxed) + 1;
                let create = O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW;
                if let Ok(fd) = sys::openat(dir, TARGET, create, 0o600) {
                    if sys::write(fd.as_fd(), write_buf) == Err(libc::EINVAL) {
                        race.found(n);
                    }
                    let _ = sys::close(fd);
                }
            }
            Err(_) => {
                race.cycles.fetch_add(1, Relaxed);
            }
            Ok(fd) => {
                let n = race.cycles.fetch_add(1, Relaxed) + 1;
                if sys::fstat(fd.as_fd()).is_ok_and(|st| st.ino == 0) {
                    race.found(n);
                }
                while let Ok(1..) = sys::read(fd.as_fd(), read_buf) {}
                let _ = sys::close(fd);
            }
        }
    }

    /// One bare trial: the scenario's threads start together at a barrier and
    /// race until a reader sees the first anomaly or the cap. Timed as the
    /// harness times a batch: from the moment the last thread reached the
    /// barrier to the moment the last reader left its loop.
    fn bare_trial(
        dir: BorrowedFd<'_>,
        s: &Scenario,
        content: &Content,
        interrupted: &AtomicBool,
    ) -> Trial {
        let race = Race {
            stop: AtomicBool::new(false),
            cycles: AtomicU64::new(0),
            first_cycle: AtomicU64::new(NONE),
            t0_ns: AtomicU64::new(0),
            t_end_ns: AtomicU64::new(0),
        };
        let barrier = Barrier::new((s.readers + s.deleters) as usize);
        std::thread::scope(|scope| {
            for _ in 0..s.readers {
                let (race, barrier) = (&race, &barrier);
                scope.spawn(move || {
                    let write_buf = content.buffer();
                    let mut read_buf = vec![0u8; content.len() + 1];
                    if barrier.wait().is_leader() {
                        race.t0_ns.store(sys::monotonic_ns(), Relaxed);
                    }
                    while !race.stop.load(Relaxed) {
                        bare_cycle(dir, race, &write_buf, &mut read_buf);
                        if race.cycles.load(Relaxed) >= TRIAL_CAP_CYCLES {
                            race.stop.store(true, Relaxed);
                        }
                    }
                    race.t_end_ns.fetch_max(sys::monotonic_ns(), Relaxed);
                });
            }
            for _ in 0..s.deleters {
                let (race, barrier) = (&race, &barrier);
                scope.spawn(move || {
                    if barrier.wait().is_leader() {
                        race.t0_ns.store(sys::monotonic_ns(), Relaxed);
                    }
                    while !race.stop.load(Relaxed) {
                        match sys::exists_at(dir, TARGET) {
                            Ok(true) => {
                                let _ = sys::unlinkat(dir, TARGET);
                            }
                            _ => sys::pause_briefly(),
                        }
                    }
                });
            }
            let started = Instant::now();
            while !race.stop.load(Relaxed) {
                if started.elapsed() > TRIAL_CAP || interrupted.load(Relaxed) {
                    race.stop.store(true, Relaxed);
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        let first = race.first_cycle.load(Relaxed);
        let (cycles, censored) = if first == NONE {
            (race.cycles.load(Relaxed), true)
        } else {
            (first, false)
        };
        let elapsed = race
            .t_end_ns
            .load(Relaxed)
            .saturating_sub(race.t0_ns.load(Relaxed));
        Trial {
            cycles: cycles.max(1),
            censored,
            elapsed_ns: elapsed.max(1),
        }
    }
}
