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

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::outcome::Class;
use crate::report::schema::{Machine, Pace, Report, ScenarioConfig, ScenarioReport};
use crate::stats::{self, Basis, Interval, RateComparison, Verdict};

pub use crate::report::load::{LoadError, load_report, load_summary, parse_report};
pub use crate::stats::{DEFAULT_ALPHA, DEFAULT_MARGIN};

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

    /// The reports that lack raced-open counts in scenarios they share with
    /// another report (reports from before the count), each with the number
    /// of such scenarios that lack it and how many it shares; in report order.
    pub fn lacking(&self) -> Vec<Lacking> {
        (0..self.reports.len())
            .filter_map(|r| {
                let shared: Vec<&ScenarioRun> = self
                    .scenarios
                    .iter()
                    .filter(|s| s.present_in().len() > 1)
                    .filter_map(|s| s.runs[r].as_ref())
                    .collect();
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
                let shared: Vec<&ScenarioRun> = self
                    .scenarios
                    .iter()
                    .filter(|s| s.present_in().len() > 1)
                    .filter_map(|s| s.runs[r].as_ref())
                    .collect();
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
    pub fn any_matched(&self) -> bool {
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

/// The configuration fields whose sets of values differ between two reports:
/// `file_size_bytes 7 vs 4096`.
fn config_differences(a: &Report, b: &Report) -> Vec<String> {
    type Field = (&'static str, fn(&ScenarioConfig) -> String);
    let fields: [Field; 9] = [
        ("race", |c| c.race.report_name().to_string()),
        ("creators", |c| {
            c.creators.map_or_else(|| "none".into(), |n| n.to_string())
        }),
        ("create_flags", |c| {
            c.create_flags
                .map_or_else(|| "none".into(), |f| f.report_name().to_string())
        }),
        ("readers", |c| c.readers.to_string()),
        ("deleters", |c| c.deleters.to_string()),
        ("file_size_bytes", |c| c.file_size_bytes.to_string()),
        ("recreate", |c| c.recreate.to_string()),
        ("delete", |c| c.delete.to_string()),
        ("workers", |c| c.workers.to_string()),
    ];
    let values = |r: &Report, f: fn(&ScenarioConfig) -> String| {
        let mut v: Vec<String> = r.scenarios.iter().map(|s| f(&s.config)).collect();
        v.sort();
        v.dedup();
        v
    };
    let show = |v: &[String]| {
        if v.is_empty() {
            "none".to_string()
        } else {
            v.join("/")
        }
    };
    fields
        .iter()
        .filter_map(|&(name, f)| {
            let (va, vb) = (values(a, f), values(b, f));
            (va != vb).then(|| format!("{name} {} vs {}", show(&va), show(&vb)))
        })
        .collect()
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

/// One machine field across the reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MachineRow {
    /// `os`, `kernel`, `filesystem`, `cpu`, ...
    pub field: &'static str,
    /// The value in each report, in report order.
    pub values: Vec<String>,
    /// Fields that identify a machine (OS and version, kernel, filesystem,
    /// CPU): shown even when equal.
    pub key: bool,
}

impl MachineRow {
    /// Whether the reports disagree on this field.
    pub fn differs(&self) -> bool {
        self.values.windows(2).any(|w| w[0] != w[1])
    }

    /// Whether outputs show the row: key fields always, others when they differ.
    pub fn shown(&self) -> bool {
        self.key || self.differs()
    }
}

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

/// Each report's label, made unique: the report's own label, else its file
/// name, else a number.
fn labels(reports: &[(PathBuf, Report)]) -> Vec<String> {
    let file_name = |path: &Path| {
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string())
    };
    let mut labels: Vec<String> = reports
        .iter()
        .map(|(path, report)| {
            if report.label.trim().is_empty() {
                file_name(path)
            } else {
                report.label.trim().to_string()
            }
        })
        .collect();
    let clashes =
        |labels: &[String], i: usize| labels.iter().filter(|l| **l == labels[i]).count() > 1;
    let clashing: Vec<bool> = (0..labels.len()).map(|i| clashes(&labels, i)).collect();
    for (i, clash) in clashing.into_iter().enumerate() {
        if clash {
            labels[i] = file_name(&reports[i].0);
        }
    }
    let clashing: Vec<bool> = (0..labels.len()).map(|i| clashes(&labels, i)).collect();
    for (i, clash) in clashing.into_iter().enumerate() {
        if clash {
            labels[i] = format!("{} ({})", labels[i], i + 1);
        }
    }
    labels
}

fn machine_rows(reports: &[LoadedReport]) -> Vec<MachineRow> {
    let values = |f: &dyn Fn(&LoadedReport) -> String| reports.iter().map(f).collect::<Vec<_>>();
    let machine = |f: fn(&Machine) -> String| values(&|r: &LoadedReport| f(&r.report.machine));
    let row = |field, values, key| MachineRow { field, values, key };
    let interrupted = values(&|r| if r.report.interrupted { "yes" } else { "no" }.into());
    let any_interrupted = reports.iter().any(|r| r.report.interrupted);
    vec![
        row(
            "os",
            machine(|m| {
                if m.os_name.is_empty() {
                    m.os.clone()
                } else {
                    m.os_name.clone()
                }
            }),
            true,
        ),
        row("os version", machine(|m| m.os_version.clone()), true),
        row("kernel", machine(|m| m.kernel.clone()), true),
        row("filesystem", machine(|m| m.fs_type.clone()), true),
        row("cpu", machine(|m| m.cpu_model.clone()), true),
        row("cpus", machine(|m| m.cpus.to_string()), true),
        row("arch", machine(|m| m.arch.clone()), false),
        row("mount point", machine(|m| m.mount_point.clone()), false),
        row("host", machine(|m| m.hostname.clone()), false),
        row("unlink-race", machine(|m| m.crate_version.clone()), false),
        row("source", values(&|r| r.report.source.to_string()), false),
        row("interrupted", interrupted, any_interrupted),
    ]
}

/// Groups the scenarios of all reports by configuration (the n-th scenario
/// with a configuration in one report matches the n-th in another) and
/// computes everything but the adjusted p-values and verdicts.
fn match_scenarios(
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
