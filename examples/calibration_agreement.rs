//! How often two calibrations of pace `auto` at the same point agree
//! (docs/methods.md#how-auto-chooses): on a zombiefs mount (probability 0) at 1×1, 2×2 and
//! 4×4, `RUNS` times each, two calibrations back to back; the table gives
//! the pacing each chose, whether they agree, and what each candidate did
//! in the first (overlapped opens per second, the figure `auto` chooses by),
//! next to zombiefs's racing opens per second over both calibrations. The
//! summary counts the calibrations that took the extra turns (their first
//! turns left the best pacing undecided against `sleep`) and what they chose.
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
    use unlink_race::harness::calibrate::{BUDGET, Basis, Calibration, TURN, calibrate};
    use unlink_race::scenario::{Pace, Scenario};
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
            summary.push((threads, agree, chosen, extended));
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
        for (t, agree, chosen, extended) in summary {
            println!(
                "{t}×{t}: the two calibrations agreed in {agree} of {runs} runs; picks: {}; \
                 extra turns in {} of {} calibrations (chose {})",
                list(&chosen),
                extended.values().sum::<usize>(),
                2 * runs,
                list(&extended),
            );
        }
        drop(mount);
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
