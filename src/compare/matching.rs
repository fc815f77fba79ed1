//! Scenarios matched across reports by configuration, and each anomaly
//! class's counts and tests in them (per cycle, per raced or overlapped
//! open, per racing create).

use std::collections::HashMap;

use super::{LoadedReport, Rules};
use crate::outcome::Class;
use crate::report::schema::{Pace, ScenarioConfig, ScenarioReport};
use crate::stats::{self, Basis, Interval, RateComparison, Verdict};

/// One scenario configuration across the reports.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioComparison {
    /// The scenario's name (`r1-d1-7B-inplace-unlink-threads`); a second
    /// scenario with the same configuration in one report gets `#2`.
    pub name: String,
    pub config: ScenarioConfig,
    /// The report the others are compared with for this scenario: the
    /// baseline when it has the scenario, else the first report that has it.
    pub reference: usize,
    /// The scenario in each report, `None` where the report does not have it.
    pub runs: Vec<Option<ScenarioRun>>,
    /// Every class that is an anomaly in at least one of the reports, in
    /// report order of classes.
    pub classes: Vec<ClassComparison>,
}

/// What one report measured for a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioRun {
    pub cycles: u64,
    pub ns_per_cycle: f64,
    /// `ns_per_cycle` over the reference's; `None` when either is not a
    /// positive number.
    pub ns_per_cycle_ratio: Option<f64>,
    /// Anomalies counted in the scenario (expected races excluded).
    pub anomalies: u64,
    /// Cycles whose open raced an unlink; `None` in reports from before the count.
    pub raced_opens: Option<u64>,
    pub raced_opens_per_second: Option<f64>,
    /// Create calls that raced another's; `None` in reports from before the count.
    pub racing_creates: Option<u64>,
    /// Raced opens whose removal landed inside the open; `None` where not
    /// counted (worker processes, older reports).
    pub overlapped_opens: Option<u64>,
    pub overlapped_opens_per_second: Option<f64>,
    /// The deleters' pacing (older reports read as `sleep`).
    pub pace: Pace,
    /// The report was cut short by a signal.
    pub interrupted: bool,
}

/// One anomaly class of one scenario across the reports.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassComparison {
    /// The class (`zombie_fd`).
    pub class: Class,
    /// The count in each report; `None` where the scenario or the class is missing.
    pub counts: Vec<Option<ClassCount>>,
    /// The test of each report against the reference; `None` for the
    /// reference itself and where a count is missing.
    pub tests: Vec<Option<ClassTest>>,
    /// The same class per raced open.
    pub per_raced_open: PerRacedOpen,
    /// The same class per racing create (the classes of a create racing a
    /// create: counts whose denominator is the run's racing creates).
    pub per_racing_create: PerRacedOpen,
    /// The same class per overlapped open (denominators: overlapped opens).
    pub per_overlapped_open: PerRacedOpen,
}

/// One anomaly class per raced open (or per racing create) across the
/// reports: counts whose denominator (`ClassCount::cycles`) is the run's
/// raced opens (racing creates), and tests decided as the per-cycle ones
/// but Holm-adjusted in families of their own. The same type holds a class
/// per overlapped open.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PerRacedOpen {
    /// The count per raced open in each report; `None` where the scenario is
    /// missing, the report did not count raced opens, or the report gives the
    /// class no rate per raced open (an expected race there, or seen more
    /// often than opens raced: then it is not confined to raced opens).
    pub counts: Vec<Option<ClassCount>>,
    /// The test of each report against the reference, where both counts are
    /// known; `None` for the reference itself.
    pub tests: Vec<Option<ClassTest>>,
}

impl PerRacedOpen {
    /// `true` when some report is tested against the reference.
    pub fn compared(&self) -> bool {
        self.tests.iter().any(Option::is_some)
    }
}

/// A count and its rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassCount {
    pub count: u64,
    /// The denominator: cycles, or raced opens in [`PerRacedOpen`].
    pub cycles: u64,
    /// `count / cycles`, `0` without cycles.
    pub rate: f64,
    /// [`stats::class_interval_at`] of the rate, at `1 − α`.
    pub interval: Interval,
}

/// One report's rate of one class tested against the reference's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassTest {
    /// Reference as A, this report as B: ratio B/A, its intervals, raw p-values.
    pub rates: RateComparison,
    /// The difference test's p-value, Holm-adjusted over every difference
    /// test of the comparison.
    pub p_adjusted: f64,
    /// The equivalence test's p-value, Holm-adjusted over every equivalence
    /// test of the comparison.
    pub p_equivalence_adjusted: f64,
    pub verdict: Verdict,
    /// Which rule gave the verdict.
    pub basis: Basis,
}

