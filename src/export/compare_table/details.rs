//! Each scenario's details as rows: its runs ([`RunRow`]), its classes'
//! rows per cycle, per raced or overlapped open and per racing create
//! ([`ClassRow`], written column by column by [`Column`]), and the notes on
//! what an inconclusive verdict cannot exclude.

use crate::compare::{ClassComparison, ClassCount, ClassTest, Comparison, ScenarioComparison};
use crate::export::summary::Opens;
use crate::report::schema::Pace;
use crate::stats::Verdict;

use crate::export::format::{
    format_count, format_factor, format_interval, format_level, format_ns, format_p, format_ratio,
    format_ratio_interval, format_si, format_significant,
};
use crate::export::matrix::labels;

use super::statement::{CYCLES, RACING_CREATES, statement, statement_in, unit_of};

/// A report's part in a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The comparison's baseline.
    Baseline,
    /// The scenario's reference when the baseline does not have it.
    Reference,
    /// Compared with the reference.
    Compared,
    /// Does not have the scenario.
    Missing,
}

/// One report's run of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRow {
    pub label: String,
    pub role: Role,
    pub cycles: Option<u64>,
    pub ns_per_cycle: Option<f64>,
    /// Time per cycle over the reference's.
    pub ns_per_cycle_ratio: Option<f64>,
    /// `None` where the report did not count raced opens (or lacks the scenario).
    pub raced_opens: Option<u64>,
    pub raced_opens_per_second: Option<f64>,
    /// `None` where the report did not count overlapped opens.
    pub overlapped_opens: Option<u64>,
    pub overlapped_opens_per_second: Option<f64>,
    pub pace: Option<Pace>,
}

/// One class of one report in a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassRow {
    /// `zombie_fd`, `zombie_fd per raced open`, `zombie_fd per overlapped
    /// open`, or `spurious_enoent_on_create per racing create`.
    pub class: String,
    /// `true` for a rate per raced or overlapped open or per racing create
    /// (its verdict is shown, but the scenario's verdict and the exit code
    /// are per cycle).
    pub per_raced_open: bool,
    /// `true` on the class's first row (renderers show the name once).
    pub first_of_class: bool,
    pub label: String,
    pub role: Role,
    pub count: Option<ClassCount>,
    /// The test against the reference; `None` for the reference itself.
    pub test: Option<ClassTest>,
}

/// A column of the detail table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Class,
    Report,
    Count,
    Rate,
    Ratio,
    P,
    Verdict,
}

impl Column {
    pub const ALL: [Column; 7] = [
        Column::Class,
        Column::Report,
        Column::Count,
        Column::Rate,
        Column::Ratio,
        Column::P,
        Column::Verdict,
    ];

    /// The column's title; the intervals' level is `1 − alpha`.
    pub fn title(self, alpha: f64) -> String {
        let level = || format_level(1.0 - alpha);
        match self {
            Column::Class => "class".into(),
            Column::Report => "report".into(),
            Column::Count => "count".into(),
            Column::Rate => format!("rate [{} CI]", level()),
            Column::Ratio => format!("ratio [{} CI]", level()),
            Column::P => "p (Holm)".into(),
            Column::Verdict => "verdict".into(),
        }
    }

    /// Right-aligned.
    pub fn numeric(self) -> bool {
        matches!(self, Column::Count | Column::P)
    }

    /// The text of this column in `row`.
    pub fn cell(self, row: &ClassRow) -> String {
        match self {
            Column::Class => {
                if row.first_of_class {
                    row.class.clone()
                } else {
                    String::new()
                }
            }
            Column::Report => row.label.clone(),
            Column::Count => row
                .count
                .map_or_else(|| "–".into(), |c| format_count(c.count)),
            Column::Rate => row.count.map_or_else(String::new, |c| {
                format!(
                    "{} {}",
                    format_significant(c.rate, 3),
                    format_interval(c.interval)
                )
            }),
            Column::Ratio => row.test.map_or_else(String::new, |t| {
                format!(
                    "{} {}",
                    format_ratio(&t.rates),
                    format_ratio_interval(&t.rates)
                )
            }),
            Column::P => row
                .test
                .map_or_else(String::new, |t| format_p(t.p_adjusted)),
            Column::Verdict => match (row.role, row.test) {
                (Role::Baseline, _) => "baseline".into(),
                (Role::Reference, _) => "reference".into(),
                (_, Some(t)) => t.verdict.name().into(),
                _ => String::new(),
            },
        }
    }
}

