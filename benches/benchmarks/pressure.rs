//! Race pressure (DESIGN §10): raced opens per second of the harness against
//! bare loops of the same syscalls with each deleter pacing, at 1×1, 2×2 and
//! 4×4, on a tmpfs (when root can mount one) and on the target filesystem;
//! on zombiefs also zombies per second.
//!
//! Raced opens per second is not a time, so this family runs beside
//! Criterion: per point, the harness and every bare pacing take turns in
//! rounds of equal length (interleaved, so a noisy machine slows all of them
//! alike), and the sums are compared. The harness runs the bench's pace
//! (`UNLINK_RACE_PACE`, default `auto`, calibrated once when it starts).

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use unlink_race::grid::GridConfig;
use unlink_race::harness::BatchLimit;
use unlink_race::outcome::Class;
use unlink_race::scenario::{Pace, Scenario};
use unlink_race::sys;

use super::bare::{self, BareRun, Stop};
use super::overhead::Tmpfs;

/// Thread counts measured.
pub const THREADS: &[(u32, u32)] = &[(1, 1), (2, 2), (4, 4)];
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
}

fn per_second(n: u64, elapsed: Duration) -> f64 {
    n as f64 / elapsed.as_secs_f64().max(1e-9)
}

impl Point {
    /// The bare pacing with the most raced opens per second.
    pub fn best_bare(&self) -> Option<&(Pace, BareRun)> {
        self.bare.iter().max_by(|a, b| {
            per_second(a.1.raced_opens, a.1.elapsed)
                .total_cmp(&per_second(b.1.raced_opens, b.1.elapsed))
        })
    }
}

/// `true` when a Criterion filter on the command line excludes this family.
fn filtered_out() -> bool {
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-') && a != "--bench");
    filter.is_some_and(|f| !"pressure".contains(f.as_str()) && !f.contains("pressure"))
}

pub fn run(config: &GridConfig, interrupted: &AtomicBool) -> Vec<Point> {
    if filtered_out() {
        return Vec::new();
    }
    let (round, rounds) = if config.quick {
        (Duration::from_millis(100), 2)
    } else {
        (Duration::from_millis(300), 3)
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
    for (place, dir) in &places {
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
    points
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
    let bare_dir = tempfile::Builder::new()
        .prefix("unlink-race-bare-")
        .tempdir_in(dir)
        .expect("scratch dir for the bare loops");
    let fd = sys::open_dir(bare_dir.path()).expect("open the bare loops' scratch dir");
    let mut bare: Vec<(Pace, BareRun)> = BARE_PACES
        .iter()
        .map(|&p| (p, BareRun::default()))
        .collect();
    for _ in 0..rounds {
        let limit = BatchLimit {
            duration: Some(round),
            ..BatchLimit::default()
        };
        let mut monitor = |_: &_| {
            if interrupted.load(Relaxed) {
                std::ops::ControlFlow::Break(())
            } else {
                std::ops::ControlFlow::Continue(())
            }
        };
        if let Err(e) = h.run_batch(&limit, &mut monitor) {
            eprintln!("error: pressure {place} r{readers}-d{deleters}: {e}");
            super::exit(2);
        }
        for (p, total) in &mut bare {
            let _ = sys::unlinkat(fd.as_fd(), bare::TARGET);
            *total += bare::run(fd.as_fd(), readers, deleters, 7, *p, Stop::Time(round));
        }
        if interrupted.load(Relaxed) {
            break;
        }
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
            elapsed: Duration::from_nanos(t.elapsed_ns),
        },
        bare,
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
    if let Some((pace, best)) = p.best_bare() {
        let ratio = rate(&p.harness) / rate(best).max(1e-9);
        line += &format!("; harness / best bare ({pace}) = {ratio:.2}");
    }
    println!("{line}");
    if p.place == "zombiefs" {
        let z = |r: &BareRun| per_second(r.zombies, r.elapsed);
        let mut line = format!(
            "pressure-{}-r{}-d{}: zombies/s: harness {}",
            p.place,
            p.readers,
            p.deleters,
            fmt_rate(z(&p.harness))
        );
        let best = p.bare.iter().map(|(_, r)| z(r)).fold(0.0, f64::max);
        for (pace, r) in &p.bare {
            line += &format!("; bare {pace} {}", fmt_rate(z(r)));
        }
        line += &format!(
            "; harness / best bare = {:.2}",
            z(&p.harness) / best.max(1e-9)
        );
        println!("{line}");
    }
}

/// The Markdown table of every point (for the README).
pub fn print_table(points: &[Point]) {
    if points.is_empty() {
        return;
    }
    println!(
        "\n| fs | R×D | harness (pace) | raced | {} | harness / best bare |",
        BARE_PACES
            .iter()
            .map(|p| format!("bare {p}"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("|---|---|---|---|{}---|", "---|".repeat(BARE_PACES.len()));
    let rate = |r: &BareRun| per_second(r.raced_opens, r.elapsed);
    for p in points {
        let best = p.best_bare().map_or(0.0, |(_, r)| rate(r));
        println!(
            "| {} | {}×{} | {} ({}) | {} | {} | {:.2} |",
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
            rate(&p.harness) / best.max(1e-9)
        );
    }
}
