//! Comparing reports between machines (docs/methods.md#comparing-two-runs): does the race bite
//! more, less or as often here as there?
//!
//! [`compare`] works on loaded reports (`crate::report::load` reads and checks
//! the files). It matches scenarios across two or more reports by their
//! configuration and, for every anomaly class, compares each report's rate
//! with the baseline's: rates with intervals, the rate ratio with its
//! interval, the exact conditional test of a difference and the equivalence
//! test against the margin, each Holm-adjusted over its family (every such
//! test of the whole comparison), and a verdict (see [`crate::stats`]). The
//! result is plain data: [`crate::export`] renders it.
//!
//! Where both runs counted raced opens (docs/methods.md#what-a-cycle-is), each anomaly class is
//! also compared per raced open, with the same tests in two families of
//! their own. Those comparisons are shown beside the per-cycle ones; the
//! verdicts and the exit code stay per cycle, the denominator of every rate,
//! so a report from before the count compares exactly as it always did.
//! [`Comparison::lacking`] says which reports lack the count. The classes
//! of a create racing a create are compared per racing create instead, in
//! two families of their own; [`Comparison::lacking_creates`] says which
//! reports lack the create family or its count.

use std::path::{Path, PathBuf};

use crate::report::schema::Report;
use crate::stats::{self, RateComparison};

mod machines;
mod matching;

pub use crate::report::load::{LoadError, load_report, load_summary, parse_report};
pub use crate::stats::{DEFAULT_ALPHA, DEFAULT_MARGIN};
pub use machines::MachineRow;
use machines::{config_differences, labels, machine_rows};
use matching::match_scenarios;
pub use matching::{
    ClassComparison, ClassCount, ClassTest, PerRacedOpen, ScenarioComparison, ScenarioRun,
};

/// What the verdicts are decided at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rules {
    /// Significance level of both families of tests (`--alpha`, `0 < α <
    /// ½`). Every interval of the comparison is at `1 − α`, the equivalence
    /// intervals at `1 − 2α`.
    pub alpha: f64,
    /// Equivalence margin `m`: `same` needs the ratio shown inside `[1/m, m]`
    /// (`--margin`).
    pub margin: f64,
    /// A rate below which two runs count as the same when both upper bounds
    /// (at `1 − α`) are under it (`--negligible`); `None`: never.
    pub negligible: Option<f64>,
}

impl Default for Rules {
    fn default() -> Rules {
        Rules {
            alpha: DEFAULT_ALPHA,
            margin: DEFAULT_MARGIN,
            negligible: None,
        }
    }
}

/// The index of `baseline` among the reports' paths: the same path, or the
/// same file once both are resolved.
pub fn find_baseline(paths: &[PathBuf], baseline: &Path) -> Option<usize> {
    paths.iter().position(|p| p == baseline).or_else(|| {
        let wanted = baseline.canonicalize().ok()?;
        paths
            .iter()
            .position(|p| p.canonicalize().ok().as_ref() == Some(&wanted))
    })
}

/// One report of the comparison and the name outputs call it by.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedReport {
    pub path: PathBuf,
    /// The report's `label`, or its file name when labels are empty or clash.
    pub label: String,
    pub report: Report,
}

/// Two or more reports side by side.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub reports: Vec<LoadedReport>,
    /// Index into `reports` of the report the others are compared with.
    pub baseline: usize,
    /// What the verdicts are decided at.
    pub rules: Rules,
    /// Where the reports come from, one row per machine field.
    pub machine: Vec<MachineRow>,
    /// One entry per distinct scenario configuration across all reports, in
    /// the baseline's order, then in the order the other reports add them.
    pub scenarios: Vec<ScenarioComparison>,
    /// Number of difference tests Holm's adjustment ran over: every class
    /// comparison with at least one event (a comparison without events
    /// cannot reject at any level, so counting it would only weaken the
    /// others).
    pub tests: usize,
    /// Number of equivalence tests Holm's adjustment ran over: every class
    /// comparison with events in both runs.
    pub equivalence_tests: usize,
    /// The sizes of the two families of per-raced-open tests (difference,
    /// equivalence), adjusted apart from the per-cycle ones.
    pub raced_tests: (usize, usize),
    /// The same for the per-racing-create tests.
    pub racing_tests: (usize, usize),
    /// The same for the per-overlapped-open tests, adjusted apart again.
    pub overlapped_tests: (usize, usize),
}