/// One scenario's details.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioBlock {
    pub name: String,
    /// The verdict over every report and class; `None` when the scenario is
    /// in one report only.
    pub verdict: Option<Verdict>,
    /// `higher`, `same (against linux-ext4: not in the baseline)`, `only in mac-apfs`.
    pub outcome: String,
    pub runs: Vec<RunRow>,
    /// Classes with an event in some report.
    pub rows: Vec<ClassRow>,
    /// What the data can and cannot exclude where the verdict is
    /// `inconclusive` (one line each), and the classes none saw.
    pub notes: Vec<String>,
}

/// Every scenario's details; `short`: with [`labels`]`(c, true)`.
pub fn scenario_blocks(c: &Comparison, short: bool) -> Vec<ScenarioBlock> {
    let names = labels(c, short);
    c.scenarios
        .iter()
        .map(|s| scenario_block(c, &names, s))
        .collect()
}

fn role(c: &Comparison, s: &ScenarioComparison, r: usize) -> Role {
    if s.runs[r].is_none() {
        Role::Missing
    } else if r == s.reference {
        if r == c.baseline {
            Role::Baseline
        } else {
            Role::Reference
        }
    } else {
        Role::Compared
    }
}

fn scenario_block(c: &Comparison, names: &[String], s: &ScenarioComparison) -> ScenarioBlock {
    let runs = names
        .iter()
        .enumerate()
        .map(|(r, label)| {
            let run = s.runs[r].as_ref();
            RunRow {
                label: label.clone(),
                role: role(c, s, r),
                cycles: run.map(|x| x.cycles),
                ns_per_cycle: run.map(|x| x.ns_per_cycle),
                ns_per_cycle_ratio: run.and_then(|x| x.ns_per_cycle_ratio),
                raced_opens: run.and_then(|x| x.raced_opens),
                raced_opens_per_second: run.and_then(|x| x.raced_opens_per_second),
                overlapped_opens: run.and_then(|x| x.overlapped_opens),
                overlapped_opens_per_second: run.and_then(|x| x.overlapped_opens_per_second),
                pace: run.map(|x| x.pace),
            }
        })
        .collect();
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for k in s.classes.iter().filter(|k| !k.all_zero()) {
        for per in [
            Per::Cycle,
            Per::RacedOpen,
            Per::OverlappedOpen,
            Per::RacingCreate,
        ] {
            let per_raced_open = per != Per::Cycle;
            let (counts, tests, class, unit) = match per {
                Per::RacedOpen if k.per_raced_open.compared() => (
                    &k.per_raced_open.counts,
                    &k.per_raced_open.tests,
                    format!("{} per {}", k.class, Opens::Raced.noun()),
                    unit_of(Opens::Raced),
                ),
                Per::OverlappedOpen if k.per_overlapped_open.compared() => (
                    &k.per_overlapped_open.counts,
                    &k.per_overlapped_open.tests,
                    format!("{} per {}", k.class, Opens::Overlapped.noun()),
                    unit_of(Opens::Overlapped),
                ),
                Per::RacingCreate if k.per_racing_create.compared() => (
                    &k.per_racing_create.counts,
                    &k.per_racing_create.tests,
                    format!("{} per racing create", k.class),
                    RACING_CREATES,
                ),
                Per::Cycle => (&k.counts, &k.tests, k.class.to_string(), CYCLES),
                _ => continue,
            };
            let mut first = true;
            for (r, label) in names.iter().enumerate() {
                if s.runs[r].is_none() || (per_raced_open && counts[r].is_none()) {
                    continue;
                }
                rows.push(ClassRow {
                    class: class.clone(),
                    per_raced_open,
                    first_of_class: std::mem::replace(&mut first, false),
                    label: label.clone(),
                    role: role(c, s, r),
                    count: counts[r],
                    test: tests[r],
                });
                if let Some(t) = &tests[r]
                    && t.verdict == Verdict::Inconclusive
                {
                    let family = match per {
                        Per::Cycle => c.tests,
                        Per::RacedOpen => c.raced_tests.0,
                        Per::OverlappedOpen => c.overlapped_tests.0,
                        Per::RacingCreate => c.racing_tests.0,
                    };
                    notes.push(format!(
                        "{class} in {label}: inconclusive: {}{}",
                        statement_in(&t.rates, c.rules.alpha, unit),
                        holm_clause(t, c.rules.alpha, family)
                    ));
                }
            }
        }
    }
    let zero: Vec<&ClassComparison> = s.classes.iter().filter(|k| k.all_zero()).collect();
    if !zero.is_empty() {
        let zero_names: Vec<&str> = zero.iter().map(|k| k.class.name()).collect();
        for r in 0..c.reports.len() {
            // One statement per report: the bounds differ by class only in
            // the third digit (binomial or Poisson), so the first class speaks.
            let Some(t) = zero[0].tests[r] else { continue };
            let what = match t.verdict {
                Verdict::Same => format!(
                    "same (both {} upper bounds below {})",
                    format_level(1.0 - c.rules.alpha),
                    c.rules
                        .negligible
                        .map_or_else(|| "–".to_string(), |n| format_significant(n, 2))
                ),
                _ => format!("inconclusive: {}", statement(&t.rates, c.rules.alpha)),
            };
            notes.push(format!(
                "{} vs {}: {what} ({})",
                names[r],
                names[s.reference],
                zero_names.join(", ")
            ));
            // The same classes per raced (overlapped) open, where both counted them.
            for (opens, p) in [
                (Opens::Raced, &zero[0].per_raced_open),
                (Opens::Overlapped, &zero[0].per_overlapped_open),
            ] {
                if let Some(t) = p.tests[r] {
                    notes.push(format!(
                        "{} vs {} per {}: {}: {} ({})",
                        names[r],
                        names[s.reference],
                        opens.noun(),
                        t.verdict.name(),
                        statement_in(&t.rates, c.rules.alpha, unit_of(opens)),
                        zero_names.join(", ")
                    ));
                }
            }
        }
    }
    ScenarioBlock {
        name: s.name.clone(),
        verdict: s.verdict(),
        outcome: outcome(names, c.baseline, s),
        runs,
        rows,
        notes,
    }
}

