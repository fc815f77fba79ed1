//! How pace `auto` should calibrate: the measurement behind its turn length
//! and its rule (docs/methods.md#how-auto-chooses).
//!
//! For each directory given (default: the system temp dir) and each of 1×1,
//! 2×2 and 4×4, every candidate pacing races in twelve interleaved rounds of
//! 0.3 s (the pressure benchmark's rounds, half before and half after the
//! calibrations): what each pacing really does there. In between, ten
//! calibrations for each turn length (eight turns of 40 ms, six of 80 ms)
//! record every candidate's turns. Each rule then picks a pacing from each
//! calibration, and the table gives the share of the best pacing's rate
//! that its pick reached, on average, and how many picks fell below half.
//!
//! ```text
//! cargo run --release --example calibration_rules -- /tmp /mnt/tmpfs
//! ```
//!
//! It takes about a minute and a half per directory and thread count.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Duration;

use unlink_race::harness::{BatchLimit, Harness, HarnessOptions};
use unlink_race::scenario::{Pace, Scenario, Workers};

/// Calibrations per turn length and point.
const CALIBRATIONS: usize = 10;
/// Turn lengths tried, with the turns per candidate.
const TURNS: &[(u64, usize)] = &[(40, 8), (80, 6)];

/// Raced opens per second of each candidate (in `Pace::candidates` order)
/// in each round: `rates[candidate][round]`.
type Rates = Vec<Vec<f64>>;

/// All candidates started at once and parked, a 50 ms warm-up each, then
/// `rounds` interleaved turns of `turn_ms` each, as `auto` runs them.
fn interleaved(dir: &Path, threads: u32, turn_ms: u64, rounds: usize) -> Rates {
    let mut candidates: Vec<Harness> = Pace::candidates(Workers::Threads)
        .iter()
        .map(|&pace| {
            let s = Scenario {
                readers: threads,
                deleters: threads,
                pace,
                ..Scenario::default()
            };
            Harness::start(&s, dir, HarnessOptions::default()).expect("start a candidate")
        })
        .collect();
    let limit = |ms| BatchLimit {
        duration: Some(Duration::from_millis(ms)),
        ..BatchLimit::default()
    };
    let mut go = |_: &_| ControlFlow::Continue(());
    for h in &mut candidates {
        h.run_batch(&limit(50), &mut go).expect("warm-up");
    }
    let mut rates = vec![Vec::with_capacity(rounds); candidates.len()];
    for _ in 0..rounds {
        for (h, r) in candidates.iter_mut().zip(&mut rates) {
            let b = h.run_batch(&limit(turn_ms), &mut go).expect("a turn");
            r.push(b.raced_opens as f64 * 1e9 / b.elapsed_ns.max(1) as f64);
        }
    }
    for h in candidates {
        h.finish();
    }
    rates
}

fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// The mean without the lowest and the highest value.
fn trimmed_mean(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let kept = &v[1..v.len() - 1];
    kept.iter().sum::<f64>() / kept.len() as f64
}

fn geometric_mean(xs: &[f64]) -> f64 {
    (xs.iter().map(|x| x.max(1.0).ln()).sum::<f64>() / xs.len() as f64).exp()
}

type Rule = (&'static str, fn(&[f64]) -> f64);

const RULES: &[Rule] = &[
    ("rate over all turns (sum)", |x| x.iter().sum()),
    ("median", median),
    ("geometric mean", geometric_mean),
    ("trimmed mean (best and worst turn left out)", trimmed_mean),
];

fn main() {
    let dirs: Vec<PathBuf> = match std::env::args_os().skip(1).map(PathBuf::from).collect() {
        d if Vec::is_empty(&d) => vec![std::env::temp_dir()],
        d => d,
    };
    let paces = Pace::candidates(Workers::Threads);
    // scores[turn length][rule]: the chosen pacing's share of the best one's rate.
    let mut scores = vec![vec![Vec::new(); RULES.len()]; TURNS.len()];
    for dir in &dirs {
        for threads in [1, 2, 4] {
            let before = interleaved(dir, threads, 300, 6);
            let calibrations: Vec<Vec<Rates>> = TURNS
                .iter()
                .map(|&(ms, turns)| {
                    (0..CALIBRATIONS)
                        .map(|_| interleaved(dir, threads, ms, turns))
                        .collect()
                })
                .collect();
            let after = interleaved(dir, threads, 300, 6);
            let truth: Vec<f64> = before
                .iter()
                .zip(&after)
                .map(|(a, b)| (a.iter().sum::<f64>() + b.iter().sum::<f64>()) / 12.0)
                .collect();
            let best = truth.iter().copied().fold(0.0, f64::max).max(1e-9);
            println!(
                "{} {threads}×{threads}: raced opens/s over 12 rounds of 0.3 s: {}",
                dir.display(),
                paces
                    .iter()
                    .zip(&truth)
                    .map(|(p, t)| format!("{p} {t:.0}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            for (t, cals) in calibrations.iter().enumerate() {
                for (r, (_, rule)) in RULES.iter().enumerate() {
                    for cal in cals {
                        let chosen = (0..cal.len())
                            .max_by(|&a, &b| rule(&cal[a]).total_cmp(&rule(&cal[b])))
                            .expect("candidates");
                        scores[t][r].push(truth[chosen] / best);
                    }
                }
            }
        }
    }
    println!(
        "\nshare of the best pacing's rate reached by the pick, mean (picks below half), {} calibrations each:",
        scores[0][0].len()
    );
    println!(
        "| rule | {} |",
        TURNS
            .iter()
            .map(|(ms, n)| format!("turns of {ms} ms ({n} turns)"))
            .collect::<Vec<_>>()
            .join(" | ")
    );
    println!("|---|{}", "---|".repeat(TURNS.len()));
    for (r, (name, _)) in RULES.iter().enumerate() {
        let cells: Vec<String> = scores
            .iter()
            .map(|by_rule| {
                let s = &by_rule[r];
                let mean = s.iter().sum::<f64>() / s.len().max(1) as f64;
                let low = s.iter().filter(|&&x| x < 0.5).count();
                format!("{mean:.2} ({low})")
            })
            .collect();
        println!("| {name} | {} |", cells.join(" | "));
    }
}