impl Comparison {
    /// `true` when some scenario differs at `alpha` (exit code 1).
    pub fn differs(&self) -> bool {
        self.scenarios.iter().any(ScenarioComparison::differs)
    }

    /// The label of every report, in order.
    pub fn labels(&self) -> Vec<&str> {
        self.reports.iter().map(|r| r.label.as_str()).collect()
    }

    /// The significance level.
    pub fn alpha(&self) -> f64 {
        self.rules.alpha
    }

    /// Report `r`'s runs of the scenarios it shares with another report.
    fn shared_runs(&self, r: usize) -> Vec<&ScenarioRun> {
        self.scenarios
            .iter()
            .filter(|s| s.present_in().len() > 1)
            .filter_map(|s| s.runs[r].as_ref())
            .collect()
    }

    /// The reports that lack raced-open counts in scenarios they share with
    /// another report (reports from before the count), each with the number
    /// of such scenarios that lack it and how many it shares; in report order.
    pub fn lacking(&self) -> Vec<Lacking> {
        (0..self.reports.len())
            .filter_map(|r| {
                let shared = self.shared_runs(r);
                let without = shared
                    .iter()
                    .filter(|run| run.raced_opens.is_none())
                    .count();
                (without > 0).then_some(Lacking {
                    report: r,
                    scenarios: without,
                    of: shared.len(),
                })
            })
            .collect()
    }

    /// The reports that lack what the create race added while another
    /// report has it: the create family itself (no create scenario), or
    /// racing-create counts in scenarios shared with a report that has them;
    /// in report order.
    pub fn lacking_creates(&self) -> Vec<LackingCreates> {
        let creates_in = |r: usize| {
            self.scenarios
                .iter()
                .filter(|s| s.config.race == crate::scenario::Race::Create)
                .filter(|s| s.runs[r].is_some())
                .count()
        };
        let any_counted = self
            .scenarios
            .iter()
            .flat_map(|s| s.runs.iter().flatten())
            .any(|run| run.racing_creates.is_some());
        (0..self.reports.len())
            .filter_map(|r| {
                let elsewhere = self
                    .scenarios
                    .iter()
                    .filter(|s| s.config.race == crate::scenario::Race::Create)
                    .filter(|s| s.runs[r].is_none())
                    .count();
                let create_family = (creates_in(r) == 0 && elsewhere > 0).then_some(elsewhere);
                let shared = self.shared_runs(r);
                let without = shared
                    .iter()
                    .filter(|run| run.racing_creates.is_none())
                    .count();
                let uncounted = (any_counted && without > 0).then_some((without, shared.len()));
                (create_family.is_some() || uncounted.is_some()).then_some(LackingCreates {
                    report: r,
                    create_family,
                    uncounted,
                })
            })
            .collect()
    }

    /// `true` when some scenario is in two reports or more.
    fn any_matched(&self) -> bool {
        self.scenarios.iter().any(|s| s.present_in().len() > 1)
    }

    /// When no scenario is in two reports: one line saying why, the
    /// configuration fields whose values differ between the baseline and each
    /// other report (`b.json: file_size_bytes 7 vs 4096, readers 1 vs 2`).
    pub fn no_match(&self) -> Option<String> {
        if self.any_matched() {
            return None;
        }
        let base = &self.reports[self.baseline];
        let differences: Vec<String> = self
            .reports
            .iter()
            .enumerate()
            .filter(|&(i, _)| i != self.baseline)
            .map(|(_, other)| {
                let fields = config_differences(&base.report, &other.report);
                let what = if fields.is_empty() {
                    "no scenario".to_string()
                } else {
                    fields.join(", ")
                };
                format!("{} vs {}: {what}", base.label, other.label)
            })
            .collect();
        Some(format!(
            "no scenario is in two of the reports, nothing to compare ({})",
            differences.join("; ")
        ))
    }
}

/// A report without raced-open counts ([`Comparison::lacking`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lacking {
    /// Index into the comparison's reports.
    pub report: usize,
    /// Matched scenarios of that report without the count.
    pub scenarios: usize,
    /// Matched scenarios of that report.
    pub of: usize,
}

