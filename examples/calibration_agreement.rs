//! How often two calibrations of pace `auto` at the same point agree
//! (docs/methods.md#how-auto-chooses): on a zombiefs mount (probability 0) at 1×1, 2×2 and
//! 4×4, `RUNS` times each, two calibrations back to back; the table gives
//! the pacing each chose, whether they agree, and what each candidate did
//! in the first (overlapped opens per second, the figure `auto` chooses by),
//! next to zombiefs's racing opens per second over both calibrations. The
//! summary counts the calibrations that took the extra turns (their first
//! turns left the best pacing undecided against `sleep`) and what they chose,
//! and says how finely a calibration can tell pacings apart at that point:
//! from the turn-by-turn ratios of the best other candidate to `sleep` (the
//! figures `auto`'s paired test decides on), how many paired turns it would
//! take to tell a pacing 5% or 10% better than `sleep` at the rule's level
//! with power 0.95.
//!
//! ```text
//! cargo run --release --features zombiefs --example calibration_agreement -- [RUNS]
//! ```
//!
//! Default 10 runs: about 10 s per run and point. Needs root (or
//! fusermount3) and /dev/fuse.
#[cfg(target_os = "linux")]
mod imp {
    use std::collections::BTreeMap;
    use std::time::Instant;

    use unlink_race::harness::HarnessOptions;
    use unlink_race::harness::calibrate::{
        BUDGET, Basis, Calibration, DEFAULT, SWITCH_LEVEL, TURN, calibrate, paired_logs,
    };
    use unlink_race::scenario::{Pace, Scenario};
    use unlink_race::stats::normal_quantile;
    use unlink_race::zombiefs::{Mount, Options};

