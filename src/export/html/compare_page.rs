//! A [`Comparison`] as one self-contained HTML page (`compare --html`), and
//! the verdict column that `reports/index.html` adds from the same comparison.
//!
//! The rows come from [`compare_table`], as in the terminal and Markdown
//! outputs; this file only lays them out. Colours come from the [`Verdict`]
//! of a row, never from its text.

use super::index_page::{Cell, IndexColumn, IndexRow};
use super::markup::{Markup, page};
use crate::compare::Comparison;
use crate::export::compare_table::{self, Column, Matrix, Overall};
use crate::export::format::format_level;
use crate::stats::Verdict;

/// CSS class of a verdict: differences in red, `same` in green.
fn verdict_class(verdict: Option<Verdict>) -> &'static str {
    match verdict {
        Some(Verdict::Higher | Verdict::Lower) => "bad",
        Some(Verdict::Same) => "good",
        Some(Verdict::Inconclusive) | None => "",
    }
}

/// Renders `c` as a page: summary, verdict matrix, machine differences, one
/// table per scenario.
pub fn render_comparison(c: &Comparison) -> String {
    let mut m = Markup::new();
    m.elem("h1", &[], "unlink-race compare");
    // Green only where every compared scenario was shown the same: no
    // difference found is not a pass when nothing could be told.
    let (overall, headline) = compare_table::headline(c);
    let box_class = match overall {
        Overall::Differs => "verdict fail",
        Overall::Same => "verdict pass",
        Overall::Undecided | Overall::Untested => "verdict neutral",
    };
    m.open("div", &[("class", box_class)]);
    m.elem("p", &[("class", "headline")], &headline);
    m.elem("p", &[], &compare_table::summary(c));
    for line in compare_table::lacking_lines(c) {
        m.elem("p", &[("class", "warn")], &line);
    }
    m.close();

    m.elem("h2", &[], "Verdicts");
    matrix(&mut m, c, &compare_table::matrix(c, true));

    m.elem("h2", &[], "Machines");
    let machine = compare_table::machine_table(c);
    plain_table(&mut m, &machine.header, &machine.rows);

    m.elem("h2", &[], "Scenarios");
    scenarios(&mut m, c);
    let (level, equivalence_level) = (
        format_level(1.0 - c.alpha()),
        format_level(1.0 - 2.0 * c.alpha()),
    );
    m.elem(
        "p",
        &[("class", "sub")],
        &format!(
            "Rates are per reader cycle with two-sided {level} intervals (Clopper–Pearson; Poisson for classes \
             that can happen more than once per cycle). Each report is compared with the baseline by the exact \
             conditional binomial test (central p-value, the dual of the ratio's {level} interval) and by two \
             one-sided tests of equivalence against the margin; each family of p-values is Holm-adjusted at \
             α = {}. higher/lower: the difference is significant; same: the ratio's {equivalence_level} interval \
             lies inside [1/margin, margin] (or both rates are shown below --negligible); inconclusive: neither. \
             A scenario is the same when every class seen in either report is, and the others were seen in \
             neither. Where both reports counted raced opens, each class is also compared per raced open by the \
             same tests, Holm-adjusted in families of their own; those rows are not coloured, and the verdicts \
             above and the exit code stay per cycle.",
            c.alpha()
        ),
    );
    page("unlink-race compare", m)
}

/// One section per scenario: its verdict, runs, class table and notes.
fn scenarios(m: &mut Markup, c: &Comparison) {
    for block in compare_table::scenario_blocks(c, false) {
        m.open("h3", &[]);
        m.text(&format!("{} — ", block.name));
        m.elem(
            "span",
            &[("class", verdict_class(block.verdict))],
            &block.outcome,
        );
        m.close();
        m.elem("p", &[("class", "note")], &compare_table::runs_line(&block));
        if !block.rows.is_empty() {
            m.open("table", &[]);
            m.open("thead", &[]).open("tr", &[]);
            for col in Column::ALL {
                m.elem("th", &[], &col.title(c.alpha()));
            }
            m.close().close();
            m.open("tbody", &[]);
            for row in &block.rows {
                m.open("tr", &[]);
                for col in Column::ALL {
                    let class = if col.numeric() {
                        "num"
                    } else if col == Column::Verdict && !row.per_raced_open {
                        verdict_class(row.test.map(|t| t.verdict))
                    } else {
                        ""
                    };
                    m.elem("td", &[("class", class)], &col.cell(row));
                }
                m.close();
            }
            m.close().close();
        }
        if !block.notes.is_empty() {
            m.open("ul", &[("class", "note")]);
            for note in &block.notes {
                m.elem("li", &[], note);
            }
            m.close();
        }
    }
}

fn matrix(m: &mut Markup, c: &Comparison, matrix: &Matrix) {
    m.open("table", &[]);
    m.open("thead", &[]).open("tr", &[]);
    m.elem("th", &[], "scenario");
    let names = compare_table::labels(c, true);
    for title in &matrix.titles {
        m.elem("th", &[], &format!("{title} vs {}", names[c.baseline]));
    }
    m.close().close();
    m.open("tbody", &[]);
    for row in &matrix.rows {
        m.open("tr", &[]);
        m.open("td", &[]);
        m.elem("code", &[], &row.scenario);
        m.close();
        for cell in &row.cells {
            m.elem("td", &[("class", verdict_class(cell.verdict))], &cell.text);
        }
        m.close();
    }
    m.close().close();
}

fn plain_table(m: &mut Markup, header: &[String], rows: &[Vec<String>]) {
    m.open("table", &[]);
    m.open("thead", &[]).open("tr", &[]);
    for h in header {
        m.elem("th", &[], h);
    }
    m.close().close();
    m.open("tbody", &[]);
    for row in rows {
        m.open("tr", &[]);
        for cell in row {
            m.elem("td", &[], cell);
        }
        m.close();
    }
    m.close().close();
}

/// The index's verdict column: for each scenario, which report is higher,
/// lower, the same or inconclusive against the baseline, or against the
/// first report that ran the scenario where the baseline did not.
pub struct VerdictColumn<'a> {
    pub comparison: &'a Comparison,
}

impl IndexColumn for VerdictColumn<'_> {
    fn header(&self) -> String {
        let c = self.comparison;
        let Some(baseline) = c.reports.get(c.baseline) else {
            return "verdict".into();
        };
        // A scenario the baseline did not run is compared with the first
        // report that did; each cell names both reports.
        let elsewhere = c
            .scenarios
            .iter()
            .any(|s| s.reference != c.baseline && s.present_in().len() > 1);
        format!(
            "verdict vs {}{}",
            baseline.label,
            if elsewhere {
                " (or the first report that ran the scenario)"
            } else {
                ""
            }
        )
    }

    fn cell(&self, row: &IndexRow<'_>) -> Cell {
        let c = self.comparison;
        let Some(s) = c.scenarios.iter().find(|s| &s.config == row.config) else {
            return Cell {
                text: String::new(),
                class: "",
            };
        };
        if s.present_in().len() < 2 {
            return Cell {
                text: "only in one report".into(),
                class: "",
            };
        }
        let names = compare_table::labels(c, false);
        let texts: Vec<String> = s
            .present_in()
            .into_iter()
            .filter(|&r| r != s.reference)
            .map(|r| compare_table::verdict_cell(c, &names, s, r, true).text)
            .collect();
        Cell {
            text: texts.join("; "),
            class: verdict_class(s.verdict()),
        }
    }
}
