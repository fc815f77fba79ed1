//! The comparison as Markdown ready to paste into a GitHub issue: a summary
//! line and the verdict matrix first (short enough for a bug report), a line
//! for each report without raced-open counts, then the details: the machine table, one table of every scenario's classes,
//! and what inconclusive comparisons can and cannot exclude. Every table is
//! a pipe table with a header row; `|` in a cell is escaped, control
//! characters are dropped.

use crate::compare::Comparison;
use crate::export::compare_table::{self, Column};

/// Renders `c` as GitHub-flavoured Markdown (ends with a newline).
pub fn render_markdown(c: &Comparison) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "**unlink-race compare**: {}.\n\n",
        escape(&compare_table::summary(c))
    ));

    // Short labels (without the prefix all share) keep the matrix narrow;
    // the machine table below gives them in full.
    let m = compare_table::matrix(c, true);
    let names = compare_table::labels(c, true);
    let mut header = vec!["scenario".to_string()];
    header.extend(
        m.titles
            .iter()
            .map(|t| format!("{t} vs {}", names[c.baseline])),
    );
    let rows: Vec<Vec<String>> = m
        .rows
        .iter()
        .map(|r| {
            std::iter::once(format!("`{}`", r.scenario))
                .chain(r.cells.iter().map(|cell| match cell.verdict {
                    Some(v) if v.differs() => format!("**{}**", cell.text),
                    _ => cell.text.clone(),
                }))
                .collect()
        })
        .collect();
    table(&mut out, &header, &[], &rows);
    // Reports from before the raced-open count, named once.
    let lacking = compare_table::lacking_lines(c);
    if !lacking.is_empty() {
        out.push('\n');
        for line in &lacking {
            out.push_str(&format!("- {}\n", escape(line)));
        }
    }
    out.push_str("\n### Details\n\n");

    let machine = compare_table::machine_table(c);
    table(&mut out, &machine.header, &[], &machine.rows);
    out.push('\n');

    let mut header = vec!["scenario".to_string()];
    header.extend(Column::ALL.iter().map(|col| col.title(c.alpha())));
    let mut numeric = vec![false];
    numeric.extend(Column::ALL.iter().map(|c| c.numeric()));
    let blocks = compare_table::scenario_blocks(c, false);
    let mut rows = Vec::new();
    for block in &blocks {
        let title = format!("**{}**: {}", block.name, block.outcome);
        if block.rows.is_empty() {
            let mut row = vec![String::new(); header.len()];
            row[0] = title;
            row[1] = "no event in any report".into();
            rows.push(row);
            continue;
        }
        for (i, class_row) in block.rows.iter().enumerate() {
            let mut row = vec![if i == 0 { title.clone() } else { String::new() }];
            row.extend(Column::ALL.iter().map(|col| col.cell(class_row)));
            rows.push(row);
        }
    }
    table(&mut out, &header, &numeric, &rows);

    let notes: Vec<(&str, String)> = blocks
        .iter()
        .flat_map(|b| {
            std::iter::once((b.name.as_str(), compare_table::runs_line(b)))
                .chain(b.notes.iter().map(|n| (b.name.as_str(), n.clone())))
        })
        .collect();
    if !notes.is_empty() {
        out.push('\n');
        for (name, note) in notes {
            out.push_str(&format!("- `{name}`: {}\n", escape(&note)));
        }
    }
    out
}

/// A pipe table: header, separator (`---:` for numbers), rows.
fn table(out: &mut String, header: &[String], numeric: &[bool], rows: &[Vec<String>]) {
    let line = |cells: &[String]| {
        let escaped: Vec<String> = cells.iter().map(|c| escape(c)).collect();
        format!("| {} |\n", escaped.join(" | "))
    };
    out.push_str(&line(header));
    let separator: Vec<String> = (0..header.len())
        .map(|i| {
            if numeric.get(i).copied().unwrap_or(false) {
                "---:".to_string()
            } else {
                "---".to_string()
            }
        })
        .collect();
    out.push_str(&format!("|{}|\n", separator.join("|")));
    for row in rows {
        out.push_str(&line(row));
    }
}

/// A cell's text made safe inside a pipe table: `|` escaped, line breaks
/// and other control characters turned into spaces.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}
