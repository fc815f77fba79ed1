//! Comparing reports between machines (DESIGN §5–§6): does the race bite
//! more, less or as often here as there?
//!
//! [`load_report`] reads one JSON report and turns anything else — a file
//! from another tool, a truncated file, an unknown schema version, a missing
//! field — into one line naming the file and what is wrong. [`compare`]
//! matches scenarios across two or more reports by their configuration and,
//! for every anomaly class, compares each report's rate with the baseline's:
//! rates with intervals, the rate ratio with its interval, the exact
//! conditional test and its Holm-adjusted p-value over the whole comparison,
//! and a one-word verdict (see [`crate::stats`]). The result is plain data: the
//! terminal table and the Markdown in [`crate::export`] render it, and so can
//! any other page.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::outcome::Class;
use crate::report::schema::{
    Machine, Report, SCHEMA_VERSION, ScenarioConfig, ScenarioReport, TOOL_NAME,
};
use crate::stats::{self, Interval, RateComparison, Verdict};

/// Significance level when none is given (`--alpha`).
pub const DEFAULT_ALPHA: f64 = 0.05;

/// Why a file is not a report this build can compare. Every message is one
/// line that starts with the file's path.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{}: cannot read: {error}", .path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}: not JSON: {message}", .path.display())]
    NotJson { path: PathBuf, message: String },
    #[error(
        "{}: truncated JSON: the text ends at line {line} column {column}{}",
        .path.display(),
        .field.as_ref().map_or(String::new(), |f| format!(", inside field `{f}`"))
    )]
    Truncated {
        path: PathBuf,
        line: usize,
        column: usize,
        /// The field being read when the text ended, when it is known.
        field: Option<String>,
    },
    #[error("{}: not an unlink-race report: {reason}", .path.display())]
    NotReport { path: PathBuf, reason: String },
    #[error(
        "{}: unsupported report version: field `schema_version` is {found}, this unlink-race reads schema_version {SCHEMA_VERSION}",
        .path.display()
    )]
    UnsupportedVersion { path: PathBuf, found: String },
    #[error("{}: invalid report: {message}", .path.display())]
    Invalid { path: PathBuf, message: String },
}

impl LoadError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            LoadError::Read { path, .. }
            | LoadError::NotJson { path, .. }
            | LoadError::Truncated { path, .. }
            | LoadError::NotReport { path, .. }
            | LoadError::UnsupportedVersion { path, .. }
            | LoadError::Invalid { path, .. } => path,
        }
    }
}

/// Reads and checks one report.
///
/// The checks go from the outside in, so the message names the first thing
/// that is wrong: readable, JSON, complete, an object whose `tool` is
/// `unlink-race`, a `schema_version` this build reads, then every field.
pub fn load_report(path: &Path) -> Result<Report, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|error| LoadError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    parse_report(path, &text)
}

/// [`load_report`] on text already read; `path` names it in errors.
pub fn parse_report(path: &Path, text: &str) -> Result<Report, LoadError> {
    let path_buf = || path.to_path_buf();
    if text.trim().is_empty() {
        return Err(LoadError::NotJson {
            path: path_buf(),
            message: "the file is empty".into(),
        });
    }
    let value: Value = serde_json::from_str(text).map_err(|e| {
        if e.classify() == serde_json::error::Category::Eof {
            LoadError::Truncated {
                path: path_buf(),
                line: e.line(),
                column: e.column(),
                field: truncated_field(text),
            }
        } else {
            LoadError::NotJson {
                path: path_buf(),
                message: one_line(&e.to_string()),
            }
        }
    })?;
    let Some(object) = value.as_object() else {
        return Err(LoadError::NotReport {
            path: path_buf(),
            reason: format!(
                "the top level is {}, not an object with field `tool`",
                json_kind(&value)
            ),
        });
    };
    match object.get("tool") {
        Some(Value::String(tool)) if tool == TOOL_NAME => {}
        Some(other) => {
            return Err(LoadError::NotReport {
                path: path_buf(),
                reason: format!(
                    "field `tool` is {}, expected \"{TOOL_NAME}\"",
                    excerpt(other)
                ),
            });
        }
        None => {
            return Err(LoadError::NotReport {
                path: path_buf(),
                reason: "field `tool` is missing".into(),
            });
        }
    }
    match object.get("schema_version") {
        Some(v) if v.as_u64() == Some(u64::from(SCHEMA_VERSION)) => {}
        Some(other) => {
            return Err(LoadError::UnsupportedVersion {
                path: path_buf(),
                found: excerpt(other),
            });
        }
        None => {
            return Err(LoadError::Invalid {
                path: path_buf(),
                message: "field `schema_version` is missing".into(),
            });
        }
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|e| LoadError::Invalid {
        path: path_buf(),
        message: describe_field_error(&e),
    })
}