impl ClassComparison {
    /// `true` when no report has an event of this class.
    pub fn all_zero(&self) -> bool {
        self.counts.iter().flatten().all(|c| c.count == 0)
    }
}

impl ScenarioComparison {
    /// Indices of the reports that have this scenario.
    pub fn present_in(&self) -> Vec<usize> {
        (0..self.runs.len())
            .filter(|&i| self.runs[i].is_some())
            .collect()
    }

    /// `true` when some report does not have this scenario.
    pub fn is_partial(&self) -> bool {
        self.runs.iter().any(Option::is_none)
    }

    /// The verdict on `report` against the reference over all classes; `None`
    /// for the reference itself and where the scenario is missing.
    pub fn verdict_for(&self, report: usize) -> Option<Verdict> {
        combine(self.classes.iter().filter_map(|c| c.tests[report].as_ref()))
    }

    /// The verdict over every class and report; `None` when the scenario is in
    /// one report only.
    pub fn verdict(&self) -> Option<Verdict> {
        combine(self.classes.iter().flat_map(|c| c.tests.iter().flatten()))
    }

    /// `true` when some class differs in some report.
    pub fn differs(&self) -> bool {
        self.classes
            .iter()
            .flat_map(|c| c.tests.iter().flatten())
            .any(|t| t.verdict.differs())
    }
}

impl ClassTest {
    /// `true` when neither run saw the class (both have cycles): a test
    /// that cannot tell anything, which leaves a scenario's verdict to the
    /// classes that were seen.
    pub fn unseen(&self) -> bool {
        self.verdict == Verdict::Inconclusive && self.rates.has_cycles() && self.rates.events() == 0
    }
}

/// The verdict of several tests (one per class): the most significant
/// difference if any (smallest adjusted p-value); else `same` when some class
/// is shown the same and every other was seen in neither run; else
/// `inconclusive`; `None` without tests.
///
/// A class seen in neither run cannot tell a difference or a sameness: it
/// neither makes a scenario inconclusive nor, alone, the same. Its bounds are
/// in the notes.
fn combine<'a>(tests: impl Iterator<Item = &'a ClassTest>) -> Option<Verdict> {
    let mut strongest: Option<&ClassTest> = None;
    let (mut same, mut undecided, mut any) = (false, false, false);
    for test in tests {
        any = true;
        if test.verdict.differs() {
            if strongest.is_none_or(|s| test.p_adjusted < s.p_adjusted) {
                strongest = Some(test);
            }
        } else if test.verdict == Verdict::Same {
            same = true;
        } else if !test.unseen() {
            undecided = true;
        }
    }
    if let Some(test) = strongest {
        return Some(test.verdict);
    }
    any.then_some(if same && !undecided {
        Verdict::Same
    } else {
        Verdict::Inconclusive
    })
}

/// Groups the scenarios of all reports by configuration (the n-th scenario
/// with a configuration in one report matches the n-th in another) and
/// computes everything but the adjusted p-values and verdicts.
pub(super) fn match_scenarios(
    reports: &[LoadedReport],
    baseline: usize,
    rules: Rules,
) -> Vec<ScenarioComparison> {
    let n = reports.len();
    let mut keys: Vec<(ScenarioConfig, usize)> = Vec::new();
    let mut slots: HashMap<(ScenarioConfig, usize), usize> = HashMap::new();
    let mut found: Vec<Vec<Option<&ScenarioReport>>> = Vec::new();
    let visit_order = std::iter::once(baseline).chain((0..n).filter(|&i| i != baseline));
    for r in visit_order {
        let mut occurrences: HashMap<&ScenarioConfig, usize> = HashMap::new();
        for scenario in &reports[r].report.scenarios {
            let occurrence = occurrences.entry(&scenario.config).or_insert(0);
            let key = (scenario.config.clone(), *occurrence);
            *occurrence += 1;
            let slot = *slots.entry(key.clone()).or_insert_with(|| {
                keys.push(key);
                found.push(vec![None; n]);
                found.len() - 1
            });
            found[slot][r] = Some(scenario);
        }
    }
    keys.into_iter()
        .zip(found)
        .map(|((config, occurrence), runs)| {
            scenario_comparison(reports, baseline, rules, (config, occurrence), &runs)
        })
        .collect()
}