/// The denominator of a class's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Per {
    Cycle,
    RacedOpen,
    OverlappedOpen,
    RacingCreate,
}

/// Where the ratio's interval excludes 1 but Holm's adjustment leaves the
/// difference below significance, says so: `; its 95% interval excludes 1,
/// but not after Holm's adjustment over 48 tests (p = 0.21)`. The interval
/// is of this comparison alone; the verdict answers for the whole family.
fn holm_clause(t: &ClassTest, alpha: f64, family: usize) -> String {
    if t.rates.p_value < alpha && t.p_adjusted >= alpha {
        format!(
            "; its {} interval excludes 1, but not after Holm's adjustment over {family} tests \
             (p = {})",
            format_level(t.rates.confidence()),
            format_p(t.p_adjusted)
        )
    } else {
        String::new()
    }
}

/// `higher`, `same (against linux-ext4: not in the baseline)`, `only in mac-apfs`.
fn outcome(names: &[String], baseline: usize, s: &ScenarioComparison) -> String {
    let present = s.present_in();
    if present.len() == 1 {
        return format!("only in {}", names[present[0]]);
    }
    let word = s
        .verdict()
        .map_or("no anomaly class to compare", Verdict::name);
    if s.reference == baseline {
        word.to_string()
    } else {
        format!(
            "{word} (against {}: not in the baseline)",
            names[s.reference]
        )
    }
}

/// The runs of a block as one line: `a 1,000,000 cycles × 900 ns, 12,345
/// raced opens (1.23%, 580/s), pace check; b … (×0.56), raced opens not
/// counted`.
pub fn runs_line(block: &ScenarioBlock) -> String {
    block
        .runs
        .iter()
        .map(|run| match (run.cycles, run.ns_per_cycle) {
            (Some(cycles), Some(ns)) => format!(
                "{} {} cycles × {} ns{}, {}",
                run.label,
                format_count(cycles),
                format_ns(ns),
                run.ns_per_cycle_ratio
                    .filter(|_| run.role == Role::Compared)
                    .map_or(String::new(), |x| format!(" (×{})", format_factor(x))),
                pressure(run, cycles)
            ),
            _ => format!("{}: not in this report", run.label),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// `12,345 raced opens (1.23%, 580/s), 6,100 overlapped (300/s), pace
/// check`, or `raced opens not counted`.
fn pressure(run: &RunRow, cycles: u64) -> String {
    // A report from before the count is named once by `lacking_lines`.
    let Some(raced) = run.raced_opens else {
        return "raced opens not counted".into();
    };
    let pace = run.pace.map_or(String::new(), |p| format!(", pace {p}"));
    let share = crate::export::summary::raced_share_percent(raced, cycles);
    let overlapped = run.overlapped_opens.map_or(String::new(), |n| {
        format!(
            ", {} overlapped ({}/s)",
            format_count(n),
            format_si(run.overlapped_opens_per_second.unwrap_or(0.0)),
        )
    });
    format!(
        "{} raced opens ({share:.2}%, {}/s){overlapped}{pace}",
        format_count(raced),
        format_si(run.raced_opens_per_second.unwrap_or(0.0)),
    )
}