/// The report field a truncated text ends in (`scenarios[2].classes`), found
/// by reading it as a report until it runs out.
fn truncated_field(text: &str) -> Option<String> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let error = serde_path_to_error::deserialize::<_, Report>(&mut deserializer).err()?;
    // `?` stands for a key that was cut before it was read.
    let path = error.path().to_string();
    let path = path.trim_end_matches(".?");
    let known = !matches!(path, "." | "?" | "");
    (error.inner().classify() == serde_json::error::Category::Eof && known)
        .then(|| path.to_string())
}

/// `field `scenarios[0].cycles`: invalid type: …, expected u64 (line 9, column 20)`
/// or `field `scenarios[0].cycles` is missing (line 30, column 5)`.
fn describe_field_error(e: &serde_path_to_error::Error<serde_json::Error>) -> String {
    let inner = e.inner();
    let mut message = inner.to_string();
    let position = format!(" at line {} column {}", inner.line(), inner.column());
    if let Some(stripped) = message.strip_suffix(&position) {
        message = stripped.to_string();
    }
    let path = e.path().to_string();
    let parent = if path == "." { String::new() } else { path };
    let joined = |field: &str| {
        if parent.is_empty() {
            field.to_string()
        } else {
            format!("{parent}.{field}")
        }
    };
    let text = match message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
    {
        Some(field) => format!("field `{}` is missing", joined(field)),
        None if parent.is_empty() => message,
        None => format!("field `{parent}`: {message}"),
    };
    one_line(&format!(
        "{text} (line {}, column {})",
        inner.line(),
        inner.column()
    ))
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A JSON value as written, cut to a readable length.
fn excerpt(value: &Value) -> String {
    const MAX_CHARS: usize = 40;
    let text = value.to_string();
    if text.chars().count() <= MAX_CHARS {
        text
    } else {
        let cut: String = text.chars().take(MAX_CHARS).collect();
        format!("{cut}…")
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
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
    /// Significance level of the verdicts.
    pub alpha: f64,
    /// Where the reports come from, one row per machine field.
    pub machine: Vec<MachineRow>,
    /// One entry per distinct scenario configuration across all reports, in
    /// the baseline's order, then in the order the other reports add them.
    pub scenarios: Vec<ScenarioComparison>,
    /// Number of tests Holm's adjustment ran over: every class comparison with
    /// at least one event (a comparison without events cannot reject at any
    /// level, so counting it would only weaken the others).
    pub tests: usize,
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
}

/// A count and its rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassCount {
    pub count: u64,
    pub cycles: u64,
    /// `count / cycles`, `0` without cycles.
    pub rate: f64,
    /// [`stats::rate_interval`] of the rate.
    pub interval: Interval,
}

/// One report's rate of one class tested against the reference's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassTest {
    /// Reference as A, this report as B: ratio B/A, its interval, raw p-value.
    pub rates: RateComparison,
    /// Holm-adjusted p-value over every test of the comparison.
    pub p_adjusted: f64,
    pub verdict: Verdict,
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

/// The verdict of several tests: the most significant difference if any
/// (smallest adjusted p-value), else `inconclusive` if any test is, else
/// `same`; `None` without tests.
fn combine<'a>(tests: impl Iterator<Item = &'a ClassTest>) -> Option<Verdict> {
    let mut strongest: Option<&ClassTest> = None;
    let mut inconclusive = false;
    let mut any = false;
    for test in tests {
        any = true;
        if test.verdict.differs() {
            if strongest.is_none_or(|s| test.p_adjusted < s.p_adjusted) {
                strongest = Some(test);
            }
        } else if test.verdict == Verdict::Inconclusive {
            inconclusive = true;
        }
    }
    match (strongest, inconclusive, any) {
        (Some(test), _, _) => Some(test.verdict),
        (None, true, _) => Some(Verdict::Inconclusive),
        (None, false, true) => Some(Verdict::Same),
        (None, false, false) => None,
    }
}