    pub fn main() {
        let runs: usize = std::env::args()
            .nth(1)
            .map(|a| a.parse().expect("RUNS is a number"))
            .unwrap_or(10);
        let base = tempfile::tempdir().expect("temp dir");
        let (backing, mnt) = (base.path().join("backing"), base.path().join("mnt"));
        std::fs::create_dir(&backing).expect("backing dir");
        std::fs::create_dir(&mnt).expect("mount point");
        let options = Options {
            open_probability: 0.0,
            write_probability: 0.0,
            create_race_probability: 0.0,
            ..Options::default()
        };
        let mount = Mount::new(&backing, &mnt, options).unwrap_or_else(|e| {
            eprintln!("error: {e}");
            std::process::exit(2)
        });
        println!(
            "| R×D | run | first | second | agree | s per calibration | first's overlapped opens/s | zombiefs racing opens/s |"
        );
        println!("|---|---|---|---|---|---|---|---|");
        let mut summary = Vec::new();
        for threads in [1, 2, 4] {
            let scenario = Scenario {
                readers: threads,
                deleters: threads,
                pace: Pace::Auto,
                ..Scenario::default()
            };
            let mut agree = 0;
            let mut chosen: BTreeMap<Pace, usize> = BTreeMap::new();
            let mut extended: BTreeMap<Pace, usize> = BTreeMap::new();
            let mut paired = Paired::default();
            for run in 1..=runs {
                let before = mount.stats().racing_opens;
                let start = Instant::now();
                let a = calibrate(&scenario, mount.mountpoint(), &HarnessOptions::default())
                    .expect("a calibration");
                let b = calibrate(&scenario, mount.mountpoint(), &HarnessOptions::default())
                    .expect("a calibration");
                let secs = start.elapsed().as_secs_f64() / 2.0;
                let racing = (mount.stats().racing_opens - before) as f64 / (2.0 * secs);
                agree += usize::from(a.chosen == b.chosen);
                *chosen.entry(a.chosen).or_default() += 1;
                *chosen.entry(b.chosen).or_default() += 1;
                for c in [&a, &b].into_iter().filter(|c| took_extra_turns(c)) {
                    *extended.entry(c.chosen).or_default() += 1;
                }
                paired.add(&a);
                paired.add(&b);
                let figures: Vec<String> = a
                    .points
                    .iter()
                    .map(|p| {
                        format!(
                            "{} {:.0} ({} turns)",
                            p.pace,
                            p.rate(Basis::OverlappedOpens),
                            p.rounds.len()
                        )
                    })
                    .collect();
                println!(
                    "| {threads}×{threads} | {run} | {} | {} | {} | {secs:.1} | {} | {racing:.0} |",
                    a.chosen,
                    b.chosen,
                    if a.chosen == b.chosen { "yes" } else { "no" },
                    figures.join(", ")
                );
            }
            summary.push((threads, agree, chosen, extended, paired));
        }
        println!();
        let list = |m: &BTreeMap<Pace, usize>| {
            let v: Vec<String> = m.iter().map(|(p, n)| format!("{p} {n}")).collect();
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join(", ")
            }
        };
        for (t, agree, chosen, extended, paired) in summary {
            println!(
                "{t}×{t}: the two calibrations agreed in {agree} of {runs} runs; picks: {}; \
                 extra turns in {} of {} calibrations (chose {}); {}",
                list(&chosen),
                extended.values().sum::<usize>(),
                2 * runs,
                list(&extended),
                paired.summary(),
            );
        }
        drop(mount);
    }

    /// The turn-by-turn log ratios of each calibration's best candidate
    /// other than [`DEFAULT`] to [`DEFAULT`], by overlapped opens.
    #[derive(Default)]
    struct Paired {
        /// Per calibration: the mean and the variance of its log ratios.
        calibrations: Vec<(f64, f64)>,
        turns: usize,
    }

    impl Paired {
        fn add(&mut self, c: &Calibration) {
            let basis = Basis::OverlappedOpens;
            let Some(default) = c.points.iter().find(|p| p.pace == DEFAULT) else {
                return;
            };
            let Some(best) = c
                .points
                .iter()
                .filter(|p| p.pace != DEFAULT)
                .max_by(|x, y| x.rate(basis).total_cmp(&y.rate(basis)))
            else {
                return;
            };
            let logs = paired_logs(best, default, basis);
            if logs.len() < 2 {
                return;
            }
            let n = logs.len() as f64;
            let mean = logs.iter().sum::<f64>() / n;
            let var = logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / (n - 1.0);
            self.calibrations.push((mean, var));
            self.turns += logs.len();
        }

        /// The best other candidate's mean ratio to `sleep`, the per-turn
        /// standard deviation of the log ratio (pooled within
        /// calibrations), and the paired turns a one-sided test at
        /// `SWITCH_LEVEL` needs to tell 5% and 10% with power 0.95.
        fn summary(&self) -> String {
            let k = self.calibrations.len() as f64;
            if k == 0.0 {
                return "no paired turns".to_string();
            }
            let mean = self.calibrations.iter().map(|c| c.0).sum::<f64>() / k;
            let sd = (self.calibrations.iter().map(|c| c.1).sum::<f64>() / k).sqrt();
            let z = normal_quantile(1.0 - SWITCH_LEVEL) + normal_quantile(0.95);
            let need = |better: f64| (z * sd / f64::ln_1p(better)).powi(2).ceil();
            let seconds = |turns: f64| turns * 2.0 * TURN.as_secs_f64();
            let (five, ten) = (need(0.05), need(0.10));
            format!(
                "best other / sleep x{:.2} over {} paired turns, per-turn sd of the log ratio {sd:.2}: \
                 telling 5% takes {five:.0} paired turns ({:.0} s), 10% {ten:.0} ({:.0} s)",
                mean.exp(),
                self.turns,
                seconds(five),
                seconds(ten),
            )
        }
    }

    /// Whether the calibration took more turns than its budget: the extra
    /// turns of the best pacing and `sleep`.
    fn took_extra_turns(c: &Calibration) -> bool {
        let turns: usize = c.points.iter().map(|p| p.rounds.len()).sum();
        turns as u128 > BUDGET.as_nanos() / TURN.as_nanos()
    }
}

fn main() {
    #[cfg(target_os = "linux")]
    imp::main();
    #[cfg(not(target_os = "linux"))]
    eprintln!("this example needs zombiefs, which runs on Linux only");
}
