//! A [`Comparison`] as typed rows: each scenario's details (the verdict
//! matrix is in [`super::matrix`]), shared by the terminal, Markdown and HTML
//! outputs, which differ only in layout. Every row keeps its [`Verdict`], so
//! a renderer colours by the verdict, never by a cell's text; [`Column`] says
//! how each detail column is written.
//!
//! Numbers keep three significant digits (two for p-values and for the
//! figures in verdict cells); a rate always comes with its interval, at
//! `1 − α` like every interval of the comparison (95% at the default α),
//! and the equivalence intervals at `1 − 2α`.
//!
//! Each anomaly class with an event has its rows per cycle, then, where
//! raced opens were counted, its rows per raced open (`zombie_fd per raced
//! open`), and where overlapped opens were, per overlapped open. Reports
//! without the raced-open count are named once, by [`lacking_lines`].

use crate::compare::{ClassComparison, ClassCount, ClassTest, Comparison, ScenarioComparison};
use crate::export::summary::Opens;
use crate::report::schema::Pace;
use crate::stats::{POWER, RateComparison, Verdict, cycles_to_tell};

use super::format::{
    format_count, format_figure, format_level, format_p, format_significant, round_significant,
};
pub use super::format::{
    format_factor, format_interval, format_ns, format_ratio, format_ratio_interval,
};
pub use super::matrix::{
    Matrix, MatrixCell, MatrixRow, labels, matrix, ratio_with_interval, verdict_cell,
};

/// The ratio a power statement is about ("… to tell a 2× difference").
pub const POWER_RATIO: f64 = 2.0;

/// `3 reports, baseline mac-apfs; α = 0.05, …; 1 of 4 scenarios differs`.
pub fn summary(c: &Comparison) -> String {
    let differing = c.scenarios.iter().filter(|s| s.differs()).count();
    let partial = c.scenarios.iter().filter(|s| s.is_partial()).count();
    let mut text = format!(
        "{} reports, baseline {}; α = {}, same = ratio inside [1/{m}, {m}] ({} interval){}; \
         Holm over {} difference and {} equivalence test{}; {} of {} scenario{} {}",
        c.reports.len(),
        c.reports[c.baseline].label,
        c.rules.alpha,
        format_level(1.0 - 2.0 * c.rules.alpha),
        c.rules.negligible.map_or(String::new(), |n| format!(
            " or both below {}",
            format_significant(n, 2)
        )),
        c.tests,
        c.equivalence_tests,
        plural(c.equivalence_tests),
        differing,
        c.scenarios.len(),
        plural(c.scenarios.len()),
        if differing == 1 { "differs" } else { "differ" },
        m = c.rules.margin,
    );
    if partial > 0 {
        text.push_str(&format!("; {partial} not in every report"));
    }
    let compared = c
        .scenarios
        .iter()
        .flat_map(|s| s.classes.iter())
        .any(|k| k.per_raced_open.compared());
    let racing = c
        .scenarios
        .iter()
        .flat_map(|s| s.classes.iter())
        .any(|k| k.per_racing_create.compared());
    if racing {
        let (d, e) = c.racing_tests;
        text.push_str(&format!(
            "; create classes compared per racing create too (Holm over {d} difference and {e} \
             equivalence test{} of their own)",
            plural(e)
        ));
    }
    if compared {
        let (d, e) = c.raced_tests;
        text.push_str(&format!(
            "; rates per raced open compared too (Holm over {d} difference and {e} equivalence \
             test{} of their own; \
             verdicts and exit code per cycle)",
            plural(e)
        ));
    }
    let overlapped = c
        .scenarios
        .iter()
        .flat_map(|s| s.classes.iter())
        .any(|k| k.per_overlapped_open.compared());
    if overlapped {
        let (d, e) = c.overlapped_tests;
        text.push_str(&format!(
            "; and per overlapped open (Holm over {d} difference and {e} equivalence test{})",
            plural(e)
        ));
    }
    text
}

/// How a comparison came out as a whole, for the box that heads a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overall {
    /// Some scenario differs (the exit code says so too).
    Differs,
    /// Every compared scenario is shown the same.
    Same,
    /// No scenario differs, but some could not be decided: no difference
    /// was shown, which is not a sameness.
    Undecided,
    /// Nothing could be tested: no anomaly in any compared scenario (and no
    /// `--negligible` to call zero counts the same), or no scenario in two
    /// reports.
    Untested,
}

/// The headline of a comparison: `1 scenario differs`, `no scenario
/// differs: all 48 shown the same`, `no difference shown: 40 of 48
/// scenarios inconclusive`, `nothing could be tested: no anomaly in either
/// run of any scenario`.
pub fn headline(c: &Comparison) -> (Overall, String) {
    let verdicts: Vec<Verdict> = c.scenarios.iter().filter_map(|s| s.verdict()).collect();
    let differing = c.scenarios.iter().filter(|s| s.differs()).count();
    let same = verdicts.iter().filter(|&&v| v == Verdict::Same).count();
    let compared = verdicts.len();
    if differing > 0 {
        let text = if differing == 1 {
            "1 scenario differs".to_string()
        } else {
            format!("{differing} scenarios differ")
        };
        (Overall::Differs, text)
    } else if compared > 0 && same == compared {
        let all = if compared == 1 {
            "the one compared is shown the same".to_string()
        } else {
            format!("all {compared} compared are shown the same")
        };
        (Overall::Same, format!("no scenario differs: {all}"))
    } else if same == 0 && c.tests == 0 {
        let why = if compared == 0 {
            "no scenario is in two reports"
        } else {
            "no anomaly in any run of a compared scenario"
        };
        (Overall::Untested, format!("nothing could be tested: {why}"))
    } else {
        let undecided = compared - same;
        (
            Overall::Undecided,
            format!(
                "no difference shown: {undecided} of {compared} scenario{} inconclusive",
                plural(compared)
            ),
        )
    }
}

