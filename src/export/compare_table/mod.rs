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
//!
//! Here: the summary line, the headline, the lacking lines and the machine
//! table; `details.rs` each scenario's rows, `statement.rs` what an
//! inconclusive comparison can and cannot exclude.

mod details;
mod statement;

use crate::compare::Comparison;
use crate::stats::Verdict;

pub use super::format::{
    format_factor, format_interval, format_ns, format_ratio, format_ratio_interval,
};
use super::format::{format_level, format_significant};
pub use super::matrix::{
    Matrix, MatrixCell, MatrixRow, labels, matrix, ratio_with_interval, verdict_cell,
};
pub use details::{ClassRow, Column, Role, RunRow, ScenarioBlock, runs_line, scenario_blocks};
pub use statement::{POWER_RATIO, statement, statement_in};

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
