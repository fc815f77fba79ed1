//! Which of the harness's two figures predicts the defect: raced opens or
//! overlapped opens, checked against zombiefs's ground truth
//! (docs/methods.md#overlapped-opens).
//!
//! zombiefs is mounted with `--open-probability 0` (nothing is zombified,
//! every racing open is still counted). At each of 1×1, 2×2 and 4×4 every
//! fixed pacing runs in its own harness, all started at once, in interleaved
//! turns (so that a machine whose speed drifts slows all of them alike).
//! For each turn the harness counts raced and overlapped opens and zombiefs
//! its racing opens (an `OPEN` that reached a node unlinked after its
//! lookup: the window the emulated defect needs). The table gives each
//! figure per second and, per point, the Spearman rank correlation of each
//! harness figure with the ground truth over the pacings, and whether each
//! figure's top pacing is the ground truth's.
//!
//! ```text
//! cargo run --release --features zombiefs --example proxy_validation -- [ROUNDS] [TURN_MS] [REPEATS]
//! ```
//!
//! Defaults: 10 rounds of 300 ms per pacing (15 s per point), one repeat.
//! Needs root (or fusermount3) and /dev/fuse.
#[cfg(target_os = "linux")]
mod imp {
    use std::ops::ControlFlow;
    use std::time::Duration;

    use unlink_race::harness::{BatchLimit, Harness, HarnessOptions};
    use unlink_race::scenario::{Pace, Scenario, Workers};
    use unlink_race::stats::spearman;
    use unlink_race::zombiefs::{Mount, Options};

    /// One pacing's sums over the rounds.
    #[derive(Debug, Default, Clone, Copy)]
    struct Sums {
        raced: u64,
        overlapped: u64,
        racing: u64,
        elapsed_ns: u64,
    }

    impl Sums {
        fn per_second(&self, n: u64) -> f64 {
            n as f64 * 1e9 / self.elapsed_ns.max(1) as f64
        }
    }

    fn top(xs: &[f64]) -> usize {
        (0..xs.len())
            .max_by(|&a, &b| xs[a].total_cmp(&xs[b]))
            .expect("candidates")
    }

    fn measure(mount: &Mount, threads: u32, rounds: usize, turn: Duration) -> Vec<Sums> {
        let paces = Pace::candidates(Workers::Threads);
        let mut harnesses: Vec<Harness> = paces
            .iter()
            .map(|&pace| {
                let s = Scenario {
                    readers: threads,
                    deleters: threads,
                    pace,
                    ..Scenario::default()
                };
                Harness::start(&s, mount.mountpoint(), HarnessOptions::default())
                    .expect("start a harness on zombiefs")
            })
            .collect();
        let limit = |d| BatchLimit {
            duration: Some(d),
            ..BatchLimit::default()
        };
        let mut go = |_: &_| ControlFlow::Continue(());
        for h in &mut harnesses {
            h.run_batch(&limit(Duration::from_millis(50)), &mut go)
                .expect("warm-up");
        }
        let mut sums = vec![Sums::default(); paces.len()];
        for _ in 0..rounds {
            for (h, s) in harnesses.iter_mut().zip(&mut sums) {
                let before = mount.stats().racing_opens;
                let b = h.run_batch(&limit(turn), &mut go).expect("a turn");
                s.racing += mount.stats().racing_opens - before;
                s.raced += b.raced_opens;
                s.overlapped += b.overlapped_opens.expect("threads count overlapped opens");
                s.elapsed_ns += b.elapsed_ns;
            }
        }
        for h in harnesses {
            h.finish();
        }
        sums
    }

    pub fn main() {
        let arg = |i: usize, default: u64| {
            std::env::args()
                .nth(i)
                .map(|a| a.parse::<u64>().expect("a number"))
                .unwrap_or(default)
        };
        let (rounds, turn_ms, repeats) = (arg(1, 10) as usize, arg(2, 300), arg(3, 1));
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
        let paces = Pace::candidates(Workers::Threads);
        println!(
            "per second over {rounds} interleaved rounds of {turn_ms} ms per pacing \
         (zombiefs, probability 0, 7-byte file, inplace, unlink, threads)"
        );
        println!("| run | R×D | pace | raced | overlapped | zombiefs racing |");
        println!("|---|---|---|---|---|---|");
        let mut summary = Vec::new();
        for run in 1..=repeats {
            for threads in [1, 2, 4] {
                let sums = measure(&mount, threads, rounds, Duration::from_millis(turn_ms));
                let rate = |f: fn(&Sums) -> u64| -> Vec<f64> {
                    sums.iter().map(|s| s.per_second(f(s))).collect()
                };
                let (raced, overlapped, truth) = (
                    rate(|s| s.raced),
                    rate(|s| s.overlapped),
                    rate(|s| s.racing),
                );
                for (i, pace) in paces.iter().enumerate() {
                    println!(
                        "| {run} | {threads}×{threads} | {pace} | {:.0} | {:.0} | {:.0} |",
                        raced[i], overlapped[i], truth[i]
                    );
                }
                summary.push((
                    run,
                    threads,
                    spearman(&raced, &truth).unwrap_or(f64::NAN),
                    spearman(&overlapped, &truth).unwrap_or(f64::NAN),
                    paces[top(&raced)],
                    paces[top(&overlapped)],
                    paces[top(&truth)],
                    truth[top(&overlapped)] / truth[top(&truth)].max(1e-9),
                    truth[top(&raced)] / truth[top(&truth)].max(1e-9),
                ));
            }
        }
        println!();
        println!(
            "| run | R×D | ρ raced | ρ overlapped | top: raced | overlapped | zombiefs | \
         truth at overlapped's top / best | truth at raced's top / best |"
        );
        println!("|---|---|---|---|---|---|---|---|---|");
        for (run, t, r_raced, r_over, t_raced, t_over, t_truth, share_over, share_raced) in summary
        {
            println!(
                "| {run} | {t}×{t} | {r_raced:.2} | {r_over:.2} | {t_raced} | {t_over} | {t_truth} | \
             {share_over:.2} | {share_raced:.2} |"
            );
        }
        println!(
            "zombiefs over the whole run: {}",
            mount.stats().to_json().replace('\n', " ")
        );
        drop(mount);
    }
}

fn main() {
    #[cfg(target_os = "linux")]
    imp::main();
    #[cfg(not(target_os = "linux"))]
    eprintln!("this example needs zombiefs, which runs on Linux only");
}
