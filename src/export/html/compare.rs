//! A [`Comparison`] as one self-contained HTML page (`compare --html`), and
//! the verdict column that `reports/index.html` adds from the same comparison.
//!
//! The cells come from [`compare_table`], as in the terminal and Markdown
//! outputs; this file only lays them out.

use super::index::{Cell, IndexColumn, IndexRow};
use super::markup::{Markup, page};
use crate::compare::Comparison;
use crate::export::compare_table::{self, NUMERIC_COLUMNS, SCENARIO_COLUMNS};

/// CSS class of a verdict text.
fn verdict_class(outcome: &str) -> &'static str {
    if outcome.starts_with("higher") || outcome.starts_with("lower") {
        "bad"
    } else if outcome.starts_with("same") {
        "good"
    } else {
        ""
    }
}

/// Renders `c` as a page: summary, machine differences, one table per scenario.
pub fn render_comparison(c: &Comparison) -> String {
    let mut m = Markup::new();
    m.elem("h1", &[], "unlink-race compare");
    let differing = c.scenarios.iter().filter(|s| s.differs()).count();
    let verdict = if differing == 0 {
        "no scenario differs".to_string()
    } else {
        format!(
            "{differing} scenario{} differ",
            if differing == 1 { "" } else { "s" }
        )
    };
    m.open(
        "div",
        &[(
            "class",
            if differing == 0 {
                "verdict pass"
            } else {
                "verdict fail"
            },
        )],
    );
    m.elem("p", &[("class", "headline")], &verdict);
    m.elem("p", &[], &compare_table::summary(c));
    m.close();

    m.elem("h2", &[], "Machines");
    let machine = compare_table::machine_table(c);
    table(&mut m, &machine.header, &[], &machine.rows);

    m.elem("h2", &[], "Scenarios");
    for block in compare_table::scenario_blocks(c) {
        m.open("h3", &[]);
        m.text(&format!("{} — ", block.name));
        m.elem(
            "span",
            &[("class", verdict_class(&block.outcome))],
            &block.outcome,
        );
        m.close();
        let header: Vec<String> = SCENARIO_COLUMNS.iter().map(|s| s.to_string()).collect();
        let mut rows = block.rows.clone();
        if !block.zero_classes.is_empty() {
            let mut row = vec![String::new(); header.len()];
            row[4] = format!("0 in every report: {}", block.zero_classes.join(", "));
            row[11] = block.zero_verdict.clone().unwrap_or_default();
            rows.push(row);
        }
        table(&mut m, &header, &NUMERIC_COLUMNS, &rows);
    }
    m.elem(
        "p",
        &[("class", "sub")],
        "Rates are per reader cycle with 95% intervals (Clopper–Pearson; a zero count gives the exact one-sided \
         bound 1 − 0.05^(1/n)). Each report is compared with the baseline by the exact conditional binomial test; \
         p-values are Holm-adjusted over all tests. higher/lower: the difference is significant; same: each rate \
         lies in the other's interval; inconclusive: neither.",
    );
    page("unlink-race compare", m)
}

fn table(m: &mut Markup, header: &[String], numeric: &[bool], rows: &[Vec<String>]) {
    m.open("table", &[]);
    m.open("thead", &[]).open("tr", &[]);
    for h in header {
        m.elem("th", &[], h);
    }
    m.close().close();
    m.open("tbody", &[]);
    for row in rows {
        m.open("tr", &[]);
        for (i, cell) in row.iter().enumerate() {
            let class = if numeric.get(i).copied().unwrap_or(false) {
                "num"
            } else {
                verdict_class(cell)
            };
            m.elem("td", &[("class", class)], cell);
        }
        m.close();
    }
    m.close().close();
}

/// The index's verdict column: each scenario's outcome in a comparison of
/// every report in the index (the first report is the baseline).
pub struct VerdictColumn<'a> {
    pub comparison: &'a Comparison,
}

impl IndexColumn for VerdictColumn<'_> {
    fn header(&self) -> String {
        format!(
            "verdict vs {}",
            self.comparison.labels().first().copied().unwrap_or("first")
        )
    }

    fn cell(&self, row: &IndexRow<'_>) -> Cell {
        let found = self
            .comparison
            .scenarios
            .iter()
            .find(|s| &s.config == row.config);
        let text = match found {
            None => String::new(),
            Some(s) if s.is_partial() && s.present_in().len() < 2 => "only in one report".into(),
            Some(s) => s
                .verdict()
                .map_or_else(|| "—".into(), |v| v.name().to_string()),
        };
        let class = verdict_class(&text);
        Cell { text, class }
    }
}
