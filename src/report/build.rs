//! From a harness [`Tally`] to a [`ScenarioReport`]: counts become rates with
//! intervals, classes are marked expected or anomalous for the scenario.

use std::collections::BTreeMap;

use crate::harness::Tally;
use crate::outcome::{Class, is_expected};
use crate::report::schema::{
    ClassStats, EmptyReadNlink, Machine, Report, SCHEMA_VERSION, ScenarioReport, TOOL_NAME, Trial,
};
use crate::scenario::Scenario;
use crate::stats;

/// Rate, interval and expected flag of every class.
pub fn class_stats(
    counts: &[u64],
    cycles: u64,
    scenario: &Scenario,
) -> BTreeMap<String, ClassStats> {
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
            (class.name().to_string(), entry)
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
        config: scenario.config(),
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
        examples: tally.examples.clone(),
        first_anomaly_cycle: tally.first_anomaly_cycle,
        trials,
        survival,
        timeline: tally.timeline.clone(),
        stalls: tally.stalls.clone(),
        criterion_page: None,
        command,
    }
}

/// A report around scenario entries.
pub fn report(
    label: String,
    source: &str,
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
        source: source.into(),
        machine,
        scenarios,
    }
}

/// Writes `report` as pretty JSON to `path` atomically: a temporary file in the
/// same directory, renamed over the target, so no half-written file is left.
pub fn write_json(report: &Report, path: &std::path::Path) -> std::io::Result<()> {
    let json = serde_json::to_vec_pretty(report).map_err(std::io::Error::other)?;
    write_atomic(path, &json)
}

/// Writes `bytes` to `path` through a temporary file renamed over it.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".unlink-race-")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.write_all(b"\n")?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
