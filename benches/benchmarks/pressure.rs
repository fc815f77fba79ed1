//! Race pressure (docs/benchmarks.md#pressure): raced opens per second of the harness against
//! bare loops of the same syscalls with each deleter pacing, at 1×1, 2×2 and
//! 4×4, on a tmpfs (when root can mount one) and on the target filesystem;
//! on zombiefs also zombies per second. The create race's pressure is its
//! racing creates per second, harness against the bare create loop, at 2, 4
//! and 8 creators with `O_CREAT`.
//!
//! Raced opens per second is not a time, so this family runs beside
//! Criterion: per point, the harness and every bare pacing take turns in
//! rounds of equal length (interleaved, so a noisy machine slows all of them
//! alike), and the sums are compared. The harness runs the bench's pace
//! (`UNLINK_RACE_PACE`, default `auto`, calibrated once when it starts).
//!
//! Raced opens per second swing by a factor of ten from one round to the
//! next on a busy machine, so a ratio of two sums means little: the rounds
//! are pairs (the harness's round and the bare loop's in the same round),
//! and each ratio printed is the geometric mean of the per-round ratios with
//! its 95% interval (Student's t on their logarithms,
//! [`unlink_race::stats::paired_ratio`]): one quantity, its point and its
//! interval. Two ratios are printed: against the best bare pacing (how well
//! `auto` chose and how little the harness costs) and against the bare loop
//! at the harness's own pacing (what the harness's bookkeeping costs alone).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use unlink_race::grid::GridConfig;
use unlink_race::harness::BatchLimit;
use unlink_race::outcome::Class;
use unlink_race::scenario::{CreateFlags, Pace, Scenario};
use unlink_race::stats::{CONFIDENCE, PairedRatio, geometric_mean, paired_ratio, ratio_interval};
use unlink_race::sys::{self, AsFd};

use super::bare::{self, BareCreates, BareRun, Stop};
use super::overhead::Tmpfs;

/// Rounds per point (each contender runs [`ROUND`] per round).
pub const ROUNDS: u32 = 6;
/// Length of one contender's turn in a round.
pub const ROUND: Duration = Duration::from_millis(300);
/// Thread counts measured.
pub const THREADS: &[(u32, u32)] = &[(1, 1), (2, 2), (4, 4)];
/// Creator counts of the create race's points.
pub const CREATORS: &[u32] = &[2, 4, 8];
/// Rounds of a create point: racing creates per second swing by tens from
/// one round to the next on a busy machine (a batch that starts while the
/// machine is busy may race nothing), so their ratio needs more rounds than
/// raced opens do.
pub const CREATE_ROUNDS: u32 = 20;
/// Bare pacings measured.
pub const BARE_PACES: &[Pace] = &[
    Pace::Spin,
    Pace::Check,
    Pace::Yield,
    Pace::Sleep,
    Pace::Aimed,
];

/// One point: a filesystem and a thread count.
pub struct Point {
    pub place: String,
    pub readers: u32,
    pub deleters: u32,
    /// The harness's pace (resolved) and its sums over the rounds.
    pub harness_pace: Pace,
    pub harness: BareRun,
    /// Each bare pacing's sums over the rounds.
    pub bare: Vec<(Pace, BareRun)>,
    /// Raced opens per second of each round: the harness's, then each bare
    /// pacing's in the order of `bare`.
    pub rounds: Vec<Vec<f64>>,
    /// One contender's turn in a round.
    pub round: Duration,
    /// `(raced opens/s, …): spin 90, check 2.7 k, …`: each candidate's figure
    /// in `auto`'s calibration, the one it chose by.
    pub calibration: Option<String>,
}

/// A ratio of raced opens per second: the geometric mean of the per-round
/// ratios and its 95% interval.
#[derive(Debug, Clone, Copy)]
pub struct Ratio(PairedRatio);

impl std::fmt::Display for Ratio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.2}", self.0.geometric_mean)?;
        if let Some(i) = self.0.interval {
            write!(f, " [{:.2}, {:.2}]", i.low, i.high)?;
        }
        Ok(())
    }
}

