//! The verdict matrix that leads every comparison output: one row per
//! scenario, one column per report other than the baseline, each cell a
//! verdict that names the deciding class, the direction and the ratio
//! (`mac higher: zombie_fd ×310 [95%: 180–600]`).

use crate::compare::{ClassComparison, ClassTest, Comparison, ScenarioComparison};
use crate::export::format::{format_figures, format_level, format_significant};
use crate::stats::{Basis, RateComparison, Verdict};

/// Longest label shown inside a matrix cell; longer ones are cut with `…`.
const CELL_LABEL_CHARS: usize = 20;

/// The verdict matrix: one row per scenario, one column per report other
/// than the baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    /// The reports of the columns (indices into the comparison's reports).
    pub columns: Vec<usize>,
    /// Column titles: the reports' labels.
    pub titles: Vec<String>,
    pub rows: Vec<MatrixRow>,
}

/// One scenario in the matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixRow {
    pub scenario: String,
    pub cells: Vec<MatrixCell>,
}

/// One report's verdict on one scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixCell {
    /// `None` where there is nothing to compare (scenario missing, or this
    /// report is the scenario's reference).
    pub verdict: Option<Verdict>,
    /// `mac higher: zombie_fd ×310 [95%: 180–600]`.
    pub text: String,
    /// Whether `text` starts with the report's label.
    pub names_report: bool,
}

/// The labels outputs call the reports by: their own, or, with `short`,
/// without the prefix they all share (`linux-12-ext4-vm`,
/// `linux-12-tmpfs-vm` → `ext4-vm`, `tmpfs-vm`) when that leaves them
/// distinct.
pub fn labels(c: &Comparison, short: bool) -> Vec<String> {
    let full: Vec<String> = c.reports.iter().map(|r| r.label.clone()).collect();
    if !short || full.len() < 2 {
        return full;
    }
    let first = &full[0];
    // The longest prefix shared by all that ends just after a separator.
    let mut cut = 0;
    for (i, ch) in first.char_indices() {
        let prefix = &first[..i + ch.len_utf8()];
        if !full.iter().all(|l| l.starts_with(prefix)) {
            break;
        }
        if matches!(ch, '-' | '_') {
            cut = i + ch.len_utf8();
        }
    }
    let shortened: Vec<String> = full.iter().map(|l| l[cut..].to_string()).collect();
    let distinct = shortened.iter().enumerate().all(|(i, a)| {
        a.chars().count() >= 3
            && a.starts_with(|c: char| c.is_alphanumeric())
            && shortened.iter().skip(i + 1).all(|b| a != b)
    });
    if distinct { shortened } else { full }
}

/// The matrix of a comparison; `short`: with [`labels`]`(c, true)`.
pub fn matrix(c: &Comparison, short: bool) -> Matrix {
    let names = labels(c, short);
    let columns: Vec<usize> = (0..c.reports.len()).filter(|&i| i != c.baseline).collect();
    let titles = columns.iter().map(|&i| names[i].clone()).collect();
    let rows = c
        .scenarios
        .iter()
        .map(|s| MatrixRow {
            scenario: s.name.clone(),
            cells: columns
                .iter()
                .map(|&r| verdict_cell(c, &names, s, r, false))
                .collect(),
        })
        .collect();
    Matrix {
        columns,
        titles,
        rows,
    }
}

/// The tests of report `r` in scenario `s`, with their classes.
fn tests_of(s: &ScenarioComparison, r: usize) -> Vec<(&ClassComparison, &ClassTest)> {
    s.classes
        .iter()
        .filter_map(|k| k.tests[r].as_ref().map(|t| (k, t)))
        .collect()
}

/// Report `r`'s verdict on scenario `s`, called by `names`:
/// `mac higher: zombie_fd ×310 [95%: 180–600]`, `same: zombie_fd ×1.0 [90%:
/// 0.93–1.1]`, `inconclusive: none seen in either`. With `name_reference`
/// every verdict names both reports (`mac higher than linux: …`, `mac same
/// as linux: …`), for tables without a column per report.
pub fn verdict_cell(
    c: &Comparison,
    names: &[String],
    s: &ScenarioComparison,
    r: usize,
    name_reference: bool,
) -> MatrixCell {
    let none = |text: &str| MatrixCell {
        verdict: None,
        text: text.to_string(),
        names_report: false,
    };
    if s.runs[r].is_none() {
        return none("not in this report");
    }
    if r == s.reference {
        return none(if s.present_in().len() > 1 {
            "reference (not in the baseline)"
        } else {
            "only in this report"
        });
    }
    let Some(verdict) = s.verdict_for(r) else {
        return none("no anomaly class to compare");
    };
    let cell = Cell {
        tests: tests_of(s, r),
        label: short_label(&names[r]),
        reference: short_label(&names[s.reference]),
        name_reference,
    };
    let mut text = match verdict {
        Verdict::Higher | Verdict::Lower => cell.differs(),
        Verdict::Inconclusive => cell.inconclusive(),
        Verdict::Same => cell.same(c.rules.negligible),
    };
    if s.reference != c.baseline && !name_reference {
        text.push_str(&format!(" (vs {})", cell.reference));
    }
    MatrixCell {
        verdict: Some(verdict),
        names_report: name_reference || verdict.differs(),
        text,
    }
}