fn scenario_comparison(
    reports: &[LoadedReport],
    baseline: usize,
    rules: Rules,
    (config, occurrence): (ScenarioConfig, usize),
    found: &[Option<&ScenarioReport>],
) -> ScenarioComparison {
    let reference = if found[baseline].is_some() {
        baseline
    } else {
        found
            .iter()
            .position(Option::is_some)
            .expect("a matched scenario is in some report")
    };
    let reference_ns = found[reference].map(|s| s.ns_per_cycle);
    let positive = |x: f64| x.is_finite() && x > 0.0;
    let runs: Vec<Option<ScenarioRun>> = found
        .iter()
        .zip(reports)
        .map(|(scenario, loaded)| {
            scenario.map(|s| ScenarioRun {
                cycles: s.cycles,
                ns_per_cycle: s.ns_per_cycle,
                ns_per_cycle_ratio: reference_ns
                    .filter(|&r| positive(r) && positive(s.ns_per_cycle))
                    .map(|r| s.ns_per_cycle / r),
                anomalies: s.anomalies,
                raced_opens: s.raced_opens,
                raced_opens_per_second: s.raced_opens_per_second,
                racing_creates: s.racing_creates,
                overlapped_opens: s.overlapped_opens,
                overlapped_opens_per_second: s.overlapped_opens_per_second,
                pace: s.pace,
                interrupted: loaded.report.interrupted,
            })
        })
        .collect();

    // Classes that are an anomaly in some report, in report order.
    let mut names: Vec<Class> = found
        .iter()
        .flatten()
        .flat_map(|s| s.classes.iter())
        .filter(|(_, stats)| !stats.expected)
        .map(|(&class, _)| class)
        .collect();
    names.sort();
    names.dedup();

    let classes = names
        .into_iter()
        .map(|name| {
            let once = name.once_per_cycle();
            let counts: Vec<Option<ClassCount>> = found
                .iter()
                .map(|scenario| {
                    let s = (*scenario)?;
                    let count = s.classes.get(&name)?.count;
                    Some(class_count(count, s.cycles, once, rules.alpha))
                })
                .collect();
            let raced: Vec<Option<ClassCount>> = found
                .iter()
                .map(|scenario| {
                    let s = (*scenario)?;
                    let stats = s.classes.get(&name)?;
                    stats.per_raced_open?;
                    Some(class_count(stats.count, s.raced_opens?, once, rules.alpha))
                })
                .collect();
            let racing: Vec<Option<ClassCount>> = found
                .iter()
                .map(|scenario| {
                    let s = (*scenario)?;
                    let stats = s.classes.get(&name)?;
                    stats.per_racing_create?;
                    Some(class_count(
                        stats.count,
                        s.racing_creates?,
                        once,
                        rules.alpha,
                    ))
                })
                .collect();
            let overlapped: Vec<Option<ClassCount>> = found
                .iter()
                .map(|scenario| {
                    let s = (*scenario)?;
                    let stats = s.classes.get(&name)?;
                    stats.per_overlapped_open?;
                    Some(class_count(
                        stats.count,
                        s.overlapped_opens?,
                        once,
                        rules.alpha,
                    ))
                })
                .collect();
            ClassComparison {
                class: name,
                tests: untested(&counts, reference, rules),
                counts,
                per_raced_open: PerRacedOpen {
                    tests: untested(&raced, reference, rules),
                    counts: raced,
                },
                per_racing_create: PerRacedOpen {
                    tests: untested(&racing, reference, rules),
                    counts: racing,
                },
                per_overlapped_open: PerRacedOpen {
                    tests: untested(&overlapped, reference, rules),
                    counts: overlapped,
                },
            }
        })
        .collect();

    let base_name = found[reference].map_or_else(String::new, |s| s.name.clone());
    ScenarioComparison {
        name: if occurrence == 0 {
            base_name
        } else {
            format!("{base_name}#{}", occurrence + 1)
        },
        config,
        reference,
        runs,
        classes,
    }
}

/// A count out of `n` with its rate and interval at `1 − alpha`.
fn class_count(count: u64, n: u64, once_per_cycle: bool, alpha: f64) -> ClassCount {
    ClassCount {
        count,
        cycles: n,
        rate: if n == 0 { 0.0 } else { count as f64 / n as f64 },
        interval: stats::class_interval_at(count, n, once_per_cycle, 1.0 - alpha),
    }
}

/// Each report's counts against the reference's, before adjustment; `None`
/// for the reference and where a count is missing.
fn untested(
    counts: &[Option<ClassCount>],
    reference: usize,
    rules: Rules,
) -> Vec<Option<ClassTest>> {
    (0..counts.len())
        .map(|r| {
            let (a, b) = (counts[reference]?, counts[r]?);
            (r != reference).then(|| ClassTest {
                rates: stats::compare_rates(
                    a.count,
                    a.cycles,
                    b.count,
                    b.cycles,
                    rules.margin,
                    rules.alpha,
                ),
                p_adjusted: 1.0,
                p_equivalence_adjusted: 1.0,
                verdict: Verdict::Inconclusive,
                basis: Basis::Undecided,
            })
        })
        .collect()
}