/// The geometric mean over points of their per-round geometric means, with
/// its 95% interval over points (Student's t; each point counts once,
/// whatever its rounds did). `None` without points.
fn pooled(ratios: &[Ratio]) -> Option<PairedRatio> {
    if ratios.is_empty() {
        return None;
    }
    let logs: Vec<f64> = ratios.iter().map(|r| r.0.log_mean).collect();
    Some(geometric_mean(&logs, CONFIDENCE))
}

fn per_second(n: u64, elapsed: Duration) -> f64 {
    n as f64 / elapsed.as_secs_f64().max(1e-9)
}

impl Point {
    /// Raced opens per second of contender `c` (0: the harness, `i + 1`:
    /// `bare[i]`) in each round.
    fn column(&self, c: usize) -> Vec<f64> {
        self.rounds.iter().map(|r| r[c]).collect()
    }

    /// The bare pacing with the most raced opens per second.
    pub fn best_bare(&self) -> Option<&(Pace, BareRun)> {
        self.bare.iter().max_by(|a, b| {
            per_second(a.1.raced_opens, a.1.elapsed)
                .total_cmp(&per_second(b.1.raced_opens, b.1.elapsed))
        })
    }

    /// Harness over the bare loop of pacing `pace`: the geometric mean of
    /// the per-round ratios, with its interval. A round with nothing raced
    /// on a side counts half a raced open there.
    pub fn ratio_to(&self, pace: Pace) -> Option<Ratio> {
        let i = self.bare.iter().position(|(p, _)| *p == pace)?;
        let half = 0.5 / self.round.as_secs_f64();
        Some(Ratio(paired_ratio(
            &self.column(0),
            &self.column(i + 1),
            half,
            CONFIDENCE,
        )))
    }
}

/// `true` when a Criterion filter on the command line excludes this family.
fn filtered_out() -> bool {
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-') && a != "--bench");
    filter.is_some_and(|f| !"pressure".contains(f.as_str()) && !f.contains("pressure"))
}

/// One point of the create race: a filesystem and a creator count.
pub struct CreatePoint {
    pub place: String,
    pub creators: u32,
    /// The harness's sums over the rounds (`calls` are its create calls).
    pub harness: BareCreates,
    pub bare: BareCreates,
    /// Racing creates per second of each round: the harness's, the bare loop's.
    pub rounds: Vec<[f64; 2]>,
    pub round: Duration,
}

impl CreatePoint {
    /// Racing creates per second of the harness over the bare loop's: the
    /// geometric mean of the per-round ratios with its 95% interval (a
    /// round with no racing create on a side counts half of one there).
    pub fn ratio(&self) -> Ratio {
        let column = |i: usize| self.rounds.iter().map(|r| r[i]).collect::<Vec<_>>();
        let half = 0.5 / self.round.as_secs_f64();
        Ratio(paired_ratio(&column(0), &column(1), half, CONFIDENCE))
    }
}

/// Everything the family measured.
#[derive(Default)]
pub struct Results {
    pub points: Vec<Point>,
    pub creates: Vec<CreatePoint>,
}

