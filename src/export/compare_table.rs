//! A [`Comparison`] as rows of text cells: what every cell says, shared by
//! the terminal table and the Markdown, which differ only in layout.
//!
//! Per scenario, one row per report and per class that has an event in some
//! report (a report without the scenario gets one row saying so), then the
//! classes with no event anywhere summed up in one line. Numbers keep three
//! significant digits (two for p-values); a rate always comes with its 95%
//! interval.

use crate::compare::{ClassComparison, Comparison, ScenarioComparison};
use crate::stats::{Interval, RateComparison, Verdict};

pub use super::format::{format_count, format_significant};

/// Column titles of the scenario table.
pub const SCENARIO_COLUMNS: [&str; 12] = [
    "report",
    "cycles",
    "ns/cycle",
    "× base",
    "class",
    "count",
    "rate",
    "95% CI",
    "ratio",
    "ratio 95% CI",
    "p (Holm)",
    "verdict",
];

/// Which scenario columns hold numbers (right-aligned).
pub const NUMERIC_COLUMNS: [bool; 12] = [
    false, true, true, true, false, true, true, false, true, false, true, false,
];

/// A table: a header row and rows of the same width.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// One scenario's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScenarioBlock {
    /// The scenario's name.
    pub name: String,
    /// `higher`, `same`, `only in mac-apfs`, ... (with the reference when it
    /// is not the baseline).
    pub outcome: String,
    /// Rows of [`SCENARIO_COLUMNS`] cells.
    pub rows: Vec<Vec<String>>,
    /// Classes with no event in any report.
    pub zero_classes: Vec<String>,
    /// The verdict over those classes (`same` unless a run has no cycles);
    /// `None` when the scenario is in one report only.
    pub zero_verdict: Option<String>,
}