/// One line per report without raced-open counts, naming the file and what
/// it lacks: `old.json: no raced-open counts (report from an older
/// unlink-race): raced opens, raced opens/s and rates per raced open are
/// missing; per-raced-open rates not compared, per-cycle ones as always`.
pub fn lacking_lines(c: &Comparison) -> Vec<String> {
    let mut lines = raced_lacking_lines(c);
    for l in c.lacking_creates() {
        let path = c.reports[l.report].path.display();
        if let Some(n) = l.create_family {
            lines.push(format!(
                "{path}: no create race (an older unlink-race, or a run without it): the \
                 create family's {n} scenario{} (racing creates, spurious_enoent_on_create per \
                 racing create, the O_EXCL control) {} only in the other reports, not compared",
                plural(n),
                if n == 1 { "is" } else { "are" }
            ));
        }
        if let Some((without, of)) = l.uncounted {
            let where_ = if without == of {
                String::new()
            } else {
                format!(" in {without} of its {of} shared scenarios")
            };
            lines.push(format!(
                "{path}: no racing-create counts{where_} (report from an older unlink-race): \
                 racing creates and rates per racing create are missing; per-racing-create \
                 rates not compared, per-cycle ones as always"
            ));
        }
    }
    lines
}

/// [`lacking_lines`] for raced opens.
fn raced_lacking_lines(c: &Comparison) -> Vec<String> {
    c.lacking()
        .into_iter()
        .map(|l| {
            let where_ = if l.scenarios == l.of {
                String::new()
            } else {
                format!(" in {} of its {} shared scenarios", l.scenarios, l.of)
            };
            format!(
                "{}: no raced-open counts{where_} (report from an older unlink-race): raced \
                 opens, raced opens/s and rates per raced open are missing; per-raced-open \
                 rates not compared, per-cycle ones as always",
                c.reports[l.report].path.display()
            )
        })
        .collect()
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A table of text: a header row and rows of the same width.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
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

/// The denominators a [`statement_in`] counts.
const CYCLES: &str = "cycles";
const RACED_OPENS: &str = "raced opens";
const RACING_CREATES: &str = "racing creates";

/// The denominator of a class's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Per {
    Cycle,
    RacedOpen,
    OverlappedOpen,
    RacingCreate,
}

const OVERLAPPED_OPENS: &str = "overlapped opens";

/// The denominator of rates per `opens`.
fn unit_of(opens: Opens) -> &'static str {
    match opens {
        Opens::Raced => RACED_OPENS,
        Opens::Overlapped => OVERLAPPED_OPENS,
    }
}

/// What an inconclusive comparison can and cannot exclude: `none seen in
/// either; rates < 3.7e-6 and < 0.31; no ratio is excluded; at least 1.2e7
/// more cycles would be needed to tell a 2× difference with 80% power`.
pub fn statement(r: &RateComparison, alpha: f64) -> String {
    statement_in(r, alpha, CYCLES)
}

/// [`statement`] for rates per `unit` (`cycles`, `raced opens`).
///
/// The cycles a difference would need are rounded up where they are what
/// the power needs (`about`), down where they are a lower limit (`at least`),
/// so the figure shown keeps the promise of the sentence.
pub fn statement_in(r: &RateComparison, alpha: f64, unit: &str) -> String {
    if !r.has_cycles() {
        return format!("a run has no {unit}");
    }
    let (more, _, bound) = cycles_to_tell(r, POWER_RATIO, alpha);
    let power = format_level(POWER);
    let need = if more <= 0.0 {
        format!(
            "these cycles would tell a {}× difference at this rate with {power} power",
            POWER_RATIO
        )
    } else if bound {
        format!(
            "at least {} more {unit} would be needed to tell a {}× difference with {power} power",
            format_figure(round_significant(more, 2, f64::floor)),
            POWER_RATIO
        )
    } else {
        format!(
            "about {} more {unit} would be needed to tell a {}× difference with {power} power",
            format_figure(round_significant(more, 2, f64::ceil)),
            POWER_RATIO
        )
    };
    let upper = |k: u64, n: u64| crate::stats::rate_interval_at(k, n, r.confidence()).high;
    if r.k_a == 0 && r.k_b == 0 {
        return format!(
            "none seen in either; rates < {} and < {}; no ratio is excluded; {need}",
            format_significant(upper(0, r.n_a), 2),
            format_significant(upper(0, r.n_b), 2)
        );
    }
    let widest = match r.ratio_high {
        None => f64::INFINITY,
        Some(h) if r.ratio_low > 0.0 => h.max(1.0 / r.ratio_low),
        Some(_) => f64::INFINITY,
    };
    // An interval that excludes 1 (inconclusive only after Holm's
    // adjustment, which the caller says) excludes a ratio "either way".
    let excludes_one = r.ratio_low > 1.0 || r.ratio_high.is_some_and(|h| h < 1.0);
    let excluded = if excludes_one {
        String::new()
    } else if widest.is_finite() {
        format!(
            "; a ratio up to {}× either way is not excluded",
            format_figure(widest)
        )
    } else {
        "; the ratio is unbounded on one side".to_string()
    };
    format!(
        "ratio {}{excluded}; {need}",
        ratio_with_interval(r, false).trim_start_matches('×')
    )
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
            super::format::format_si(run.overlapped_opens_per_second.unwrap_or(0.0)),
        )
    });
    format!(
        "{} raced opens ({share:.2}%, {}/s){overlapped}{pace}",
        format_count(raced),
        super::format::format_si(run.raced_opens_per_second.unwrap_or(0.0)),
    )
}