pub fn run(config: &GridConfig, interrupted: &AtomicBool) -> Results {
    if filtered_out() {
        return Results::default();
    }
    let (round, rounds) = if config.quick {
        (Duration::from_millis(100), 3)
    } else {
        (ROUND, ROUNDS)
    };
    let tmpfs = if config.zombiefs {
        None
    } else {
        Tmpfs::mount()
    };
    if tmpfs.is_none() && !config.zombiefs {
        eprintln!(
            "pressure: cannot mount a tmpfs (not root?): measuring the target filesystem only"
        );
    }
    let target_name = if config.zombiefs {
        "zombiefs".to_string()
    } else {
        unlink_race::harness::fs_type_of(&config.dirs[0])
    };
    let mut places: Vec<(String, PathBuf)> = Vec::new();
    if let Some(t) = &tmpfs {
        places.push(("tmpfs".into(), t.path().to_path_buf()));
    }
    places.push((target_name, config.dirs[0].clone()));
    let mut points = Vec::new();
    let mut creates = Vec::new();
    for (place, dir) in &places {
        if !config.races.contains(&unlink_race::scenario::Race::Create) {
            break;
        }
        let rounds = if config.quick { rounds } else { CREATE_ROUNDS };
        for &creators in CREATORS {
            let p = measure_creates(place, dir, creators, round, rounds, interrupted);
            print_create_point(&p, rounds);
            creates.push(p);
            if interrupted.load(Relaxed) {
                drop(tmpfs);
                super::exit(130);
            }
        }
    }
    for (place, dir) in &places {
        if !config
            .races
            .contains(&unlink_race::scenario::Race::OpenUnlink)
        {
            break;
        }
        for &(readers, deleters) in THREADS {
            let p = measure(
                place,
                dir,
                readers,
                deleters,
                config.pace,
                round,
                rounds,
                interrupted,
            );
            print_point(&p, round, rounds);
            points.push(p);
            if interrupted.load(Relaxed) {
                drop(tmpfs);
                super::exit(130);
            }
        }
    }
    Results { points, creates }
}

/// The harness's create race and the bare one at `creators`, in
/// interleaved rounds of `round`.
fn measure_creates(
    place: &str,
    dir: &Path,
    creators: u32,
    round: Duration,
    rounds: u32,
    interrupted: &AtomicBool,
) -> CreatePoint {
    let s = Scenario::create(creators, CreateFlags::Creat);
    let mut h = super::start_harness(&s, dir);
    let bare_dir = tempfile::Builder::new()
        .prefix("unlink-race-bare-")
        .tempdir_in(dir)
        .expect("scratch dir for the bare loop");
    let fd = sys::open_dir(bare_dir.path()).expect("open the bare loop's scratch dir");
    let (mut harness, mut bare) = (BareCreates::default(), BareCreates::default());
    let mut per_round = Vec::new();
    for _ in 0..rounds {
        let limit = BatchLimit {
            duration: Some(round),
            ..BatchLimit::default()
        };
        let b = super::batch(&mut h, &limit, interrupted, || {
            format!("pressure {place} create c{creators}")
        });
        let elapsed = Duration::from_nanos(b.elapsed_ns);
        harness += BareCreates {
            calls: b.cycles,
            racing: b.racing_creates,
            enoents: 0,
            elapsed,
        };
        let r = bare::create_race(
            fd.as_fd(),
            creators,
            CreateFlags::Creat,
            7,
            Stop::Time(round),
            false,
            interrupted,
        );
        bare += r;
        if interrupted.load(Relaxed) {
            break;
        }
        per_round.push([
            per_second(b.racing_creates, elapsed),
            per_second(r.racing, r.elapsed),
        ]);
    }
    drop(h.finish());
    CreatePoint {
        place: place.into(),
        creators,
        harness,
        bare,
        rounds: per_round,
        round,
    }
}

fn racing_share(c: &BareCreates) -> String {
    if c.calls == 0 {
        "-".into()
    } else {
        format!("{:.1}%", 100.0 * c.racing as f64 / c.calls as f64)
    }
}

fn print_create_point(p: &CreatePoint, rounds: u32) {
    let rate = |c: &BareCreates| fmt_rate(per_second(c.racing, c.elapsed));
    println!(
        "pressure-create-{}-c{}: racing creates/s ({rounds} interleaved rounds of {:.1} s, O_CREAT): \
         harness {} ({} of create calls raced); bare {} ({}); harness / bare = {}",
        p.place,
        p.creators,
        p.round.as_secs_f64(),
        rate(&p.harness),
        racing_share(&p.harness),
        rate(&p.bare),
        racing_share(&p.bare),
        p.ratio()
    );
}