/// A report without the create race's figures ([`Comparison::lacking_creates`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LackingCreates {
    /// Index into the comparison's reports.
    pub report: usize,
    /// `Some(n)`: the report has no create scenario, and the others have
    /// `n` it does not.
    pub create_family: Option<usize>,
    /// `Some((without, of))`: of its `of` shared scenarios, `without` lack
    /// racing-create counts.
    pub uncounted: Option<(usize, usize)>,
}

/// Compares `reports` (each with the path it was loaded from) against the
/// one at index `baseline`, with verdicts decided by `rules`.
///
/// # Panics
///
/// If `baseline` is not an index into `reports`.
pub fn compare(reports: Vec<(PathBuf, Report)>, baseline: usize, rules: Rules) -> Comparison {
    assert!(
        baseline < reports.len(),
        "baseline {baseline} out of range for {} reports",
        reports.len()
    );
    let labels = labels(&reports);
    let reports: Vec<LoadedReport> = reports
        .into_iter()
        .zip(labels)
        .map(|((path, report), label)| LoadedReport {
            path,
            label,
            report,
        })
        .collect();
    let machine = machine_rows(&reports);
    let mut scenarios = match_scenarios(&reports, baseline, rules);
    let (tests, equivalence_tests) = adjust(&mut scenarios, rules, |c| &mut c.tests);
    // `--negligible` is a rate per cycle: it decides nothing per raced open.
    let per_raced_open = Rules {
        negligible: None,
        ..rules
    };
    let raced_tests = adjust(&mut scenarios, per_raced_open, |c| {
        &mut c.per_raced_open.tests
    });
    let racing_tests = adjust(&mut scenarios, per_raced_open, |c| {
        &mut c.per_racing_create.tests
    });
    let overlapped_tests = adjust(&mut scenarios, per_raced_open, |c| {
        &mut c.per_overlapped_open.tests
    });
    Comparison {
        reports,
        baseline,
        rules,
        machine,
        scenarios,
        tests,
        equivalence_tests,
        raced_tests,
        racing_tests,
        overlapped_tests,
    }
}

/// Holm-adjusts the difference tests that `family` picks from every class of
/// the comparison together, and its equivalence tests together, and sets
/// their verdicts; returns the sizes of the two families.
fn adjust(
    scenarios: &mut [ScenarioComparison],
    rules: Rules,
    family: fn(&mut ClassComparison) -> &mut Vec<Option<ClassTest>>,
) -> (usize, usize) {
    let rates: Vec<RateComparison> = scenarios
        .iter_mut()
        .flat_map(|s| s.classes.iter_mut())
        .flat_map(|c| {
            family(c)
                .iter()
                .flatten()
                .map(|t| t.rates)
                .collect::<Vec<_>>()
        })
        .collect();
    let difference: Vec<f64> = rates
        .iter()
        .filter(|r| r.difference_testable())
        .map(|r| r.p_value)
        .collect();
    let equivalence: Vec<f64> = rates
        .iter()
        .filter(|r| r.equivalence_testable())
        .map(|r| r.equivalence_p)
        .collect();
    let mut difference_adjusted = stats::holm(&difference).into_iter();
    let mut equivalence_adjusted = stats::holm(&equivalence).into_iter();
    for test in scenarios
        .iter_mut()
        .flat_map(|s| s.classes.iter_mut())
        .flat_map(|c| family(c).iter_mut().flatten())
    {
        let r = test.rates;
        test.p_adjusted = if r.difference_testable() {
            difference_adjusted
                .next()
                .expect("one adjusted p-value per difference test")
        } else {
            r.p_value
        };
        test.p_equivalence_adjusted = if r.equivalence_testable() {
            equivalence_adjusted
                .next()
                .expect("one adjusted p-value per equivalence test")
        } else {
            r.equivalence_p
        };
        let decision = stats::decide(
            &r,
            test.p_adjusted,
            test.p_equivalence_adjusted,
            rules.alpha,
            rules.negligible,
        );
        test.verdict = decision.verdict;
        test.basis = decision.basis;
    }
    (difference.len(), equivalence.len())
}
