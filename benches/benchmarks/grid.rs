//! The scenario grid: time per cycle for each scenario, and every outcome of
//! every cycle run (warm-up included) kept for the failure-rate report.
//!
//! Workers start once per scenario and stay parked between Criterion's calls,
//! so thread start-up is never measured. Each `iter_custom` call is one harness
//! batch of `iters` reader cycles; its wall time, scaled to exactly `iters`
//! cycles, is what Criterion sees. Counts travel beside Criterion, in
//! [`ScenarioResult`].

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use criterion::{BenchmarkId, Criterion, Throughput};
use unlink_race::grid::{GridConfig, SurveyTarget, bench_id, group_name};
use unlink_race::harness::{BatchEnd, Harness, Tally, TargetInfo};
use unlink_race::report::schema::Trial;
use unlink_race::scenario::Scenario;

/// What one scenario produced: the harness's tally and one censored
/// cycles-to-first-anomaly observation per batch.
pub struct ScenarioResult {
    pub scenario: Scenario,
    pub tally: Tally,
    pub trials: Vec<Trial>,
    pub target: TargetInfo,
}

fn exit_interrupted(harness: Option<Harness>) -> ! {
    drop(harness);
    eprintln!("interrupted: scratch directory removed, no report written");
    super::exit(130);
}

pub fn run(
    c: &mut Criterion,
    config: &GridConfig,
    on: &SurveyTarget,
    interrupted: &AtomicBool,
) -> Vec<ScenarioResult> {
    let mut results = Vec::new();
    let scenarios = config.scenarios();
    // The tag is the filesystem type, unique per directory of a survey.
    let fs = &on.tag;
    let mut groups: Vec<String> = scenarios.iter().map(|s| group_name(fs, s)).collect();
    groups.dedup();
    for group_label in groups {
        let mut group = c.benchmark_group(&group_label);
        group.throughput(Throughput::Elements(1));
        for scenario in scenarios
            .iter()
            .filter(|s| group_name(fs, s) == group_label)
        {
            let mut harness: Option<Harness> = None;
            let mut trials = Vec::new();
            group.bench_function(BenchmarkId::from_parameter(bench_id(scenario)), |b| {
                let h = harness.get_or_insert_with(|| {
                    let other_side = on.other_side.as_ref().map(|(o, _)| o.as_path());
                    super::start_harness_views(scenario, &on.dir, other_side)
                });
                let mut stop_now = false;
                b.iter_custom(|iters| {
                    let (batch, time) = super::timed_batch(h, iters, interrupted);
                    stop_now |= batch.end == BatchEnd::Interrupted;
                    // Each batch is one observation of cycles to the first
                    // anomaly, censored when it saw none.
                    trials.push(Trial {
                        cycles: batch.first_anomaly_cycle.unwrap_or(batch.cycles).max(1),
                        censored: batch.first_anomaly_cycle.is_none(),
                        elapsed_ns: batch.elapsed_ns,
                    });
                    time
                });
                if stop_now {
                    exit_interrupted(harness.take());
                }
            });
            if interrupted.load(Relaxed) {
                exit_interrupted(harness);
            }
            if let Some(h) = harness {
                let target = h.target().clone();
                // With its pace resolved (`auto` calibrated when it started).
                let scenario = h.scenario().clone();
                let tally = h.finish();
                if let Some(left) = &tally.scratch_left {
                    eprintln!("warning: the scratch directory was left at {left}");
                }
                results.push(ScenarioResult {
                    scenario,
                    tally,
                    trials,
                    target,
                });
            }
        }
        group.finish();
    }
    results
}