#[allow(clippy::too_many_arguments)]
fn measure(
    place: &str,
    dir: &Path,
    readers: u32,
    deleters: u32,
    pace: Pace,
    round: Duration,
    rounds: u32,
    interrupted: &AtomicBool,
) -> Point {
    let s = Scenario {
        readers,
        deleters,
        pace,
        ..Scenario::default()
    };
    let mut h = super::start_harness(&s, dir);
    let harness_pace = h.scenario().pace;
    let calibration = h.calibration().map(|c| {
        let what = c.basis().unit();
        let figures: Vec<String> = c
            .points
            .iter()
            .map(|p| format!("{} {}", p.pace, fmt_rate(p.rate(c.basis()))))
            .collect();
        format!("({what}): {}", figures.join(", "))
    });
    let bare_dir = tempfile::Builder::new()
        .prefix("unlink-race-bare-")
        .tempdir_in(dir)
        .expect("scratch dir for the bare loops");
    let fd = sys::open_dir(bare_dir.path()).expect("open the bare loops' scratch dir");
    let mut bare: Vec<(Pace, BareRun)> = BARE_PACES
        .iter()
        .map(|&p| (p, BareRun::default()))
        .collect();
    let mut per_round = Vec::new();
    for _ in 0..rounds {
        let limit = BatchLimit {
            duration: Some(round),
            ..BatchLimit::default()
        };
        let b = super::batch(&mut h, &limit, interrupted, || {
            format!("pressure {place} r{readers}-d{deleters}")
        });
        let mut this_round = vec![b.raced_opens as f64 * 1e9 / b.elapsed_ns.max(1) as f64];
        for (p, total) in &mut bare {
            let _ = sys::unlinkat(fd.as_fd(), bare::TARGET);
            let r = bare::run(fd.as_fd(), readers, deleters, 7, *p, Stop::Time(round));
            this_round.push(per_second(r.raced_opens, r.elapsed));
            *total += r;
        }
        if interrupted.load(Relaxed) {
            break;
        }
        per_round.push(this_round);
    }
    let t = h.finish();
    Point {
        place: place.into(),
        readers,
        deleters,
        harness_pace,
        harness: BareRun {
            cycles: t.cycles,
            raced_opens: t.raced_opens,
            zombies: t.counts[Class::ZombieFd.index()],
            recreations: t.recreations,
            elapsed: Duration::from_nanos(t.elapsed_ns),
        },
        bare,
        rounds: per_round,
        round,
        calibration,
    }
}

fn fmt_rate(x: f64) -> String {
    if x >= 1e6 {
        format!("{:.2} M", x / 1e6)
    } else if x >= 1e3 {
        format!("{:.1} k", x / 1e3)
    } else {
        format!("{x:.0}")
    }
}

fn raced_fraction(r: &BareRun) -> String {
    if r.cycles == 0 {
        "-".into()
    } else {
        format!("{:.1}%", 100.0 * r.raced_opens as f64 / r.cycles as f64)
    }
}

/// `; harness / best bare (check) = 0.93 [0.71, 1.22]; harness / bare at
/// its own pace (sleep) = …`, with 95% intervals.
fn ratios(p: &Point) -> String {
    let mut out = String::new();
    if let Some(&(pace, _)) = p.best_bare() {
        if let Some(r) = p.ratio_to(pace) {
            out += &format!("; harness / best bare ({pace}) = {r}");
        }
    }
    if let Some(r) = p.ratio_to(p.harness_pace) {
        out += &format!(
            "; harness / bare at its own pace ({}) = {r}",
            p.harness_pace
        );
    }
    out
}