/// What a cell is written from.
struct Cell<'a> {
    tests: Vec<(&'a ClassComparison, &'a ClassTest)>,
    label: String,
    reference: String,
    name_reference: bool,
}

impl Cell<'_> {
    /// `mac higher: zombie_fd ×310 [95%: 180–600] (+1 more)`: the most
    /// significant difference.
    fn differs(&self) -> String {
        let differing: Vec<_> = self
            .tests
            .iter()
            .filter(|t| t.1.verdict.differs())
            .collect();
        let (class, test) = differing
            .iter()
            .min_by(|a, b| a.1.p_adjusted.total_cmp(&b.1.p_adjusted))
            .expect("a differing scenario has a differing class");
        let more = if differing.len() > 1 {
            format!(" (+{} more)", differing.len() - 1)
        } else {
            String::new()
        };
        let word = test.verdict.name();
        let who = if self.name_reference {
            format!("{} {word} than {}", self.label, self.reference)
        } else {
            format!("{} {word}", self.label)
        };
        format!(
            "{who}: {} {}{more}",
            class.class,
            ratio_with_interval(&test.rates, false)
        )
    }

    /// `inconclusive: zombie_fd ×3.0 [95%: 0.24–160]`, the class with the
    /// most events, or `inconclusive: none seen in either (7 classes)`; then
    /// the class with the most events shown the same, if any (`; same:
    /// zombie_fd ×1.0 [90%: 0.95–1.1]`).
    fn inconclusive(&self) -> String {
        let word = if self.name_reference {
            format!("{} vs {} inconclusive", self.label, self.reference)
        } else {
            "inconclusive".to_string()
        };
        let mut text = match self.most_events(Verdict::Inconclusive) {
            Some((k, t)) => format!(
                "{word}: {} {}",
                k.class,
                ratio_with_interval(&t.rates, false)
            ),
            None => {
                let unseen = self
                    .tests
                    .iter()
                    .filter(|t| t.1.verdict == Verdict::Inconclusive)
                    .count();
                if unseen > 1 {
                    format!("{word}: none seen in either ({unseen} classes)")
                } else {
                    format!("{word}: none seen in either")
                }
            }
        };
        // What was shown the same still counts for something.
        if let Some((k, t)) = self
            .most_events(Verdict::Same)
            .filter(|t| t.1.basis == Basis::Equivalence)
        {
            text.push_str(&format!(
                "; same: {} {}",
                k.class,
                ratio_with_interval(&t.rates, true)
            ));
        }
        text
    }

    /// `same: zombie_fd ×1.0 [90%: 0.93–1.1]`, the class with the most events
    /// shown equivalent, or `same: all below 1e-6`; then how many classes
    /// neither run saw (`; 6 classes seen in neither`).
    fn same(&self, negligible: Option<f64>) -> String {
        let word = if self.name_reference {
            format!("{} same as {}", self.label, self.reference)
        } else {
            "same".to_string()
        };
        let mut text = match self
            .most_events(Verdict::Same)
            .filter(|t| t.1.basis == Basis::Equivalence)
        {
            Some((k, t)) => format!(
                "{word}: {} {}",
                k.class,
                ratio_with_interval(&t.rates, true)
            ),
            None => format!(
                "{word}: all below {}",
                negligible.map_or_else(|| "–".to_string(), |n| format_significant(n, 2))
            ),
        };
        let unseen = self.tests.iter().filter(|t| t.1.unseen()).count();
        if unseen > 0 {
            text.push_str(&format!(
                "; {unseen} class{} seen in neither",
                if unseen == 1 { "" } else { "es" }
            ));
        }
        text
    }

    /// The test with `verdict` and the most events, among those with events.
    fn most_events(&self, verdict: Verdict) -> Option<(&ClassComparison, &ClassTest)> {
        self.tests
            .iter()
            .filter(|t| t.1.verdict == verdict && t.1.rates.events() > 0)
            .max_by_key(|t| t.1.rates.events())
            .copied()
    }
}

fn short_label(label: &str) -> String {
    if label.chars().count() <= CELL_LABEL_CHARS {
        label.to_string()
    } else {
        let cut: String = label.chars().take(CELL_LABEL_CHARS - 1).collect();
        format!("{cut}…")
    }
}

/// `×310 [95%: 180–600]`, or with the interval of the equivalence test
/// (`×1.0 [90%: 0.93–1.1]`); `×∞ [95%: 13–∞]`; `× – ` without events. The
/// levels are the comparison's: `1 − α` and `1 − 2α`.
pub fn ratio_with_interval(r: &RateComparison, equivalence: bool) -> String {
    let (confidence, low, high) = if equivalence {
        (
            r.equivalence_confidence(),
            r.equivalence_low,
            r.equivalence_high,
        )
    } else {
        (r.confidence(), r.ratio_low, r.ratio_high)
    };
    let level = format_level(confidence);
    let (ratio, low, high) = match r.ratio {
        Some(x) => format_figures(x, low, high),
        None if r.ratio_is_infinite() => {
            let (_, low, high) = format_figures(low, low, high);
            ("∞".into(), low, high)
        }
        None => return "(no event)".into(),
    };
    format!("×{ratio} [{level}: {low}–{high}]")
}
