//! The scenario grid: time per cycle for each scenario, and every outcome of
//! every cycle run (warm-up included) kept for the failure-rate report.
//!
//! Workers start once per scenario and stay parked between Criterion's calls,
//! so thread start-up is never measured. Each `iter_custom` call is one harness
//! batch of `iters` reader cycles; its wall time, scaled to exactly `iters`
//! cycles, is what Criterion sees. Counts travel beside Criterion, in
//! [`ScenarioResult`].

use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput};
use unlink_race::grid::{GridConfig, bench_id, group_name};
use unlink_race::harness::{BatchEnd, BatchLimit, Harness, HarnessOptions, Tally, TargetInfo};
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
    interrupted: &AtomicBool,
) -> Vec<ScenarioResult> {
    let mut results = Vec::new();
    let scenarios = config.scenarios();
    let fs = unlink_race::harness::fs_type_of(&config.dir);
    let mut groups: Vec<String> = scenarios.iter().map(|s| group_name(&fs, s)).collect();
    groups.dedup();
    for group_label in groups {
        let mut group = c.benchmark_group(&group_label);
        group.throughput(Throughput::Elements(1));
        for scenario in scenarios
            .iter()
            .filter(|s| group_name(&fs, s) == group_label)
        {
            let mut harness: Option<Harness> = None;
            let mut trials = Vec::new();
            let mut failed = None;
            group.bench_function(BenchmarkId::from_parameter(bench_id(scenario)), |b| {
                if failed.is_some() {
                    return b.iter_custom(|_| Duration::from_nanos(1));
                }
                if harness.is_none() {
                    match Harness::start(scenario, &config.dir, HarnessOptions::default()) {
                        Ok(h) => harness = Some(h),
                        Err(e) => {
                            eprintln!("error: {}: {e}", scenario.name());
                            super::exit(2);
                        }
                    }
                }
                let h = harness.as_mut().expect("started above");
                let mut stop_now = false;
                b.iter_custom(|iters| {
                    let limit = BatchLimit {
                        cycles: Some(iters.max(1)),
                        ..BatchLimit::default()
                    };
                    let mut monitor = |_: &_| {
                        if interrupted.load(Relaxed) {
                            ControlFlow::Break(())
                        } else {
                            ControlFlow::Continue(())
                        }
                    };
                    match h.run_batch(&limit, &mut monitor) {
                        Ok(batch) if batch.end == BatchEnd::Interrupted => {
                            stop_now = true;
                            Duration::from_nanos(1)
                        }
                        Ok(batch) => {
                            trials.push(Trial {
                                cycles: batch.first_anomaly_cycle.unwrap_or(batch.cycles).max(1),
                                censored: batch.first_anomaly_cycle.is_none(),
                                elapsed_ns: batch.elapsed_ns,
                            });
                            // Exactly `iters` cycles' worth of time (readers round the quota up).
                            let scaled =
                                batch.elapsed_ns as f64 * iters as f64 / batch.cycles.max(1) as f64;
                            Duration::from_nanos(scaled.max(1.0) as u64)
                        }
                        Err(e) => {
                            eprintln!("error: {}: {e}", scenario.name());
                            failed = Some(e.to_string());
                            Duration::from_nanos(1)
                        }
                    }
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
                let tally = h.finish();
                results.push(ScenarioResult {
                    scenario: scenario.clone(),
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
