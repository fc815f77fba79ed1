//! From a harness [`Tally`] to a [`ScenarioReport`]: counts become rates with
//! intervals, classes are marked expected or anomalous for the scenario.

use std::collections::BTreeMap;

use crate::harness::{self, Tally};
use crate::outcome::{Class, is_expected};
use crate::report::schema::{
    ClassStats, EmptyReadNlink, ErrnoBreakdown, Example, Machine, Report, SCHEMA_VERSION,
    ScenarioConfig, ScenarioReport, Source, StallRecord, TOOL_NAME, Timeline, TimelineEvent, Trial,
};
use crate::scenario::Scenario;
use crate::stats;
use crate::sys;

/// Rate, interval and expected flag of every class.
pub fn class_stats(
    counts: &[u64],
    cycles: u64,
    scenario: &Scenario,
) -> BTreeMap<Class, ClassStats> {
    Class::ALL
        .iter()
        .map(|&class| {
            let count = counts[class.index()];
            let ci = stats::rate_interval(count, cycles);
            let rate = if cycles == 0 {
                0.0
            } else {
                count as f64 / cycles as f64
            };
            let entry = ClassStats {
                count,
                expected: is_expected(class, scenario),
                rate,
                ci_low: ci.low,
                ci_high: ci.high,
            };
            (class, entry)
        })
        .collect()
}

/// The report entry of one scenario.
///
/// `ns_per_cycle` is Criterion's estimate in bench reports; `None` derives it
/// from the tally's wall time.
pub fn scenario_report(
    scenario: &Scenario,
    tally: &Tally,
    trials: Vec<Trial>,
    ns_per_cycle: Option<f64>,
    command: String,
) -> ScenarioReport {
    let cycles = tally.cycles;
    let measured = if cycles == 0 {
        0.0
    } else {
        tally.elapsed_ns as f64 / cycles as f64
    };
    let ns_per_cycle = ns_per_cycle.unwrap_or(measured);
    let cycles_per_second = if tally.elapsed_ns == 0 {
        0.0
    } else {
        cycles as f64 * 1e9 / tally.elapsed_ns as f64
    };
    let survival = stats::survival(&trials, ns_per_cycle);
    ScenarioReport {
        name: scenario.name(),
        config: ScenarioConfig::from(scenario),
        cycles,
        removals: tally.removals,
        recreations: tally.recreations,
        elapsed_ns: tally.elapsed_ns,
        cycles_per_second,
        ns_per_cycle,
        anomalies: tally.anomalies,
        classes: class_stats(&tally.counts, cycles, scenario),
        empty_read_nlink: EmptyReadNlink {
            zero: tally.empty_nlink_zero,
            nonzero: tally.empty_nlink_nonzero,
        },
        examples: tally.examples.iter().map(example).collect(),
        errno_breakdown: tally
            .errno_counts
            .iter()
            .map(|c| ErrnoBreakdown {
                class: c.class,
                side: c.side,
                op: c.op,
                errno: c.errno,
                errno_name: sys::errno_name(c.errno).into(),
                count: c.count,
            })
            .collect(),
        first_anomaly_cycle: tally.first_anomaly_cycle,
        trials,
        survival,
        timeline: tally.timeline.as_ref().and_then(timeline),
        stalls: tally.stalls.iter().map(stall).collect(),
        criterion_page: None,
        command,
    }
}

/// The schema's record of one anomaly; the errno is named here, on the
/// machine that observed it.
fn example(r: &harness::AnomalyRecord) -> Example {
    Example {
        class: r.class,
        op: r.op,
        errno: r.errno,
        errno_name: sys::errno_name(r.errno).into(),
        stat: r.stat.map(Into::into),
        bytes_read: r.bytes_read,
        bytes_expected: r.bytes_expected,
        exists_after: r.exists_after,
        t_ns: r.t_ns,
        worker: r.worker,
        cycle: r.cycle,
    }
}

/// The timeline, when its first anomaly's class is known (the worker that
/// saw it publishes the class right after claiming the first anomaly).
fn timeline(t: &harness::Timeline) -> Option<Timeline> {
    Some(Timeline {
        class: t.class?,
        worker: t.worker,
        events: t
            .events
            .iter()
            .map(|e| TimelineEvent {
                t_ns: e.t_ns,
                worker: e.worker,
                kind: e.kind,
                errno: e.errno,
            })
            .collect(),
    })
}

fn stall(s: &harness::Stall) -> StallRecord {
    StallRecord {
        worker: s.worker,
        op: s.op,
        elapsed_ns: s.elapsed_ns,
        unfinished: s.unfinished,
    }
}

/// A report around scenario entries.
pub fn report(
    label: String,
    source: Source,
    machine: Machine,
    scenarios: Vec<ScenarioReport>,
    interrupted: bool,
) -> Report {
    Report {
        schema_version: SCHEMA_VERSION,
        tool: TOOL_NAME.into(),
        label,
        created_unix_s: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        interrupted,
        source,
        machine,
        scenarios,
    }
}