/// `3 reports, baseline mac-apfs; α = 0.05, p-values Holm-adjusted over 12 tests; 1 of 4 scenarios differs`.
pub fn summary(c: &Comparison) -> String {
    let differing = c.scenarios.iter().filter(|s| s.differs()).count();
    let partial = c.scenarios.iter().filter(|s| s.is_partial()).count();
    let mut text = format!(
        "{} reports, baseline {}; α = {}, p-values Holm-adjusted over {} test{}; {} of {} scenario{} {}",
        c.reports.len(),
        c.reports[c.baseline].label,
        c.alpha,
        c.tests,
        plural(c.tests),
        differing,
        c.scenarios.len(),
        plural(c.scenarios.len()),
        if differing == 1 { "differs" } else { "differ" },
    );
    if partial > 0 {
        text.push_str(&format!("; {partial} not in every report"));
    }
    text
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The machine fields that are worth showing: the key ones, and any other
/// that differs.
pub fn machine_table(c: &Comparison) -> Table {
    let mut header = vec!["machine".to_string()];
    header.extend(c.reports.iter().enumerate().map(|(i, r)| {
        if i == c.baseline {
            format!("{} (baseline)", r.label)
        } else {
            r.label.clone()
        }
    }));
    let rows = c
        .machine
        .iter()
        .filter(|row| row.shown())
        .map(|row| {
            let mut cells = vec![row.field.to_string()];
            cells.extend(row.values.iter().map(|v| {
                if v.is_empty() {
                    "–".to_string()
                } else {
                    v.clone()
                }
            }));
            cells
        })
        .collect();
    Table { header, rows }
}

/// Every scenario's rows.
pub fn scenario_blocks(c: &Comparison) -> Vec<ScenarioBlock> {
    c.scenarios.iter().map(|s| scenario_block(c, s)).collect()
}

fn scenario_block(c: &Comparison, s: &ScenarioComparison) -> ScenarioBlock {
    let shown: Vec<&ClassComparison> = s.classes.iter().filter(|k| !k.all_zero()).collect();
    let compared = s.present_in().len() > 1;
    let mut rows = Vec::new();
    for (r, loaded) in c.reports.iter().enumerate() {
        let Some(run) = &s.runs[r] else {
            let mut row = blank_row();
            row[0] = loaded.label.clone();
            row[1] = "–".into();
            row[4] = "not in this report".into();
            rows.push(row);
            continue;
        };
        let mut first = true;
        let classes: Vec<Option<&ClassComparison>> = if shown.is_empty() {
            vec![None]
        } else {
            shown.iter().map(|k| Some(*k)).collect()
        };
        for class in classes {
            let mut row = blank_row();
            if first {
                row[0] = loaded.label.clone();
                row[1] = format_count(run.cycles);
                row[2] = format_ns(run.ns_per_cycle);
                if compared {
                    row[3] = run.ns_per_cycle_ratio.map_or("–".into(), format_factor);
                }
                first = false;
            }
            if let Some(class) = class {
                row[4] = class.class.to_string();
                match &class.counts[r] {
                    Some(count) => {
                        row[5] = count.count.to_string();
                        row[6] = format_rate(count.rate);
                        row[7] = format_interval(count.interval);
                    }
                    None => row[5] = "–".into(),
                }
                if let Some(test) = &class.tests[r] {
                    row[8] = format_ratio(&test.rates);
                    row[9] = format_ratio_interval(&test.rates);
                    row[10] = format_p(test.p_adjusted);
                    row[11] = test.verdict.name().into();
                }
            } else {
                row[4] = "–".into();
            }
            if r == s.reference {
                row[11] = if r == c.baseline {
                    "baseline".into()
                } else {
                    "reference".into()
                };
            }
            rows.push(row);
        }
    }
    let zero: Vec<&ClassComparison> = s.classes.iter().filter(|k| k.all_zero()).collect();
    let zero_verdict = zero
        .iter()
        .flat_map(|k| k.tests.iter().flatten())
        .map(|t| t.verdict)
        .max_by_key(|v| match v {
            Verdict::Same => 0,
            _ => 1,
        })
        .map(|v| v.name().to_string());
    ScenarioBlock {
        name: s.name.clone(),
        outcome: outcome(c, s),
        rows,
        zero_classes: zero.iter().map(|k| k.class.to_string()).collect(),
        zero_verdict,
    }
}

fn blank_row() -> Vec<String> {
    vec![String::new(); SCENARIO_COLUMNS.len()]
}

/// `higher`, `same (against linux-ext4: not in the baseline)`, `only in mac-apfs`.
fn outcome(c: &Comparison, s: &ScenarioComparison) -> String {
    let present = s.present_in();
    if present.len() == 1 {
        return format!("only in {}", c.reports[present[0]].label);
    }
    let word = s
        .verdict()
        .map_or("no anomaly class to compare", Verdict::name);
    if s.reference == c.baseline {
        word.to_string()
    } else {
        format!(
            "{word} (against {}: not in the baseline)",
            c.reports[s.reference].label
        )
    }
}

/// A rate: `0`, `5.00e-5`, `0.0123`.
pub fn format_rate(rate: f64) -> String {
    format_significant(rate, 3)
}

/// `[3.71e-5, 6.59e-5]`.
pub fn format_interval(i: Interval) -> String {
    format!("[{}, {}]", format_rate(i.low), format_rate(i.high))
}

/// The rate ratio B/A: `1.33`, `∞` (A has no event), `–` (neither has).
pub fn format_ratio(r: &RateComparison) -> String {
    match r.ratio {
        Some(ratio) => format_significant(ratio, 3),
        None if r.ratio_is_infinite() => "∞".into(),
        None => "–".into(),
    }
}

/// `[0.412, 2.88]`, `[13.1, ∞)`, `[0, ∞)`.
pub fn format_ratio_interval(r: &RateComparison) -> String {
    let low = format_significant(r.ratio_low, 3);
    match r.ratio_high {
        Some(high) => format!("[{low}, {}]", format_significant(high, 3)),
        None => format!("[{low}, ∞)"),
    }
}

/// A p-value with two significant digits: `1`, `0.38`, `1.8e-15`.
pub fn format_p(p: f64) -> String {
    // Two significant digits of 0.995 and above round to 1.
    if p >= 0.995 {
        "1".into()
    } else {
        format_significant(p, 2)
    }
}

/// Nanoseconds per cycle: `812`, `12,345`, `64.0`.
pub fn format_ns(ns: f64) -> String {
    if !ns.is_finite() || ns <= 0.0 {
        "–".into()
    } else if ns >= 1000.0 {
        format_count(ns.round() as u64)
    } else {
        format_significant(ns, 3)
    }
}

/// A ratio of times: `0.79`, `1.00`, `12.5`.
pub fn format_factor(x: f64) -> String {
    if (0.01..10.0).contains(&x) {
        format!("{x:.2}")
    } else {
        format_significant(x, 3)
    }
}