fn print_point(p: &Point, round: Duration, rounds: u32) {
    let rate = |r: &BareRun| per_second(r.raced_opens, r.elapsed);
    let mut line = format!(
        "pressure-{}-r{}-d{}: raced opens/s ({rounds} interleaved rounds of {:.1} s): harness ({}) {} ({} of cycles raced)",
        p.place,
        p.readers,
        p.deleters,
        round.as_secs_f64(),
        p.harness_pace,
        fmt_rate(rate(&p.harness)),
        raced_fraction(&p.harness)
    );
    for (pace, r) in &p.bare {
        line += &format!(
            "; bare {pace} {} ({})",
            fmt_rate(rate(r)),
            raced_fraction(r)
        );
    }
    line += &ratios(p);
    println!("{line}");
    if let Some(c) = &p.calibration {
        println!("  auto's calibration {c}");
    }
    if p.place == "zombiefs" {
        let z = |r: &BareRun| per_second(r.zombies, r.elapsed);
        let mut line = format!(
            "pressure-{}-r{}-d{}: zombies/s: harness {}",
            p.place,
            p.readers,
            p.deleters,
            fmt_rate(z(&p.harness))
        );
        for (pace, r) in &p.bare {
            line += &format!("; bare {pace} {}", fmt_rate(z(r)));
        }
        let best = p.bare.iter().max_by(|a, b| z(&a.1).total_cmp(&z(&b.1)));
        if let Some((pace, best)) = best.filter(|(_, r)| r.zombies > 0) {
            // Zombies are counted per run, not per round: the interval is
            // the exact one of two Poisson counts, which spells widen.
            let (h, b) = (&p.harness, best);
            let ns = |r: &BareRun| (r.elapsed.as_nanos() as u64).max(1);
            let (low, high) = ratio_interval(b.zombies, ns(b), h.zombies, ns(h), CONFIDENCE);
            let high = high.map_or("∞".into(), |x| format!("{x:.2}"));
            line += &format!(
                "; harness / best bare ({pace}) = {:.2} [{low:.2}, {high}] (95%, Poisson)",
                z(h) / z(b)
            );
        }
        println!("{line}");
    }
}

/// The Markdown tables of every point (for docs/measurements).
pub fn print_table(results: &Results) {
    print_create_table(&results.creates);
    print_open_table(&results.points);
}

fn print_create_table(points: &[CreatePoint]) {
    if points.is_empty() {
        return;
    }
    println!(
        "\n| fs | creators | harness racing creates/s | raced | bare racing creates/s | raced | harness / bare, geometric mean of rounds [95%] |"
    );
    println!("|---|---|---|---|---|---|---|");
    let rate = |c: &BareCreates| fmt_rate(per_second(c.racing, c.elapsed));
    for p in points {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            p.place,
            p.creators,
            rate(&p.harness),
            racing_share(&p.harness),
            rate(&p.bare),
            racing_share(&p.bare),
            p.ratio()
        );
    }
}

fn print_open_table(points: &[Point]) {
    if points.is_empty() {
        return;
    }
    println!(
        "\n| fs | R×D | harness (pace) | raced | {} | harness / best bare [95%] | harness / bare at its pace [95%] |",
        BARE_PACES
            .iter()
            .map(|p| format!("bare {p}"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!(
        "|---|---|---|---|{}---|---|",
        "---|".repeat(BARE_PACES.len())
    );
    let rate = |r: &BareRun| per_second(r.raced_opens, r.elapsed);
    let show = |r: Option<Ratio>| r.map_or("-".to_string(), |r| r.to_string());
    for p in points {
        println!(
            "| {} | {}×{} | {} ({}) | {} | {} | {} | {} |",
            p.place,
            p.readers,
            p.deleters,
            fmt_rate(rate(&p.harness)),
            p.harness_pace,
            raced_fraction(&p.harness),
            p.bare
                .iter()
                .map(|(_, r)| format!("{} ({})", fmt_rate(rate(r)), raced_fraction(r)))
                .collect::<Vec<_>>()
                .join(" | "),
            show(p.best_bare().and_then(|&(pace, _)| p.ratio_to(pace))),
            show(p.ratio_to(p.harness_pace)),
        );
    }
    let show_pooled = |what: &str, ratios: Vec<Ratio>| {
        if let Some(p) = pooled(&ratios) {
            println!(
                "pooled over the {} points, harness / {what}: geometric mean {}",
                ratios.len(),
                Ratio(p)
            );
        }
    };
    println!();
    show_pooled(
        "best bare",
        points
            .iter()
            .filter_map(|p| p.best_bare().and_then(|&(pace, _)| p.ratio_to(pace)))
            .collect(),
    );
    show_pooled(
        "bare at its pace",
        points
            .iter()
            .filter_map(|p| p.ratio_to(p.harness_pace))
            .collect(),
    );
}