/// Compares `reports` (each with the path it was loaded from) against the
/// one at index `baseline`, with verdicts at significance level `alpha`.
///
/// # Panics
///
/// If `baseline` is not an index into `reports`.
pub fn compare(reports: Vec<(PathBuf, Report)>, baseline: usize, alpha: f64) -> Comparison {
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
    let mut scenarios = match_scenarios(&reports, baseline);
    let tests = adjust(&mut scenarios, alpha);
    Comparison {
        reports,
        baseline,
        alpha,
        machine,
        scenarios,
        tests,
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
    for i in 0..labels.len() {
        if clashes(&labels, i) {
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
fn match_scenarios(reports: &[LoadedReport], baseline: usize) -> Vec<ScenarioComparison> {
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
            scenario_comparison(reports, baseline, config, occurrence, &runs)
        })
        .collect()
}

fn scenario_comparison(
    reports: &[LoadedReport],
    baseline: usize,
    config: ScenarioConfig,
    occurrence: usize,
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
            let counts: Vec<Option<ClassCount>> = found
                .iter()
                .map(|scenario| {
                    let s = (*scenario)?;
                    let count = s.classes.get(&name)?.count;
                    Some(ClassCount {
                        count,
                        cycles: s.cycles,
                        rate: if s.cycles == 0 {
                            0.0
                        } else {
                            count as f64 / s.cycles as f64
                        },
                        interval: stats::rate_interval(count, s.cycles),
                    })
                })
                .collect();
            let tests = (0..counts.len())
                .map(|r| {
                    let (a, b) = (counts[reference]?, counts[r]?);
                    (r != reference).then(|| ClassTest {
                        rates: stats::compare_rates(a.count, a.cycles, b.count, b.cycles),
                        p_adjusted: 1.0,
                        verdict: Verdict::Inconclusive,
                    })
                })
                .collect();
            ClassComparison {
                class: name,
                counts,
                tests,
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

/// Holm-adjusts every informative test of the comparison together and sets
/// the verdicts; returns the size of the family.
fn adjust(scenarios: &mut [ScenarioComparison], alpha: f64) -> usize {
    let informative = |t: &ClassTest| {
        let r = &t.rates;
        r.n_a > 0 && r.n_b > 0 && r.k_a + r.k_b > 0
    };
    let raw: Vec<f64> = scenarios
        .iter()
        .flat_map(|s| s.classes.iter())
        .flat_map(|c| c.tests.iter().flatten())
        .filter(|t| informative(t))
        .map(|t| t.rates.p_value)
        .collect();
    let mut adjusted = stats::holm(&raw).into_iter();
    for test in scenarios
        .iter_mut()
        .flat_map(|s| s.classes.iter_mut())
        .flat_map(|c| c.tests.iter_mut().flatten())
    {
        test.p_adjusted = if informative(test) {
            adjusted
                .next()
                .expect("one adjusted p-value per informative test")
        } else {
            test.rates.p_value
        };
        let r = &test.rates;
        test.verdict = stats::verdict(r.k_a, r.n_a, r.k_b, r.n_b, test.p_adjusted, alpha);
    }
    raw.len()
}
